// Failure policies (docs/supervision.md, "Failure policies"; docs/api.md,
// guarantee 7): resume, stop, restart in place with intensity and backoff,
// the dormant state and its races with stop / shutdown, bad options.
#include <courier/courier.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/collected.hpp"
#include "tests/support/conservation.hpp"
#include "tests/support/doctest.hpp"
#include "tests/support/flaky_sink.hpp"
#include "tests/support/wait.hpp"

using namespace courier;
using namespace std::chrono_literals;
using courier::test::gate;
using courier::test::wait_until;

namespace {

/// What the incarnations of a test's actor did.
struct trace : courier::test::collected<std::string> {
  std::atomic<int> starts{0};
  std::atomic<int> stops{0};
  std::atomic<int> handled{0};
};

struct boom {};
struct work {
  int n;
};
struct whoami {};

class fragile : public actor<fragile> {
 public:
  fragile(std::shared_ptr<trace> t, int tag) : t_(std::move(t)), tag_(tag), serial_(t_->starts.load()) {}
  void on_start(context<fragile>&) {
    t_->starts.fetch_add(1);
    t_->add("start " + std::to_string(serial_));
  }
  void on_stop(context<fragile>& ctx) {
    t_->stops.fetch_add(1);
    t_->add(std::string("stop ") + std::string(to_string(ctx.stop_reason())) + (ctx.restarting() ? " restarting" : ""));
  }
  void on(boom) { throw std::runtime_error("boom"); }
  void on(gate* g) {
    g->wait();
    throw std::runtime_error("late boom");
  }
  int on(work w) {
    t_->handled.fetch_add(1);
    t_->add("work " + std::to_string(w.n) + " by " + std::to_string(serial_));
    ++seen_;
    return seen_;
  }
  int on(whoami) const { return tag_ * 1000 + serial_; }

 private:
  std::shared_ptr<trace> t_;
  int tag_;
  int serial_;
  int seen_ = 0;  // per incarnation: a restart starts from a fresh object
};

failure_policy restart_policy(std::uint32_t intensity = 100, std::chrono::milliseconds backoff = 0ms) {
  return {.action = on_failure::restart, .intensity = intensity, .period = 60s, .backoff_min = backoff,
          .backoff_max = backoff};
}

using down_seen = courier::test::collected<down>;

template <class B>
struct watch {
  address<B> who;
};

class watcher : public actor<watcher> {
 public:
  explicit watcher(std::shared_ptr<down_seen> s) : s_(std::move(s)) {}
  monitor_id on(watch<fragile> w, context<watcher>& ctx) { return ctx.monitor(w.who); }
  void on(down d) { s_->add(std::move(d)); }

 private:
  std::shared_ptr<down_seen> s_;
};

}  // namespace

TEST_CASE("resume is the default: after a handler throws, the same object handles the next message") {
  auto t = std::make_shared<trace>();
  runtime rt{{.workers = 2}};
  rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {});
  auto a = rt.spawn<fragile>(t, 1);
  CHECK(a.ask(work{1}).get().value() == 1);
  REQUIRE(a.send(boom{}).has_value());
  CHECK(a.ask(work{2}).get().value() == 2);  // the same object: its count went on
  CHECK(t->starts.load() == 1);
  CHECK(rt.stats().restarted == 0);
}

TEST_CASE("policy stop: the actor stops after the failing message, reason failed with the text, its queue dropped") {
  auto t = std::make_shared<trace>();
  auto s = std::make_shared<down_seen>();
  runtime rt{{.workers = 2}};
  rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {});
  gate g;
  auto a = rt.spawn<fragile>(spawn_options{.failure = {.action = on_failure::stop}}, t, 1);
  auto w = rt.spawn<watcher>(s);
  (void)w.ask(watch<fragile>{a}).get().value();
  REQUIRE(a.send(boom{}).has_value());
  auto late = a.ask(work{1});  // queued behind the failure, or refused after it
  a.join();
  CHECK(late.get().error().code() == errc::actor_stopped);
  REQUIRE(wait_until([&] { return s->count.load() == 1; }));
  CHECK(s->snapshot().front().reason == exit_reason::failed);
  CHECK(s->snapshot().front().what == "boom");
  CHECK(t->snapshot().back() == "stop failed");
  rt.shutdown();
  courier::test::check_conservation(rt.stats());
}

TEST_CASE("policy restart: a new object from copies of the spawn arguments, on_stop sees failed and restarting, on_start first") {
  auto t = std::make_shared<trace>();
  auto s = std::make_shared<down_seen>();
  runtime rt{{.workers = 2}};
  rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {});
  auto a = rt.spawn<fragile>(spawn_options{.failure = restart_policy()}, t, 7);
  auto w = rt.spawn<watcher>(s);
  (void)w.ask(watch<fragile>{a}).get().value();
  auto id = a.id();
  CHECK(a.ask(work{1}).get().value() == 1);
  CHECK(a.ask(whoami{}).get().value() == 7000);
  auto failing = a.ask(boom{});
  CHECK(a.ask(work{2}).get().value() == 1);  // a fresh object: its count restarted
  CHECK(failing.get().error().code() == errc::handler_failed);  // the failing request is answered, not redelivered
  CHECK(a.ask(whoami{}).get().value() == 7001);  // the same argument (7), a new incarnation
  CHECK(a.id() == id);
  CHECK_FALSE(a.done());
  auto events = t->snapshot();
  REQUIRE(events.size() >= 5);
  CHECK(events[0] == "start 0");
  CHECK(events[1] == "work 1 by 0");
  CHECK(events[2] == "stop failed restarting");
  CHECK(events[3] == "start 1");  // on_start of the new incarnation before any message
  CHECK(events[4] == "work 2 by 1");
  CHECK(rt.stats().restarted == 1);
  CHECK(rt.metrics().restarts == 1);
  CHECK(s->count.load() == 0);  // invisible from outside: nobody gets a down
  rt.shutdown();
  CHECK(s->count.load() <= 1);
  courier::test::check_conservation(rt.stats());
}

TEST_CASE("restart intensity: the (intensity+1)-th restart within the period stops the actor instead") {
  auto t = std::make_shared<trace>();
  auto s = std::make_shared<down_seen>();
  runtime rt{{.workers = 2}};
  rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {});
  auto a = rt.spawn<fragile>(spawn_options{.failure = restart_policy(2)}, t, 1);
  auto w = rt.spawn<watcher>(s);
  (void)w.ask(watch<fragile>{a}).get().value();
  for (int i = 0; i < 3; ++i) REQUIRE(a.send(boom{}).has_value());
  a.join();
  CHECK(t->starts.load() == 3);  // the first incarnation and two restarts
  REQUIRE(wait_until([&] { return s->count.load() == 1; }));
  CHECK(s->snapshot().front().reason == exit_reason::failed);
  CHECK(s->snapshot().front().what == "restart intensity exceeded: boom");
  CHECK(rt.stats().restarted == 2);
}

TEST_CASE("intensity 0: the first failure stops the actor") {
  auto t = std::make_shared<trace>();
  runtime rt{{.workers = 2}};
  rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {});
  auto a = rt.spawn<fragile>(spawn_options{.failure = restart_policy(0)}, t, 1);
  REQUIRE(a.send(boom{}).has_value());
  a.join();
  CHECK(t->starts.load() == 1);
  CHECK(rt.stats().restarted == 0);
}

namespace {

struct stamp {
  std::shared_ptr<std::atomic<std::int64_t>> at;
};

class timed : public actor<timed> {
 public:
  explicit timed(std::shared_ptr<std::atomic<std::int64_t>> failed_at) : failed_at_(std::move(failed_at)) {}
  void on(boom) {
    failed_at_->store(std::chrono::steady_clock::now().time_since_epoch().count());
    throw std::runtime_error("boom");
  }
  void on(stamp s) { s.at->store(std::chrono::steady_clock::now().time_since_epoch().count()); }

 private:
  std::shared_ptr<std::atomic<std::int64_t>> failed_at_;
};

}  // namespace

TEST_CASE("backoff: a restarting actor is dormant, accepting but handling nothing, until its backoff has passed") {
  runtime rt{{.workers = 2}};
  rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {});
  auto failed_at = std::make_shared<std::atomic<std::int64_t>>(0);
  auto handled_at = std::make_shared<std::atomic<std::int64_t>>(0);
  auto a = rt.spawn<timed>(spawn_options{.failure = restart_policy(10, 100ms)}, failed_at);
  REQUIRE(a.send(boom{}).has_value());
  REQUIRE(a.send(stamp{handled_at}).has_value());  // accepted while dormant
  REQUIRE(wait_until([&] { return handled_at->load() != 0; }));
  auto waited = std::chrono::steady_clock::duration(handled_at->load() - failed_at->load());
  CHECK(waited >= 100ms);  // a lower bound only: the backoff is a minimum
  CHECK(rt.stats().restarted == 1);
}

TEST_CASE("stop() on a dormant actor wins: no new incarnation, the queue dropped, reason normal") {
  auto t = std::make_shared<trace>();
  auto s = std::make_shared<down_seen>();
  runtime rt{{.workers = 2}};
  rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {});
  auto a = rt.spawn<fragile>(spawn_options{.failure = restart_policy(10, 10s)}, t, 1);
  auto w = rt.spawn<watcher>(s);
  (void)w.ask(watch<fragile>{a}).get().value();
  REQUIRE(a.send(boom{}).has_value());
  REQUIRE(wait_until([&] { return t->stops.load() == 1; }));  // torn down: dormant for 10 s
  auto queued = a.ask(work{1});
  a.stop();
  a.join();  // long before the 10 s backoff
  CHECK(queued.get().error().code() == errc::actor_stopped);
  CHECK(t->starts.load() == 1);  // no second on_start
  CHECK(t->stops.load() == 1);   // and no second on_stop: the hooks stay paired
  REQUIRE(wait_until([&] { return s->count.load() == 1; }));
  CHECK(s->snapshot().front().reason == exit_reason::normal);
  rt.shutdown();
  courier::test::check_conservation(rt.stats());
}

TEST_CASE("shutdown() on a dormant actor rebuilds it at once, drains its queue, then stops with reason normal") {
  auto t = std::make_shared<trace>();
  runtime rt{{.workers = 2}};
  rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {});
  auto a = rt.spawn<fragile>(spawn_options{.failure = restart_policy(10, 10s)}, t, 1);
  REQUIRE(a.send(boom{}).has_value());
  REQUIRE(wait_until([&] { return t->stops.load() == 1; }));
  auto queued = a.ask(work{1});
  a.shutdown();
  CHECK(queued.get().value() == 1);  // handled by the new incarnation, well before 10 s
  a.join();
  CHECK(t->starts.load() == 2);
  CHECK(t->snapshot().back() == "stop normal");
}

namespace {

class self_driven : public actor<self_driven> {
 public:
  explicit self_driven(std::shared_ptr<trace> t) : t_(std::move(t)) {}
  void on_start(context<self_driven>& ctx) {
    if (t_->starts.fetch_add(1) + 1 < 3) REQUIRE(ctx.self().send(boom{}).has_value());
  }
  void on(boom) { throw std::runtime_error("boom"); }

 private:
  std::shared_ptr<trace> t_;
};

}  // namespace

TEST_CASE("a pending restart counts as an address: an actor nothing else reaches survives its own failure") {
  auto t = std::make_shared<trace>();
  runtime rt{{.workers = 2}};
  rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {});
  rt.spawn<self_driven>(spawn_options{.failure = restart_policy(10, 20ms)}, t);  // its address dropped at once
  REQUIRE(wait_until([&] { return t->starts.load() == 3 && rt.stats().stopped == 1; }));
  CHECK(rt.stats().restarted == 2);
}

namespace {

struct not_copyable {
  not_copyable() = default;
  not_copyable(not_copyable&&) = default;
  not_copyable(const not_copyable&) = delete;
};

class holder : public actor<holder> {
 public:
  explicit holder(not_copyable) {}
  void on(int) {}
};

}  // namespace

TEST_CASE("bad restart options: spawn returns an empty address, constructs nothing, and reports invalid_argument") {
  runtime rt{{.workers = 2}};
  std::mutex m;
  std::vector<std::string> reports;
  rt.set_error_hook([&](std::string_view actor, std::string_view, std::string_view what) {
    std::lock_guard lock(m);
    reports.push_back(std::string(actor) + "|" + std::string(what));
  });
  auto t = std::make_shared<trace>();
  auto a = rt.spawn<fragile>(spawn_options{.name = "p0", .failure = {.action = on_failure::restart, .period = 0ms}},
                             t, 1);
  auto b = rt.spawn<fragile>(
      spawn_options{.failure = {.action = on_failure::restart, .backoff_min = 50ms, .backoff_max = 10ms}}, t, 1);
  auto c = rt.spawn<holder>(spawn_options{.failure = {.action = on_failure::restart}}, not_copyable{});
  auto d = rt.spawn<holder>(spawn_options{.failure = {.action = on_failure::stop}}, not_copyable{});  // fine: no copies
  CHECK_FALSE(a);
  CHECK_FALSE(b);
  CHECK_FALSE(c);
  CHECK(d);
  CHECK(t->starts.load() == 0);
  std::lock_guard lock(m);
  REQUIRE(reports.size() == 3);
  CHECK(reports[0].rfind("p0|invalid_argument", 0) == 0);
  CHECK(reports[1].find("|invalid_argument") != std::string::npos);
  CHECK(reports[2].find("|invalid_argument") != std::string::npos);
  CHECK(rt.stats().spawned == 1);
}

namespace {

struct ask_slow {
  address<class slow_replier> to;
};

class slow_replier : public actor<slow_replier> {
 public:
  int on(int x, context<slow_replier>&) {
    g->wait();
    return x;
  }
  gate* g = nullptr;
  explicit slow_replier(gate* gg) : g(gg) {}
};

class asker : public actor<asker> {
 public:
  explicit asker(std::shared_ptr<std::atomic<int>> ran) : ran_(std::move(ran)) {}
  void on(ask_slow a, context<asker>& ctx) {
    ctx.ask(a.to, 1, [this](result<int>) { ran_->fetch_add(1); });  // captures the old object
  }
  void on(boom) { throw std::runtime_error("boom"); }

 private:
  std::shared_ptr<std::atomic<int>> ran_;
};

}  // namespace

TEST_CASE("a ctx.ask continuation of the old incarnation is destroyed unrun after a restart") {
  runtime rt{{.workers = 2}};
  rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {});
  gate g;
  auto ran = std::make_shared<std::atomic<int>>(0);
  auto r = rt.spawn<slow_replier>(&g);
  auto a = rt.spawn<asker>(spawn_options{.failure = restart_policy()}, ran);
  REQUIRE(a.send(ask_slow{r}).has_value());
  REQUIRE(a.send(boom{}).has_value());
  REQUIRE(wait_until([&] { return rt.stats().restarted == 1; }));
  g.open();  // the reply arrives for the old incarnation
  REQUIRE(a.send(ask_slow{r}).has_value());  // the new one's own ask runs its continuation
  REQUIRE(wait_until([&] { return ran->load() == 1; }));
  rt.shutdown();
  CHECK(ran->load() == 1);
  courier::test::check_conservation(rt.stats());
}

TEST_CASE("a handler throwing during runtime shutdown stops its actor (failed) instead of restarting it") {
  auto t = std::make_shared<trace>();
  runtime rt{{.workers = 2}};
  rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {});
  gate g;
  auto a = rt.spawn<fragile>(spawn_options{.failure = restart_policy()}, t, 1);
  REQUIRE(a.send(&g).has_value());
  auto queued = a.ask(work{1});
  std::thread closer([&] { rt.shutdown(); });
  REQUIRE(wait_until([&] { return !a.send(work{0}).has_value(); }));  // shutdown began: mailboxes closed
  g.open();  // the handler throws now
  closer.join();
  CHECK(rt.stats().restarted == 0);
  CHECK(t->starts.load() == 1);
  CHECK(t->snapshot().back() == "stop failed");
  CHECK(queued.get().error().code() == errc::actor_stopped);  // the rest of the queue dropped
  courier::test::check_conservation(rt.stats());
}

// -- guarantee 7 under load ----------------------------------------------------------------

using courier::test::flaky_sink;
using courier::test::ledger;
using courier::test::seq;

TEST_CASE("restart in place under a flood from 8 threads loses and duplicates nothing, and keeps per-sender FIFO") {
  constexpr std::uint32_t senders = 8;
  const std::uint64_t per_sender = 200'000 / courier::test::stress_divisor();
  ledger l;
  l.next.assign(senders, 0);
  runtime rt{{.workers = courier::test::test_workers()}};
  rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {});
  auto sink = rt.spawn<flaky_sink>(spawn_options{.failure = restart_policy(1'000'000)}, &l);
  std::vector<std::thread> threads;
  std::atomic<std::uint64_t> accepted{0};
  for (std::uint32_t s = 0; s < senders; ++s)
    threads.emplace_back([&, s] {
      for (std::uint64_t n = 0; n < per_sender; ++n)
        if (sink.send(seq{s, n}).has_value()) accepted.fetch_add(1);
    });
  for (auto& t : threads) t.join();
  sink.shutdown();
  sink.join();
  rt.shutdown();
  CHECK(accepted.load() == senders * per_sender);
  CHECK(l.handled.load() == senders * per_sender);  // every message exactly once
  CHECK(l.out_of_order.load() == 0);
  CHECK(rt.stats().restarted > 0);
  for (auto n : l.next) CHECK(n == per_sender);
  courier::test::check_conservation(rt.stats());
}
