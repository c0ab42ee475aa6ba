// courier-bench: the workloads of docs/performance.md on courier.
#include "benches/workloads/workloads.hpp"

int main(int argc, char** argv) {
  using namespace courier_bench;
  return bench::run_main(argc, argv, "courier", COURIER_BENCH_ALLOCATOR,
                         {{"pingpong", pingpong, true},
                          {"pingpong_recipient", pingpong_recipient, true},
                          {"pairs", pairs, false},
                          {"pairs_measured", pairs_measured, false},
                          {"fanin", fanin, false},
                          {"ring_a", ring_a, true},
                          {"ring_b", ring_b, false},
                          {"spawn_a", spawn_a, true},
                          {"spawn_b", spawn_b, true},
                          {"footprint", footprint, true},
                          {"ask_thread", ask_thread, true},
                          {"ask_actor", ask_actor, false},
                          {"ask_actor_await", ask_actor_await, false},
                          {"idle", idle, true},
                          {"long_handler", long_handler, true},
                          {"timers", timers, true},
                          {"when_all", when_all_pair, true},
                          {"send_for_wake", send_for_wake, true},
                          {"stream", stream_transfer, false}});
}
