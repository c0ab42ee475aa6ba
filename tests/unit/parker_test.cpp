// The park/wake protocol (runtime/sched/parker.hpp): a waiter and a notifier
// never both miss each other.
#include <atomic>
#include <thread>

#include "runtime/sched/parker.hpp"
#include "tests/support/doctest.hpp"

using courier::internal::parker;

TEST_CASE("notify_one finds nobody when no worker announced itself") {
  parker p(2);
  int claimed = 0;
  CHECK_FALSE(p.notify_one([&] { ++claimed; }));
  CHECK(claimed == 0);
  CHECK_FALSE(p.anyone_parked());
}

TEST_CASE("cancel_wait after a notifier claimed the worker consumes its token") {
  parker p(2);
  p.prepare_wait(1);
  CHECK(p.anyone_parked());
  int claimed = 0;
  CHECK(p.notify_one([&] { ++claimed; }));
  CHECK(claimed == 1);
  CHECK(p.cancel_wait(1));  // it was claimed: counts as woken
  CHECK_FALSE(p.anyone_parked());
  p.prepare_wait(1);
  CHECK_FALSE(p.cancel_wait(1));  // nobody claimed it this time
}

TEST_CASE("a producer/consumer handshake through the parker never loses a wake-up") {
  // The consumer parks when it sees no work; the producer publishes work with a
  // seq_cst store and then notifies, exactly as the scheduler does.
  constexpr int rounds = 20'000;
  parker p(1);
  std::atomic<int> work{0};
  std::atomic<int> consumed{0};
  std::thread consumer([&] {
    int seen = 0;
    while (seen < rounds) {
      if (work.load(std::memory_order_seq_cst) > seen) {
        seen = work.load(std::memory_order_seq_cst);
        consumed.store(seen);
        continue;
      }
      p.prepare_wait(0);
      if (work.load(std::memory_order_seq_cst) > seen) {
        p.cancel_wait(0);
        continue;
      }
      p.commit_wait(0);
    }
  });
  for (int i = 1; i <= rounds; ++i) {
    work.store(i, std::memory_order_seq_cst);
    p.notify_one([] {});
    if (i % 1000 == 0)
      while (consumed.load() < i) std::this_thread::yield();  // let the consumer park again
  }
  consumer.join();  // hangs (and the test times out) if a wake-up is lost
  CHECK(consumed.load() == rounds);
}
