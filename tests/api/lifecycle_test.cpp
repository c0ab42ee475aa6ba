// Lifecycle: on_start/on_stop, stop, shutdown, join, auto-stop of unreachable
// actors, runtime shutdown and stats (docs/api.md: "Actors and handlers",
// "runtime", "address", "Guarantees").
#include <courier/courier.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/conservation.hpp"
#include "tests/support/doctest.hpp"
#include "tests/support/tracked.hpp"
#include "tests/support/wait.hpp"

using namespace courier;
using namespace std::chrono_literals;
using courier::test::gate;
using courier::test::tracked;
using courier::test::wait_until;

namespace {

struct journal {
  std::mutex mutex;
  std::vector<std::string> events;
  std::atomic<int> destroyed{0};
  void add(std::string e) {
    std::lock_guard lock(mutex);
    events.push_back(std::move(e));
  }
  std::vector<std::string> snapshot() {
    std::lock_guard lock(mutex);
    return events;
  }
};

struct note {
  std::string text;
};
struct payload {
  tracked t;
};
struct block {
  gate* g;
  std::atomic<bool>* started;
};
struct count_query {
  int unused;
};

class diary : public actor<diary> {
 public:
  explicit diary(std::shared_ptr<journal> j) : j_(std::move(j)) {}
  ~diary() { j_->destroyed.fetch_add(1); }
  void on_start(context<diary>&) { j_->add("start"); }
  void on_stop(context<diary>&) { j_->add("stop"); }
  void on(note n) { j_->add(n.text); }
  void on(payload) { ++payloads_; }
  int on(block b) {
    b.started->store(true);
    b.g->wait();
    return payloads_;
  }
  int on(count_query) { return payloads_; }

 private:
  std::shared_ptr<journal> j_;
  int payloads_ = 0;
};

}  // namespace

TEST_CASE("on_start is the first turn and on_stop the last, then the object is destroyed" * doctest::timeout(30)) {
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = 2}};
  auto d = rt.spawn<diary>(j);
  (void)d.send(note{"a"});
  (void)d.send(note{"b"});
  d.shutdown();
  d.join();
  CHECK(j->snapshot() == std::vector<std::string>{"start", "a", "b", "stop"});
  CHECK(j->destroyed.load() == 1);
  CHECK(d.done());
}

TEST_CASE("shutdown handles everything already queued and stop handles none of it" * doctest::timeout(60)) {
  constexpr int n = 1000;
  runtime rt{{.workers = 2}};
  auto before = tracked::live.load();

  SUBCASE("shutdown drains") {
    auto j = std::make_shared<journal>();
    auto d = rt.spawn<diary>(j);
    gate g;
    std::atomic<bool> started{false};
    auto blocked = d.ask(block{&g, &started});
    REQUIRE(wait_until([&] { return started.load(); }));
    for (int i = 0; i < n; ++i) REQUIRE(d.send(payload{tracked(i)}).has_value());
    d.shutdown();
    CHECK(d.send(payload{tracked(0)}).error().code() == errc::actor_stopped);
    g.open();
    d.join();
    CHECK(blocked.get().has_value());
    auto s = rt.stats();
    CHECK(s.handled == n + 1);
    CHECK(s.dropped == 0);
  }
  SUBCASE("stop drops, destroying every payload and counting it") {
    auto j = std::make_shared<journal>();
    auto d = rt.spawn<diary>(j);
    gate g;
    std::atomic<bool> started{false};
    auto blocked = d.ask(block{&g, &started});
    REQUIRE(wait_until([&] { return started.load(); }));
    for (int i = 0; i < n; ++i) REQUIRE(d.send(payload{tracked(i)}).has_value());
    auto queued_request = d.ask(count_query{0});
    d.stop();
    CHECK(d.send(payload{tracked(0)}).error().code() == errc::actor_stopped);
    g.open();
    d.join();
    auto current = blocked.get();  // the message being handled still gets its reply
    REQUIRE(current.has_value());
    CHECK(*current == 0);
    auto dropped_request = queued_request.get();
    REQUIRE_FALSE(dropped_request.has_value());
    CHECK(dropped_request.error().code() == errc::actor_stopped);
    auto s = rt.stats();
    CHECK(s.handled == 1);
    CHECK(s.dropped == n + 1);
    CHECK(j->snapshot().back() == "stop");
  }
  CHECK(tracked::live.load() == before);
}

TEST_CASE("join after the actor already stopped returns at once" * doctest::timeout(30)) {
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = 2}};
  auto d = rt.spawn<diary>(j);
  d.stop();
  REQUIRE(wait_until([&] { return d.done(); }));
  d.join();
  CHECK(d.join_for(0ms));
}

TEST_CASE("join_for gives false while the actor runs" * doctest::timeout(30)) {
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = 2}};
  auto d = rt.spawn<diary>(j);
  CHECK_FALSE(d.join_for(5ms));
  CHECK_FALSE(d.done());
  d.stop();
  CHECK(d.join_for(30s));
}

TEST_CASE("an actor stops on its own once no address remains and its mailbox is empty" * doctest::timeout(30)) {
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = 2}};
  {
    auto d = rt.spawn<diary>(j);
    (void)d.send(note{"last words"});
  }
  REQUIRE(wait_until([&] { return j->destroyed.load() == 1; }));
  CHECK(j->snapshot() == std::vector<std::string>{"start", "last words", "stop"});
  REQUIRE(wait_until([&] { return rt.stats().stopped == 1; }));
}

namespace {
struct tick {
  int left;
};
class self_sender : public actor<self_sender> {
 public:
  explicit self_sender(std::shared_ptr<journal> j) : j_(std::move(j)) {}
  ~self_sender() { j_->destroyed.fetch_add(1); }
  void on(tick t, context<self_sender>& ctx) {
    j_->add("tick" + std::to_string(t.left));
    if (t.left > 0) (void)ctx.self().send(tick{t.left - 1});
  }

 private:
  std::shared_ptr<journal> j_;
};

class keeps_itself : public actor<keeps_itself> {
 public:
  explicit keeps_itself(std::shared_ptr<journal> j) : j_(std::move(j)) {}
  ~keeps_itself() { j_->destroyed.fetch_add(1); }
  void on_start(context<keeps_itself>& ctx) { me_ = ctx.self(); }
  void on(note n, context<keeps_itself>& ctx) {
    j_->add(n.text);
    if (n.text == "quit") ctx.stop();
  }

 private:
  std::shared_ptr<journal> j_;
  address<keeps_itself> me_;
};
}  // namespace

TEST_CASE("a message an actor sends itself keeps it going until handled" * doctest::timeout(30)) {
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = 2}};
  (void)rt.spawn<self_sender>(j).send(tick{5});
  REQUIRE(wait_until([&] { return j->destroyed.load() == 1; }));
  auto events = j->snapshot();
  REQUIRE(events.size() == 6);
  CHECK(events.back() == "tick0");
}

TEST_CASE("an actor that stores its own address stays alive until stopped" * doctest::timeout(30)) {
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = 2}};
  {
    auto k = rt.spawn<keeps_itself>(j);
    (void)k.send(note{"hello"});
  }
  REQUIRE(wait_until([&] { return j->snapshot().size() == 1; }));
  CHECK(j->destroyed.load() == 0);
  CHECK(rt.stats().stopped == 0);
  CHECK(rt.shutdown(30s));  // runtime shutdown stops it
  CHECK(j->destroyed.load() == 1);
}

TEST_CASE("runtime shutdown drains every actor and reports clean" * doctest::timeout(60)) {
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = 2, .batch = 8}};
  CHECK(rt.workers() == 2);
  std::vector<address<diary>> all;
  for (int i = 0; i < 20; ++i) all.push_back(rt.spawn<diary>(j));
  for (auto& d : all)
    for (int i = 0; i < 50; ++i) (void)d.send(payload{tracked(1)});
  CHECK(rt.shutdown(30s));
  auto s = rt.stats();
  CHECK(s.spawned == 20);
  CHECK(s.stopped == 20);
  CHECK(s.handled == 20 * 50);
  CHECK(s.dropped == 0);
  CHECK(j->destroyed.load() == 20);
  for (auto& d : all) {
    CHECK(d.done());
    CHECK(d.send(note{"x"}).error().code() == errc::actor_stopped);
  }
  CHECK(s.accepted == 20 * 50);
  courier::test::check_conservation(s);
  CHECK(rt.shutdown(1ms));  // later calls return the first call's value
  CHECK_FALSE(static_cast<bool>(rt.spawn<diary>(j)));  // no new actors after shutdown
}

TEST_CASE("shutdown returns false within its timeout when an actor is stuck, and names it" *
          doctest::timeout(60)) {
  auto j = std::make_shared<journal>();
  gate g;
  std::atomic<bool> started{false};
  std::mutex m;
  std::vector<std::string> reports;
  std::string about;
  {
    runtime rt{{.workers = 2}};
    rt.set_error_hook([&](std::string_view actor, std::string_view message, std::string_view what) {
      std::lock_guard lock(m);
      reports.push_back(std::string(actor) + ": " + std::string(what));
      about = message;
    });
    auto d = rt.spawn<diary>(spawn_options{.name = "sleepy"}, j);
    auto stuck = d.ask(block{&g, &started});
    REQUIRE(wait_until([&] { return started.load(); }));
    (void)d.send(payload{tracked(1)});
    auto t0 = std::chrono::steady_clock::now();
    bool second = true;
    std::thread other([&] { second = rt.shutdown(100ms); });  // a concurrent call waits for the first
    CHECK_FALSE(rt.shutdown(100ms));
    other.join();
    CHECK_FALSE(second);
    CHECK(std::chrono::steady_clock::now() - t0 < 10s);
    {
      std::lock_guard lock(m);
      REQUIRE(reports.size() == 1);
      CHECK(reports[0] == "sleepy: stuck in a handler at shutdown");
      // The message names the type and id (as metrics().stuck does) and how
      // long it has been inside: since the start of shutdown at least.
      INFO(about);
      CHECK(about.find("diary #") != std::string::npos);
      CHECK(about.find("inside one handler for >= ") != std::string::npos);
      CHECK(about.find(">= 0 ms") == std::string::npos);
    }
    g.open();  // ~runtime waits for the handler, then tears down
  }
  CHECK(j->destroyed.load() == 1);
}

TEST_CASE("an address may outlive its runtime" * doctest::timeout(30)) {
  auto j = std::make_shared<journal>();
  address<diary> survivor;
  {
    runtime rt{{.workers = 1}};
    survivor = rt.spawn<diary>(j);
  }
  CHECK(survivor.done());
  CHECK(survivor.send(note{"x"}).error().code() == errc::actor_stopped);
  CHECK(survivor.ask(count_query{0}).get().error().code() == errc::actor_stopped);
  survivor.stop();
  survivor.join();
}

TEST_CASE("a bounded mailbox refuses with mailbox_full and never blocks" * doctest::timeout(30)) {
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = 1}};
  auto d = rt.spawn<diary>(spawn_options{.name = "small", .capacity = 4}, j);
  gate g;
  std::atomic<bool> started{false};
  auto blocked = d.ask(block{&g, &started});
  REQUIRE(wait_until([&] { return started.load(); }));
  for (int i = 0; i < 4; ++i) REQUIRE(d.send(payload{tracked(1)}).has_value());
  auto refused = d.send(payload{tracked(1)});
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().code() == errc::mailbox_full);
  g.open();
  CHECK(*blocked.get() == 0);
  REQUIRE(wait_until([&] { return *d.ask(count_query{0}).get() == 4; }));
  for (int i = 0; i < 4; ++i) CHECK(d.send(payload{tracked(1)}).has_value());  // slots freed by handling
  CHECK(rt.shutdown(30s));
  CHECK(rt.stats().dropped == 0);
}

namespace {
struct spawn_child {
  int n;
};
class parent : public actor<parent> {
 public:
  explicit parent(std::shared_ptr<journal> j) : j_(std::move(j)) {}
  int on(spawn_child s, context<parent>& ctx) {
    auto child = ctx.spawn<diary>(spawn_options{.name = "child"}, j_);
    (void)child.send(note{"child" + std::to_string(s.n)});
    CHECK(ctx.runtime().workers() == 2);
    return 1;
  }

 private:
  std::shared_ptr<journal> j_;
};
}  // namespace

TEST_CASE("a handler spawns a child through its context" * doctest::timeout(30)) {
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = 2}};
  auto p = rt.spawn<parent>(j);
  CHECK(*p.ask(spawn_child{1}).get() == 1);
  REQUIRE(wait_until([&] { return j->destroyed.load() == 1; }));  // unreachable child stops on its own
  auto events = j->snapshot();
  CHECK(events == std::vector<std::string>{"start", "child1", "stop"});
}

namespace {
struct quit {
  bool drain;
};
class quitter : public actor<quitter> {
 public:
  explicit quitter(std::shared_ptr<journal> j) : j_(std::move(j)) {}
  void on(quit q, context<quitter>& ctx) {
    if (q.drain)
      ctx.shutdown();
    else
      ctx.stop();
  }
  void on(note n) { j_->add(n.text); }

 private:
  std::shared_ptr<journal> j_;
};
}  // namespace

TEST_CASE("ctx.stop and ctx.shutdown end the actor from inside" * doctest::timeout(30)) {
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = 1}};
  auto a = rt.spawn<quitter>(j);
  (void)a.send(quit{false});
  // queued behind the stop: dropped (counted), or refused if the stop came first
  bool accepted = a.send(note{"dropped"}).has_value();
  a.join();
  auto b = rt.spawn<quitter>(j);
  (void)b.send(quit{true});
  // queued behind the shutdown: handled, or refused if the shutdown came first
  bool drained = b.send(note{"drained"}).has_value();
  b.join();
  CHECK(j->snapshot() == (drained ? std::vector<std::string>{"drained"} : std::vector<std::string>{}));
  CHECK(rt.stats().dropped == (accepted ? 1u : 0u));
}

TEST_CASE("stats count accepted messages and issued and completed replies" * doctest::timeout(30)) {
  auto j = std::make_shared<journal>();
  runtime rt{{.workers = 2}};
  auto d = rt.spawn<diary>(j);
  for (int i = 0; i < 3; ++i) REQUIRE(d.send(payload{tracked(1)}).has_value());
  CHECK(*d.ask(count_query{0}).get() == 3);
  d.stop();
  d.join();
  CHECK_FALSE(d.send(payload{tracked(1)}).has_value());  // refused: not accepted
  auto s = rt.stats();
  CHECK(s.accepted == 4);
  CHECK(s.handled == 4);
  CHECK(s.replies_issued == 1);
  CHECK(s.replies_completed == 1);
  courier::test::check_conservation(s);
}

// -- actor ids and exit reasons ----------------------------------------------------------

namespace {
struct who {};
class named : public actor<named> {
 public:
  actor_id on(who, context<named>& ctx) { return ctx.self().id(); }
};
}  // namespace

TEST_CASE("actor ids are unique within a runtime, never 0, the same through every copy, and kept after the stop" *
          doctest::timeout(30)) {
  runtime rt{{.workers = 2}};
  std::vector<address<named>> all;
  std::vector<actor_id> ids;
  for (int i = 0; i < 1000; ++i) {
    all.push_back(rt.spawn<named>());
    ids.push_back(all.back().id());
  }
  std::vector<actor_id> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end());
  CHECK(sorted.front() != 0);
  auto copy = all[7];
  CHECK(copy.id() == ids[7]);
  CHECK(all[7].ask(who{}).get().value() == ids[7]);  // ctx.self() names the same actor
  all[7].stop();
  all[7].join();
  CHECK(all[7].id() == ids[7]);
  CHECK(address<named>{}.id() == 0);
}

TEST_CASE("exit reasons have names") {
  CHECK(to_string(exit_reason::normal) == "normal");
  CHECK(to_string(exit_reason::unreachable) == "unreachable");
  CHECK(to_string(exit_reason::failed) == "failed");
  CHECK(to_string(exit_reason::linked) == "linked");
  CHECK(to_string(exit_reason::shutdown) == "shutdown");
  CHECK(to_string(exit_reason::unknown) == "unknown");
  CHECK(to_string(errc::would_block) == "would_block");
  CHECK(to_string(errc::invalid_argument) == "invalid_argument");
}
