// Chase-Lev deque: owner push/pop, push/steal, vs a mutex + deque.
#include "benches/components/benchmark.hpp"

#include "benches/components/baselines.hpp"
#include "runtime/sched/work_stealing_deque.hpp"

using courier::internal::work_stealing_deque;

namespace {

int item;

void BM_deque_push_pop_chase_lev(benchmark::State& state) {
  work_stealing_deque<int*> d;
  for (auto _ : state) {
    d.push(&item);
    benchmark::DoNotOptimize(d.pop());
  }
}
BENCHMARK(BM_deque_push_pop_chase_lev);

void BM_deque_push_steal_chase_lev(benchmark::State& state) {
  work_stealing_deque<int*> d;
  for (auto _ : state) {
    d.push(&item);
    benchmark::DoNotOptimize(d.steal());
  }
}
BENCHMARK(BM_deque_push_steal_chase_lev);

void BM_deque_push_pop_mutex_deque(benchmark::State& state) {
  bench::mutex_deque<int*> d;
  int* out = nullptr;
  for (auto _ : state) {
    d.push(&item);
    benchmark::DoNotOptimize(d.pop(out));
  }
}
BENCHMARK(BM_deque_push_pop_mutex_deque);

// Thread 0 pushes, the others steal; real time, so the contended cost shows.
work_stealing_deque<int*> shared(1 << 16);
void BM_deque_contended_chase_lev(benchmark::State& state) {
  for (auto _ : state) {
    if (state.thread_index() == 0) {
      shared.push(&item);
      benchmark::DoNotOptimize(shared.pop());
    } else {
      benchmark::DoNotOptimize(shared.steal());
    }
  }
}
BENCHMARK(BM_deque_contended_chase_lev)->Threads(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
