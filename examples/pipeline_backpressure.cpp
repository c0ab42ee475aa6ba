// Back-pressure without polling: a fast producer, a slow consumer, and a
// bounded mailbox between them. The producer's `co_await ctx.send` waits
// whenever the consumer's 64 slots are taken, so memory stays flat however
// far behind the consumer is; the same transfer with plain sends into an
// unbounded mailbox queues everything the consumer has not reached.
// Prints, for both runs, the rates and the most messages queued at once.
#include <courier/courier.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

using namespace std::chrono_literals;

struct sample {
  long n;
  char data[256];  // a payload that makes a queue's memory show
};
struct run {
  long count;
  bool wait;
};

class consumer : public courier::actor<consumer> {
 public:
  consumer(std::atomic<long>* got, std::atomic<long>* received) : got_(got), received_(received) {}
  void on(sample s) {
    auto until = std::chrono::steady_clock::now() + 20us;  // the slow part: 10x the producer's pace
    while (std::chrono::steady_clock::now() < until) {
    }
    if (s.n == next_) ++next_;
    got_->fetch_add(1, std::memory_order_relaxed);
    received_->store(next_, std::memory_order_release);
  }

 private:
  long next_ = 0;
  std::atomic<long>* got_;
  std::atomic<long>* received_;
};

class producer : public courier::actor<producer> {
 public:
  producer(courier::address<consumer> to, std::atomic<long>* sent, std::atomic<bool>* done)
      : to_(std::move(to)), sent_(sent), done_(done) {}
  courier::task<void> on(run r, courier::context<producer>& ctx) {
    for (long n = 0; n < r.count; ++n) {
      auto until = std::chrono::steady_clock::now() + 2us;  // producing one sample
      while (std::chrono::steady_clock::now() < until) {
      }
      if (r.wait) {
        auto sent = co_await ctx.send(to_, sample{n, {}});  // waits while the 64 slots are taken
        if (!sent) break;
      } else {
        (void)to_.send(sample{n, {}});  // never refused: the mailbox is unbounded
      }
      sent_->store(n + 1, std::memory_order_release);
    }
    done_->store(true, std::memory_order_release);
  }

 private:
  courier::address<consumer> to_;
  std::atomic<long>* sent_;
  std::atomic<bool>* done_;
};

/// Runs `count` samples; returns the most samples queued at once.
long transfer(courier::runtime& rt, long count, bool wait) {
  std::atomic<long> got{0}, received{0}, sent{0};
  std::atomic<bool> done{false};
  auto c = rt.spawn<consumer>(courier::spawn_options{.capacity = wait ? 64u : 0u}, &got, &received);
  auto p = rt.spawn<producer>(c, &sent, &done);
  auto t0 = std::chrono::steady_clock::now();
  (void)p.send(run{count, wait});
  long peak = 0;
  while (got.load(std::memory_order_acquire) < count) {
    peak = std::max(peak, sent.load(std::memory_order_acquire) - got.load(std::memory_order_acquire));
    std::this_thread::sleep_for(1ms);  // the sampling period of this printout
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  p.shutdown();  // both touch this function's counters: let them end before it returns
  c.shutdown();
  p.join();
  c.join();
  std::printf("%-28s %7.0f samples/s consumed, at most %6ld queued (%7.1f KB of samples)\n",
              wait ? "bounded(64) + co_await send:" : "unbounded + plain send:", static_cast<double>(count) / s,
              peak, static_cast<double>(peak) * sizeof(sample) / 1e3);
  return peak;
}

int main() {
  courier::runtime rt{{.workers = 2}};
  const long count = 20'000;
  long bounded = transfer(rt, count, true);
  long unbounded = transfer(rt, count, false);
  // The bounded run never queues more than its capacity plus the waiter's
  // message (and the one being handled); the unbounded one falls behind.
  bool ok = bounded <= 64 + 2 && rt.shutdown();
  std::printf("%s\n", ok ? "memory stayed flat with back-pressure" : "unexpected");
  (void)unbounded;
  return ok ? 0 : 1;
}
