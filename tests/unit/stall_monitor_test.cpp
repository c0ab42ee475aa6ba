// The stall monitor (runtime/sched/stall_monitor.hpp) sleeps while every
// worker is parked and must be woken wherever a worker comes to hold work
// that only it would run; otherwise that work waits for the worker's long
// handler to end. These cases start each round with the monitor asleep (an
// idle pool) and then build the schedule that has no other wake-up in it.
#include <courier/courier.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/actor/lifecycle.hpp"
#include "runtime/sched/scheduler.hpp"
#include "runtime/system/system.hpp"
#include "tests/support/doctest.hpp"
#include "tests/support/wait.hpp"

using namespace courier;
using courier::test::gate;
using courier::test::wait_until;

namespace {

struct round_state {
  gate release_sink;
  std::atomic<bool> sink_held{false};
  std::atomic<bool> run_sent{false};
  std::atomic<std::uint64_t> handled{0};
  bool in_order = true;  // the sink's handlers only; read after `finished`
  std::atomic<bool> early{false};
  std::atomic<bool> finished{false};
};

struct item {
  std::uint64_t seq;
};
struct hold {};
class sink : public actor<sink> {
 public:
  explicit sink(round_state* s) : s_(s) {}
  /// Keeps the sink busy (not idle) until the test opens the gate.
  void on(hold) {
    s_->sink_held = true;
    s_->release_sink.wait();
  }
  void on(item i) {
    if (i.seq != next_) s_->in_order = false;
    next_ = i.seq + 1;
    ++s_->handled;
  }

 private:
  round_state* s_;
  std::uint64_t next_ = 0;
};

struct run_then_wait {
  address<sink> to;
  std::uint64_t n;
};
/// Sends a run (the first message direct, the rest a chain in this
/// worker's send buffer), then stays in the handler until the sink has
/// handled all of it, 10 s at most.
class long_sender : public actor<long_sender> {
 public:
  explicit long_sender(round_state* s) : s_(s) {}
  void on(run_then_wait m) {
    for (std::uint64_t i = 0; i < m.n; ++i) (void)m.to.send(item{i});
    s_->run_sent = true;
    if (wait_until([&] { return s_->handled.load() == m.n; }, std::chrono::seconds(10))) s_->early = true;
    s_->finished = true;
  }

 private:
  round_state* s_;
};

/// Declared after the runtime: lets every sink out before ~runtime waits
/// for it, also when a check fails first.
struct release_all {
  std::vector<std::unique_ptr<round_state>>& states;
  ~release_all() {
    for (auto& s : states) s->release_sink.open();
  }
};

const internal::stall_monitor& monitor_of(const address<sink>& a) {
  recipient<item> r = a;
  return internal::system_of(*detail::recipient_access::cell_of(r)).scheduler().monitor();
}

}  // namespace

TEST_CASE("a chain started while the monitor sleeps wakes it: a long handler's run whose first message found "
          "its target busy reaches the target while the handler runs" *
          doctest::timeout(300)) {
  constexpr std::uint64_t n = 10;
  constexpr int rounds = 10;
  for (std::size_t workers : {2, 4}) {
    CAPTURE(workers);
    std::vector<std::unique_ptr<round_state>> states;  // outlives the runtime's handlers
    runtime rt{{.workers = workers}};
    release_all let_go{states};
    for (int r = 0; r < rounds; ++r) {
      CAPTURE(r);
      auto* st = states.emplace_back(std::make_unique<round_state>()).get();
      auto s = rt.spawn<sink>(st);
      auto l = rt.spawn<long_sender>(st);
      // The pool is idle once both have started: every worker parks and
      // the monitor goes to sleep. Waking a worker does not wake it.
      REQUIRE(wait_until([&] { return monitor_of(s).asleep(); }));
      REQUIRE(s.send(hold{}));
      REQUIRE(wait_until([&] { return st->sink_held.load(); }));
      // The run's first message finds the sink busy, so it schedules
      // nothing (no schedule_local, which would wake the monitor); the
      // rest wait in the long sender's chain.
      REQUIRE(l.send(run_then_wait{s, n}));
      REQUIRE(wait_until([&] { return st->run_sent.load(); }));
      st->release_sink.open();
      REQUIRE(wait_until([&] { return st->finished.load(); }));
      CHECK(st->early.load());
      CHECK(st->handled.load() == n);
      CHECK(st->in_order);
    }
    CHECK(rt.shutdown());
  }
}
