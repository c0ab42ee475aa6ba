// Coroutine handlers (courier::task<R>): co_await ctx.ask / ask_for /
// sleep_for inside a handler (issue 5; the semantics are in docs/coroutines.md).
#include <courier/courier.hpp>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/conservation.hpp"
#include "tests/support/doctest.hpp"
#include "tests/support/tracked.hpp"
#include "tests/support/wait.hpp"

using namespace courier;
using namespace std::chrono_literals;
using courier::test::exclusive;
using courier::test::gate;
using courier::test::stress_divisor;
using courier::test::tracked;
using courier::test::wait_until;

namespace {

struct quote {
  int amount;
};
struct hold {
  gate* g;
};

// The end of a chain: answers directly.
class pricer : public actor<pricer> {
 public:
  int on(quote q) { return q.amount + 1; }
  int on(hold h) {
    h.g->wait();
    return -1;
  }
};

// Awaits the next actor, then doubles.
template <class Next>
class relay : public actor<relay<Next>> {
 public:
  explicit relay(address<Next> next) : next_(std::move(next)) {}
  task<int> on(quote q, context<relay>& ctx) {
    auto r = co_await ctx.ask(next_, q);
    if (!r) co_return r.error();
    co_return *r * 2;
  }

 private:
  address<Next> next_;
};

}  // namespace

static_assert(std::is_same_v<reply_type_t<relay<pricer>, quote>, int>, "the reply type of a task<R> handler is R");

TEST_CASE("a reply passes through a chain of 3 actors that each await the next" * doctest::timeout(30)) {
  runtime rt{{.workers = courier::test::test_workers()}};
  auto p = rt.spawn<pricer>();
  auto b = rt.spawn<relay<pricer>>(p);
  auto a = rt.spawn<relay<relay<pricer>>>(b);
  auto r = a.ask(quote{10}).get();
  REQUIRE(r.has_value());
  CHECK(*r == (10 + 1) * 2 * 2);
}

namespace {

struct request {
  std::uint32_t sender;
  std::uint64_t seq;
};

struct order_state {
  exclusive guard;
  std::vector<std::uint64_t> next;
  std::atomic<std::uint64_t> order_errors{0};
  explicit order_state(std::size_t senders) : next(senders, 0) {}
};

class doubler : public actor<doubler> {
 public:
  std::uint64_t on(request r) { return r.seq * 2; }
};

class awaiting_server : public actor<awaiting_server> {
 public:
  awaiting_server(address<doubler> d, order_state* s) : doubler_(std::move(d)), s_(s) {}
  task<std::uint64_t> on(request r, context<awaiting_server>& ctx) {
    {
      exclusive::scope in(s_->guard);
      if (s_->next[r.sender] != r.seq) s_->order_errors.fetch_add(1);
      s_->next[r.sender] = r.seq + 1;
    }
    auto d = co_await ctx.ask(doubler_, r);  // the guard is not held across the suspension...
    exclusive::scope in(s_->guard);          // ...and the resumed part runs alone too
    co_return d ? *d + 1 : 0;
  }

 private:
  address<doubler> doubler_;
  order_state* s_;
};

}  // namespace

TEST_CASE("10,000 concurrent requests to an actor that awaits another actor are each answered once, in order" *
          doctest::timeout(120)) {
  constexpr std::uint32_t senders = 4;
  const std::uint64_t each = 10'000 / senders / (stress_divisor() > 1 ? 2 : 1);
  order_state s(senders);
  runtime rt{{.workers = courier::test::test_workers()}};
  auto d = rt.spawn<doubler>();
  auto server = rt.spawn<awaiting_server>(d, &s);
  std::vector<std::thread> threads;
  std::atomic<std::uint64_t> wrong{0};
  for (std::uint32_t t = 0; t < senders; ++t)
    threads.emplace_back([&, t] {
      std::vector<reply<std::uint64_t>> pending;
      for (std::uint64_t i = 0; i < each; ++i) pending.push_back(server.ask(request{t, i}));
      for (std::uint64_t i = 0; i < each; ++i) {
        auto r = pending[i].get();
        if (!r || *r != i * 2 + 1) wrong.fetch_add(1);
      }
    });
  for (auto& t : threads) t.join();
  CHECK(wrong.load() == 0);
  CHECK(s.order_errors.load() == 0);
  CHECK(s.guard.violations() == 0);
  CHECK(rt.shutdown(30s));  // then the counts are final
  CHECK(rt.stats().handled == 2 * senders * each);
  courier::test::check_conservation(rt.stats());
}

namespace {

struct wait_forever {
  gate* g;
  std::atomic<bool>* suspended;
};

class stuck_awaiter : public actor<stuck_awaiter> {
 public:
  stuck_awaiter(address<pricer> p, std::atomic<int>* frames_destroyed) : p_(std::move(p)), destroyed_(frames_destroyed) {}
  task<int> on(wait_forever w, context<stuck_awaiter>& ctx) {
    struct on_exit {
      std::atomic<int>* n;
      ~on_exit() { n->fetch_add(1); }
    } guard{destroyed_};
    tracked local(7);
    auto pending = ctx.ask(p_, hold{w.g});
    w.suspended->store(true);
    auto r = co_await std::move(pending);
    co_return r ? *r : 0;
  }

 private:
  address<pricer> p_;
  std::atomic<int>* destroyed_;
};

}  // namespace

TEST_CASE("stop during a suspension destroys the frame and completes the reply with actor_stopped" *
          doctest::timeout(30)) {
  auto before = tracked::live.load();
  std::atomic<int> frames_destroyed{0};
  gate g;
  {
    runtime rt{{.workers = courier::test::test_workers()}};
    auto p = rt.spawn<pricer>();
    auto a = rt.spawn<stuck_awaiter>(p, &frames_destroyed);
    std::atomic<bool> suspended{false};
    auto pending = a.ask(wait_forever{&g, &suspended});
    REQUIRE(wait_until([&] { return suspended.load(); }));
    a.stop();
    a.join();
    CHECK(frames_destroyed.load() == 1);
    auto r = pending.get();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == errc::actor_stopped);
    CHECK(tracked::live.load() == before);
    g.open();  // the pricer answers now, to an actor that is gone
    CHECK(rt.shutdown(30s));
  }
  CHECK(tracked::live.load() == before);
}

TEST_CASE("the awaited actor stopping gives the coroutine actor_stopped" * doctest::timeout(30)) {
  runtime rt{{.workers = courier::test::test_workers()}};
  auto p = rt.spawn<pricer>();
  auto relay_actor = rt.spawn<relay<pricer>>(p);
  p.stop();
  p.join();
  auto r = relay_actor.ask(quote{1}).get();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == errc::actor_stopped);
}

namespace {
class thrower : public actor<thrower> {
 public:
  explicit thrower(address<pricer> p) : p_(std::move(p)) {}
  task<int> on(quote q, context<thrower>& ctx) {
    auto r = co_await ctx.ask(p_, q);
    if (r) throw std::runtime_error("failed after the await");
    co_return 0;
  }
  task<void> on(std::string s, context<thrower>& ctx) {
    co_await ctx.ask(p_, quote{1});
    throw std::runtime_error(s);
  }

 private:
  address<pricer> p_;
};
}  // namespace

TEST_CASE("an exception thrown after a co_await completes the reply with handler_failed" * doctest::timeout(30)) {
  runtime rt{{.workers = courier::test::test_workers()}};
  std::atomic<int> hooked{0};
  std::string what;
  rt.set_error_hook([&](std::string_view, std::string_view, std::string_view w) {
    what = std::string(w);
    hooked.fetch_add(1);
  });
  auto p = rt.spawn<pricer>();
  auto t = rt.spawn<thrower>(p);
  auto r = t.ask(quote{1}).get();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == errc::handler_failed);
  CHECK(r.error().message() == "failed after the await");
  CHECK(hooked.load() == 0);
  (void)t.send(std::string("plain send failed"));  // no one to answer: the error hook
  REQUIRE(wait_until([&] { return hooked.load() == 1; }));
  CHECK(what == "plain send failed");
}

namespace {
class cycle_b;
struct poke {
  int n;
};
struct note {
  int n;
};
class cycle_a : public actor<cycle_a> {
 public:
  explicit cycle_a(std::atomic<int>* order) : order_(order) {}
  void on(address<cycle_b> b) { b_ = std::move(b); }
  task<int> on(poke p, context<cycle_a>& ctx);
  void on(note) { order_->fetch_add(1); }  // must run after the awaiting handler finished

 private:
  std::atomic<int>* order_;
  address<cycle_b> b_;
  bool in_poke_ = false;
  friend class cycle_b;
};
class cycle_b : public actor<cycle_b> {
 public:
  explicit cycle_b(address<cycle_a> a) : a_(std::move(a)) {}
  int on(poke p) {
    (void)a_.send(note{p.n});  // A is suspended awaiting us: this waits in A's mailbox
    return p.n + 1;
  }

 private:
  address<cycle_a> a_;
};
task<int> cycle_a::on(poke p, context<cycle_a>& ctx) {
  auto r = co_await ctx.ask(b_, p);
  // The note B sent before replying has not been handled yet.
  if (order_->load() != 0) co_return -1;
  co_return r ? *r : -2;
}
}  // namespace

TEST_CASE("a cycle (A awaits B while B sends to A) does not deadlock: A's message waits" * doctest::timeout(30)) {
  std::atomic<int> notes{0};
  runtime rt{{.workers = courier::test::test_workers()}};
  auto a = rt.spawn<cycle_a>(&notes);
  auto b = rt.spawn<cycle_b>(a);
  (void)a.send(b);
  auto r = a.ask(poke{41}).get();
  REQUIRE(r.has_value());
  CHECK(*r == 42);
  REQUIRE(wait_until([&] { return notes.load() == 1; }));
  a.stop();  // they hold each other's addresses
  b.stop();
}

namespace {
struct nap {
  std::chrono::milliseconds d;
};
struct ping {
  int n;
};
class sleeper : public actor<sleeper> {
 public:
  task<std::int64_t> on(nap n, context<sleeper>& ctx) {
    auto t0 = std::chrono::steady_clock::now();
    co_await ctx.sleep_for(n.d);
    co_return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
  }
  int on(ping p) { return p.n; }
};
}  // namespace

TEST_CASE("sleep_for resumes no earlier than asked, and the actor handles nothing else meanwhile" *
          doctest::timeout(30)) {
  runtime rt{{.workers = courier::test::test_workers()}};
  auto s = rt.spawn<sleeper>();
  auto slept = s.ask(nap{20ms});
  auto after = s.ask(ping{1});  // queued behind the sleeping handler
  auto waited = slept.get();
  REQUIRE(waited.has_value());
  CHECK(*waited >= std::chrono::nanoseconds(20ms).count());
  CHECK(after.get().has_value());
}

TEST_CASE("a ping queued behind a suspended handler is answered only after it resumes" * doctest::timeout(30)) {
  runtime rt{{.workers = courier::test::test_workers()}};
  auto s = rt.spawn<sleeper>();
  auto slept = s.ask(nap{50ms});
  auto pong = s.ask(ping{5});
  CHECK(pong.get_for(10ms).error().code() == errc::timeout);  // still suspended
  CHECK(slept.get().has_value());
  CHECK(*pong.get() == 5);
}

namespace {
class impatient : public actor<impatient> {
 public:
  explicit impatient(address<pricer> p) : p_(std::move(p)) {}
  task<int> on(hold h, context<impatient>& ctx) {
    auto r = co_await ctx.ask_for(p_, h, 10ms);
    co_return r ? 1 : (r.error().code() == errc::timeout ? 2 : 3);
  }

 private:
  address<pricer> p_;
};
}  // namespace

TEST_CASE("co_await ctx.ask_for gives timeout when no reply comes in time" * doctest::timeout(30)) {
  runtime rt{{.workers = courier::test::test_workers()}};
  auto p = rt.spawn<pricer>();
  auto i = rt.spawn<impatient>(p);
  gate g;
  auto r = i.ask(hold{&g}).get();
  g.open();
  REQUIRE(r.has_value());
  CHECK(*r == 2);
}

TEST_CASE("shutdown lets a suspended handler finish first" * doctest::timeout(30)) {
  runtime rt{{.workers = courier::test::test_workers()}};
  auto s = rt.spawn<sleeper>();
  auto slept = s.ask(nap{20ms});
  auto queued = s.ask(ping{3});
  s.shutdown();
  s.join();
  CHECK(slept.get().has_value());
  CHECK(*queued.get() == 3);  // accepted before the shutdown: handled
}

TEST_CASE("runtime shutdown resumes a sleeping handler early and finishes cleanly" * doctest::timeout(30)) {
  runtime rt{{.workers = courier::test::test_workers()}};
  auto s = rt.spawn<sleeper>();
  auto slept = s.ask(nap{std::chrono::milliseconds(3'600'000)});
  auto t0 = std::chrono::steady_clock::now();
  REQUIRE(wait_until([&] { return rt.stats().handled == 1; }));
  CHECK(rt.shutdown(30s));
  CHECK(std::chrono::steady_clock::now() - t0 < 20s);
  CHECK(slept.get().has_value());
}

namespace {
struct ask_myself {
  int unused;
};
class self_asker : public actor<self_asker> {
 public:
  task<int> on(ask_myself, context<self_asker>& ctx) {
    // The request waits behind this very handler: only the timeout can end the wait.
    auto r = co_await ctx.ask_for(ctx.self(), quote{1}, std::chrono::hours(1));
    co_return r ? 1 : (r.error().code() == errc::timeout ? 2 : 3);
  }
  int on(quote q) { return q.amount; }
};
}  // namespace

TEST_CASE("runtime shutdown times out a pending co_await ask_for, so the handler finishes (found by tools/fuzz)" *
          doctest::timeout(60)) {
  runtime rt{{.workers = 2}};
  auto a = rt.spawn<self_asker>();
  auto r = a.ask(ask_myself{0});
  REQUIRE(wait_until([&] { return rt.stats().handled == 1; }));
  CHECK(rt.shutdown(20s));  // before the fix the timer was cancelled silently and this timed out
  auto v = r.get();
  REQUIRE(v.has_value());
  CHECK(*v == 2);
}

namespace {
struct naps {
  int count;
};
struct asks {
  int count;
  address<pricer> to;
  bool timed;
};
class suspender : public actor<suspender> {
 public:
  task<int> on(naps n, context<suspender>& ctx) {
    for (int i = 0; i < n.count; ++i) co_await ctx.sleep_for(1us);
    co_return n.count;
  }
  task<int> on(asks a, context<suspender>& ctx) {
    int sum = 0;
    for (int i = 0; i < a.count; ++i) {
      auto r = a.timed ? co_await ctx.ask_for(a.to, quote{i}, 1h) : co_await ctx.ask(a.to, quote{i});
      if (!r) co_return r.error();
      sum += *r;
    }
    co_return sum;
  }
};

/// Courier allocations made between sending `m` and receiving its reply.
template <class M>
std::int64_t allocations_for(address<suspender>& s, M m) {
  auto before = courier::detail::allocations_made();
  auto r = s.ask(std::move(m)).get();
  REQUIRE(r.has_value());
  return courier::detail::allocations_made() - before;
}
}  // namespace

TEST_CASE("a suspension allocates nothing beyond the frame and the request it sends" * doctest::timeout(30)) {
  if (courier::detail::allocations_made() < 0) {
    MESSAGE("skipped: the library does not count allocations (-Dobject_counts=false)");
    return;
  }
  runtime rt{{.workers = courier::test::test_workers()}};
  auto p = rt.spawn<pricer>();
  auto s = rt.spawn<suspender>();
  // The ask from outside: its reply state and request envelope; the handler:
  // its frame. Sleeping adds nothing (timers are stored by value).
  CHECK(allocations_for(s, naps{1}) == 3);
  CHECK(allocations_for(s, naps{100}) == 3);
  // Each co_await ctx.ask / ask_for adds exactly its request envelope, which
  // also holds the reply slot (and the timeout is stored by value).
  CHECK(allocations_for(s, asks{1, p, false}) == 4);
  CHECK(allocations_for(s, asks{100, p, false}) == 103);
  CHECK(allocations_for(s, asks{100, p, true}) == 103);
}
