// Waiting for room in a bounded mailbox (docs/flow.md): address::send_for
// from threads outside the pool, co_await ctx.send / ctx.send_for in
// coroutine handlers. FIFO admission, no lost wake-up, a refused message
// left with the caller, actor_stopped when the target goes.
#include <courier/courier.hpp>

#include <time.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/collected.hpp"
#include "tests/support/doctest.hpp"
#include "tests/support/wait.hpp"

using namespace courier;
using namespace std::chrono_literals;
using courier::test::gate;
using courier::test::open_at_exit;
using courier::test::wait_until;

namespace {

struct item {
  int from = 0;
  long n = 0;
};
struct payload {
  std::string text;  // its moved-from state (empty) is visible
};

/// Blocks on a gate (the mailbox fills behind it), records what it handles.
class sink : public actor<sink> {
 public:
  explicit sink(std::shared_ptr<courier::test::collected<item>> seen) : seen_(std::move(seen)) {}
  void on(gate* g) { g->wait(); }
  void on(item i) { seen_->add(i); }
  void on(payload) {}

 private:
  std::shared_ptr<courier::test::collected<item>> seen_;
};

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

/// A capacity-1 sink whose handler is blocked and whose one slot is taken.
struct full_sink {
  runtime& rt;
  gate g;
  std::shared_ptr<courier::test::collected<item>> seen = std::make_shared<courier::test::collected<item>>();
  address<sink> a;
  explicit full_sink(runtime& r) : rt(r) {
    a = rt.spawn<sink>(spawn_options{.capacity = 1}, seen);
    REQUIRE(a.send(&g));
    REQUIRE(wait_until([&] { return a.send(item{-1, -1}).has_value(); }));  // the blocked handler holds no slot: fill the one
    REQUIRE(a.send(item{-2, -2}).error().code() == errc::mailbox_full);
  }
  /// The handler blocked on `g` must be out of it before `g` goes.
  ~full_sink() {
    g.open();
    a.stop();
    (void)a.join_for(30s);
  }
};

}  // namespace

TEST_CASE("send_for waits for room and returns once its message is accepted") {
  runtime rt{{.workers = 2}};
  full_sink f(rt);
  open_at_exit release{f.g};
  std::atomic<bool> returned{false};
  result<void> r;
  std::thread t([&] {
    r = f.a.send_for(item{1, 1}, 30s);
    returned = true;
  });
  REQUIRE(wait_until([&] { return rt.metrics().senders_waiting == 1; }));
  CHECK_FALSE(returned.load());
  f.g.open();
  t.join();
  CHECK(r.has_value());
  REQUIRE(wait_until([&] { return f.seen->count.load() == 2; }));
  CHECK(f.seen->snapshot()[1].n == 1);
  CHECK(rt.metrics().senders_waiting == 0);
}

TEST_CASE("send_for times out with mailbox_full and leaves the argument untouched") {
  runtime rt{{.workers = 2}};
  full_sink f(rt);
  open_at_exit release{f.g};
  auto& a = f.a;
  payload p{"keep me"};
  auto t0 = std::chrono::steady_clock::now();
  auto r = a.send_for(std::move(p), 50ms);
  CHECK(std::chrono::steady_clock::now() - t0 >= 50ms);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == errc::mailbox_full);
  CHECK(p.text == "keep me");  // NOLINT(bugprone-use-after-move): a refused send does not move
  CHECK(rt.metrics().senders_waiting == 0);
}

TEST_CASE("send_for returns actor_stopped when its target stops while it waits; the argument is untouched") {
  runtime rt{{.workers = 2}};
  full_sink f(rt);
  open_at_exit release{f.g};
  auto& a = f.a;
  payload p{"keep me"};
  result<void> r;
  std::thread t([&] { r = a.send_for(std::move(p), 30s); });
  REQUIRE(wait_until([&] { return rt.metrics().senders_waiting == 1; }));
  a.stop();
  t.join();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == errc::actor_stopped);
  CHECK(p.text == "keep me");  // NOLINT(bugprone-use-after-move)
  // A closed mailbox refuses at once.
  f.g.open();
  REQUIRE(a.join_for(30s));
  CHECK(a.send_for(payload{"late"}, 30s).error().code() == errc::actor_stopped);
}

TEST_CASE("8 threads waiting in send_for on one mailbox are admitted in the order they started waiting") {
  runtime rt{{.workers = 2}};
  full_sink f(rt);
  open_at_exit release{f.g};
  std::vector<std::thread> threads;
  std::vector<result<void>> results(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] { results[static_cast<std::size_t>(i)] = f.a.send_for(item{i, i}, 60s); });
    REQUIRE(wait_until([&] { return rt.metrics().senders_waiting == static_cast<std::uint64_t>(i + 1); }));
  }
  // A plain send while they wait is refused: the waiters go first.
  CHECK(f.a.send(item{99, 99}).error().code() == errc::mailbox_full);
  f.g.open();
  for (auto& t : threads) t.join();
  for (auto& r : results) CHECK(r.has_value());
  REQUIRE(wait_until([&] { return f.seen->count.load() == 9; }));
  auto got = f.seen->snapshot();
  for (int i = 0; i < 8; ++i) CHECK(got[static_cast<std::size_t>(i) + 1].from == i);
}

TEST_CASE("a thread waiting 1 s for room sleeps: it uses under 1 ms of CPU") {
  runtime rt{{.workers = 2}};
  full_sink f(rt);
  open_at_exit release{f.g};
  double cpu = 0;
  result<void> r;
  std::thread t([&] {
    auto c0 = thread_cpu_seconds();
    r = f.a.send_for(item{1, 1}, 1s);
    cpu = thread_cpu_seconds() - c0;
  });
  t.join();
  CHECK(r.error().code() == errc::mailbox_full);
  MESSAGE("CPU used while waiting 1 s: " << cpu * 1e3 << " ms");
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  CHECK(cpu < 0.01);  // the sanitizers' own bookkeeping
#else
  CHECK(cpu < 0.001);
#endif
}

TEST_CASE("send_for inside a handler never waits: it is send, and the wait it would have made is reported") {
  struct impatient : actor<impatient> {
    address<sink> to;
    std::atomic<int>* code;
    impatient(address<sink> t, std::atomic<int>* c) : to(std::move(t)), code(c) {}
    void on(item i) { code->store(static_cast<int>(to.send_for(i, 10s).error().code())); }
  };
  runtime rt{{.workers = 2}};
  auto reports = std::make_shared<courier::test::collected<std::string>>();
  rt.set_error_hook([reports](std::string_view, std::string_view, std::string_view what) { reports->add(std::string(what)); });
  full_sink f(rt);
  open_at_exit release{f.g};
  std::atomic<int> code{-1};
  auto i = rt.spawn<impatient>(f.a, &code);
  REQUIRE(i.send(item{1, 1}));
  REQUIRE(wait_until([&] { return code.load() != -1; }));
  CHECK(code.load() == static_cast<int>(errc::mailbox_full));
  REQUIRE(wait_until([&] { return reports->count.load() >= 1; }));
  CHECK(reports->snapshot()[0] == "blocking call inside a handler");
}

namespace {

/// One stage of a bounded pipeline: forwards each item with co_await ctx.send.
template <class Next>
class stage : public actor<stage<Next>> {
 public:
  stage(address<Next> next, std::atomic<long>* refused) : next_(std::move(next)), refused_(refused) {}
  task<void> on(item i, context<stage>& ctx) {
    auto r = co_await ctx.send(next_, i);
    if (!r) refused_->fetch_add(1);
  }

 private:
  address<Next> next_;
  std::atomic<long>* refused_;
};

class last_stage : public actor<last_stage> {
 public:
  last_stage(long expected, std::atomic<long>* got, std::atomic<long>* out_of_order)
      : expected_(expected), got_(got), out_of_order_(out_of_order) {}
  void on(item i) {
    if (i.n != next_) out_of_order_->fetch_add(1);
    next_ = i.n + 1;
    got_->fetch_add(1);
  }

 private:
  long expected_;
  long next_ = 0;
  std::atomic<long>* got_;
  std::atomic<long>* out_of_order_;
};

struct produce {
  long count;
};

class producer : public actor<producer> {
 public:
  producer(address<stage<stage<last_stage>>> first, std::atomic<long>* refused)
      : first_(std::move(first)), refused_(refused) {}
  task<void> on(produce p, context<producer>& ctx) {
    for (long n = 0; n < p.count; ++n) {
      auto r = co_await ctx.send(first_, item{0, n});
      if (!r) refused_->fetch_add(1);
    }
  }

 private:
  address<stage<stage<last_stage>>> first_;
  std::atomic<long>* refused_;
};

}  // namespace

TEST_CASE("a bounded pipeline of 3 stages moves 1M items through capacity-16 mailboxes with co_await ctx.send") {
  const long n = static_cast<long>(1'000'000 / courier::test::stress_divisor());
  runtime rt{{.workers = courier::test::test_workers()}};
  std::atomic<long> got{0}, out_of_order{0}, refused{0};
  spawn_options bounded{.capacity = 16};
  auto last = rt.spawn<last_stage>(bounded, n, &got, &out_of_order);
  auto s2 = rt.spawn<stage<last_stage>>(bounded, last, &refused);
  auto s1 = rt.spawn<stage<stage<last_stage>>>(bounded, s2, &refused);
  auto p = rt.spawn<producer>(s1, &refused);
  REQUIRE(p.send(produce{n}));
  REQUIRE(wait_until([&] { return got.load() == n; }, 300s));
  CHECK(out_of_order.load() == 0);
  CHECK(refused.load() == 0);  // no refusal ever reached user code
  CHECK(rt.metrics().senders_waiting == 0);
  CHECK(rt.shutdown());
}

TEST_CASE("co_await ctx.send_for gives up with mailbox_full; the argument is untouched") {
  struct waiter : actor<waiter> {
    address<sink> to;
    std::atomic<int>* code;
    std::string* left;
    waiter(address<sink> t, std::atomic<int>* c, std::string* l) : to(std::move(t)), code(c), left(l) {}
    task<void> on(item, context<waiter>& ctx) {
      payload p{"mine"};
      auto r = co_await ctx.send_for(to, std::move(p), 30ms);
      *left = p.text;  // NOLINT(bugprone-use-after-move): a refused send does not move
      code->store(r ? 0 : static_cast<int>(r.error().code()));
    }
  };
  runtime rt{{.workers = 2}};
  full_sink f(rt);
  open_at_exit release{f.g};
  std::atomic<int> code{-1};
  std::string left;
  auto w = rt.spawn<waiter>(f.a, &code, &left);
  REQUIRE(w.send(item{}));
  REQUIRE(wait_until([&] { return code.load() != -1; }));
  CHECK(code.load() == static_cast<int>(errc::mailbox_full));
  CHECK(left == "mine");
  CHECK(rt.metrics().senders_waiting == 0);
}

TEST_CASE("co_await ctx.send: the target stops while the handler waits (actor_stopped); the waiter stops while waiting (withdrawn)") {
  struct waiter : actor<waiter> {
    address<sink> to;
    std::atomic<int>* code;
    waiter(address<sink> t, std::atomic<int>* c) : to(std::move(t)), code(c) {}
    task<void> on(item i, context<waiter>& ctx) {
      auto r = co_await ctx.send(to, i);
      code->store(r ? 0 : static_cast<int>(r.error().code()));
    }
  };
  runtime rt{{.workers = 2}};
  SUBCASE("target stops") {
    full_sink f(rt);
    open_at_exit release{f.g};
    std::atomic<int> code{-1};
    auto w = rt.spawn<waiter>(f.a, &code);
    REQUIRE(w.send(item{5, 5}));
    REQUIRE(wait_until([&] { return rt.metrics().senders_waiting == 1; }));
    f.a.stop();
    REQUIRE(wait_until([&] { return code.load() != -1; }));
    CHECK(code.load() == static_cast<int>(errc::actor_stopped));
  }
  SUBCASE("the waiting actor stops") {
    full_sink f(rt);
    open_at_exit release{f.g};
    std::atomic<int> code{-1};
    auto w = rt.spawn<waiter>(f.a, &code);
    REQUIRE(w.send(item{5, 5}));
    REQUIRE(wait_until([&] { return rt.metrics().senders_waiting == 1; }));
    w.stop();
    REQUIRE(w.join_for(30s));
    CHECK(rt.metrics().senders_waiting == 0);
    CHECK(code.load() == -1);  // its frame was destroyed, never resumed
    f.g.open();
    REQUIRE(wait_until([&] { return f.seen->count.load() == 1; }));  // only the filler: the withdrawn item never came
  }
}

TEST_CASE("co_await ctx.send to an unbounded or non-full target does not suspend") {
  struct quick : actor<quick> {
    address<sink> to;
    std::atomic<int>* done;
    quick(address<sink> t, std::atomic<int>* d) : to(std::move(t)), done(d) {}
    task<void> on(item i, context<quick>& ctx) {
      for (int k = 0; k < 100; ++k) (void)co_await ctx.send(to, item{i.from, k});
      done->fetch_add(1);
    }
  };
  runtime rt{{.workers = 2}};
  auto seen = std::make_shared<courier::test::collected<item>>();
  auto s = rt.spawn<sink>(seen);
  std::atomic<int> done{0};
  auto q = rt.spawn<quick>(s, &done);
  REQUIRE(q.send(item{1, 0}));
  REQUIRE(wait_until([&] { return done.load() == 1 && seen->count.load() == 100; }));
}

TEST_CASE("co_await ctx.send through a recipient<M> waits for room like an address") {
  struct via : actor<via> {
    recipient<item> to;
    std::atomic<int>* code;
    via(recipient<item> t, std::atomic<int>* c) : to(std::move(t)), code(c) {}
    task<void> on(item i, context<via>& ctx) {
      auto r = co_await ctx.send(to, item{i.from, 7});
      code->store(r ? 0 : static_cast<int>(r.error().code()));
    }
  };
  runtime rt{{.workers = 2}};
  full_sink f(rt);
  open_at_exit release{f.g};
  std::atomic<int> code{-1};
  auto v = rt.spawn<via>(recipient<item>(f.a), &code);
  REQUIRE(v.send(item{3, 0}));
  REQUIRE(wait_until([&] { return rt.metrics().senders_waiting == 1; }));
  CHECK(code.load() == -1);
  f.g.open();
  REQUIRE(wait_until([&] { return code.load() == 0; }));
  REQUIRE(wait_until([&] { return f.seen->count.load() == 2; }));
  CHECK(f.seen->snapshot()[1].n == 7);
}
