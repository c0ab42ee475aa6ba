// Send batching (docs/architecture.md, "Runs of sends go as one chain"): a
// turn's run of plain messages to one unbounded mailbox is pushed as one
// chain. Each case below breaks if a chain can be overtaken by another
// sender's later message, be lost, arrive after a shutdown closed its
// mailbox, or let its target end as unreachable before it arrives.
#include <courier/courier.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "tests/support/doctest.hpp"
#include "tests/support/wait.hpp"

using namespace courier;
using courier::test::wait_until;

namespace {

struct item {
  std::uint64_t seq;
};
struct report {};
struct position {};

/// Counts items and checks they come in order (one sender per round).
class sink : public actor<sink> {
 public:
  explicit sink(std::atomic<std::uint64_t>* handled) : handled_(handled) {}
  void on(item i) {
    if (i.seq != next_) in_order_ = false;
    next_ = i.seq + 1;
    handled_->fetch_add(1);
  }
  /// How many items had come when the report did (every one in order).
  std::uint64_t on(report) { return in_order_ ? next_ : out_of_order; }
  std::uint64_t on(position) { return in_order_ ? next_ : out_of_order; }

  static constexpr std::uint64_t out_of_order = UINT64_MAX;

 private:
  std::atomic<std::uint64_t>* handled_;
  std::uint64_t next_ = 0;
  bool in_order_ = true;
};

struct burst {
  address<sink> to;
  std::uint64_t from;
  std::uint64_t n;
};

/// Sends a burst from one handler call, then says so through an atomic
/// (not a message: the other thread learns of the sends by memory only).
class sender : public actor<sender> {
 public:
  explicit sender(std::atomic<int>* done) : done_(done) {}
  void on(burst b) {
    for (std::uint64_t i = 0; i < b.n; ++i) (void)b.to.send(item{b.from + i});
    done_->fetch_add(1, std::memory_order_release);
  }

 private:
  std::atomic<int>* done_;
};

}  // namespace

TEST_CASE("a burst from one handler arrives whole and in order" * doctest::timeout(120)) {
  for (std::size_t workers : {1, 2, 4}) {
    CAPTURE(workers);
    runtime rt{{.workers = workers}};
    std::atomic<std::uint64_t> handled{0};
    std::atomic<int> done{0};
    auto s = rt.spawn<sink>(&handled);
    auto a = rt.spawn<sender>(&done);
    constexpr std::uint64_t n = 100'000;  // many full chains and a partial one
    REQUIRE(a.send(burst{s, 0, n}));
    REQUIRE(wait_until([&] { return handled.load() == n; }));
    CHECK(s.ask(position{}).get().value() == n);  // every item, and in order (next_ == n)
    CHECK(rt.shutdown());
    auto st = rt.stats();
    CHECK(st.accepted == st.handled + st.dropped);
    CHECK(st.dropped == 0);
  }
}

TEST_CASE("a message another thread sends after seeing a burst sent comes after the burst" *
          doctest::timeout(120)) {
  // The burst's tail is still buffered on the sender's worker when the
  // flag is set; the main thread's ask must find it queued first.
  runtime rt{{.workers = 2}};
  std::atomic<std::uint64_t> handled{0};
  std::atomic<int> done{0};
  auto s = rt.spawn<sink>(&handled);
  auto a = rt.spawn<sender>(&done);
  constexpr int rounds = 300;
  constexpr std::uint64_t n = 100;
  for (int r = 0; r < rounds; ++r) {
    REQUIRE(a.send(burst{s, r * n, n}));
    REQUIRE(wait_until([&] { return done.load(std::memory_order_acquire) == r + 1; }));
    auto seen = s.ask(report{}).get();  // sent after the burst, by another sender
    REQUIRE(seen);
    CHECK(*seen == (r + 1) * n);
  }
  CHECK(rt.shutdown());
}

TEST_CASE("shutdown asked after a burst was sent drains the whole burst" * doctest::timeout(120)) {
  for (int r = 0; r < 100; ++r) {
    CAPTURE(r);
    runtime rt{{.workers = 2}};
    std::atomic<std::uint64_t> handled{0};
    std::atomic<int> done{0};
    auto s = rt.spawn<sink>(&handled);
    auto a = rt.spawn<sender>(&done);
    constexpr std::uint64_t n = 300;
    REQUIRE(a.send(burst{s, 0, n}));
    REQUIRE(wait_until([&] { return done.load(std::memory_order_acquire) == 1; }));
    s.shutdown();  // everything sent before this is handled, then the sink stops
    REQUIRE(s.join_for(std::chrono::seconds(30)));
    CHECK(handled.load() == n);
  }
}

namespace {

struct spawn_and_flood {
  std::uint64_t n;
  std::atomic<std::uint64_t>* handled;
  std::atomic<std::uint64_t>* seen_at_stop;
};

class counting_sink : public actor<counting_sink> {
 public:
  explicit counting_sink(std::atomic<std::uint64_t>* handled, std::atomic<std::uint64_t>* seen_at_stop)
      : handled_(handled), seen_at_stop_(seen_at_stop) {}
  void on(item i) {
    if (i.seq == next_) ++next_;
    handled_->fetch_add(1);
  }
  void on_stop(context<counting_sink>&) { seen_at_stop_->store(next_); }

 private:
  std::atomic<std::uint64_t>* handled_;
  std::atomic<std::uint64_t>* seen_at_stop_;
  std::uint64_t next_ = 0;
};

class spawner : public actor<spawner> {
 public:
  void on(spawn_and_flood f, context<spawner>& ctx) {
    auto s = ctx.spawn<counting_sink>(f.handled, f.seen_at_stop);
    for (std::uint64_t i = 0; i < f.n; ++i) (void)s.send(item{i});
  }  // the only address goes here: the sink must still get every item, then stop by itself
};

}  // namespace

TEST_CASE("an actor whose only address is dropped right after a burst handles the burst, then stops" *
          doctest::timeout(120)) {
  runtime rt{{.workers = 2}};
  auto sp = rt.spawn<spawner>();
  for (int r = 0; r < 50; ++r) {
    std::atomic<std::uint64_t> handled{0};
    std::atomic<std::uint64_t> seen_at_stop{0};
    constexpr std::uint64_t n = 500;
    REQUIRE(sp.send(spawn_and_flood{n, &handled, &seen_at_stop}));
    REQUIRE(wait_until([&] { return seen_at_stop.load() != 0; }));
    CHECK(seen_at_stop.load() == n);  // all of them, in order, before it stopped
    CHECK(handled.load() == n);
  }
  CHECK(rt.shutdown());
}

namespace {

struct mixed {
  address<sink> to;
  std::uint64_t n;
};

/// A run of sends, then a request to the same actor, then more sends: the
/// request (never buffered) must not overtake the run before it.
class asker_in_between : public actor<asker_in_between> {
 public:
  explicit asker_in_between(std::atomic<std::uint64_t>* seen) : seen_(seen) {}
  void on(mixed m, context<asker_in_between>& ctx) {
    for (std::uint64_t i = 0; i < m.n; ++i) (void)m.to.send(item{i});
    ctx.ask(m.to, position{}, [seen = seen_](result<std::uint64_t> r) { seen->store(r ? *r + 1 : 0); });
    for (std::uint64_t i = m.n; i < 2 * m.n; ++i) (void)m.to.send(item{i});
  }

 private:
  std::atomic<std::uint64_t>* seen_;
};

}  // namespace

TEST_CASE("a request after a run of sends to the same actor comes after the run" * doctest::timeout(120)) {
  runtime rt{{.workers = 2}};
  for (int r = 0; r < 50; ++r) {
    std::atomic<std::uint64_t> handled{0};
    std::atomic<std::uint64_t> seen{0};
    auto s = rt.spawn<sink>(&handled);
    auto a = rt.spawn<asker_in_between>(&seen);
    constexpr std::uint64_t n = 200;
    REQUIRE(a.send(mixed{s, n}));
    REQUIRE(wait_until([&] { return seen.load() != 0 && handled.load() == 2 * n; }));
    CHECK(seen.load() == n + 1);  // exactly the first run before it
    CHECK(s.ask(position{}).get().value() == 2 * n);  // and every item in order
  }
  CHECK(rt.shutdown());
}

namespace {

struct relay_burst {
  address<sink> to;
  std::uint64_t n;
};
struct echo {
  int v;
};
class echoer : public actor<echoer> {
 public:
  int on(echo e) { return e.v; }
};

/// A coroutine handler: a run, a suspension (maybe resumed on another
/// worker), another run to the same actor.
class suspending_sender : public actor<suspending_sender> {
 public:
  explicit suspending_sender(address<echoer> e) : echo_(std::move(e)) {}
  task<void> on(relay_burst b, context<suspending_sender>& ctx) {
    for (std::uint64_t i = 0; i < b.n; ++i) (void)b.to.send(item{i});
    auto r = co_await ctx.ask(echo_, echo{1});
    (void)r;
    for (std::uint64_t i = b.n; i < 2 * b.n; ++i) (void)b.to.send(item{i});
  }

 private:
  address<echoer> echo_;
};

}  // namespace

TEST_CASE("a coroutine handler's runs before and after a suspension stay in order" * doctest::timeout(120)) {
  runtime rt{{.workers = 4}};
  auto e = rt.spawn<echoer>();
  auto c = rt.spawn<suspending_sender>(e);
  for (int r = 0; r < 50; ++r) {
    std::atomic<std::uint64_t> handled{0};
    auto s = rt.spawn<sink>(&handled);
    constexpr std::uint64_t n = 300;
    REQUIRE(c.send(relay_burst{s, n}));
    REQUIRE(wait_until([&] { return handled.load() == 2 * n; }));
    CHECK(s.ask(position{}).get().value() == 2 * n);
  }
  CHECK(rt.shutdown());
}

namespace {

struct flood_then_stop {
  address<sink> to;
  std::uint64_t n;
};
class stopper : public actor<stopper> {
 public:
  void on(flood_then_stop f) {
    for (std::uint64_t i = 0; i < f.n; ++i) (void)f.to.send(item{i});
    f.to.stop();  // while most of the run may still be buffered here
  }
};

}  // namespace

TEST_CASE("a run whose target stops meanwhile is handled or counted as dropped, never lost" *
          doctest::timeout(120)) {
  runtime rt{{.workers = 2}};
  std::atomic<std::uint64_t> handled{0};
  auto st = rt.spawn<stopper>();
  constexpr int rounds = 100;
  constexpr std::uint64_t n = 1'000;
  std::vector<address<sink>> sinks;
  for (int r = 0; r < rounds; ++r) {
    sinks.push_back(rt.spawn<sink>(&handled));
    REQUIRE(st.send(flood_then_stop{sinks.back(), n}));
  }
  for (auto& s : sinks) REQUIRE(s.join_for(std::chrono::seconds(30)));
  CHECK(rt.shutdown());
  auto stats = rt.stats();
  CHECK(stats.accepted == rounds + rounds * n);  // every send was accepted (the sink was open)
  CHECK(stats.handled == rounds + handled.load());
  CHECK(stats.dropped == rounds * n - handled.load());  // the rest: dropped and counted, none lost
}

namespace {

struct send_three {
  address<sink> to;
  std::atomic<int>* refused;
};
class repeat_sender : public actor<repeat_sender> {
 public:
  void on(send_three m) {
    for (std::uint64_t i = 0; i < 3; ++i) {
      auto r = m.to.send(item{i});
      if (!r && r.error().code() == errc::actor_stopped) m.refused->fetch_add(1);
    }
  }
};

}  // namespace

TEST_CASE("every send of a run to a stopped actor returns actor_stopped" * doctest::timeout(60)) {
  // The 2nd and 3rd sends continue a run: they must not be buffered (and
  // reported sent) when the mailbox is closed.
  runtime rt{{.workers = 2}};
  std::atomic<std::uint64_t> handled{0};
  std::atomic<int> refused{0};
  auto s = rt.spawn<sink>(&handled);
  s.stop();
  REQUIRE(s.join_for(std::chrono::seconds(30)));
  auto r = rt.spawn<repeat_sender>();
  REQUIRE(r.send(send_three{s, &refused}));
  REQUIRE(wait_until([&] { return rt.stats().handled == 1; }));
  CHECK(refused.load() == 3);
  CHECK(handled.load() == 0);
  CHECK(rt.shutdown());
}

namespace {

struct run_then_wait {
  address<sink> to;
  std::uint64_t n;
};

/// Sends a run (buffered after its first message), then stays in the same
/// handler call until the target has handled all of it, 10 s at most.
class long_sender : public actor<long_sender> {
 public:
  long_sender(std::atomic<std::uint64_t>* handled, std::atomic<int>* early, std::atomic<int>* finished)
      : handled_(handled), early_(early), finished_(finished) {}
  void on(run_then_wait m) {
    for (std::uint64_t i = 0; i < m.n; ++i) (void)m.to.send(item{i});
    if (wait_until([&] { return handled_->load() == m.n; }, std::chrono::seconds(10))) early_->fetch_add(1);
    finished_->fetch_add(1);
  }

 private:
  std::atomic<std::uint64_t>* handled_;
  std::atomic<int>* early_;
  std::atomic<int>* finished_;
};

}  // namespace

TEST_CASE("a run buffered by a long handler reaches its target while the handler still runs" *
          doctest::timeout(300)) {
  // Only the stall monitor can push the chain here: the turn does not end
  // until the target has handled the whole run. Each round's target is new
  // and has just answered the main thread (it ran on some worker and went
  // idle), so the pushed chain must also schedule it.
  for (std::size_t workers : {2, 4}) {
    CAPTURE(workers);
    runtime rt{{.workers = workers}};
    std::atomic<int> early{0};
    std::atomic<int> finished{0};
    constexpr int rounds = 20;
    constexpr std::uint64_t n = 10;
    for (int r = 1; r <= rounds; ++r) {
      CAPTURE(r);
      std::atomic<std::uint64_t> handled{0};
      auto s = rt.spawn<sink>(&handled);
      auto before = s.ask(position{}).get();
      REQUIRE(before);
      REQUIRE(*before == 0);
      auto l = rt.spawn<long_sender>(&handled, &early, &finished);
      REQUIRE(l.send(run_then_wait{s, n}));
      // The handler reads `handled`: this round's counter must outlive it.
      REQUIRE(wait_until([&] { return finished.load() == r; }));
      auto after = s.ask(position{}).get();
      REQUIRE(after);
      CHECK(*after == n);  // all of it, in order
    }
    CHECK(early.load() == rounds);
    CHECK(rt.shutdown());
  }
}
