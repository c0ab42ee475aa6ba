// The timer service (runtime/timer/timer_service.hpp): deadline order, never
// early, cancellation of what is pending at stop.
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "runtime/timer/timer_service.hpp"
#include "tests/support/doctest.hpp"
#include "tests/support/wait.hpp"

using namespace std::chrono_literals;
using courier::internal::timer_service;

namespace {

struct log {
  std::mutex mutex;
  std::vector<int> fired;
  std::vector<int> cancelled;
  std::atomic<int> early{0};
};

/// One timer job's target: records whether it fired (and not early) or was
/// cancelled, then frees itself.
struct probe {
  log& l;
  int id;
  std::chrono::steady_clock::time_point due;

  static void run(void* self, void*, bool fired) noexcept {
    auto* p = static_cast<probe*>(self);
    if (fired && std::chrono::steady_clock::now() < p->due) p->l.early.fetch_add(1);
    {
      std::lock_guard lock(p->l.mutex);
      (fired ? p->l.fired : p->l.cancelled).push_back(p->id);
    }
    delete p;
  }
};

courier::detail::timer_job job(log& l, int id, std::chrono::steady_clock::time_point due) {
  return {&probe::run, new probe{l, id, due}, nullptr};
}

}  // namespace

TEST_CASE("timers fire in deadline order and never before their deadline") {
  log l;
  timer_service timers;
  auto now = std::chrono::steady_clock::now();
  for (int i : {3, 1, 2, 0}) {
    auto due = now + std::chrono::milliseconds(5 * (i + 1));
    timers.add(due, job(l, i, due));
  }
  REQUIRE(courier::test::wait_until([&] {
    std::lock_guard lock(l.mutex);
    return l.fired.size() == 4;
  }));
  CHECK(l.fired == std::vector<int>{0, 1, 2, 3});
  CHECK(l.early.load() == 0);
}

TEST_CASE("stop cancels pending timers, and later additions are cancelled at once") {
  log l;
  timer_service timers;
  auto far = std::chrono::steady_clock::now() + 1h;
  timers.add(far, job(l, 1, far));
  timers.add(far, job(l, 2, far));
  CHECK(timers.pending() == 2);
  timers.stop();
  timers.add(far, job(l, 3, far));
  std::lock_guard lock(l.mutex);
  CHECK(l.fired.empty());
  CHECK(l.cancelled.size() == 3);
}

TEST_CASE("adding timers while the service waits for an earlier deadline is safe (found by tools/fuzz)") {
  // Before the fix the service waited on a reference into its heap, which a
  // concurrent add() could reallocate (ASan: heap-use-after-free).
  log l;
  timer_service timers;
  auto now = std::chrono::steady_clock::now();
  timers.add(now + 20ms, job(l, -1, now + 20ms));
  std::thread adder([&] {
    for (int i = 0; i < 2000; ++i) {
      auto due = std::chrono::steady_clock::now() + 1h;
      timers.add(due, job(l, i, due));
    }
  });
  adder.join();
  REQUIRE(courier::test::wait_until([&] {
    std::lock_guard lock(l.mutex);
    return !l.fired.empty();
  }));
  timers.stop();
  std::lock_guard lock(l.mutex);
  CHECK(l.fired == std::vector<int>{-1});
  CHECK(l.cancelled.size() == 2000);
}
