#pragma once
// Statistics counters: one set per thread that touches a runtime (each
// worker's own, and one per outside thread: senders, spawners, the timer
// thread), written only by that thread and summed when stats() is read, so
// no path bumps a counter shared between threads.

#include <atomic>
#include <cstdint>

#include <courier/detail/single_writer.hpp>

#include "runtime/support/cache_line.hpp"

// The metrics-only counters (runtime::metrics()) compile out with
// -DCOURIER_METRICS=0, which only the benchmarks' metrics-off build uses, to
// measure what keeping them costs (tools/bench's overhead row).
#ifndef COURIER_METRICS
#define COURIER_METRICS 1
#endif
#if COURIER_METRICS
#define COURIER_METRIC(sink, field) (sink).add(&::courier::internal::counter_set::field)
#else
#define COURIER_METRIC(sink, field) ((void)0)
#endif

namespace courier::internal {

// Every counter, once: the per-thread set and the totals are both made from
// this list, so a new counter is summed wherever totals are read.
#define COURIER_COUNTERS(X)                                                             \
  X(spawned) X(stopped) X(handled) X(dropped) X(accepted) X(replies_issued)              \
  X(replies_completed) X(replies_dropped)                                                \
  /* worker activity (runtime::metrics()) */                                             \
  X(turns) X(batch_limit_hits) X(steals_attempted) X(steals_succeeded) X(parks)          \
  X(wakeups) X(injection_pops)                                                           \
  /* replies completed with an error, by errc (slow paths only) */                       \
  X(replies_failed_stopped) X(replies_failed_full) X(replies_failed_timeout)             \
  X(replies_failed_handler)                                                              \
  /* fault tolerance */                                                                   \
  X(downs) X(restarted)                                                                   \
  /* timers */                                                                            \
  X(ticks_skipped)                                                                         \
  /* replies nobody reads: when_any's losers, a destroyed frame's */                      \
  X(replies_discarded)

struct alignas(cache_line_size) counter_set {
#define COURIER_COUNTER_FIELD(name) std::atomic<std::uint64_t> name{0};
  COURIER_COUNTERS(COURIER_COUNTER_FIELD)
#undef COURIER_COUNTER_FIELD
};
static_assert(sizeof(counter_set) <= 3 * cache_line_size, "a worker's counters stay on its own three lines");

/// The sum of several counter sets (system::totals()), field by field.
struct counter_totals {
#define COURIER_COUNTER_FIELD(name) std::uint64_t name = 0;
  COURIER_COUNTERS(COURIER_COUNTER_FIELD)
#undef COURIER_COUNTER_FIELD

  void add(const counter_set& set) noexcept {
    // relaxed: a snapshot of monotonic counters, each written by one thread
#define COURIER_COUNTER_ADD(name) name += set.name.load(std::memory_order_relaxed);
    COURIER_COUNTERS(COURIER_COUNTER_ADD)
#undef COURIER_COUNTER_ADD
  }
};

/// Where the calling thread counts: its own set (single writer: a relaxed
/// load and store, no lock prefix).
class counter_sink {
 public:
  explicit counter_sink(counter_set& set) noexcept : set_(set) {}

  /// A seq_cst increment, for `stopped`: ordered before the caller's load of
  /// system::awaiting_ (a store->load pair with system::wait_for_actors()).
  void add_seq_cst(std::atomic<std::uint64_t> counter_set::*field) noexcept {
    (set_.*field).fetch_add(1, std::memory_order_seq_cst);  // seq_cst: see above; on our own line, so uncontended
  }

  void add(std::atomic<std::uint64_t> counter_set::*field, std::uint64_t n = 1) noexcept {
    detail::bump(set_.*field, n);  // read in system::stats() / metrics()
  }

 private:
  counter_set& set_;
};

}  // namespace courier::internal
