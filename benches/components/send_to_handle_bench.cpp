// Send-to-handle on one worker: an actor sending itself the next message,
// through the public API; baseline: the same loop through a mutex + deque and
// a std::function call on one thread.
#include "benches/components/benchmark.hpp"

#include <courier/courier.hpp>

#include <atomic>
#include <functional>

#include "benches/components/baselines.hpp"

namespace {

struct hop {
  std::uint64_t left;
};

struct looper : courier::actor<looper> {
  explicit looper(std::atomic<bool>* done) : done_(done) {}
  void on(hop h, courier::context<looper>& ctx) {
    if (h.left == 0) {
      done_->store(true, std::memory_order_release);
      done_->notify_one();
      return;
    }
    (void)ctx.self().send(hop{h.left - 1});
  }
  std::atomic<bool>* done_;
};

void BM_send_to_handle_courier(benchmark::State& state) {
  courier::runtime rt{{.workers = 1}};
  constexpr std::uint64_t n = 100'000;
  for (auto _ : state) {
    std::atomic<bool> done{false};
    auto a = rt.spawn<looper>(&done);
    (void)a.send(hop{n});
    while (!done.load(std::memory_order_acquire)) done.wait(false);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * (n + 1)));
}
BENCHMARK(BM_send_to_handle_courier)->UseRealTime();

void BM_send_to_handle_mutex_deque(benchmark::State& state) {
  constexpr std::uint64_t n = 100'000;
  bench::mutex_deque<std::function<void()>*> q;
  for (auto _ : state) {
    std::uint64_t left = n;
    std::function<void()> step;
    step = [&] {
      if (left-- > 0) q.push(&step);
    };
    q.push(&step);
    std::function<void()>* f = nullptr;
    while (q.pop(f)) (*f)();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * (n + 1)));
}
BENCHMARK(BM_send_to_handle_mutex_deque)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
