// address::send, handler matching and the error hook (docs/api.md: "Actors
// and handlers", "address", "Errors").
#include <courier/courier.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/doctest.hpp"
#include "tests/support/wait.hpp"

using namespace courier;
using courier::test::wait_until;

namespace {

struct greet {
  std::string name;
};
struct sum {
  int a, b;
};
struct boom {
  std::string text;
};
struct ping {
  int n;
};
struct by_ref {
  int n;
};
struct by_rvalue {
  int n;
};

struct log_state {
  std::mutex mutex;
  std::vector<std::string> lines;
  std::atomic<int> handled{0};
};

class calculator : public actor<calculator> {
 public:
  calculator(int bias, std::shared_ptr<log_state> log) : bias_(bias), log_(std::move(log)) {}
  void on(greet g, context<calculator>&) {
    std::lock_guard lock(log_->mutex);
    log_->lines.push_back("Hello, " + g.name + "!");
    log_->handled.fetch_add(1);
  }
  int on(sum s) { return s.a + s.b + bias_; }
  void on(boom b) {
    log_->handled.fetch_add(1);
    throw std::runtime_error(b.text);
  }
  void on(const by_ref& m) { log_->handled.fetch_add(m.n); }
  void on(by_rvalue&& m) { log_->handled.fetch_add(m.n); }

 private:
  int bias_;
  std::shared_ptr<log_state> log_;
};

// Handlers that must NOT match: a mutable reference, and one needing a conversion.
struct wants_ref {
  int n;
};
class picky : public actor<picky> {
 public:
  void on(wants_ref&) {}
  void on(long) {}
  void on(std::string) {}
};

class recorder : public actor<recorder> {
 public:
  explicit recorder(std::shared_ptr<std::vector<int>> seen) : seen_(std::move(seen)) {}
  void on(ping p) { seen_->push_back(p.n); }

 private:
  std::shared_ptr<std::vector<int>> seen_;
};

}  // namespace

// -- compile-time contract -----------------------------------------------------

static_assert(handles<calculator, greet>);
static_assert(handles<calculator, sum>);
static_assert(handles<calculator, const sum&>, "the message type is std::decay_t<M>");
static_assert(handles<calculator, by_ref>, "a handler may take const M&");
static_assert(handles<calculator, by_rvalue>, "a handler may take M&&");
static_assert(!handles<calculator, int>);
static_assert(!handles<picky, wants_ref>, "a handler taking M& does not match");
static_assert(!handles<picky, int>, "no implicit conversion from int to long");
static_assert(!handles<picky, const char*>, "no implicit conversion from const char* to std::string");
static_assert(handles<picky, long>);
static_assert(std::is_same_v<reply_type_t<calculator, sum>, int>);
static_assert(std::is_same_v<reply_type_t<calculator, greet>, void>);
static_assert(std::is_copy_constructible_v<address<calculator>>);
static_assert(std::is_default_constructible_v<address<calculator>>);

// address<A> can be declared while A is incomplete (actors may hold each other's addresses).
class later;
struct holds_later {
  address<later> a;
};
class later : public actor<later> {
 public:
  void on(ping) {}
};
static_assert(sizeof(holds_later) == sizeof(void*));

TEST_CASE("a greeting handler runs" * doctest::timeout(30)) {
  auto log = std::make_shared<log_state>();
  runtime rt{{.workers = 2}};
  auto calc = rt.spawn<calculator>(0, log);
  CHECK(calc.send(greet{"world"}).has_value());
  REQUIRE(wait_until([&] { return log->handled.load() == 1; }));
  std::lock_guard lock(log->mutex);
  CHECK(log->lines == std::vector<std::string>{"Hello, world!"});
}

TEST_CASE("handlers taking const M& and M&& receive the message" * doctest::timeout(30)) {
  auto log = std::make_shared<log_state>();
  runtime rt{{.workers = 2}};
  auto calc = rt.spawn<calculator>(0, log);
  by_ref r{2};
  CHECK(calc.send(r).has_value());  // an lvalue is copied
  CHECK(calc.send(by_rvalue{3}).has_value());
  REQUIRE(wait_until([&] { return log->handled.load() == 5; }));
}

TEST_CASE("a send to an empty address fails with actor_stopped" * doctest::timeout(30)) {
  address<calculator> nobody;
  CHECK_FALSE(nobody);
  auto r = nobody.send(greet{"x"});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == errc::actor_stopped);
  CHECK(nobody.done());
  nobody.stop();
  nobody.shutdown();
  nobody.join();
  CHECK(nobody.join_for(std::chrono::milliseconds(1)));
}

TEST_CASE("a send to a stopped actor returns actor_stopped" * doctest::timeout(30)) {
  auto log = std::make_shared<log_state>();
  runtime rt{{.workers = 2}};
  auto calc = rt.spawn<calculator>(0, log);
  calc.stop();
  auto r = calc.send(greet{"late"});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == errc::actor_stopped);
  calc.join();
  CHECK(calc.send(greet{"later"}).error().code() == errc::actor_stopped);
  CHECK(log->handled.load() == 0);
}

TEST_CASE("messages from one thread are handled in send order" * doctest::timeout(30)) {
  auto seen = std::make_shared<std::vector<int>>();
  runtime rt{{.workers = 2}};
  auto r = rt.spawn<recorder>(seen);
  for (int i = 0; i < 10000; ++i) REQUIRE(r.send(ping{i}).has_value());
  r.shutdown();
  r.join();
  REQUIRE(seen->size() == 10000);
  for (int i = 0; i < 10000; ++i) REQUIRE((*seen)[static_cast<std::size_t>(i)] == i);
}

namespace {
struct handoff {
  int* data;
};
class reader : public actor<reader> {
 public:
  explicit reader(std::atomic<int>* out) : out_(out) {}
  void on(handoff h) { out_->store(*h.data); }

 private:
  std::atomic<int>* out_;
};
}  // namespace

TEST_CASE("everything the sender wrote before send is visible to the handler" * doctest::timeout(30)) {
  runtime rt{{.workers = 2}};
  for (int round = 0; round < 200; ++round) {
    std::atomic<int> out{-1};
    auto r = rt.spawn<reader>(&out);
    auto data = std::make_unique<int>(0);
    *data = round;  // plain write, published only by send()
    (void)r.send(handoff{data.get()});
    REQUIRE(wait_until([&] { return out.load() != -1; }));
    CHECK(out.load() == round);
    r.shutdown();
    r.join();
  }
}

TEST_CASE("a throwing handler is reported and the actor handles the next message" * doctest::timeout(30)) {
  auto log = std::make_shared<log_state>();
  runtime rt{{.workers = 2}};
  std::mutex m;
  std::vector<std::string> reports;
  rt.set_error_hook([&](std::string_view actor, std::string_view message, std::string_view what) {
    std::lock_guard lock(m);
    reports.push_back(std::string(actor) + "|" + std::string(message) + "|" + std::string(what));
  });
  auto calc = rt.spawn<calculator>(spawn_options{.name = "calc"}, 0, log);
  (void)calc.send(boom{"kaput"});
  (void)calc.send(greet{"after"});
  REQUIRE(wait_until([&] { return log->handled.load() == 2; }));
  std::lock_guard lock(m);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].find("calc|") == 0);
  CHECK(reports[0].find("boom") != std::string::npos);
  CHECK(reports[0].find("|kaput") != std::string::npos);
}

TEST_CASE("the error hook names an unnamed actor by its type" * doctest::timeout(30)) {
  auto log = std::make_shared<log_state>();
  runtime rt{{.workers = 1}};
  std::atomic<bool> seen{false};
  std::string actor_name;
  rt.set_error_hook([&](std::string_view actor, std::string_view, std::string_view) {
    actor_name = std::string(actor);
    seen.store(true);
  });
  auto calc = rt.spawn<calculator>(0, log);
  (void)calc.send(boom{"x"});
  REQUIRE(wait_until([&] { return seen.load(); }));
  CHECK(actor_name.find("calculator") != std::string::npos);
}

TEST_CASE("addresses compare, hash and test for emptiness" * doctest::timeout(30)) {
  auto log = std::make_shared<log_state>();
  runtime rt{{.workers = 1}};
  auto a = rt.spawn<calculator>(0, log);
  auto b = rt.spawn<calculator>(0, log);
  const auto a2 = a;
  CHECK(a == a2);
  CHECK_FALSE(a == b);
  CHECK(std::hash<address<calculator>>{}(a) == std::hash<address<calculator>>{}(a2));
  CHECK(static_cast<bool>(a));
  address<calculator> moved = std::move(b);
  CHECK(static_cast<bool>(moved));
  CHECK_FALSE(static_cast<bool>(b));  // NOLINT(bugprone-use-after-move): moved-from is empty
  CHECK(a2.send(greet{"const"}).has_value());  // calls work on a const address
}

TEST_CASE("sends from many threads are all handled" * doctest::timeout(60)) {
  auto log = std::make_shared<log_state>();
  runtime rt{{.workers = 2}};
  auto calc = rt.spawn<calculator>(0, log);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) REQUIRE(calc.send(by_ref{1}).has_value());
    });
  for (auto& t : threads) t.join();
  REQUIRE(wait_until([&] { return log->handled.load() == 4000; }));
}

#include <fcntl.h>
#include <sys/wait.h>

#include <algorithm>
#include <csignal>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

TEST_CASE("the default error hook prints one line naming actor, message type and what()" * doctest::timeout(30)) {
  auto log = std::make_shared<log_state>();
  char path[] = "/tmp/courier-hook-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  std::fflush(stderr);
  int saved = dup(2);
  dup2(fd, 2);
  {
    runtime rt{{.workers = 1}};
    auto calc = rt.spawn<calculator>(spawn_options{.name = "loud"}, 0, log);
    (void)calc.send(boom{"it broke"});
    (void)calc.send(greet{"next"});
    REQUIRE(wait_until([&] { return log->handled.load() == 2; }));
  }
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  close(fd);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::remove(path);
  auto s = text.str();
  CHECK(std::count(s.begin(), s.end(), '\n') == 1);
  CHECK(s.find("loud") != std::string::npos);
  CHECK(s.find("boom") != std::string::npos);
  CHECK(s.find("it broke") != std::string::npos);
}


// -- guarantee 6: a refused send leaves its argument untouched ------------------------

namespace {

/// A payload whose moved-from state is visible: `value` is null once moved.
struct precious {
  std::unique_ptr<int> value;
};

struct hold {};
class keeper : public actor<keeper> {
 public:
  keeper(std::atomic<int>* sum, courier::test::gate* g) : sum_(sum), gate_(g) {}
  void on(hold) {
    if (gate_) gate_->wait();
  }
  int on(precious p) {
    *sum_ += *p.value;
    return *p.value;
  }

 private:
  std::atomic<int>* sum_;
  courier::test::gate* gate_;
};

}  // namespace

TEST_CASE("a send or ask refused by a stopped actor does not move from its rvalue argument" * doctest::timeout(30)) {
  runtime rt{{.workers = 2}};
  std::atomic<int> sum{0};
  auto gone = rt.spawn<keeper>(&sum, nullptr);
  gone.stop();
  gone.join();
  precious p{std::make_unique<int>(7)};
  auto sent = gone.send(std::move(p));
  REQUIRE_FALSE(sent);
  CHECK(sent.error().code() == errc::actor_stopped);
  REQUIRE(p.value);
  CHECK(*p.value == 7);
  auto asked = gone.ask(std::move(p)).get();
  CHECK(asked.error().code() == errc::actor_stopped);
  REQUIRE(p.value);
  address<keeper> empty;
  CHECK_FALSE(empty.send(std::move(p)));
  CHECK_FALSE(empty.ask(std::move(p)).get());
  REQUIRE(p.value);
  // The caller can reroute it.
  auto other = rt.spawn<keeper>(&sum, nullptr);
  CHECK(other.ask(std::move(p)).get().value() == 7);
  CHECK(sum == 7);
}

TEST_CASE("a send or ask refused by a full mailbox does not move from its rvalue argument" * doctest::timeout(30)) {
  runtime rt{{.workers = 2}};
  std::atomic<int> sum{0};
  courier::test::gate gate;
  auto a = rt.spawn<keeper>(spawn_options{.capacity = 1}, &sum, &gate);
  REQUIRE(a.send(hold{}));
  REQUIRE(wait_until([&] { return a.send(hold{}).has_value(); }));  // once the first is being handled, one slot
  precious p{std::make_unique<int>(5)};
  auto sent = a.send(std::move(p));
  REQUIRE_FALSE(sent);
  CHECK(sent.error().code() == errc::mailbox_full);
  REQUIRE(p.value);
  auto asked = a.ask(std::move(p)).get();
  CHECK(asked.error().code() == errc::mailbox_full);
  REQUIRE(p.value);
  CHECK(*p.value == 5);
  gate.open();
  REQUIRE(wait_until([&] { return a.send(std::move(p)).has_value(); }));  // a retry once there is room
  REQUIRE(wait_until([&] { return sum.load() == 5; }));
}

TEST_CASE("sends racing the receiver's stop are each either accepted or refused with the argument intact" *
          doctest::timeout(120)) {
  constexpr int threads = 4;
  runtime rt{{.workers = 2}};
  std::atomic<int> sum{0};
  auto a = rt.spawn<keeper>(&sum, nullptr);
  std::atomic<int> refused{0}, accepted{0}, damaged{0}, started{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < threads; ++t)
    senders.emplace_back([&] {
      ++started;
      // Until this thread has seen the close (a handful of refusals), so
      // every thread sends across the moment of the stop.
      for (int mine = 0; mine < 16;) {
        precious p{std::make_unique<int>(1)};
        if (a.send(std::move(p))) {
          ++accepted;
        } else {
          ++refused;
          ++mine;
          if (!p.value || *p.value != 1) ++damaged;
        }
      }
    });
  REQUIRE(wait_until([&] { return started.load() == threads && accepted.load() > 100; }));
  a.stop();
  for (auto& s : senders) s.join();
  a.join();
  CHECK(damaged == 0);
  CHECK(refused == threads * 16);
  auto st = rt.stats();
  CHECK(st.handled + st.dropped == static_cast<std::uint64_t>(accepted.load()));
}
