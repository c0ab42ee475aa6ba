// recipient<M> and recipient<R(M)> (docs/api.md, "recipient"): type-erased
// handles to any actor that handles M, with address semantics (errors,
// FIFO, reachability, equality) and no allocation of their own.
#include <courier/courier.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "tests/support/collected.hpp"
#include "tests/support/doctest.hpp"
#include "tests/support/wait.hpp"

using namespace courier;
using namespace std::chrono_literals;
using courier::test::gate;
using courier::test::wait_until;

namespace {

struct price_update {
  std::string symbol;
  int price;
};
struct sum {
  int a, b;
};
struct numbered {
  int from;
  int n;
};

using seen = courier::test::collected<std::string>;

class trader : public actor<trader> {
 public:
  explicit trader(std::shared_ptr<seen> s) : s_(std::move(s)) {}
  void on(price_update u) { s_->add("trader " + u.symbol + " " + std::to_string(u.price)); }
  void on(gate* g) { g->wait(); }

 private:
  std::shared_ptr<seen> s_;
};

class logger : public actor<logger> {
 public:
  explicit logger(std::shared_ptr<seen> s) : s_(std::move(s)) {}
  void on(price_update u, context<logger>&) { s_->add("logger " + u.symbol); }

 private:
  std::shared_ptr<seen> s_;
};

class calc : public actor<calc> {
 public:
  int on(sum s) const { return s.a + s.b; }
};

class wide_calc : public actor<wide_calc> {
 public:
  long on(sum s) const { return s.a + s.b; }
};

class mute : public actor<mute> {
 public:
  void on(int) {}
};

/// Records the order in which numbered messages arrive.
class orderly : public actor<orderly> {
 public:
  explicit orderly(std::shared_ptr<std::vector<int>> log) : log_(std::move(log)) {}
  void on(numbered m) { log_->push_back(m.from * 1'000'000 + m.n); }

 private:
  std::shared_ptr<std::vector<int>> log_;
};

}  // namespace

// -- the conversions: implicit when valid, absent otherwise ------------------------------------

static_assert(std::is_convertible_v<address<trader>, recipient<price_update>>);
static_assert(std::is_convertible_v<address<logger>, recipient<price_update>>);
static_assert(!std::is_convertible_v<address<mute>, recipient<price_update>>);
static_assert(std::is_convertible_v<address<calc>, recipient<int(sum)>>);
static_assert(!std::is_convertible_v<address<wide_calc>, recipient<int(sum)>>);  // the reply type is exactly R
static_assert(std::is_convertible_v<address<wide_calc>, recipient<long(sum)>>);
static_assert(std::is_convertible_v<recipient<int(sum)>, recipient<sum>>);         // forget the reply type
static_assert(std::is_default_constructible_v<recipient<price_update>>);
static_assert(std::is_default_constructible_v<recipient<int(sum)>>);
static_assert(sizeof(recipient<price_update>) == 2 * sizeof(void*));
static_assert(sizeof(recipient<int(sum)>) == 2 * sizeof(void*));

TEST_CASE("recipients of actors of different types, in one list, each get the message") {
  auto s = std::make_shared<seen>();
  runtime rt{{.workers = 2}};
  auto t = rt.spawn<trader>(s);
  auto l = rt.spawn<logger>(s);
  std::vector<recipient<price_update>> subscribers{t, l};
  for (auto& r : subscribers) CHECK(r.send(price_update{"ACME", 42}).has_value());
  REQUIRE(wait_until([&] { return s->count.load() == 2; }));
  auto got = s->snapshot();
  CHECK(std::find(got.begin(), got.end(), "trader ACME 42") != got.end());
  CHECK(std::find(got.begin(), got.end(), "logger ACME") != got.end());
  CHECK(rt.shutdown());
}

TEST_CASE("recipient<R(M)> asks with the reply type R; recipient<M> forgets it and only sends") {
  runtime rt{{.workers = 2}};
  auto c = rt.spawn<calc>();
  recipient<int(sum)> q = c;
  CHECK(q.ask(sum{1, 2}).get().value() == 3);
  const sum s{20, 22};
  CHECK(q.ask(s).get().value() == 42);
  recipient<sum> plain = q;
  CHECK(plain.send(sum{1, 1}).has_value());
  CHECK(plain == recipient<sum>(c));
  CHECK(rt.shutdown());
}

TEST_CASE("an empty recipient fails like an empty address: actor_stopped, done, id 0") {
  recipient<price_update> r;
  recipient<int(sum)> q;
  CHECK(!r);
  CHECK(r.done());
  CHECK(r.id() == 0);
  CHECK(r.send(price_update{"X", 1}).error().code() == errc::actor_stopped);
  CHECK(q.ask(sum{1, 2}).get().error().code() == errc::actor_stopped);
}

TEST_CASE("errors are address::send's: actor_stopped after the actor stopped, mailbox_full with the message kept") {
  auto s = std::make_shared<seen>();
  runtime rt{{.workers = 2}};
  auto t = rt.spawn<trader>(spawn_options{.capacity = 1}, s);
  recipient<price_update> r = t;
  gate g;
  REQUIRE(t.send(&g).has_value());  // holds the actor; its message holds no slot once handled
  REQUIRE(wait_until([&] { return r.send(price_update{"FILL", 0}).has_value(); }));
  price_update kept{"a symbol long enough to live on the heap, not in the string", 7};
  auto refused = r.send(std::move(kept));
  REQUIRE(!refused.has_value());
  CHECK(refused.error().code() == errc::mailbox_full);
  CHECK(kept.symbol == "a symbol long enough to live on the heap, not in the string");  // guarantee 6
  g.open();
  t.stop();
  t.join();
  CHECK(r.done());
  CHECK(r.send(price_update{"late", 1}).error().code() == errc::actor_stopped);
  CHECK(rt.shutdown());
}

TEST_CASE("sends through a recipient and through an address, from one sender, are handled in send order") {
  auto log = std::make_shared<std::vector<int>>();
  runtime rt{{.workers = 2}};
  auto o = rt.spawn<orderly>(log);
  recipient<numbered> r = o;
  constexpr int per_sender = 20'000;
  std::vector<std::thread> threads;
  for (int from = 0; from < 2; ++from)
    threads.emplace_back([&, from] {
      for (int n = 0; n < per_sender; ++n) {
        auto ok = (n % 2) ? r.send(numbered{from, n}) : o.send(numbered{from, n});
        REQUIRE(ok.has_value());
      }
    });
  for (auto& t : threads) t.join();
  o.shutdown();
  o.join();
  REQUIRE(log->size() == 2u * per_sender);
  int next[2] = {0, 0};
  for (int v : *log) {
    int from = v / 1'000'000, n = v % 1'000'000;
    CHECK(n == next[from]);
    next[from] = n + 1;
  }
  CHECK(rt.shutdown());
}

TEST_CASE("a recipient is an address: it keeps its actor reachable, and the last one dropped lets it stop") {
  auto s = std::make_shared<seen>();
  runtime rt{{.workers = 2}};
  recipient<price_update> r;
  actor_id id = 0;
  {
    auto t = rt.spawn<trader>(s);
    id = t.id();
    r = t;
  }  // the address is gone; the recipient remains
  CHECK(r.id() == id);
  CHECK(r.send(price_update{"STILL", 1}).has_value());
  REQUIRE(wait_until([&] { return s->count.load() == 1; }));
  CHECK(!r.done());
  auto before = rt.stats().stopped;
  r = recipient<price_update>{};
  REQUIRE(wait_until([&] { return rt.stats().stopped == before + 1; }));
  CHECK(rt.shutdown());
}

TEST_CASE("equality and hash are by actor, and match the address's hash") {
  auto s = std::make_shared<seen>();
  runtime rt{{.workers = 2}};
  auto t = rt.spawn<trader>(s);
  auto l = rt.spawn<logger>(s);
  recipient<price_update> a = t, b = t, c = l;
  CHECK(a == b);
  CHECK(!(a == c));
  CHECK(std::hash<recipient<price_update>>{}(a) == std::hash<address<trader>>{}(t));
  std::unordered_set<recipient<price_update>> set{a, b, c};
  CHECK(set.size() == 2u);
  CHECK(rt.shutdown());
}

TEST_CASE("converting and copying a recipient allocate nothing") {
  runtime rt{{.workers = 1}};
  auto c = rt.spawn<calc>();
  auto before = courier::detail::allocations_made();
  if (before < 0) return;  // built without -Dobject_counts
  recipient<int(sum)> q = c;
  recipient<int(sum)> copy = q;
  recipient<sum> plain = copy;
  recipient<sum> moved = std::move(plain);
  CHECK(courier::detail::allocations_made() == before);
  CHECK(moved.id() == c.id());
  CHECK(rt.shutdown());
}

namespace {

struct watch_it {
  recipient<price_update> who;
};

class watcher : public actor<watcher> {
 public:
  explicit watcher(std::shared_ptr<courier::test::collected<down>> d) : d_(std::move(d)) {}
  monitor_id on(watch_it w, context<watcher>& ctx) {
    ctx.send_after(w.who, price_update{"LATER", 1}, 1ms);
    return ctx.monitor(w.who);
  }
  void on(down d) { d_->add(d); }

 private:
  std::shared_ptr<courier::test::collected<down>> d_;
};

}  // namespace

TEST_CASE("send_after and monitor accept a recipient") {
  auto s = std::make_shared<seen>();
  auto downs = std::make_shared<courier::test::collected<down>>();
  runtime rt{{.workers = 2}};
  auto t = rt.spawn<trader>(s);
  auto w = rt.spawn<watcher>(downs);
  REQUIRE(w.ask(watch_it{t}).get().value() != 0);
  REQUIRE(wait_until([&] { return s->count.load() == 1; }));  // the timer's delivery
  CHECK(s->snapshot().front() == "trader LATER 1");
  t.stop();
  REQUIRE(wait_until([&] { return downs->count.load() == 1; }));
  CHECK(downs->snapshot().front().actor == t.id());
  CHECK(rt.shutdown());
}

namespace {

struct ask_through {
  recipient<int(sum)> to;
};
struct await_through {
  recipient<int(sum)> to;
};

class asker : public actor<asker> {
 public:
  void on(ask_through a, context<asker>& ctx) {
    ctx.ask(a.to, sum{2, 3}, [this](result<int> r) { got_ = r.has_value() ? r.value() : -static_cast<int>(r.error().code()); });
  }
  task<int> on(await_through a, context<asker>& ctx) {
    auto request = ctx.ask(a.to, sum{4, 5});
    auto r = co_await std::move(request);
    auto timed = ctx.ask_for(a.to, sum{1, 1}, 5s);
    auto t = co_await std::move(timed);
    co_return (r.has_value() ? r.value() : -1) * 100 + (t.has_value() ? t.value() : -1);
  }
  int on(int) const { return got_; }

 private:
  int got_ = 0;
};

}  // namespace

TEST_CASE("ctx.ask with a continuation and co_await ctx.ask accept a recipient<R(M)>") {
  runtime rt{{.workers = 2}};
  auto c = rt.spawn<calc>();
  auto a = rt.spawn<asker>();
  REQUIRE(a.send(ask_through{c}).has_value());
  REQUIRE(wait_until([&] { return a.ask(0).get().value() == 5; }));
  CHECK(a.ask(await_through{c}).get().value() == 902);
  SUBCASE("an empty recipient completes with actor_stopped, in both forms") {
    CHECK(a.ask(await_through{recipient<int(sum)>{}}).get().value() == -101);  // both awaits failed (actor_stopped)
  }
  CHECK(rt.shutdown());
}

// -- names -----------------------------------------------------------------------------------

TEST_CASE("register_name and whereis: the recipient it was registered as; a duplicate name is invalid_argument") {
  auto s = std::make_shared<seen>();
  runtime rt{{.workers = 2}};
  auto t = rt.spawn<trader>(s);
  auto c = rt.spawn<calc>();
  REQUIRE(rt.register_name("prices", recipient<price_update>(t)).has_value());
  REQUIRE(rt.register_name("calc", recipient<int(sum)>(c)).has_value());
  auto found = rt.whereis<price_update>("prices");
  REQUIRE(found.has_value());
  CHECK(found.value().id() == t.id());
  CHECK(found.value().send(price_update{"NAMED", 3}).has_value());
  REQUIRE(wait_until([&] { return s->count.load() == 1; }));
  CHECK(rt.whereis<int(sum)>("calc").value().ask(sum{3, 4}).get().value() == 7);
  CHECK(rt.register_name("prices", recipient<price_update>(t)).error().code() == errc::invalid_argument);
  CHECK(rt.register_name("", recipient<price_update>(t)).error().code() == errc::invalid_argument);
  CHECK(rt.register_name("nobody", recipient<price_update>{}).error().code() == errc::actor_stopped);
  CHECK(rt.whereis<price_update>("missing").error().code() == errc::invalid_argument);
  CHECK(rt.whereis<sum>("calc").error().code() == errc::invalid_argument);  // registered as int(sum)
  CHECK(rt.shutdown());
}

TEST_CASE("a name disappears when its actor finishes, and is free again") {
  auto s = std::make_shared<seen>();
  runtime rt{{.workers = 2}};
  auto t = rt.spawn<trader>(s);
  REQUIRE(rt.register_name("desk", recipient<price_update>(t)).has_value());
  t.stop();
  t.join();
  CHECK(rt.whereis<price_update>("desk").error().code() == errc::invalid_argument);  // gone by done()
  auto l = rt.spawn<logger>(s);
  CHECK(rt.register_name("desk", recipient<price_update>(l)).has_value());
  CHECK(rt.whereis<price_update>("desk").value().id() == l.id());
  CHECK(rt.register_name("late", recipient<price_update>(t)).error().code() == errc::actor_stopped);
  CHECK(rt.shutdown());
}

TEST_CASE("a name does not keep its actor reachable") {
  auto s = std::make_shared<seen>();
  runtime rt{{.workers = 2}};
  auto before = rt.stats().stopped;
  {
    auto t = rt.spawn<trader>(s);
    REQUIRE(rt.register_name("ghost", recipient<price_update>(t)).has_value());
  }  // the only address goes: the actor stops by itself, and its name with it
  REQUIRE(wait_until([&] { return rt.stats().stopped == before + 1; }));
  CHECK(rt.whereis<price_update>("ghost").error().code() == errc::invalid_argument);
  CHECK(rt.shutdown());
}

TEST_CASE("names racing their actors' ends: whereis never gives a finished actor, and nothing leaks") {
  auto s = std::make_shared<seen>();
  runtime rt{{.workers = 2}};
  for (int round = 0; round < 2'000; ++round) {
    auto t = rt.spawn<trader>(s);
    auto name = "n" + std::to_string(round % 7);
    std::thread stopper([t] { t.stop(); });
    auto r = rt.register_name(name, recipient<price_update>(t));
    auto w = rt.whereis<price_update>(name);
    if (w.has_value()) CHECK(w.value().id() == t.id());
    stopper.join();
    t.join();
    CHECK(!rt.whereis<price_update>(name).has_value());
    (void)r;
  }
  CHECK(rt.shutdown());
}
