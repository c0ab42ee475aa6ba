#pragma once
// USDT probes (<sys/sdt.h>): static tracepoints that cost one nop when no
// tracer is attached. Provider `courier`; list them with
// `readelf -n libcourier.so` and record them with
// `perf record -e sdt_courier:*` (tools/trace). Compiled in when the build
// option `probes` is enabled (the default where the header exists).
//
//   send(cell, accepted)    a message reached a mailbox (accepted: 1, refused: 0)
//   schedule(cell)          an idle actor became runnable
//   turn_begin(cell, worker), turn_end(cell, how)   one turn (how: 0 released,
//                           1 rescheduled, 2 finished, 3 suspended)
//   steal(worker, victim)   a worker took work from another's deque
//   park(worker), wake(worker)   a worker sleeps on / leaves its futex
//   reply(cell)             the runtime settled a request's reply

#if defined(COURIER_PROBES) && COURIER_PROBES && __has_include(<sys/sdt.h>)
#include <sys/sdt.h>
#define COURIER_PROBE1(name, a) DTRACE_PROBE1(courier, name, a)
#define COURIER_PROBE2(name, a, b) DTRACE_PROBE2(courier, name, a, b)
#else
#define COURIER_PROBE1(name, a) ((void)0)
#define COURIER_PROBE2(name, a, b) ((void)0)
#endif
