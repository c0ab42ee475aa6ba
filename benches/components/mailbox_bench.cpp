// Mailbox push/pop: courier's mailbox vs a mutex + deque and a raw
// moodycamel enqueue/dequeue (the lower bound of a queue operation).
#include "benches/components/benchmark.hpp"

#include <atomic>
#include <vector>

#include "benches/components/baselines.hpp"
#include "runtime/mailbox/mailbox.hpp"
#include "runtime/sched/injection_queue.hpp"

using courier::detail::action;
using courier::detail::cell_base;
using courier::detail::envelope;
using courier::internal::mailbox;

namespace {

struct node : envelope {
  node() : envelope(&run_fn, 0) {}
  static courier::detail::ran run_fn(envelope*, cell_base*, action) noexcept {  // nodes are recycled by the benchmark
    return courier::detail::ran::done;
  }
};

// Push one, pop one: the uncontended cost of a message through the mailbox.
void BM_mailbox_push_pop_courier(benchmark::State& state) {
  cell_base base;
  auto& cell = *::new (static_cast<void*>(base.runtime_block)) courier::internal::cell_core();
  mailbox::init(cell);
  mailbox box(cell);
  std::vector<node> nodes(2);
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(box.push(&nodes[i++ & 1]));
    benchmark::DoNotOptimize(box.pop());
  }
}
BENCHMARK(BM_mailbox_push_pop_courier);

void BM_mailbox_push_pop_mutex_deque(benchmark::State& state) {
  bench::mutex_deque<node*> q;
  node n;
  node* out = nullptr;
  for (auto _ : state) {
    q.push(&n);
    benchmark::DoNotOptimize(q.pop(out));
  }
}
BENCHMARK(BM_mailbox_push_pop_mutex_deque);

void BM_mailbox_push_pop_moodycamel(benchmark::State& state) {
  moodycamel::ConcurrentQueue<node*> q;
  node n;
  node* out = nullptr;
  for (auto _ : state) {
    q.enqueue(&n);
    benchmark::DoNotOptimize(q.try_dequeue(out));
  }
}
BENCHMARK(BM_mailbox_push_pop_moodycamel);

// Contended: every thread pushes; thread 0 is the single consumer.
cell_base shared_base;
auto& shared_cell = *::new (static_cast<void*>(shared_base.runtime_block)) courier::internal::cell_core();
std::vector<node> shared_nodes(1 << 20);
std::atomic<std::size_t> next_node{0};

void BM_mailbox_contended_courier(benchmark::State& state) {
  if (state.thread_index() == 0) {
    mailbox::init(shared_cell);
    next_node.store(0);
  }
  mailbox box(shared_cell);
  for (auto _ : state) {
    auto i = next_node.fetch_add(1, std::memory_order_relaxed) & ((1 << 20) - 1);
    benchmark::DoNotOptimize(box.push(&shared_nodes[i]));
    if (state.thread_index() == 0)
      while (box.pop()) {
      }
  }
  if (state.thread_index() == 0)
    while (!box.empty()) box.pop();
}
BENCHMARK(BM_mailbox_contended_courier)->Threads(2)->UseRealTime();

bench::mutex_deque<node*> shared_deque;
void BM_mailbox_contended_mutex_deque(benchmark::State& state) {
  node n;
  node* out = nullptr;
  for (auto _ : state) {
    shared_deque.push(&n);
    if (state.thread_index() == 0)
      while (shared_deque.pop(out)) {
      }
  }
}
BENCHMARK(BM_mailbox_contended_mutex_deque)->Threads(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
