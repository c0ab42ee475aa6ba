// Monitors and exit reasons (docs/supervision.md, "Monitors"; docs/api.md,
// guarantees 9-11): exactly one `down` per monitor, its fields, demonitor's
// flush, reachability both ways, ordering behind the target's own messages,
// capacity, and the races with the target's end.
#include <courier/courier.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
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

/// What the watchers of a test saw.
using seen = courier::test::collected<down>;

class target : public actor<target> {
 public:
  int on(int x) { return x; }
};

template <class B>
struct watch {
  address<B> who;
};
struct hold {
  gate* g;
  monitor_id cancel = 0;  // demonitored once the gate opens
  std::atomic<int>* result;
  std::atomic<bool>* inside = nullptr;  // set once the handler runs
};
struct cancel {
  monitor_id id;
};
struct ids_query {};

class watcher : public actor<watcher> {
 public:
  explicit watcher(std::shared_ptr<seen> s) : seen_(std::move(s)) {}
  monitor_id on(watch<target> w, context<watcher>& ctx) { return ctx.monitor(w.who); }
  void on(down d) { seen_->add(std::move(d)); }
  void on(hold h, context<watcher>& ctx) {
    if (h.inside) h.inside->store(true);
    h.g->wait();
    h.result->store(h.cancel ? (ctx.demonitor(h.cancel) ? 1 : 0) : -1);
  }
  bool on(cancel c, context<watcher>& ctx) { return ctx.demonitor(c.id); }

 private:
  std::shared_ptr<seen> seen_;
};

}  // namespace

TEST_CASE("a monitored actor that stops yields exactly one down with the monitor id, its id and reason normal") {
  auto s = std::make_shared<seen>();
  runtime rt{{.workers = 2}};
  auto t = rt.spawn<target>();
  auto w = rt.spawn<watcher>(s);
  auto id = w.ask(watch<target>{t}).get().value();
  CHECK(id != 0);
  t.stop();
  REQUIRE(wait_until([&] { return s->count.load() == 1; }));
  auto d = s->snapshot().front();
  CHECK(d.monitor == id);
  CHECK(d.actor == t.id());
  CHECK(d.reason == exit_reason::normal);
  CHECK(d.what.empty());
  rt.shutdown();
  CHECK(s->count.load() == 1);  // never a second one
  courier::test::check_conservation(rt.stats());
}

TEST_CASE("a monitor on an actor that already ended delivers its recorded reason at once") {
  auto s = std::make_shared<seen>();
  runtime rt{{.workers = 2}};
  auto t = rt.spawn<target>();
  t.shutdown();
  t.join();
  auto w = rt.spawn<watcher>(s);
  auto id = w.ask(watch<target>{t}).get().value();
  REQUIRE(wait_until([&] { return s->count.load() == 1; }));
  auto d = s->snapshot().front();
  CHECK(d.monitor == id);
  CHECK(d.actor == t.id());
  CHECK(d.reason == exit_reason::normal);
}

TEST_CASE("a monitor on an empty address delivers actor 0 and reason unknown at once") {
  auto s = std::make_shared<seen>();
  runtime rt{{.workers = 2}};
  auto w = rt.spawn<watcher>(s);
  auto id = w.ask(watch<target>{address<target>{}}).get().value();
  CHECK(id != 0);
  REQUIRE(wait_until([&] { return s->count.load() == 1; }));
  auto d = s->snapshot().front();
  CHECK(d.monitor == id);
  CHECK(d.actor == 0);
  CHECK(d.reason == exit_reason::unknown);
}

TEST_CASE("each monitor call gets a fresh id and its own down, also for the same target") {
  auto s = std::make_shared<seen>();
  runtime rt{{.workers = 2}};
  auto t = rt.spawn<target>();
  auto w = rt.spawn<watcher>(s);
  auto a = w.ask(watch<target>{t}).get().value();
  auto b = w.ask(watch<target>{t}).get().value();
  CHECK(a != b);
  t.stop();
  REQUIRE(wait_until([&] { return s->count.load() == 2; }));
  auto downs = s->snapshot();
  std::vector<monitor_id> got{downs[0].monitor, downs[1].monitor};
  std::sort(got.begin(), got.end());
  CHECK(got == std::vector<monitor_id>{std::min(a, b), std::max(a, b)});
}

namespace {

/// Holds the only address of its target, monitors it, then lets the address go.
class dropper : public actor<dropper> {
 public:
  dropper(std::shared_ptr<seen> s, address<target> t) : seen_(std::move(s)), t_(std::move(t)) {}
  void on_start(context<dropper>& ctx) {
    ctx.monitor(t_);
    t_ = {};  // the monitor is not an address: the target is now unreachable
  }
  void on(down d) { seen_->add(std::move(d)); }

 private:
  std::shared_ptr<seen> seen_;
  address<target> t_;
};

}  // namespace

TEST_CASE("a monitor does not keep its target reachable: the target stops by itself with down unreachable") {
  auto s = std::make_shared<seen>();
  runtime rt{{.workers = 2}};
  auto d = rt.spawn<dropper>(s, rt.spawn<target>());
  REQUIRE(wait_until([&] { return s->count.load() == 1; }));
  CHECK(s->snapshot().front().reason == exit_reason::unreachable);
}

TEST_CASE("a monitor does not keep its watcher reachable: it stops by itself with the monitor pending") {
  auto s = std::make_shared<seen>();
  runtime rt{{.workers = 2}};
  auto t = rt.spawn<target>();
  {
    auto w = rt.spawn<watcher>(s);
    (void)w.ask(watch<target>{t}).get().value();
    w = {};
    REQUIRE(wait_until([&] { return rt.stats().stopped == 1; }));  // the watcher, not the target
  }
  t.stop();
  t.join();
  rt.shutdown();
  CHECK(s->count.load() == 0);  // its watcher was gone: nothing handled
  courier::test::check_conservation(rt.stats());
}

TEST_CASE("demonitor before the end: true, no down ever; a second demonitor returns false") {
  auto s = std::make_shared<seen>();
  runtime rt{{.workers = 2}};
  auto t = rt.spawn<target>();
  auto w = rt.spawn<watcher>(s);
  auto id = w.ask(watch<target>{t}).get().value();
  CHECK(w.ask(cancel{id}).get().value());
  CHECK_FALSE(w.ask(cancel{id}).get().value());
  CHECK_FALSE(w.ask(cancel{id + 100}).get().value());  // unknown
  t.stop();
  t.join();
  rt.shutdown();
  CHECK(s->count.load() == 0);
}

TEST_CASE("demonitor flushes a down that is already queued: it is never handled and counts as dropped") {
  auto s = std::make_shared<seen>();
  runtime rt{{.workers = 2}};
  auto t = rt.spawn<target>();
  auto w = rt.spawn<watcher>(s);
  auto id = w.ask(watch<target>{t}).get().value();
  gate g;
  std::atomic<int> result{-2};
  REQUIRE(w.send(hold{&g, id, &result}).has_value());
  t.stop();
  t.join();  // its down is now queued behind `hold`
  g.open();  // `hold` demonitors in the same turn, before the down's turn comes
  REQUIRE(wait_until([&] { return result.load() != -2; }));
  CHECK(result.load() == 1);
  CHECK_FALSE(w.ask(cancel{id}).get().value());  // demonitored already
  auto before = rt.stats();
  rt.shutdown();
  CHECK(s->count.load() == 0);
  auto after = rt.stats();
  CHECK(after.dropped >= 1);
  CHECK(before.accepted == after.accepted);
  courier::test::check_conservation(after);
}

TEST_CASE("demonitor after the down was handled returns false") {
  auto s = std::make_shared<seen>();
  runtime rt{{.workers = 2}};
  auto t = rt.spawn<target>();
  auto w = rt.spawn<watcher>(s);
  auto id = w.ask(watch<target>{t}).get().value();
  t.stop();
  REQUIRE(wait_until([&] { return s->count.load() == 1; }));
  CHECK_FALSE(w.ask(cancel{id}).get().value());
}

namespace {

struct tick {
  int n;
};
struct flood {
  int n;
};

class counter_watcher : public actor<counter_watcher> {
 public:
  explicit counter_watcher(std::shared_ptr<std::atomic<int>> ticks_at_down) : at_down_(std::move(ticks_at_down)) {}
  void on(tick) { ++ticks_; }
  void on(down) { at_down_->store(ticks_); }
  monitor_id on(watch<class chatty> w, context<counter_watcher>& ctx);

 private:
  int ticks_ = 0;
  std::shared_ptr<std::atomic<int>> at_down_;
};

class chatty : public actor<chatty> {
 public:
  explicit chatty(address<counter_watcher> to) : to_(std::move(to)) {}
  void on(flood f, context<chatty>& ctx) {
    for (int i = 0; i < f.n; ++i) REQUIRE(to_.send(tick{i}).has_value());
    ctx.stop();
  }

 private:
  address<counter_watcher> to_;
};

monitor_id counter_watcher::on(watch<chatty> w, context<counter_watcher>& ctx) { return ctx.monitor(w.who); }

}  // namespace

TEST_CASE("the down comes after every message the target sent to the watcher") {
  for (int round = 0; round < 50; ++round) {
    runtime rt{{.workers = 2}};
    auto at_down = std::make_shared<std::atomic<int>>(-1);
    auto w = rt.spawn<counter_watcher>(at_down);
    auto c = rt.spawn<chatty>(w);
    (void)w.ask(watch<chatty>{c}).get().value();
    REQUIRE(c.send(flood{500}).has_value());
    REQUIRE(wait_until([&] { return at_down->load() != -1; }));
    CHECK(at_down->load() == 500);
  }
}

namespace {

class continuation_watcher : public actor<continuation_watcher> {
 public:
  explicit continuation_watcher(std::shared_ptr<seen> s) : seen_(std::move(s)) {}
  monitor_id on(watch<target> w, context<continuation_watcher>& ctx) {
    return ctx.monitor(w.who, [this](down d) { seen_->add(std::move(d)); });  // `this`: runs in our own turn
  }

 private:
  std::shared_ptr<seen> seen_;
};

}  // namespace

TEST_CASE("a monitor with a continuation runs it in the watcher's turn and does not count it as a message") {
  auto s = std::make_shared<seen>();
  runtime rt{{.workers = 2}};
  auto t = rt.spawn<target>();
  auto w = rt.spawn<continuation_watcher>(s);
  auto id = w.ask(watch<target>{t}).get().value();
  // The reply comes before its handler is counted: wait until it is.
  REQUIRE(wait_until([&] {
    auto now = rt.stats();
    return now.handled == now.accepted;
  }));
  auto before = rt.stats();
  t.stop();
  REQUIRE(wait_until([&] { return s->count.load() == 1; }));
  CHECK(s->snapshot().front().monitor == id);
  rt.shutdown();
  auto after = rt.stats();
  CHECK(after.accepted == before.accepted);  // the continuation is not a message
  CHECK(after.handled == before.handled);
  courier::test::check_conservation(after);
}

namespace {

class self_watcher : public actor<self_watcher> {
 public:
  explicit self_watcher(std::shared_ptr<seen> s) : seen_(std::move(s)) {}
  void on_start(context<self_watcher>& ctx) { ctx.monitor(ctx.self()); }
  void on(down d) { seen_->add(std::move(d)); }
  void on(int, context<self_watcher>& ctx) { ctx.stop(); }

 private:
  std::shared_ptr<seen> seen_;
};

}  // namespace

TEST_CASE("monitoring oneself is allowed and its down is never handled") {
  auto s = std::make_shared<seen>();
  runtime rt{{.workers = 2}};
  auto a = rt.spawn<self_watcher>(s);
  REQUIRE(a.send(1).has_value());
  a.join();
  rt.shutdown();
  CHECK(s->count.load() == 0);
  courier::test::check_conservation(rt.stats());
}

TEST_CASE("a down is never refused for capacity: it bypasses a full bounded mailbox") {
  auto s = std::make_shared<seen>();
  runtime rt{{.workers = 2}};
  auto t = rt.spawn<target>();
  auto w = rt.spawn<watcher>(spawn_options{.capacity = 1}, s);
  (void)w.ask(watch<target>{t}).get().value();
  gate g;
  std::atomic<int> result{-2};
  std::atomic<bool> inside{false};
  REQUIRE(w.send(hold{&g, 0, &result, &inside}).has_value());
  REQUIRE(wait_until([&] { return inside.load(); }));
  // The watcher is inside `hold` (its slot is free again): fill the one slot.
  REQUIRE(w.send(cancel{0}).has_value());
  auto refused = w.send(cancel{0});
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code() == errc::mailbox_full);
  t.stop();
  t.join();
  g.open();
  REQUIRE(wait_until([&] { return s->count.load() == 1; }));
  CHECK(rt.metrics().downs == 1);
}

namespace {

class reason_keeper : public actor<reason_keeper> {
 public:
  explicit reason_keeper(std::shared_ptr<std::atomic<int>> out) : out_(std::move(out)) {}
  void on_stop(context<reason_keeper>& ctx) {
    out_->store(static_cast<int>(ctx.stop_reason()) + (ctx.restarting() ? 100 : 0));
  }
  void on(int) {}

 private:
  std::shared_ptr<std::atomic<int>> out_;
};

}  // namespace

TEST_CASE("on_stop sees why the actor ends: normal after stop, unreachable once no address is left, shutdown under runtime shutdown") {
  runtime rt{{.workers = 2}};
  auto out = std::make_shared<std::atomic<int>>(-1);
  auto a = rt.spawn<reason_keeper>(out);
  a.stop();
  a.join();
  CHECK(out->load() == static_cast<int>(exit_reason::normal));

  out->store(-1);
  rt.spawn<reason_keeper>(out);  // its only address is dropped at once
  REQUIRE(wait_until([&] { return out->load() != -1; }));
  CHECK(out->load() == static_cast<int>(exit_reason::unreachable));

  out->store(-1);
  auto b = rt.spawn<reason_keeper>(out);
  rt.shutdown();
  CHECK(out->load() == static_cast<int>(exit_reason::shutdown));
}

namespace {

class peer : public actor<peer> {
 public:
  explicit peer(std::shared_ptr<seen> s) : seen_(std::move(s)) {}
  monitor_id on(watch<peer> w, context<peer>& ctx) { return ctx.monitor(w.who); }
  void on(down d, context<peer>& ctx) {
    seen_->add(std::move(d));
    ctx.stop();
  }

 private:
  std::shared_ptr<seen> seen_;
};

}  // namespace

TEST_CASE("two actors monitoring each other both end, and neither record keeps the other's memory") {
  auto s = std::make_shared<seen>();
  {
    runtime rt{{.workers = 2}};
    auto a = rt.spawn<peer>(s);
    auto b = rt.spawn<peer>(s);
    (void)a.ask(watch<peer>{b}).get().value();
    (void)b.ask(watch<peer>{a}).get().value();
    a.stop();  // b gets its down and stops too; a's down from b finds a closed
    b.join();
    CHECK(s->count.load() == 1);
    rt.shutdown();
    courier::test::check_conservation(rt.stats());
  }
  CHECK(courier::detail::live_allocations() <= 0);  // both cells and both records freed (checked builds)
}

// -- races ---------------------------------------------------------------------------------

TEST_CASE("monitors racing their target's stop yield exactly one down each (10,000 rounds)") {
  const int rounds = static_cast<int>(10'000 / courier::test::stress_divisor());
  auto s = std::make_shared<seen>();
  runtime rt{{.workers = courier::test::test_workers()}};
  auto w = rt.spawn<watcher>(s);
  std::vector<reply<monitor_id>> ids;
  ids.reserve(rounds);
  for (int i = 0; i < rounds; ++i) {
    auto t = rt.spawn<target>();
    ids.push_back(w.ask(watch<target>{t}));
    t.stop();  // races the registration
  }
  std::vector<monitor_id> expected;
  for (auto& r : ids) expected.push_back(r.get().value());
  REQUIRE(wait_until([&] { return s->count.load() >= rounds; }));
  rt.shutdown();
  auto downs = s->snapshot();
  REQUIRE(downs.size() == expected.size());
  std::vector<monitor_id> got;
  for (auto& d : downs) {
    got.push_back(d.monitor);
    CHECK(d.reason == exit_reason::normal);
  }
  std::sort(got.begin(), got.end());
  std::sort(expected.begin(), expected.end());
  CHECK(got == expected);  // each id exactly once
  courier::test::check_conservation(rt.stats());
}

TEST_CASE("demonitor racing the target's end: either true and no down, or false after the down was handled") {
  const int rounds = static_cast<int>(2'000 / courier::test::stress_divisor());
  auto s = std::make_shared<seen>();
  runtime rt{{.workers = courier::test::test_workers()}};
  auto w = rt.spawn<watcher>(s);
  std::vector<std::pair<monitor_id, reply<bool>>> outcomes;
  for (int i = 0; i < rounds; ++i) {
    auto t = rt.spawn<target>();
    auto id = w.ask(watch<target>{t}).get().value();
    std::thread stopper([&] { t.stop(); });
    outcomes.emplace_back(id, w.ask(cancel{id}));
    stopper.join();
  }
  std::map<monitor_id, bool> cancelled;
  for (auto& [id, r] : outcomes) cancelled[id] = r.get().value();
  rt.shutdown();
  std::map<monitor_id, int> handled;
  for (auto& d : s->snapshot()) ++handled[d.monitor];
  for (auto& [id, was_pending] : cancelled) {
    if (was_pending)
      CHECK(handled[id] == 0);
    else
      CHECK(handled[id] == 1);
  }
  courier::test::check_conservation(rt.stats());
}

TEST_CASE("a watcher that stops while its target finishes: the down is dropped and counted, never handled twice") {
  const int rounds = static_cast<int>(2'000 / courier::test::stress_divisor());
  auto s = std::make_shared<seen>();
  runtime rt{{.workers = courier::test::test_workers()}};
  for (int i = 0; i < rounds; ++i) {
    auto t = rt.spawn<target>();
    auto w = rt.spawn<watcher>(s);
    (void)w.ask(watch<target>{t}).get().value();
    std::thread a([&] { t.stop(); });
    w.stop();
    a.join();
  }
  rt.shutdown();
  CHECK(s->count.load() <= rounds);
  courier::test::check_conservation(rt.stats());
}
