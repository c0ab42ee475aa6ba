// Supervisors (docs/supervision.md, "Supervisors"): static and dynamic
// children, the three strategies, the restart types, two-phase group
// restarts (guarantee 8), escalation, stopping a supervisor, and the races
// of its table.
#include <courier/courier.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
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
using courier::test::open_at_exit;
using courier::test::wait_until;

namespace {

/// Everything the children of one test did, in order.
struct journal : courier::test::collected<std::string> {
  std::atomic<int> starts{0};
  std::atomic<int> stops{0};
  std::atomic<int> handled{0};
  bool has(const std::string& line) {
    auto all = snapshot();
    return std::find(all.begin(), all.end(), line) != all.end();
  }
  int index_of(const std::string& line) {
    auto all = snapshot();
    auto it = std::find(all.begin(), all.end(), line);
    return it == all.end() ? -1 : static_cast<int>(it - all.begin());
  }
  int count_of(const std::string& line) {
    auto all = snapshot();
    return static_cast<int>(std::count(all.begin(), all.end(), line));
  }
};

struct boom {};
struct work {
  int n;
};
struct hold {
  gate* g;
};
struct hold_then_boom {
  gate* g;
};
struct quit {};
struct quit_draining {};
struct incarnation {};

/// A child that logs its hooks with its name and incarnation.
class member : public actor<member> {
 public:
  member(std::shared_ptr<journal> j, std::string name) : j_(std::move(j)), name_(std::move(name)) {}
  void on_start(context<member>&) {
    j_->starts.fetch_add(1);
    j_->add("start " + name_);
  }
  void on_stop(context<member>& ctx) {
    j_->stops.fetch_add(1);
    j_->add("stop " + name_ + " " + std::string(to_string(ctx.stop_reason())) +
            (ctx.restarting() ? " restarting" : ""));
  }
  void on(boom) { throw std::runtime_error("boom in " + name_); }
  int on(work w) {
    j_->handled.fetch_add(1);
    j_->add("work " + name_ + " " + std::to_string(w.n));
    return ++seen_;
  }
  void on(hold h) {
    j_->add("hold " + name_);
    h.g->wait();
  }
  void on(hold_then_boom h) {
    j_->add("holding " + name_);
    h.g->wait();
    throw std::runtime_error("late boom in " + name_);
  }
  void on(quit, context<member>& ctx) { ctx.stop(); }
  void on(quit_draining, context<member>& ctx) { ctx.shutdown(); }
  int on(incarnation) const { return seen_; }

 private:
  std::shared_ptr<journal> j_;
  std::string name_;
  int seen_ = 0;  // per incarnation
};

/// Opens a gate when the test case leaves its scope, also through a failed
/// REQUIRE: a handler held on it would otherwise keep ~runtime waiting.
/// Collects the error hook's reports.
struct hook_log : courier::test::collected<std::string> {
  bool has_substring(const std::string& part) {
    for (auto& s : snapshot())
      if (s.find(part) != std::string::npos) return true;
    return false;
  }
};

void install(runtime& rt, const std::shared_ptr<hook_log>& log) {
  rt.set_error_hook([log](std::string_view actor, std::string_view message, std::string_view what) {
    log->add(std::string(actor) + "|" + std::string(message) + "|" + std::string(what));
  });
}

child_def member_def(const std::shared_ptr<journal>& j, const std::string& id,
                     restart_type type = restart_type::permanent) {
  return child<member>({.id = id, .restart = type}, j, id);
}

using down_seen = courier::test::collected<down>;

class watcher : public actor<watcher> {
 public:
  explicit watcher(std::shared_ptr<down_seen> s) : s_(std::move(s)) {}
  monitor_id on(address<supervisor> a, context<watcher>& ctx) { return ctx.monitor(a); }
  void on(down d) { s_->add(std::move(d)); }

 private:
  std::shared_ptr<down_seen> s_;
};

}  // namespace

TEST_CASE("static children are started in argument order before spawn returns, and which_child finds them") {
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = 2}};
  auto sup = rt.spawn<supervisor>(supervisor_flags{}, member_def(j, "a"), member_def(j, "b"), member_def(j, "c"));
  REQUIRE(sup);
  auto a = which_child<member>(sup, "a");
  auto c = which_child<member>(sup, "c");
  REQUIRE(a.has_value());
  REQUIRE(c.has_value());
  CHECK(a.value().ask(work{1}).get().value() == 1);
  CHECK(c.value().ask(work{1}).get().value() == 1);
  REQUIRE(wait_until([&] { return j->starts.load() == 3; }));
  SUBCASE("an unknown id, or a child of another type, is invalid_argument") {
    CHECK(which_child<member>(sup, "zz").error().code() == errc::invalid_argument);
    CHECK(which_child<supervisor>(sup, "a").error().code() == errc::invalid_argument);
  }
  SUBCASE("an empty supervisor address is actor_stopped") {
    CHECK(which_child<member>(address<supervisor>{}, "a").error().code() == errc::actor_stopped);
    CHECK(terminate_child(address<supervisor>{}, "a").error().code() == errc::actor_stopped);
    CHECK(start_child<member>(address<supervisor>{}, {.id = "x"}, j, std::string("x")).error().code() ==
          errc::actor_stopped);
  }
  CHECK(rt.shutdown());
}

TEST_CASE("bad flags or definitions: spawn returns an empty address, starts nothing, reports invalid_argument") {
  auto j = std::make_shared<journal>();
  auto log = std::make_shared<hook_log>();
  runtime rt{{.workers = 2}};
  install(rt, log);
  auto zero_period = rt.spawn<supervisor>(supervisor_flags{.period = 0ms}, member_def(j, "a"));
  auto empty_id = rt.spawn<supervisor>(supervisor_flags{}, member_def(j, "a"), member_def(j, ""));
  auto duplicate = rt.spawn<supervisor>(supervisor_flags{}, member_def(j, "a"), member_def(j, "a"));
  CHECK(!zero_period);
  CHECK(!empty_id);
  CHECK(!duplicate);
  CHECK(log->count.load() == 3);
  for (auto& line : log->snapshot()) CHECK(line.find("invalid_argument") != std::string::npos);
  CHECK(rt.stats().spawned == 0);
  CHECK(j->starts.load() == 0);
  CHECK(rt.shutdown());
}

TEST_CASE("one_for_one: a failing child is restarted in place; its address, id and queued messages stay") {
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = 2}};
  rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {});
  auto sup = rt.spawn<supervisor>(supervisor_flags{.intensity = 10}, member_def(j, "a"), member_def(j, "b"));
  auto a = which_child<member>(sup, "a").value();
  auto b = which_child<member>(sup, "b").value();
  auto id = a.id();
  gate g;
  open_at_exit release_gate{g};
  REQUIRE(a.send(hold{&g}).has_value());
  auto failing = a.ask(boom{});
  auto queued = a.ask(work{7});
  g.open();
  auto err = failing.get();
  REQUIRE(!err.has_value());
  CHECK(err.error().code() == errc::handler_failed);
  CHECK(queued.get().value() == 1);  // answered by the new incarnation (its count starts at 0)
  CHECK(which_child<member>(sup, "a").value() == a);
  CHECK(a.id() == id);
  CHECK(!a.done());
  CHECK(j->has("stop a failed restarting"));
  CHECK(!j->has("stop b shutdown restarting"));  // one_for_one: b untouched
  CHECK(b.ask(incarnation{}).get().value() == 0);
  CHECK(rt.stats().restarted == 1);
  CHECK(rt.shutdown());
}

TEST_CASE("one_for_all: every sibling is torn down (reason shutdown) before any is rebuilt, queues kept") {
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = 2}};
  rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {});
  auto sup = rt.spawn<supervisor>(supervisor_flags{.strategy = restart_strategy::one_for_all, .intensity = 10},
                                  member_def(j, "a"), member_def(j, "b"), member_def(j, "c"));
  auto a = which_child<member>(sup, "a").value();
  auto b = which_child<member>(sup, "b").value();
  auto c = which_child<member>(sup, "c").value();
  REQUIRE(wait_until([&] { return j->starts.load() == 3; }));
  CHECK(c.ask(work{1}).get().value() == 1);
  CHECK(b.ask(work{1}).get().value() == 1);
  (void)b.ask(boom{}).get();
  REQUIRE(wait_until([&] { return j->starts.load() == 6; }));
  // Guarantee 8: every old on_stop before any new on_start.
  auto lines = j->snapshot();
  int last_stop = -1, first_start = static_cast<int>(lines.size());
  for (int i = 3; i < static_cast<int>(lines.size()); ++i) {
    if (lines[i].rfind("stop ", 0) == 0) last_stop = std::max(last_stop, i);
    if (lines[i].rfind("start ", 0) == 0) first_start = std::min(first_start, i);
  }
  CHECK(last_stop < first_start);
  CHECK(j->has("stop b failed restarting"));
  CHECK(j->has("stop a shutdown restarting"));
  CHECK(j->has("stop c shutdown restarting"));
  // Teardown in reverse start order: c before a.
  CHECK(j->index_of("stop c shutdown restarting") < j->index_of("stop a shutdown restarting"));
  // Same addresses, fresh objects.
  CHECK(which_child<member>(sup, "c").value() == c);
  CHECK(c.ask(incarnation{}).get().value() == 0);
  CHECK(a.ask(work{2}).get().value() == 1);
  CHECK(rt.stats().restarted == 3);
  CHECK(rt.shutdown());
}

TEST_CASE("rest_for_one: the failing child and the ones started after it, not those before") {
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = 2}};
  rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {});
  auto sup = rt.spawn<supervisor>(supervisor_flags{.strategy = restart_strategy::rest_for_one, .intensity = 10},
                                  member_def(j, "a"), member_def(j, "b"), member_def(j, "c"));
  auto a = which_child<member>(sup, "a").value();
  auto b = which_child<member>(sup, "b").value();
  REQUIRE(wait_until([&] { return j->starts.load() == 3; }));
  CHECK(a.ask(work{1}).get().value() == 1);
  (void)b.ask(boom{}).get();
  REQUIRE(wait_until([&] { return j->starts.load() == 5; }));
  CHECK(j->has("stop b failed restarting"));
  CHECK(j->has("stop c shutdown restarting"));
  CHECK(!j->has("stop a shutdown restarting"));
  CHECK(a.ask(incarnation{}).get().value() == 1);  // a kept its object
  CHECK(rt.shutdown());
}

TEST_CASE("a permanent child that stops itself is respawned: a new cell, found through which_child") {
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = 2}};
  auto sup = rt.spawn<supervisor>(supervisor_flags{}, member_def(j, "p"));
  auto old = which_child<member>(sup, "p").value();
  REQUIRE(old.send(quit{}).has_value());
  old.join();
  address<member> fresh;
  REQUIRE(wait_until([&] {
    auto now = which_child<member>(sup, "p");
    if (!now.has_value() || now.value() == old) return false;
    fresh = now.value();
    return true;
  }));
  CHECK(fresh.id() != old.id());
  CHECK(fresh.ask(work{1}).get().value() == 1);
  CHECK(old.send(work{2}).error().code() == errc::actor_stopped);
  CHECK(rt.stats().spawned == 3);  // supervisor, p, p again
  CHECK(rt.shutdown());
}

TEST_CASE("restart types: transient is removed after a normal end and restarted after a failure; temporary is removed") {
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = 2}};
  rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {});
  auto sup = rt.spawn<supervisor>(supervisor_flags{.intensity = 10}, member_def(j, "t", restart_type::transient),
                                  member_def(j, "tmp", restart_type::temporary),
                                  member_def(j, "t2", restart_type::transient));
  auto t = which_child<member>(sup, "t").value();
  auto tmp = which_child<member>(sup, "tmp").value();
  auto t2 = which_child<member>(sup, "t2").value();
  SUBCASE("transient, failure: restarted in place") {
    (void)t.ask(boom{}).get();
    CHECK(t.ask(work{1}).get().value() == 1);
    CHECK(which_child<member>(sup, "t").value() == t);
  }
  SUBCASE("transient, normal end by itself: removed") {
    REQUIRE(t2.send(quit_draining{}).has_value());
    t2.join();
    REQUIRE(wait_until([&] { return !which_child<member>(sup, "t2").has_value(); }));
    CHECK(which_child<member>(sup, "t2").error().code() == errc::invalid_argument);
  }
  SUBCASE("temporary, failure: stops with failed and is removed") {
    (void)tmp.ask(boom{}).get();
    tmp.join();
    CHECK(j->has("stop tmp failed"));
    REQUIRE(wait_until([&] { return !which_child<member>(sup, "tmp").has_value(); }));
  }
  CHECK(rt.shutdown());
}

TEST_CASE("a child stopped from outside is removed and never restarted, even a permanent one") {
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = 2}};
  auto sup = rt.spawn<supervisor>(supervisor_flags{}, member_def(j, "p"), member_def(j, "q"));
  auto p = which_child<member>(sup, "p").value();
  p.stop();
  p.join();
  REQUIRE(wait_until([&] { return !which_child<member>(sup, "p").has_value(); }));
  CHECK(which_child<member>(sup, "q").has_value());
  CHECK(j->count_of("start p") == 1);
  CHECK(rt.shutdown());
  CHECK(j->count_of("start p") == 1);
}

TEST_CASE("terminate_child shuts the child down (it drains), removes it, and it is never restarted") {
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = 2}};
  auto sup = rt.spawn<supervisor>(supervisor_flags{}, member_def(j, "a"), member_def(j, "b"));
  auto a = which_child<member>(sup, "a").value();
  gate g;
  open_at_exit release_gate{g};
  REQUIRE(a.send(hold{&g}).has_value());
  for (int i = 0; i < 10; ++i) REQUIRE(a.send(work{i}).has_value());
  auto r = terminate_child(sup, "a");
  REQUIRE(r.has_value());
  CHECK(a.send(work{99}).error().code() == errc::actor_stopped);  // its mailbox is closed by then
  g.open();
  a.join();
  CHECK(j->handled.load() == 10);  // drained
  CHECK(j->has("stop a shutdown"));
  CHECK(which_child<member>(sup, "a").error().code() == errc::invalid_argument);
  CHECK(terminate_child(sup, "a").error().code() == errc::invalid_argument);
  CHECK(which_child<member>(sup, "b").has_value());
  CHECK(rt.shutdown());
}

TEST_CASE("start_child adds a dynamic child; an empty or duplicate id is invalid_argument") {
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = 2}};
  auto sup = rt.spawn<supervisor>(supervisor_flags{}, member_def(j, "a"));
  auto job = start_child<member>(sup, {.id = "job-17", .restart = restart_type::transient}, j, std::string("job"));
  REQUIRE(job.has_value());
  CHECK(job.value().ask(work{1}).get().value() == 1);
  CHECK(which_child<member>(sup, "job-17").value() == job.value());
  CHECK(start_child<member>(sup, {.id = "job-17"}, j, std::string("x")).error().code() == errc::invalid_argument);
  CHECK(start_child<member>(sup, {.id = "a"}, j, std::string("x")).error().code() == errc::invalid_argument);
  CHECK(start_child<member>(sup, {.id = ""}, j, std::string("x")).error().code() == errc::invalid_argument);
  SUBCASE("on a stopped supervisor: actor_stopped, nothing constructed") {
    sup.stop();
    sup.join();
    auto starts = j->starts.load();
    CHECK(start_child<member>(sup, {.id = "late"}, j, std::string("late")).error().code() == errc::actor_stopped);
    CHECK(which_child<member>(sup, "a").error().code() == errc::actor_stopped);
    CHECK(j->starts.load() == starts);
  }
  CHECK(rt.shutdown());
}

TEST_CASE("ctx.supervisor() is the supervisor's address, and empty for an unsupervised actor") {
  struct ask_sup {};
  class child_a : public actor<child_a> {
   public:
    actor_id on(ask_sup, context<child_a>& ctx) { return ctx.supervisor().id(); }
  };
  runtime rt{{.workers = 2}};
  auto sup = rt.spawn<supervisor>(supervisor_flags{}, child<child_a>({.id = "x"}));
  auto x = which_child<child_a>(sup, "x").value();
  CHECK(x.ask(ask_sup{}).get().value() == sup.id());
  auto lone = rt.spawn<child_a>();
  CHECK(lone.ask(ask_sup{}).get().value() == 0);
  CHECK(rt.shutdown());
}

namespace {

struct get_db {};

/// Finds its sibling "db" through the supervisor in on_start, as the
/// rest_for_one pattern asks.
class cache_actor : public actor<cache_actor> {
 public:
  void on_start(context<cache_actor>& ctx) { db_ = which_child<member>(ctx.supervisor(), "db").value(); }
  actor_id on(get_db) const { return db_.id(); }

 private:
  address<member> db_;
};

}  // namespace

TEST_CASE("rest_for_one: a respawned sibling is picked up by the dependant's restart (which_child in on_start)") {
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = 2}};
  auto sup = rt.spawn<supervisor>(supervisor_flags{.strategy = restart_strategy::rest_for_one},
                                  member_def(j, "db"), child<cache_actor>({.id = "cache"}));
  auto db = which_child<member>(sup, "db").value();
  auto cache = which_child<cache_actor>(sup, "cache").value();
  CHECK(cache.ask(get_db{}).get().value() == db.id());
  REQUIRE(db.send(quit{}).has_value());  // a permanent child ending by itself: respawned
  address<member> fresh;
  REQUIRE(wait_until([&] {
    auto now = which_child<member>(sup, "db");
    if (!now.has_value() || now.value() == db) return false;
    fresh = now.value();
    return true;
  }));
  REQUIRE(wait_until([&] { return cache.ask(get_db{}).get().value() == fresh.id(); }));
  CHECK(which_child<cache_actor>(sup, "cache").value() == cache);  // restarted in place
  CHECK(rt.shutdown());
}

TEST_CASE("intensity exceeded: the supervisor stops its children in reverse order and ends with failed") {
  auto j = std::make_shared<journal>();
  auto seen = std::make_shared<down_seen>();
  runtime rt{{.workers = 2}};
  rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {});
  auto sup = rt.spawn<supervisor>(supervisor_flags{.intensity = 2, .period = 60s}, member_def(j, "a"),
                                  member_def(j, "b"), member_def(j, "c"));
  auto w = rt.spawn<watcher>(seen);
  REQUIRE(w.ask(sup).get().value() != 0);
  auto b = which_child<member>(sup, "b").value();
  for (int i = 0; i < 3; ++i) (void)b.ask(boom{}).get();  // the third is one too many
  sup.join();
  REQUIRE(wait_until([&] { return seen->count.load() == 1; }));
  auto d = seen->snapshot().front();
  CHECK(d.reason == exit_reason::failed);
  CHECK(d.what == "restart intensity exceeded");
  CHECK(j->index_of("stop c shutdown") < j->index_of("stop a shutdown"));
  CHECK(which_child<member>(sup, "a").error().code() == errc::actor_stopped);
  CHECK(rt.stats().restarted == 2);
  CHECK(rt.shutdown());
}

TEST_CASE("a three-level tree: a leaf that keeps failing escalates level by level until the root gives up") {
  auto j = std::make_shared<journal>();
  auto seen = std::make_shared<down_seen>();
  runtime rt{{.workers = 2}};
  rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {});
  auto leaf_sup = child<supervisor>({.id = "mid", .shutdown = infinite}, supervisor_flags{.intensity = 1, .period = 60s},
                                    member_def(j, "leaf"));
  auto root = rt.spawn<supervisor>(supervisor_flags{.intensity = 1, .period = 60s},
                                   child<supervisor>({.id = "upper", .shutdown = infinite},
                                                     supervisor_flags{.intensity = 1, .period = 60s}, leaf_sup));
  REQUIRE(root);
  auto w = rt.spawn<watcher>(seen);
  REQUIRE(w.ask(root).get().value() != 0);
  int failures = 0;
  auto give_up = std::chrono::steady_clock::now() + 30s;
  while (!root.done() && std::chrono::steady_clock::now() < give_up) {
    auto upper = which_child<supervisor>(root, "upper");
    if (!upper.has_value()) continue;
    auto mid = which_child<supervisor>(upper.value(), "mid");
    if (!mid.has_value()) continue;
    auto leaf = which_child<member>(mid.value(), "leaf");
    if (!leaf.has_value()) continue;
    auto r = leaf.value().ask(boom{}).get();
    if (!r.has_value() && r.error().code() == errc::handler_failed) ++failures;  // else: a leaf being replaced
  }
  bool ended = root.join_for(30s);
  if (!ended) {
    MESSAGE("failures " << failures);  // diagnostics of a hang
    auto upper = which_child<supervisor>(root, "upper");
    MESSAGE("upper " << upper.has_value() << (upper.has_value() ? upper.value().done() : false));
    if (upper.has_value()) {
      auto mid = which_child<supervisor>(upper.value(), "mid");
      MESSAGE("mid " << mid.has_value() << (mid.has_value() ? mid.value().done() : false));
      if (mid.has_value()) {
        auto leaf = which_child<member>(mid.value(), "leaf");
        MESSAGE("leaf " << leaf.has_value() << (leaf.has_value() ? leaf.value().done() : false));
      }
    }
    for (auto& line : j->snapshot()) MESSAGE(line);
  }
  REQUIRE(ended);
  REQUIRE(wait_until([&] { return seen->count.load() == 1; }));
  CHECK(seen->snapshot().front().reason == exit_reason::failed);
  // intensity 1 everywhere: 2 leaf failures per mid, 2 mids per upper, 2 uppers before the root gives up.
  CHECK(failures == 8);
  CHECK(j->count_of("start leaf") == 8);
  CHECK(rt.shutdown());
}

TEST_CASE("shutdown of a supervisor: children drain in reverse start order; it is done after them, reason normal") {
  auto j = std::make_shared<journal>();
  auto seen = std::make_shared<down_seen>();
  runtime rt{{.workers = 2}};
  auto sup = rt.spawn<supervisor>(supervisor_flags{}, member_def(j, "a"), member_def(j, "b"));
  auto a = which_child<member>(sup, "a").value();
  auto b = which_child<member>(sup, "b").value();
  auto w = rt.spawn<watcher>(seen);
  REQUIRE(w.ask(sup).get().value() != 0);
  gate g;
  open_at_exit release_gate{g};
  REQUIRE(b.send(hold{&g}).has_value());
  for (int i = 0; i < 5; ++i) REQUIRE(a.send(work{i}).has_value());
  sup.shutdown();
  CHECK(!sup.done());  // b is held: the supervisor cannot be done yet
  g.open();
  sup.join();
  CHECK(a.done());
  CHECK(b.done());
  CHECK(j->handled.load() == 5);
  CHECK(j->index_of("stop b shutdown") < j->index_of("stop a shutdown"));
  REQUIRE(wait_until([&] { return seen->count.load() == 1; }));
  CHECK(seen->snapshot().front().reason == exit_reason::normal);
  CHECK(rt.shutdown());
}

TEST_CASE("stop of a supervisor: its children drop their queues") {
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = 2}};
  auto sup = rt.spawn<supervisor>(supervisor_flags{}, member_def(j, "a"));
  auto a = which_child<member>(sup, "a").value();
  gate g;
  open_at_exit release_gate{g};
  REQUIRE(a.send(hold{&g}).has_value());
  for (int i = 0; i < 5; ++i) REQUIRE(a.send(work{i}).has_value());
  sup.stop();
  // The supervisor stops a (its mailbox closes) while a is still held.
  REQUIRE(wait_until([&] { return !a.send(work{-1}).has_value(); }));
  g.open();
  sup.join();
  CHECK(a.done());
  CHECK(j->handled.load() == 0);
  CHECK(rt.stats().dropped >= 5);
  CHECK(rt.shutdown());
}

TEST_CASE("a supervision tree with a child never stops by itself; a supervisor without children auto-stops") {
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = 2}};
  address<member> a;
  {
    auto sup = rt.spawn<supervisor>(supervisor_flags{}, member_def(j, "a"));
    a = which_child<member>(sup, "a").value();
  }
  CHECK(a.ask(work{1}).get().value() == 1);  // the tree lives on
  CHECK(!a.done());
  address<supervisor> lonely_probe;
  {
    auto lonely = rt.spawn<supervisor>(supervisor_flags{});
    REQUIRE(lonely);
    lonely_probe = lonely;
  }
  auto id = lonely_probe.id();
  CHECK(id != 0);
  // Only our probe holds it now; dropping it lets the supervisor end.
  auto before = rt.stats().stopped;
  lonely_probe = {};
  REQUIRE(wait_until([&] { return rt.stats().stopped == before + 1; }));
  CHECK(rt.shutdown());
  CHECK(a.done());
}

namespace {

/// one_for_all over "a" and "b" (b reported stuck after 5 ms); start() holds
/// b inside a handler and makes a fail, and returns once the supervisor has
/// reported b stuck: the group restart is under way and a is dormant.
struct held_group {
  std::shared_ptr<journal> j = std::make_shared<journal>();
  std::shared_ptr<hook_log> log = std::make_shared<hook_log>();
  runtime rt{{.workers = 2}};
  gate g;
  address<supervisor> sup;
  address<member> a, b;

  held_group() {
    install(rt, log);
    sup = rt.spawn<supervisor>(supervisor_flags{.strategy = restart_strategy::one_for_all, .intensity = 1000},
                               member_def(j, "a"), child<member>({.id = "b", .shutdown = 5ms}, j, std::string("b")));
    a = which_child<member>(sup, "a").value();
    b = which_child<member>(sup, "b").value();
  }
  ~held_group() { g.open(); }  // before rt ends: a failed REQUIRE must not leave b held

  /// `queued`: messages sent to a behind its failing one (kept while it is dormant).
  void start(int queued = 0) {
    REQUIRE(wait_until([&] { return j->starts.load() == 2; }));
    REQUIRE(b.send(hold{&g}).has_value());
    REQUIRE(wait_until([&] { return j->has("hold b"); }));  // b is inside its handler
    REQUIRE(a.send(boom{}).has_value());
    for (int i = 0; i < queued; ++i) REQUIRE(a.send(work{i}).has_value());
    REQUIRE(wait_until([&] { return log->has_substring("stuck in a handler during a restart"); }));
  }
};

}  // namespace

TEST_CASE("a group restart waits for a sibling busy in a handler; the stuck one is reported, never skipped") {
  held_group t;
  t.start();
  CHECK(t.j->starts.load() == 2);  // a is not rebuilt while b still runs its old incarnation
  t.g.open();
  REQUIRE(wait_until([&] { return t.j->starts.load() == 4; }));
  CHECK(t.j->index_of("stop b shutdown restarting") >= 0);
  CHECK(t.rt.shutdown());
}

TEST_CASE("race: stop() on a child that is dormant in a group restart wins; it is removed, never rebuilt") {
  for (int round = 0; round < 20; ++round) {
    held_group t;
    t.start();
    t.a.stop();
    t.a.join();
    REQUIRE(wait_until([&] { return !which_child<member>(t.sup, "a").has_value(); }));
    t.g.open();
    REQUIRE(wait_until([&] { return t.j->count_of("start b") == 2; }));  // b is rebuilt alone
    CHECK(t.j->count_of("start a") == 1);  // stop wins: no new incarnation
    CHECK(t.j->count_of("stop a failed restarting") == 1);
    CHECK(t.j->count_of("stop a normal") == 0);  // the hooks stay paired: no second on_stop
    CHECK(t.rt.shutdown());
  }
}

TEST_CASE("race: two children failing at once under one_for_all count as one restart") {
  for (int round = 0; round < 100; ++round) {
    auto j = std::make_shared<journal>();
    runtime rt{{.workers = 2}};
    rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {});
    // intensity 1: a second counted restart would escalate
    auto sup = rt.spawn<supervisor>(supervisor_flags{.strategy = restart_strategy::one_for_all, .intensity = 1},
                                    member_def(j, "a"), member_def(j, "b"));
    auto a = which_child<member>(sup, "a").value();
    auto b = which_child<member>(sup, "b").value();
    REQUIRE(wait_until([&] { return j->starts.load() == 2; }));
    gate g;
    open_at_exit release_gate{g};
    auto fa = a.ask(hold_then_boom{&g});  // both inside a handler that throws when the gate opens
    auto fb = b.ask(hold_then_boom{&g});
    REQUIRE(wait_until([&] { return j->has("holding a") && j->has("holding b"); }));
    g.open();
    (void)fa.get();
    (void)fb.get();
    bool rebuilt = wait_until([&] { return j->starts.load() >= 4; }, 5s);
    if (!rebuilt) {
      for (auto& line : j->snapshot()) MESSAGE(line);
      MESSAGE("sup done: " << sup.done() << " a done " << a.done() << " b done " << b.done());
    }
    REQUIRE(rebuilt);
    CHECK(a.ask(work{1}).get().has_value());
    CHECK(b.ask(work{1}).get().has_value());
    CHECK(!sup.done());
    // one or two group restarts may have begun, but the limit was never exceeded
    CHECK(rt.shutdown());
  }
}

TEST_CASE("a coroutine child suspended in co_await is torn down by a group restart; its request gets actor_stopped") {
  struct wait_on {
    address<member> who;
  };
  class awaiting : public actor<awaiting> {
   public:
    explicit awaiting(std::shared_ptr<journal> j) : j_(std::move(j)) {}
    task<int> on(wait_on w, context<awaiting>& ctx) {
      j_->add("asking");
      auto r = co_await ctx.ask(w.who, work{5});
      co_return r.has_value() ? r.value() : -1;
    }

   private:
    std::shared_ptr<journal> j_;
  };
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = 2}};
  rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {});
  auto slow = rt.spawn<member>(j, std::string("slow"));
  auto sup = rt.spawn<supervisor>(supervisor_flags{.strategy = restart_strategy::one_for_all, .intensity = 10},
                                  member_def(j, "a"), child<awaiting>({.id = "co"}, j));
  auto a = which_child<member>(sup, "a").value();
  auto co = which_child<awaiting>(sup, "co").value();
  gate g;
  open_at_exit release_gate{g};
  REQUIRE(slow.send(hold{&g}).has_value());
  auto pending = co.ask(wait_on{slow});  // suspends: slow is held
  // Inside the handler (about to suspend, or suspended): a teardown that
  // finds it either way cancels the frame.
  REQUIRE(wait_until([&] { return j->has("asking"); }));
  (void)a.ask(boom{}).get();  // one_for_all: co is torn down while suspended
  auto r = pending.get();
  REQUIRE(!r.has_value());
  CHECK(r.error().code() == errc::actor_stopped);
  g.open();
  REQUIRE(wait_until([&] { return j->count_of("start a") == 2; }));
  CHECK(rt.shutdown());
}

TEST_CASE("runtime shutdown with a supervision tree finishes every actor") {
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = 2}};
  auto sup = rt.spawn<supervisor>(supervisor_flags{}, member_def(j, "a"),
                                  child<supervisor>({.id = "inner", .shutdown = infinite}, supervisor_flags{},
                                                    member_def(j, "b")));
  auto a = which_child<member>(sup, "a").value();
  for (int i = 0; i < 100; ++i) REQUIRE(a.send(work{i}).has_value());
  CHECK(rt.shutdown());
  CHECK(sup.done());
  CHECK(a.done());
  CHECK(j->handled.load() == 100);  // drained
  auto s = rt.stats();
  CHECK(s.spawned == s.stopped);
}

TEST_CASE("race: the supervisor stopped during a group restart rebuilds nothing; dormant children just finish") {
  for (int round = 0; round < 10; ++round) {
    held_group t;
    t.start(5);
    t.sup.stop();
    t.g.open();
    REQUIRE(t.sup.join_for(30s));
    CHECK(t.a.done());
    CHECK(t.b.done());
    CHECK(t.j->starts.load() == 2);  // no rebuild started
    CHECK(t.j->count_of("stop a failed restarting") == 1);
    CHECK(t.j->count_of("stop b shutdown") + t.j->count_of("stop b shutdown restarting") == 1);  // one on_stop each
    CHECK(t.j->handled.load() == 0);  // a's queue was dropped
    CHECK(t.rt.shutdown());
  }
}

TEST_CASE("race: a child that fails while its supervisor shuts down is stopped, not restarted") {
  for (int round = 0; round < 10; ++round) {
    auto j = std::make_shared<journal>();
    runtime rt{{.workers = 2}};
    rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {});
    auto sup = rt.spawn<supervisor>(supervisor_flags{}, member_def(j, "a"));
    auto a = which_child<member>(sup, "a").value();
    gate g;
    open_at_exit release_gate{g};
    REQUIRE(a.send(hold_then_boom{&g}).has_value());
    REQUIRE(wait_until([&] { return j->has("holding a"); }));
    sup.shutdown();
    REQUIRE(wait_until([&] { return !a.send(work{-1}).has_value(); }));  // a was asked to shut down
    g.open();
    REQUIRE(sup.join_for(30s));
    CHECK(j->count_of("start a") == 1);
    CHECK(j->has("stop a failed"));
    CHECK(rt.shutdown());
  }
}

namespace {

/// on_start throws for the incarnations the shared plan says.
struct start_plan {
  std::atomic<int> incarnations{0};
  int throw_at = -1;
};

class shaky_start : public actor<shaky_start> {
 public:
  explicit shaky_start(std::shared_ptr<start_plan> p) : p_(std::move(p)) {}
  void on_start(context<shaky_start>&) {
    if (p_->incarnations.fetch_add(1) == p_->throw_at) throw std::runtime_error("on_start failed");
  }
  void on(boom) { throw std::runtime_error("boom"); }
  int on(work w) const { return w.n; }

 private:
  std::shared_ptr<start_plan> p_;
};

}  // namespace

TEST_CASE("race: a child whose rebuild fails in on_start is one more failure event, counted, restarted again") {
  auto plan = std::make_shared<start_plan>();
  plan->throw_at = 1;  // the first rebuild's on_start throws
  runtime rt{{.workers = 2}};
  rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {});
  SUBCASE("within the intensity: a third incarnation runs") {
    auto sup = rt.spawn<supervisor>(supervisor_flags{.intensity = 2}, child<shaky_start>({.id = "s"}, plan));
    auto s = which_child<shaky_start>(sup, "s").value();
    (void)s.ask(boom{}).get();
    CHECK(s.ask(work{3}).get().value() == 3);
    CHECK(plan->incarnations.load() == 3);
    CHECK(rt.stats().restarted == 2);
    CHECK(!sup.done());
  }
  SUBCASE("beyond it: the supervisor escalates") {
    auto sup = rt.spawn<supervisor>(supervisor_flags{.intensity = 1}, child<shaky_start>({.id = "s"}, plan));
    auto s = which_child<shaky_start>(sup, "s").value();
    (void)s.ask(boom{}).get();
    REQUIRE(sup.join_for(30s));
    CHECK(plan->incarnations.load() == 2);
  }
  CHECK(rt.shutdown());
}

TEST_CASE("race: terminate_child while the child exits by itself: ok, removed, never left running") {
  for (int round = 0; round < 200; ++round) {
    auto j = std::make_shared<journal>();
    runtime rt{{.workers = 2}};
    auto sup = rt.spawn<supervisor>(supervisor_flags{.intensity = 1000}, member_def(j, "p"));
    auto p = which_child<member>(sup, "p").value();
    REQUIRE(p.send(quit{}).has_value());
    auto r = terminate_child(sup, "p");
    // ok, or the respawned p was removed just as well: never an error about a child exiting
    CHECK(r.has_value());
    REQUIRE(wait_until([&] { return !which_child<member>(sup, "p").has_value(); }));
    REQUIRE(wait_until([&] { return rt.stats().stopped + 1 == rt.stats().spawned; }));  // only the supervisor runs
    CHECK(rt.shutdown());
  }
}

TEST_CASE("race: start_child concurrent with escalation: an address whose child is then stopped, or actor_stopped") {
  for (int round = 0; round < 20; ++round) {
    auto j = std::make_shared<journal>();
    runtime rt{{.workers = 2}};
    rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {});
    auto sup = rt.spawn<supervisor>(supervisor_flags{.intensity = 0}, member_def(j, "a"));
    auto a = which_child<member>(sup, "a").value();
    std::vector<address<member>> started;
    int refused = 0;
    std::thread starter([&] {
      for (int i = 0; i < 200; ++i) {
        auto r = start_child<member>(sup, {.id = "d" + std::to_string(i)}, j, std::string("d"));
        if (r.has_value())
          started.push_back(r.value());
        else if (r.error().code() == errc::actor_stopped)
          ++refused;
      }
    });
    (void)a.ask(boom{}).get();  // intensity 0: the first failure escalates
    starter.join();
    REQUIRE(sup.join_for(30s));
    CHECK(static_cast<int>(started.size()) + refused == 200);
    for (auto& d : started) CHECK(d.join_for(30s));  // never a child outside the table
    CHECK(rt.shutdown());
  }
}

TEST_CASE("a child supervisor in a group restart is shut down with its subtree, then respawned at a new address") {
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = 2}};
  rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {});
  auto root = rt.spawn<supervisor>(
      supervisor_flags{.strategy = restart_strategy::one_for_all, .intensity = 10}, member_def(j, "a"),
      child<supervisor>({.id = "inner", .shutdown = infinite}, supervisor_flags{}, member_def(j, "leaf")));
  auto inner = which_child<supervisor>(root, "inner").value();
  auto leaf = which_child<member>(inner, "leaf").value();
  auto a = which_child<member>(root, "a").value();
  REQUIRE(wait_until([&] { return j->starts.load() == 2; }));
  (void)a.ask(boom{}).get();
  inner.join();
  CHECK(leaf.done());
  CHECK(j->has("stop leaf shutdown"));
  address<supervisor> fresh;
  REQUIRE(wait_until([&] {
    auto now = which_child<supervisor>(root, "inner");
    if (!now.has_value() || now.value() == inner) return false;
    fresh = now.value();
    return true;
  }));
  auto new_leaf = which_child<member>(fresh, "leaf");
  REQUIRE(new_leaf.has_value());
  CHECK(new_leaf.value().ask(work{1}).get().value() == 1);
  CHECK(which_child<member>(root, "a").value() == a);  // a plain child: in place
  CHECK(rt.shutdown());
}

using courier::test::flaky_sink;
using courier::test::ledger;
using courier::test::seq;

TEST_CASE("group restarts under a flood from 8 threads lose and duplicate nothing, and keep per-sender FIFO") {
  constexpr std::uint32_t senders = 8;
  const std::uint64_t per_sender = 50'000 / courier::test::stress_divisor();
  ledger l;
  l.next.assign(senders, 0);
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = courier::test::test_workers()}};
  rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {});
  auto sup = rt.spawn<supervisor>(supervisor_flags{.strategy = restart_strategy::one_for_all, .intensity = 1'000'000},
                                  child<flaky_sink>({.id = "sink"}, &l), member_def(j, "sibling"));
  auto sink = which_child<flaky_sink>(sup, "sink").value();
  auto sibling = which_child<member>(sup, "sibling").value();
  std::vector<std::thread> threads;
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> sibling_accepted{0};
  for (std::uint32_t s = 0; s < senders; ++s)
    threads.emplace_back([&, s] {
      for (std::uint64_t n = 0; n < per_sender; ++n) {
        if (sink.send(seq{s, n}).has_value()) accepted.fetch_add(1);
        if (n % 64 == 0 && sibling.send(work{static_cast<int>(n)}).has_value()) sibling_accepted.fetch_add(1);
      }
    });
  for (auto& t : threads) t.join();
  // Everything is handled while the supervisor runs (a failure while it
  // shuts down would stop the sink instead, dropping the rest: by design).
  REQUIRE(wait_until([&] { return l.handled.load() == accepted.load(); }));
  sup.shutdown();
  REQUIRE(sup.join_for(60s));
  CHECK(rt.shutdown());
  CHECK(accepted.load() == senders * per_sender);
  CHECK(l.handled.load() == senders * per_sender);  // every message exactly once, across the restarts
  CHECK(l.out_of_order.load() == 0);
  for (auto n : l.next) CHECK(n == per_sender);
  CHECK(static_cast<std::uint64_t>(j->handled.load()) == sibling_accepted.load());  // the sibling's queue kept too
  CHECK(rt.stats().restarted >= 2);  // each failure rebuilt both in place
  courier::test::check_conservation(rt.stats());
}

namespace {

struct slow_hold {
  gate* g;
  std::atomic<int>* inside;
  std::atomic<int>* left;
  int n;
};
struct slow_answer : actor<slow_answer> {
  int on(slow_hold h) {
    h.inside->fetch_add(1);
    h.g->wait();
    h.left->fetch_add(1);
    return h.n;
  }
};
struct await_job {
  int n;
};
struct nap {};
struct sibling_boom {};

/// A child suspended in a coroutine handler when a group restart tears it
/// down: the reply (or the timer) it awaited comes later, to the new
/// incarnation, which may be suspended on something else by then.
struct awaiting_child : actor<awaiting_child> {
  address<slow_answer> s0, s1;
  gate *g0, *g1;
  std::atomic<int>* inside;
  std::atomic<int>* left;
  std::atomic<int>* starts;
  awaiting_child(address<slow_answer> a, address<slow_answer> b, gate* x, gate* y, std::atomic<int>* i,
                 std::atomic<int>* l, std::atomic<int>* s)
      : s0(std::move(a)), s1(std::move(b)), g0(x), g1(y), inside(i), left(l), starts(s) {}
  void on_start(context<awaiting_child>&) { starts->fetch_add(1); }
  task<int> on(await_job j, context<awaiting_child>& ctx) {
    auto request = ctx.ask(j.n == 0 ? s0 : s1, slow_hold{j.n == 0 ? g0 : g1, inside, left, 100 + j.n});
    auto r = co_await std::move(request);
    co_return r ? *r : -1;
  }
  task<int> on(nap, context<awaiting_child>& ctx) {
    co_await ctx.sleep_for(30ms);
    co_return 0;
  }
};
struct booming : actor<booming> {
  void on(sibling_boom) { throw std::runtime_error("sibling failed"); }
};

}  // namespace

TEST_CASE("a wake-up meant for a frame a group restart destroyed does not resume the new incarnation's frame") {
  runtime rt{{.workers = 2}};
  rt.set_error_hook([](std::string_view, std::string_view, std::string_view) {});
  gate g0, g1;
  open_at_exit release0{g0}, release1{g1};  // declared after rt: opened before ~runtime waits
  std::atomic<int> inside{0}, left{0}, starts{0};
  auto s0 = rt.spawn<slow_answer>();
  auto s1 = rt.spawn<slow_answer>();
  auto sup = rt.spawn<supervisor>(supervisor_flags{.strategy = restart_strategy::one_for_all, .intensity = 10},
                                  child<awaiting_child>(child_spec{.id = "w"}, s0, s1, &g0, &g1, &inside, &left, &starts),
                                  child<booming>(child_spec{.id = "f"}));
  auto w = which_child<awaiting_child>(sup, "w").value();
  auto f = which_child<booming>(sup, "f").value();
  SUBCASE("a reply") {
    auto old = w.ask(await_job{0});
    REQUIRE(wait_until([&] { return inside.load() == 1; }));
    REQUIRE(f.send(sibling_boom{}));  // one_for_all: w is torn down mid-await
    REQUIRE(wait_until([&] { return starts.load() == 2; }));
    auto fresh = w.ask(await_job{1});  // the new incarnation awaits s1
    REQUIRE(wait_until([&] { return inside.load() == 2; }));
    g0.open();  // the torn-down frame's reply arrives now, and wakes w
    REQUIRE(wait_until([&] { return left.load() == 1; }));
    for (int i = 0; i < 2000; ++i) std::this_thread::yield();  // room for a wrong resume (not a sync: the check below decides)
    CHECK_FALSE(fresh.ready());
    g1.open();
    auto v = std::move(fresh).get();
    REQUIRE(v.has_value());
    CHECK(*v == 101);
    CHECK(old.get().error().code() == errc::actor_stopped);
  }
  SUBCASE("a sleep_for's timer") {
    REQUIRE(w.send(nap{}));
    REQUIRE(f.send(sibling_boom{}));  // w may be torn down while it sleeps
    REQUIRE(wait_until([&] { return starts.load() == 2; }));
    auto fresh = w.ask(await_job{1});
    REQUIRE(wait_until([&] { return inside.load() == 1; }));
    auto deadline = std::chrono::steady_clock::now() + 100ms;  // past the old sleep's timer
    REQUIRE(wait_until([&] { return std::chrono::steady_clock::now() > deadline; }));
    CHECK_FALSE(fresh.ready());
    g1.open();
    auto v = std::move(fresh).get();
    REQUIRE(v.has_value());
    CHECK(*v == 101);
    g0.open();
  }
  CHECK(rt.shutdown());
}
