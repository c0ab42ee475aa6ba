// The park/wake protocol (runtime/sched/parker.hpp): a waiter and a notifier
// never both miss each other.
#include <atomic>
#include <thread>

#include "runtime/sched/parker.hpp"
#include "tests/support/doctest.hpp"
#include "tests/support/wait.hpp"

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

TEST_CASE("a producer/consumer handshake through the parker never loses a wake-up" * doctest::timeout(120)) {
  // The consumer parks when it sees no work; the producer publishes work with a
  // seq_cst store and then notifies, exactly as the scheduler does. A lost
  // wake-up leaves the consumer asleep with work pending: the waits below
  // then time out and fail the test (and the consumer is released to join).
  constexpr int rounds = 20'000;
  parker p(1);
  std::atomic<int> work{0};
  std::atomic<int> consumed{0};
  std::atomic<bool> give_up{false};
  std::atomic<bool> exited{false};
  std::thread consumer([&] {
    int seen = 0;
    while (seen < rounds && !give_up.load()) {
      if (work.load(std::memory_order_seq_cst) > seen) {
        seen = work.load(std::memory_order_seq_cst);
        consumed.store(seen);
        continue;
      }
      p.prepare_wait(0);
      if (work.load(std::memory_order_seq_cst) > seen || give_up.load()) {
        p.cancel_wait(0);
        continue;
      }
      p.commit_wait(0);
    }
    exited.store(true);
  });
  bool kept_up = true;
  for (int i = 1; i <= rounds && kept_up; ++i) {
    work.store(i, std::memory_order_seq_cst);
    p.notify_one([] {});
    if (i % 1000 == 0)  // let the consumer catch up and park again
      kept_up = courier::test::wait_until([&] { return consumed.load() >= i; }, std::chrono::seconds(30));
  }
  bool all = kept_up && courier::test::wait_until([&] { return consumed.load() == rounds; }, std::chrono::seconds(30));
  if (!all) {  // release a consumer stuck in commit_wait, so the thread can be joined
    give_up.store(true);
    while (!exited.load()) {
      p.notify_one([] {});
      std::this_thread::yield();
    }
  }
  consumer.join();
  CHECK(all);
  CHECK(consumed.load() == rounds);
}
