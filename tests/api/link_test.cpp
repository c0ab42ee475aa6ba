// Links (docs/supervision.md, "Links"): propagation of `failed` / `linked`
// ends, trapping with courier::exit_signal, linking after the fact,
// idempotence, unlink's flush, reachability, restarts, and the races.
#include <courier/courier.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/collected.hpp"
#include "tests/support/conservation.hpp"
#include "tests/support/doctest.hpp"
#include "tests/support/wait.hpp"

using namespace courier;
using namespace std::chrono_literals;
using courier::test::gate;
using courier::test::wait_until;

namespace {

struct boom {};
template <class B>
struct link_to {
  address<B> who;
};
template <class B>
struct unlink_from {
  address<B> who;
};

/// Fails on boom; stops with `failed` (policy stop) unless spawned otherwise.
class failing : public actor<failing> {
 public:
  void on(boom) { throw std::runtime_error("boom"); }
  void on(link_to<failing> l, context<failing>& ctx) { ctx.link(l.who); }
  int on(int x) { return x; }
};

using signals = courier::test::collected<exit_signal>;

struct hold {
  gate* g;
  address<failing> unlink_after;  // unlinked once the gate opens
};

/// Handles exit_signal: trapped, it goes on.
class trapper : public actor<trapper> {
 public:
  explicit trapper(std::shared_ptr<signals> s) : s_(std::move(s)) {}
  void on(exit_signal e) { s_->add(std::move(e)); }
  void on(link_to<failing> l, context<trapper>& ctx) { ctx.link(l.who); }
  void on(hold h, context<trapper>& ctx) {
    h.g->wait();
    if (h.unlink_after) ctx.unlink(h.unlink_after);
  }
  int on(int x) { return x; }

 private:
  std::shared_ptr<signals> s_;
};

/// Does not handle exit_signal: a linked failure stops it.
class plain : public actor<plain> {
 public:
  void on(link_to<failing> l, context<plain>& ctx) { ctx.link(l.who); }
  int on(int x) { return x; }
};

using downs = courier::test::collected<down>;

template <class B>
struct watch {
  address<B> who;
};

class watcher : public actor<watcher> {
 public:
  explicit watcher(std::shared_ptr<downs> d) : d_(std::move(d)) {}
  monitor_id on(watch<plain> w, context<watcher>& ctx) { return ctx.monitor(w.who); }
  monitor_id on(watch<failing> w, context<watcher>& ctx) { return ctx.monitor(w.who); }
  void on(down d) { d_->add(std::move(d)); }

 private:
  std::shared_ptr<downs> d_;
};

spawn_options stops_on_failure() { return {.failure = {.action = on_failure::stop}}; }

void quiet(runtime& rt) { rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {}); }

}  // namespace

TEST_CASE("a linked actor's failure stops the other side with reason linked and the composed text") {
  auto d = std::make_shared<downs>();
  runtime rt{{.workers = 2}};
  quiet(rt);
  auto a = rt.spawn<failing>(stops_on_failure());
  auto b = rt.spawn<plain>();
  auto w = rt.spawn<watcher>(d);
  (void)w.ask(watch<plain>{b}).get().value();
  (void)b.ask(link_to<failing>{a}).get();
  REQUIRE(a.send(boom{}).has_value());
  b.join();
  REQUIRE(wait_until([&] { return d->count.load() == 1; }));
  CHECK(d->snapshot().front().reason == exit_reason::linked);
  CHECK(d->snapshot().front().what == "linked actor " + std::to_string(a.id()) + " failed: boom");
  rt.shutdown();
  courier::test::check_conservation(rt.stats());
}

TEST_CASE("an actor that handles exit_signal receives it and goes on") {
  auto s = std::make_shared<signals>();
  runtime rt{{.workers = 2}};
  quiet(rt);
  auto a = rt.spawn<failing>(stops_on_failure());
  auto t = rt.spawn<trapper>(s);
  (void)t.ask(link_to<failing>{a}).get();
  REQUIRE(a.send(boom{}).has_value());
  REQUIRE(wait_until([&] { return s->count.load() == 1; }));
  auto e = s->snapshot().front();
  CHECK(e.actor == a.id());
  CHECK(e.reason == exit_reason::failed);
  CHECK(e.what == "boom");
  CHECK(t.ask(5).get().value() == 5);  // still alive
  CHECK_FALSE(t.done());
}

TEST_CASE("normal, unreachable and shutdown endings do not propagate along a link") {
  runtime rt{{.workers = 2}};
  auto b = rt.spawn<plain>();
  {
    auto a = rt.spawn<failing>();
    (void)b.ask(link_to<failing>{a}).get();
    a.stop();
    a.join();
  }
  {
    auto a = rt.spawn<failing>();
    (void)b.ask(link_to<failing>{a}).get();
    a.shutdown();
    a.join();
  }
  (void)b.ask(link_to<failing>{rt.spawn<failing>()}).get();  // that one ends unreachable
  REQUIRE(wait_until([&] { return rt.stats().stopped == 3; }));
  CHECK(b.ask(1).get().value() == 1);
  CHECK_FALSE(b.done());
}

TEST_CASE("linking to an actor that already failed propagates at once; to an empty address or a normal end, nothing") {
  auto s = std::make_shared<signals>();
  runtime rt{{.workers = 2}};
  quiet(rt);
  auto a = rt.spawn<failing>(stops_on_failure());
  REQUIRE(a.send(boom{}).has_value());
  a.join();
  auto n = rt.spawn<failing>();
  n.stop();
  n.join();
  auto t = rt.spawn<trapper>(s);
  (void)t.ask(link_to<failing>{address<failing>{}}).get();
  (void)t.ask(link_to<failing>{n}).get();
  (void)t.ask(link_to<failing>{a}).get();
  REQUIRE(wait_until([&] { return s->count.load() == 1; }));
  CHECK(s->snapshot().front().actor == a.id());
  auto b = rt.spawn<plain>();
  (void)b.ask(link_to<failing>{a}).get();  // a plain one is stopped at once
  b.join();
  rt.shutdown();
  CHECK(s->count.load() == 1);
}

TEST_CASE("link is idempotent per pair: one propagation") {
  auto s = std::make_shared<signals>();
  runtime rt{{.workers = 2}};
  quiet(rt);
  auto a = rt.spawn<failing>(stops_on_failure());
  auto t = rt.spawn<trapper>(s);
  (void)t.ask(link_to<failing>{a}).get();
  (void)t.ask(link_to<failing>{a}).get();
  (void)a.ask(link_to<failing>{a}).get();  // linking to oneself does nothing
  REQUIRE(a.send(boom{}).has_value());
  a.join();
  REQUIRE(wait_until([&] { return s->count.load() >= 1; }));
  rt.shutdown();
  CHECK(s->count.load() == 1);
}

TEST_CASE("unlink flushes: an exit_signal already queued is dropped and counted, never handled") {
  auto s = std::make_shared<signals>();
  runtime rt{{.workers = 2}};
  quiet(rt);
  auto a = rt.spawn<failing>(stops_on_failure());
  auto t = rt.spawn<trapper>(s);
  (void)t.ask(link_to<failing>{a}).get();
  gate g;
  REQUIRE(t.send(hold{&g, a}).has_value());
  REQUIRE(a.send(boom{}).has_value());
  a.join();  // its exit_signal is queued behind `hold`
  g.open();  // `hold` unlinks before the signal's turn
  CHECK(t.ask(1).get().value() == 1);
  rt.shutdown();
  CHECK(s->count.load() == 0);
  courier::test::check_conservation(rt.stats());
}

TEST_CASE("a link is not an address: a linked pair that nothing reaches stops by itself") {
  runtime rt{{.workers = 2}};
  {
    auto a = rt.spawn<failing>();
    auto b = rt.spawn<plain>();
    (void)b.ask(link_to<failing>{a}).get();
  }
  REQUIRE(wait_until([&] { return rt.stats().stopped == 2; }));
}

namespace {

class relinker : public actor<relinker> {
 public:
  explicit relinker(std::shared_ptr<signals> s) : s_(std::move(s)) {}
  void on(exit_signal e) { s_->add(std::move(e)); }
  void on(link_to<failing> l, context<relinker>& ctx) { ctx.link(l.who); }
  void on(boom) { throw std::runtime_error("relinker boom"); }
  int on(int x) { return x; }

 private:
  std::shared_ptr<signals> s_;
};

class outsider : public actor<outsider> {
 public:
  explicit outsider(std::shared_ptr<signals> s) : s_(std::move(s)) {}
  void on(exit_signal e) { s_->add(std::move(e)); }
  void on(link_to<relinker> l, context<outsider>& ctx) { ctx.link(l.who); }

 private:
  std::shared_ptr<signals> s_;
};

}  // namespace

TEST_CASE("an in-place restart revokes the links its incarnation made and keeps those others made to it") {
  auto heard_by_r = std::make_shared<signals>();
  auto heard_by_o = std::make_shared<signals>();
  runtime rt{{.workers = 2}};
  quiet(rt);
  auto a = rt.spawn<failing>(stops_on_failure());
  auto r = rt.spawn<relinker>(spawn_options{.failure = {.action = on_failure::restart, .intensity = 1}}, heard_by_r);
  auto o = rt.spawn<outsider>(heard_by_o);
  (void)r.ask(link_to<failing>{a}).get();   // made by r's first incarnation: its restart revokes it
  (void)o.ask(link_to<relinker>{r}).get();  // made by o: survives r's restart
  REQUIRE(r.send(boom{}).has_value());
  REQUIRE(wait_until([&] { return rt.stats().restarted == 1; }));
  REQUIRE(a.send(boom{}).has_value());
  a.join();
  CHECK(r.ask(2).get().value() == 2);  // a's failure did not reach r
  CHECK(heard_by_r->count.load() == 0);
  CHECK(heard_by_o->count.load() == 0);  // nobody hears of a restart
  REQUIRE(r.send(boom{}).has_value());   // past its intensity: r ends failed
  r.join();
  REQUIRE(wait_until([&] { return heard_by_o->count.load() == 1; }));
  CHECK(heard_by_o->snapshot().front().actor == r.id());
  CHECK(heard_by_o->snapshot().front().what == "restart intensity exceeded: relinker boom");
  rt.shutdown();
  CHECK(heard_by_r->count.load() == 0);
}

// -- races ---------------------------------------------------------------------------------

TEST_CASE("both linked sides failing at once: each ends failed with its own text, nobody stopped or told twice") {
  const int rounds = static_cast<int>(500 / courier::test::stress_divisor()) + 10;
  runtime rt{{.workers = courier::test::test_workers()}};
  quiet(rt);
  auto d = std::make_shared<downs>();
  auto w = rt.spawn<watcher>(d);
  for (int i = 0; i < rounds; ++i) {
    auto a = rt.spawn<failing>(stops_on_failure());
    auto b = rt.spawn<failing>(stops_on_failure());
    (void)a.ask(link_to<failing>{b}).get();
    (void)w.ask(watch<failing>{a}).get();
    (void)w.ask(watch<failing>{b}).get();
    std::thread other([&] { (void)b.send(boom{}); });
    (void)a.send(boom{});
    other.join();
    a.join();
    b.join();
  }
  REQUIRE(wait_until([&] { return d->count.load() == 2 * rounds; }));
  rt.shutdown();
  std::lock_guard lock(d->mutex);
  CHECK(d->got.size() == static_cast<std::size_t>(2 * rounds));  // one end each
  for (auto& x : d->got) {
    // Failed with its own boom, or stopped by the other's failure first.
    bool own = x.reason == exit_reason::failed && x.what == "boom";
    bool linked = x.reason == exit_reason::linked && x.what.find(" failed: boom") != std::string::npos;
    CHECK((own || linked));
  }
  courier::test::check_conservation(rt.stats());
}

TEST_CASE("link racing the other side's failure: the propagation happens exactly once") {
  const int rounds = static_cast<int>(2'000 / courier::test::stress_divisor());
  auto s = std::make_shared<signals>();
  runtime rt{{.workers = courier::test::test_workers()}};
  quiet(rt);
  auto t = rt.spawn<trapper>(s);
  std::vector<actor_id> failed_ids;
  for (int i = 0; i < rounds; ++i) {
    auto a = rt.spawn<failing>(stops_on_failure());
    failed_ids.push_back(a.id());
    std::thread breaker([&] { (void)a.send(boom{}); });
    REQUIRE(t.send(link_to<failing>{a}).has_value());
    breaker.join();
  }
  REQUIRE(wait_until([&] { return s->count.load() == rounds; }));
  CHECK(t.ask(0).get().value() == 0);
  rt.shutdown();
  std::map<actor_id, int> per;
  for (auto& e : s->snapshot()) ++per[e.actor];
  CHECK(per.size() == static_cast<std::size_t>(rounds));
  for (auto id : failed_ids) CHECK(per[id] == 1);
  courier::test::check_conservation(rt.stats());
}
