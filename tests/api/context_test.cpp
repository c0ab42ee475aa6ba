// context<A>: ctx.ask / ask_for continuations and send_after timers
// (docs/api.md: "context", "Guarantees").
#include <courier/courier.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/doctest.hpp"
#include "tests/support/tracked.hpp"
#include "tests/support/wait.hpp"

using namespace courier;
using namespace std::chrono_literals;
using courier::test::exclusive;
using courier::test::gate;
using courier::test::tracked;
using courier::test::wait_until;

namespace {

struct echo_request {
  int n;
};
struct slow_request {
  gate* g;
};

class echo : public actor<echo> {
 public:
  int on(echo_request r) { return r.n + 1; }
  int on(slow_request r) {
    r.g->wait();
    return -1;
  }
};

struct shared_state {
  exclusive guard;
  std::atomic<int> replies{0};
  std::atomic<int> sum{0};
  std::atomic<int> timeouts{0};
  std::atomic<int> errors{0};
  std::atomic<int> destroyed{0};
};

struct go {
  int count;
};
struct go_slow {
  gate* g;
};
struct noise {
  int n;
};

class asker : public actor<asker> {
 public:
  asker(address<echo> target, std::shared_ptr<shared_state> s) : target_(std::move(target)), s_(std::move(s)) {}
  ~asker() { s_->destroyed.fetch_add(1); }

  void on(go g, context<asker>& ctx) {
    exclusive::scope in(s_->guard);
    for (int i = 0; i < g.count; ++i)
      ctx.ask(target_, echo_request{i}, [this, &ctx](result<int> r) {
        exclusive::scope inner(s_->guard);  // never concurrently with a handler
        CHECK(static_cast<bool>(ctx.self()));  // the context outlives the handler that captured it
        if (r) {
          local_sum_ += *r;  // unsynchronised state: the continuation runs in the actor's turn
          s_->sum.store(local_sum_);
        } else {
          s_->errors.fetch_add(1);
        }
        s_->replies.fetch_add(1);
      });
  }
  void on(go_slow g, context<asker>& ctx) {
    ctx.ask_for(target_, slow_request{g.g}, 20ms, [this](result<int> r) {
      if (!r && r.error().code() == errc::timeout) s_->timeouts.fetch_add(1);
      s_->replies.fetch_add(1);
    });
  }
  void on(noise) { exclusive::scope in(s_->guard); }

 private:
  address<echo> target_;
  std::shared_ptr<shared_state> s_;
  int local_sum_ = 0;
};

}  // namespace

TEST_CASE("ctx.ask continuations run in the asker's own turn with the replies" * doctest::timeout(60)) {
  auto s = std::make_shared<shared_state>();
  runtime rt{{.workers = 2}};
  auto e = rt.spawn<echo>();
  auto a = rt.spawn<asker>(e, s);
  constexpr int n = 2000;
  (void)a.send(go{n});
  for (int i = 0; i < 200; ++i) (void)a.send(noise{i});
  REQUIRE(wait_until([&] { return s->replies.load() == n; }));
  CHECK(s->sum.load() == n * (n + 1) / 2);  // sum of i + 1
  CHECK(s->errors.load() == 0);
  CHECK(s->guard.violations() == 0);
  CHECK(rt.shutdown(30s));  // then the counts are final
  auto st = rt.stats();
  CHECK(st.handled == 1 + 200 + n);  // continuations are not counted as handled
}

TEST_CASE("ask_for gives timeout when no reply comes in time, and the late reply is discarded" *
          doctest::timeout(60)) {
  auto s = std::make_shared<shared_state>();
  runtime rt{{.workers = 2}};
  auto e = rt.spawn<echo>();
  auto a = rt.spawn<asker>(e, s);
  gate g;
  (void)a.send(go_slow{&g});
  REQUIRE(wait_until([&] { return s->timeouts.load() == 1; }));
  g.open();
  CHECK(rt.shutdown(30s));
  CHECK(s->replies.load() == 1);  // exactly once
}

TEST_CASE("a ctx.ask to a stopped actor gives actor_stopped to the continuation" * doctest::timeout(30)) {
  auto s = std::make_shared<shared_state>();
  runtime rt{{.workers = 2}};
  auto e = rt.spawn<echo>();
  e.stop();
  e.join();
  auto a = rt.spawn<asker>(e, s);
  (void)a.send(go{3});
  REQUIRE(wait_until([&] { return s->replies.load() == 3; }));
  CHECK(s->errors.load() == 3);
}

namespace {
struct ask_and_stop {
  gate* g;
};
class stopping_asker : public actor<stopping_asker> {
 public:
  stopping_asker(address<echo> target, std::shared_ptr<shared_state> s) : target_(std::move(target)), s_(std::move(s)) {}
  void on(ask_and_stop m, context<stopping_asker>& ctx) {
    ctx.ask(target_, slow_request{m.g}, [s = s_, t = tracked(1)](result<int>) { s->replies.fetch_add(1); });
    ctx.stop();
  }

 private:
  address<echo> target_;
  std::shared_ptr<shared_state> s_;
};
}  // namespace

TEST_CASE("if the asker stops first, its continuation is destroyed without running" * doctest::timeout(30)) {
  auto s = std::make_shared<shared_state>();
  auto before = tracked::live.load();
  {
    runtime rt{{.workers = 2}};
    auto e = rt.spawn<echo>();
    auto a = rt.spawn<stopping_asker>(e, s);
    gate g;
    (void)a.send(ask_and_stop{&g});
    a.join();
    g.open();
    CHECK(rt.shutdown(30s));
  }
  CHECK(s->replies.load() == 0);
  CHECK(tracked::live.load() == before);
}

namespace {
struct fire {
  int n;
  std::chrono::steady_clock::time_point sent;
};
struct arm {
  int n;
  std::chrono::milliseconds delay;
};
struct timing {
  std::atomic<int> fired{0};
  std::atomic<std::int64_t> min_early_ns{INT64_MAX};
  std::atomic<int> order_ok{1};
  std::atomic<int> last{-1};
  std::atomic<int> destroyed{0};
};
class alarm_clock : public actor<alarm_clock> {
 public:
  explicit alarm_clock(std::shared_ptr<timing> t) : t_(std::move(t)) {}
  ~alarm_clock() { t_->destroyed.fetch_add(1); }
  void on(arm a, context<alarm_clock>& ctx) {
    ctx.send_after(ctx.self(), fire{a.n, std::chrono::steady_clock::now() + a.delay}, a.delay);
  }
  void on(fire f) {
    auto late = std::chrono::steady_clock::now() - f.sent;  // f.sent holds the due time
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(late).count();
    auto cur = t_->min_early_ns.load();
    while (ns < cur && !t_->min_early_ns.compare_exchange_weak(cur, ns)) {
    }
    if (f.n < t_->last.load()) t_->order_ok.store(0);
    t_->last.store(f.n);
    t_->fired.fetch_add(1);
  }

 private:
  std::shared_ptr<timing> t_;
};
}  // namespace

TEST_CASE("send_after delivers no earlier than asked, in deadline order" * doctest::timeout(30)) {
  auto t = std::make_shared<timing>();
  runtime rt{{.workers = 2}};
  auto a = rt.spawn<alarm_clock>(t);
  (void)a.send(arm{2, 30ms});
  (void)a.send(arm{1, 15ms});
  (void)a.send(arm{0, 5ms});
  REQUIRE(wait_until([&] { return t->fired.load() == 3; }));
  CHECK(t->min_early_ns.load() >= 0);  // never before its deadline
  CHECK(t->order_ok.load() == 1);
}

TEST_CASE("a pending timer keeps its target reachable" * doctest::timeout(30)) {
  auto t = std::make_shared<timing>();
  runtime rt{{.workers = 2}};
  (void)rt.spawn<alarm_clock>(t).send(arm{0, 20ms});  // no address kept
  REQUIRE(wait_until([&] { return t->fired.load() == 1; }));
  REQUIRE(wait_until([&] { return t->destroyed.load() == 1; }));  // then it stops on its own
}

TEST_CASE("timers pending at shutdown are dropped and counted" * doctest::timeout(30)) {
  auto t = std::make_shared<timing>();
  runtime rt{{.workers = 2}};
  auto a = rt.spawn<alarm_clock>(t);
  (void)a.send(arm{0, 1h});
  REQUIRE(wait_until([&] { return rt.stats().handled == 1; }));
  CHECK(rt.shutdown(30s));
  CHECK(t->fired.load() == 0);
  CHECK(rt.stats().dropped == 1);
}

TEST_CASE("a timer firing at a stopped actor is dropped and counted" * doctest::timeout(30)) {
  auto t = std::make_shared<timing>();
  runtime rt{{.workers = 2}};
  auto a = rt.spawn<alarm_clock>(t);
  (void)a.send(arm{0, 10ms});
  REQUIRE(wait_until([&] { return rt.stats().handled == 1; }));
  a.stop();
  a.join();
  REQUIRE(wait_until([&] { return rt.stats().dropped == 1; }));
  CHECK(t->fired.load() == 0);
}

TEST_CASE("send_after deliveries to a bounded mailbox take no slot" * doctest::timeout(30)) {
  auto t = std::make_shared<timing>();
  runtime rt{{.workers = 1}};
  auto a = rt.spawn<alarm_clock>(spawn_options{.capacity = 1}, t);
  for (int i = 0; i < 5; ++i) {
    // each arm takes the one slot until handled; the five deliveries never do
    REQUIRE(wait_until([&] { return a.send(arm{i, 1ms}).has_value(); }));
  }
  REQUIRE(wait_until([&] { return t->fired.load() == 5; }));
  CHECK(rt.stats().dropped == 0);
}
