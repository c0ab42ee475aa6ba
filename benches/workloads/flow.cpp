// send_for: the wake-up latency of a thread waiting for room in a full
// bounded mailbox, from the moment the consumer frees a slot (its previous
// handler returns: the next message is popped and its slot handed over) to
// the moment send_for returns. The reference, measured in the same
// process: a bare futex hand-off between two threads (an atomic store plus
// notify, then the sleeper's return), the floor for any wake-up of a
// sleeping thread on this machine.
#include <courier/courier.hpp>

#include <atomic>
#include <thread>

#include "benches/harness/histogram.hpp"
#include "benches/workloads/make_config.hpp"
#include "benches/workloads/workloads.hpp"

using namespace courier;

namespace courier_bench {

namespace {

struct job {
  std::uint64_t n;
};

class slow_sink : public actor<slow_sink> {
 public:
  explicit slow_sink(std::atomic<std::uint64_t>* freed_at) : freed_at_(freed_at) {}
  void on(job) {
    auto until = bench::now_ns() + 50'000;  // 50 us: the waiter is asleep again before the next slot frees
    while (bench::now_ns() < until) {
    }
    freed_at_->store(bench::now_ns(), std::memory_order_release);  // the next pop frees a slot right after this
  }

 private:
  std::atomic<std::uint64_t>* freed_at_;
};

/// The floor: one thread sleeps on a futex, the other stores and notifies.
bench::histogram futex_handoff(std::uint64_t n) {
  bench::histogram h;
  std::atomic<std::uint32_t> word{0};
  std::atomic<std::uint64_t> sent_at{0};
  std::atomic<std::uint64_t> seen{0};
  std::thread sleeper([&] {
    for (std::uint64_t i = 1; i <= n; ++i) {
      // acquire: pairs with the store below (and sent_at before it)
      while (word.load(std::memory_order_acquire) != static_cast<std::uint32_t>(i))
        word.wait(static_cast<std::uint32_t>(i - 1), std::memory_order_acquire);
      h.record(bench::now_ns() - sent_at.load(std::memory_order_relaxed));
      seen.store(i, std::memory_order_release);  // release: our record before the next round
    }
  });
  for (std::uint64_t i = 1; i <= n; ++i) {
    while (seen.load(std::memory_order_acquire) != i - 1) {  // acquire: pairs with the sleeper's release
    }
    auto until = bench::now_ns() + 50'000;  // as the sink: the sleeper is asleep before the next store
    while (bench::now_ns() < until) {
    }
    sent_at.store(bench::now_ns(), std::memory_order_relaxed);
    word.store(static_cast<std::uint32_t>(i), std::memory_order_release);
    word.notify_one();
  }
  sleeper.join();
  return h;
}

}  // namespace

bench::outcome send_for_wake(const bench::options& o) {
  const auto n = bench::scaled(20'000, o, 200);
  std::atomic<std::uint64_t> freed_at{0};
  bench::histogram wake;
  std::uint64_t refused = 0;
  {
    runtime rt{make_config(o)};
    auto sink = rt.spawn<slow_sink>(spawn_options{.capacity = 1}, &freed_at);
    // Fill: one message being handled, one holding the slot; then each
    // send_for waits for the slot the next pop frees.
    (void)sink.send(job{0});
    (void)sink.send_for(job{1}, std::chrono::seconds(10));
    for (std::uint64_t i = 2; i < n + 2; ++i) {
      auto r = sink.send_for(job{i}, std::chrono::seconds(10));
      auto now = bench::now_ns();
      if (!r) {
        ++refused;
        continue;
      }
      auto freed = freed_at.load(std::memory_order_acquire);
      if (freed != 0 && now >= freed) wake.record(now - freed);
    }
    sink.shutdown();
    rt.shutdown();
  }
  if (refused) return bench::fail("send_for gave up");
  auto floor = futex_handoff(n);
  auto p50 = static_cast<double>(wake.quantile(0.5)) / 1e3, p99 = static_cast<double>(wake.quantile(0.99)) / 1e3;
  auto f50 = static_cast<double>(floor.quantile(0.5)) / 1e3, f99 = static_cast<double>(floor.quantile(0.99)) / 1e3;
  return {true, "ok", {{"p50", p50, "us"},
                       {"p99", p99, "us"},
                       {"futex_p50", f50, "us"},
                       {"futex_p99", f99, "us"},
                       {"p50_ratio", f50 > 0 ? p50 / f50 : 0, "x"}}};
}

}  // namespace courier_bench
