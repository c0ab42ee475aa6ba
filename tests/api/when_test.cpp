// courier::when_all / when_any (docs/coroutines.md, "Several replies at
// once"): every ask is sent when the combinator is made; when_all gives all
// results in argument order, when_any the first; losers and the replies of a
// frame that was destroyed are discarded and counted.
#include <courier/courier.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <tuple>
#include <variant>

#include "tests/support/doctest.hpp"
#include "tests/support/wait.hpp"

using namespace courier;
using namespace std::chrono_literals;
using courier::test::gate;
using courier::test::wait_until;

namespace {

struct quote {
  int n;
};
struct name_of {
  int n;
};
struct held {
  gate* g;
  std::atomic<int>* inside;
  int n;
};

class fast : public actor<fast> {
 public:
  int on(quote q) { return q.n + 1; }
  std::string on(name_of q) { return "n" + std::to_string(q.n); }
};

/// Counts the requests it answered (the reply follows the handler at once).
class counting : public actor<counting> {
 public:
  explicit counting(std::atomic<int>* n) : n_(n) {}
  int on(quote q) {
    n_->fetch_add(1);
    return q.n + 1;
  }

 private:
  std::atomic<int>* n_;
};

class slow : public actor<slow> {
 public:
  int on(held h) {
    h.inside->fetch_add(1);
    h.g->wait();
    return h.n;
  }
};

struct outcome {
  std::atomic<bool> done{false};
  std::atomic<int> stage{0};
  std::string text;
  int a = 0, b = 0;
  std::size_t index = 99;
  errc e0{}, e1{};
};

/// An asker wired to a fast target and a slow one (with the slow one's gate
/// and entry counter), writing what it got to `out`.
template <class Self>
struct fast_slow : actor<Self> {
  address<fast> f;
  address<slow> s;
  outcome* out;
  gate* g;
  std::atomic<int>* inside;
  fast_slow(address<fast> a, address<slow> b, outcome* o, gate* gg, std::atomic<int>* i)
      : f(std::move(a)), s(std::move(b)), out(o), g(gg), inside(i) {}
};

}  // namespace

TEST_CASE("when_all sends every ask when it is made: two blocked targets are inside their handlers at once") {
  struct asker : actor<asker> {
    address<slow> s1, s2;
    outcome* out;
    gate* g;
    std::atomic<int>* inside;
    asker(address<slow> a, address<slow> b, outcome* o, gate* gg, std::atomic<int>* i)
        : s1(std::move(a)), s2(std::move(b)), out(o), g(gg), inside(i) {}
    task<void> on(quote, context<asker>& ctx) {
      auto both = when_all(ctx.ask(s1, held{g, inside, 1}), ctx.ask(s2, held{g, inside, 2}));
      // Sent already: both handlers start before this frame awaits anything.
      out->stage = wait_until([&] { return inside->load() == 2; }, 10s) ? 1 : -1;
      g->open();
      auto [r1, r2] = co_await both;
      out->a = r1 ? *r1 : -1;
      out->b = r2 ? *r2 : -1;
      out->done = true;
    }
  };
  runtime rt{{.workers = 3}};
  gate g;
  std::atomic<int> inside{0};
  outcome out;
  auto s1 = rt.spawn<slow>();
  auto s2 = rt.spawn<slow>();
  auto a = rt.spawn<asker>(s1, s2, &out, &g, &inside);
  REQUIRE(a.send(quote{0}));
  REQUIRE(wait_until([&] { return out.done.load(); }));
  CHECK(out.stage.load() == 1);
  CHECK(out.a == 1);
  CHECK(out.b == 2);
}

TEST_CASE("when_all gives every result in argument order, of different types, errors included") {
  struct asker : actor<asker> {
    address<fast> f;
    address<fast> gone;
    outcome* out;
    asker(address<fast> a, address<fast> b, outcome* o) : f(std::move(a)), gone(std::move(b)), out(o) {}
    task<void> on(quote q, context<asker>& ctx) {
      auto [n, s, e] = co_await when_all(ctx.ask(f, quote{q.n}), ctx.ask(f, name_of{q.n}), ctx.ask(gone, quote{1}));
      out->a = n ? *n : -1;
      out->text = s ? *s : "error";
      out->e0 = e ? errc{} : e.error().code();
      out->done = true;
    }
  };
  runtime rt{{.workers = 2}};
  outcome out;
  auto f = rt.spawn<fast>();
  auto gone = rt.spawn<fast>();
  gone.stop();
  REQUIRE(gone.join_for(30s));
  auto a = rt.spawn<asker>(f, gone, &out);
  REQUIRE(a.send(quote{41}));
  REQUIRE(wait_until([&] { return out.done.load(); }));
  CHECK(out.a == 42);
  CHECK(out.text == "n41");
  CHECK(out.e0 == errc::actor_stopped);
}

TEST_CASE("when_any gives the first reply; the slow loser's reply is discarded and counted") {
  struct asker : fast_slow<asker> {
    using fast_slow::fast_slow;
    task<void> on(quote, context<asker>& ctx) {
      auto first = co_await when_any(ctx.ask(s, held{g, inside, 7}), ctx.ask(f, quote{1}));
      out->index = first.index;
      if (first.index == 1) out->a = *std::get<1>(first.value);
      out->done = true;
    }
  };
  runtime rt{{.workers = 2}};
  gate g;
  std::atomic<int> inside{0};
  outcome out;
  auto f = rt.spawn<fast>();
  auto s = rt.spawn<slow>();
  auto a = rt.spawn<asker>(f, s, &out, &g, &inside);
  auto before = rt.metrics().replies_discarded;
  REQUIRE(a.send(quote{0}));
  REQUIRE(wait_until([&] { return out.done.load(); }));
  CHECK(out.index == 1);
  CHECK(out.a == 2);
  g.open();  // the loser replies now
  REQUIRE(wait_until([&] { return rt.metrics().replies_discarded == before + 1; }));
}

TEST_CASE("when_any with a stopped target: its actor_stopped can be the first reply") {
  struct asker : fast_slow<asker> {  // its fast target `f` has stopped
    using fast_slow::fast_slow;
    task<void> on(quote, context<asker>& ctx) {
      auto first = co_await when_any(ctx.ask(f, quote{1}), ctx.ask(s, held{g, inside, 3}));
      out->index = first.index;
      if (first.index == 0) {
        auto& r = std::get<0>(first.value);
        out->e0 = r ? errc{} : r.error().code();
      }
      out->done = true;
    }
  };
  runtime rt{{.workers = 2}};
  gate g;
  std::atomic<int> inside{0};
  outcome out;
  auto gone = rt.spawn<fast>();
  gone.stop();
  REQUIRE(gone.join_for(30s));
  auto s = rt.spawn<slow>();
  auto a = rt.spawn<asker>(gone, s, &out, &g, &inside);
  REQUIRE(a.send(quote{0}));
  REQUIRE(wait_until([&] { return out.done.load(); }));
  CHECK(out.index == 0);
  CHECK(out.e0 == errc::actor_stopped);
  g.open();
}

TEST_CASE("when_all with ask_for: a slow target's slot times out, the others carry their values") {
  struct asker : fast_slow<asker> {
    using fast_slow::fast_slow;
    task<void> on(quote, context<asker>& ctx) {
      auto [late, quick] = co_await when_all(ctx.ask_for(s, held{g, inside, 5}, 20ms), ctx.ask(f, quote{9}));
      out->e0 = late ? errc{} : late.error().code();
      out->a = quick ? *quick : -1;
      out->done = true;
    }
  };
  runtime rt{{.workers = 2}};
  gate g;
  std::atomic<int> inside{0};
  outcome out;
  auto f = rt.spawn<fast>();
  auto s = rt.spawn<slow>();
  auto a = rt.spawn<asker>(f, s, &out, &g, &inside);
  REQUIRE(a.send(quote{0}));
  REQUIRE(wait_until([&] { return out.done.load(); }));
  CHECK(out.e0 == errc::timeout);
  CHECK(out.a == 10);
  g.open();
}

TEST_CASE("replies all in before co_await: no suspension, and the next co_await still waits for its own reply") {
  struct asker : actor<asker> {
    address<counting> f;
    address<slow> s;
    outcome* out;
    gate* g;
    std::atomic<int>* inside;
    std::atomic<int>* answered;
    asker(address<counting> a, address<slow> b, outcome* o, gate* gg, std::atomic<int>* i, std::atomic<int>* n)
        : f(std::move(a)), s(std::move(b)), out(o), g(gg), inside(i), answered(n) {}
    task<void> on(quote, context<asker>& ctx) {
      auto both = when_all(ctx.ask(f, quote{1}), ctx.ask(f, quote{2}));
      // Both handled (their replies follow at once): usually complete before
      // the co_await below, the path under test; either order is correct.
      (void)wait_until([&] { return answered->load() == 2; }, 10s);
      auto [x, y] = co_await both;
      out->a = *x + *y;
      out->stage = 1;
      auto r = co_await ctx.ask(s, held{g, inside, 11});  // a stale wake-up would resume this early
      out->b = r ? *r : -1;
      out->done = true;
    }
  };
  runtime rt{{.workers = 2}};
  gate g;
  std::atomic<int> inside{0}, answered{0};
  outcome out;
  auto f = rt.spawn<counting>(&answered);
  auto s = rt.spawn<slow>();
  auto a = rt.spawn<asker>(f, s, &out, &g, &inside, &answered);
  REQUIRE(a.send(quote{0}));
  REQUIRE(wait_until([&] { return inside.load() == 1; }));
  CHECK(out.stage.load() == 1);
  CHECK_FALSE(out.done.load());
  g.open();
  REQUIRE(wait_until([&] { return out.done.load(); }));
  CHECK(out.a == 2 + 3);
  CHECK(out.b == 11);
}

TEST_CASE("the awaiting actor stops while suspended in when_all: the frame goes, late replies are discarded and counted") {
  struct asker : actor<asker> {
    address<slow> s1, s2;
    gate* g;
    std::atomic<int>* inside;
    std::atomic<bool>* resumed;
    asker(address<slow> a, address<slow> b, gate* gg, std::atomic<int>* i, std::atomic<bool>* r)
        : s1(std::move(a)), s2(std::move(b)), g(gg), inside(i), resumed(r) {}
    task<void> on(quote, context<asker>& ctx) {
      auto both = co_await when_all(ctx.ask(s1, held{g, inside, 1}), ctx.ask(s2, held{g, inside, 2}));
      resumed->store(true);
    }
  };
  runtime rt{{.workers = 3}};
  gate g;
  std::atomic<int> inside{0};
  std::atomic<bool> resumed{false};
  auto s1 = rt.spawn<slow>();
  auto s2 = rt.spawn<slow>();
  auto a = rt.spawn<asker>(s1, s2, &g, &inside, &resumed);
  auto before = rt.metrics().replies_discarded;
  REQUIRE(a.send(quote{0}));
  REQUIRE(wait_until([&] { return inside.load() == 2; }));
  a.stop();
  REQUIRE(a.join_for(30s));
  g.open();
  REQUIRE(wait_until([&] { return rt.metrics().replies_discarded == before + 2; }));
  CHECK_FALSE(resumed.load());
}

TEST_CASE("when_all and when_any accept asks through recipients") {
  struct asker : actor<asker> {
    recipient<int(quote)> r1, r2;
    outcome* out;
    asker(recipient<int(quote)> a, recipient<int(quote)> b, outcome* o) : r1(std::move(a)), r2(std::move(b)), out(o) {}
    task<void> on(quote q, context<asker>& ctx) {
      auto [x, y] = co_await when_all(ctx.ask(r1, quote{q.n}), ctx.ask(r2, quote{q.n * 10}));
      out->a = *x + *y;
      auto first = co_await when_any(ctx.ask(r1, quote{5}));
      out->b = *std::get<0>(first.value);
      out->done = true;
    }
  };
  runtime rt{{.workers = 2}};
  outcome out;
  auto f1 = rt.spawn<fast>();
  auto f2 = rt.spawn<fast>();
  auto a = rt.spawn<asker>(f1, f2, &out);
  REQUIRE(a.send(quote{1}));
  REQUIRE(wait_until([&] { return out.done.load(); }));
  CHECK(out.a == 2 + 11);
  CHECK(out.b == 6);
}

TEST_CASE("10,000 when_all of 3 asks: every result exact, nothing discarded") {
  struct asker : actor<asker> {
    address<fast> f1, f2, f3;
    std::atomic<long>* sum;
    asker(address<fast> a, address<fast> b, address<fast> c, std::atomic<long>* s)
        : f1(std::move(a)), f2(std::move(b)), f3(std::move(c)), sum(s) {}
    task<void> on(quote q, context<asker>& ctx) {
      auto [x, y, z] = co_await when_all(ctx.ask(f1, quote{q.n}), ctx.ask(f2, quote{q.n}), ctx.ask(f3, quote{q.n}));
      sum->fetch_add(*x + *y + *z);
    }
  };
  runtime rt{{.workers = courier::test::test_workers()}};
  std::atomic<long> sum{0};
  auto a = rt.spawn<asker>(rt.spawn<fast>(), rt.spawn<fast>(), rt.spawn<fast>(), &sum);
  long n = static_cast<long>(10'000 / courier::test::stress_divisor());
  long expected = 0;
  for (long i = 0; i < n; ++i) {
    REQUIRE(a.send(quote{static_cast<int>(i)}));
    expected += 3 * (i + 1);
  }
  REQUIRE(wait_until([&] { return sum.load() == expected; }));
  rt.shutdown();
  CHECK(rt.metrics().replies_discarded == 0);
  auto s = rt.stats();
  CHECK(s.replies_issued == s.replies_completed);
}
