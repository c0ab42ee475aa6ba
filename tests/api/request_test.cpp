// address::ask and reply<R> (docs/api.md: "address", "reply", "Errors").
#include <courier/courier.hpp>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "tests/support/doctest.hpp"
#include "tests/support/wait.hpp"

using namespace courier;
using namespace std::chrono_literals;
using courier::test::gate;
using courier::test::wait_until;

namespace {

struct sum {
  int a, b;
};
struct fail {
  std::string text;
};
struct checked_div {
  int a, b;
};
struct nothing {
  int n;
};
struct hold {
  gate* g;
  std::atomic<bool>* started = nullptr;
};
struct get_count {
  int unused;
};

class calculator : public actor<calculator> {
 public:
  explicit calculator(int bias = 0) : bias_(bias) {}
  int on(sum s) {
    ++count_;
    return s.a + s.b + bias_;
  }
  int on(fail f) { throw std::runtime_error(f.text); }
  result<int> on(checked_div d) {
    if (d.b == 0) return error{errc::handler_failed, "division by zero"};
    return d.a / d.b;
  }
  void on(nothing) { ++count_; }
  int on(hold h) {
    if (h.started) h.started->store(true);
    h.g->wait();
    return 7;
  }
  int on(get_count) { return count_; }

 private:
  int bias_;
  int count_ = 0;
};

}  // namespace

static_assert(!std::is_copy_constructible_v<reply<int>>, "reply is move-only");
static_assert(std::is_move_constructible_v<reply<int>>);
static_assert(std::is_same_v<decltype(std::declval<address<calculator>>().ask(sum{})), reply<int>>);
static_assert(std::is_same_v<decltype(std::declval<address<calculator>>().ask(checked_div{})), reply<int>>,
              "result<T> is flattened to T");
static_assert(std::is_same_v<decltype(std::declval<address<calculator>>().ask(nothing{})), reply<void>>);

TEST_CASE("ask(sum{16, 4}) gives 20" * doctest::timeout(30)) {
  runtime rt{{.workers = 2}};
  auto calc = rt.spawn<calculator>();
  auto r = calc.ask(sum{16, 4}).get();
  REQUIRE(r.has_value());
  CHECK(*r == 20);
  CHECK(r.value() == 20);
}

TEST_CASE("the constructor arguments reach the actor" * doctest::timeout(30)) {
  runtime rt{{.workers = 1}};
  auto calc = rt.spawn<calculator>(100);
  CHECK(*calc.ask(sum{1, 2}).get() == 103);
}

TEST_CASE("ask to a throwing handler completes with handler_failed carrying the text" * doctest::timeout(30)) {
  runtime rt{{.workers = 2}};
  bool hook_called = false;
  rt.set_error_hook([&](auto, auto, auto) { hook_called = true; });
  auto calc = rt.spawn<calculator>();
  auto r = calc.ask(fail{"no luck"}).get();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == errc::handler_failed);
  CHECK(r.error().message() == "no luck");
  CHECK_THROWS_AS(r.value(), bad_result_access);
  CHECK(*calc.ask(sum{1, 1}).get() == 2);  // the actor goes on
  CHECK_FALSE(hook_called);                // a request's failure goes to the asker, not the hook
}

TEST_CASE("a handler's own error reaches the asker unchanged" * doctest::timeout(30)) {
  runtime rt{{.workers = 2}};
  auto calc = rt.spawn<calculator>();
  auto ok = calc.ask(checked_div{9, 3}).get();
  REQUIRE(ok.has_value());
  CHECK(*ok == 3);
  auto bad = calc.ask(checked_div{1, 0}).get();
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code() == errc::handler_failed);
  CHECK(bad.error().message() == "division by zero");
}

TEST_CASE("a void request completes with success" * doctest::timeout(30)) {
  runtime rt{{.workers = 2}};
  auto calc = rt.spawn<calculator>();
  auto r = calc.ask(nothing{1}).get();
  CHECK(r.has_value());
  CHECK(*calc.ask(get_count{0}).get() == 1);
}

TEST_CASE("ask to a stopped actor completes with actor_stopped and never hangs" * doctest::timeout(30)) {
  runtime rt{{.workers = 2}};
  auto calc = rt.spawn<calculator>();
  calc.stop();
  auto pending = calc.ask(sum{1, 2});
  CHECK(pending.ready());  // refused: already complete
  auto r = pending.get();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == errc::actor_stopped);
  calc.join();
  CHECK(calc.ask(sum{1, 2}).get().error().code() == errc::actor_stopped);
}

TEST_CASE("ask to an empty address completes with actor_stopped" * doctest::timeout(30)) {
  address<calculator> nobody;
  auto r = nobody.ask(sum{1, 2}).get();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == errc::actor_stopped);
}

TEST_CASE("get_for returns timeout and leaves the reply pending" * doctest::timeout(30)) {
  runtime rt{{.workers = 2}};
  auto calc = rt.spawn<calculator>();
  gate g;
  auto pending = calc.ask(hold{&g});
  auto first = pending.get_for(10ms);
  REQUIRE_FALSE(first.has_value());
  CHECK(first.error().code() == errc::timeout);
  CHECK_FALSE(pending.ready());
  g.open();
  auto second = pending.get_for(30s);
  REQUIRE(second.has_value());
  CHECK(*second == 7);
}

TEST_CASE("then runs with the value on the completing thread" * doctest::timeout(30)) {
  runtime rt{{.workers = 2}};
  auto calc = rt.spawn<calculator>();
  gate g;
  std::atomic<int> got{0};
  std::atomic<std::thread::id> where{};
  calc.ask(hold{&g}).then([&](result<int> r) {
    where.store(std::this_thread::get_id());
    got.store(*r);
  });
  g.open();
  REQUIRE(wait_until([&] { return got.load() == 7; }));
  CHECK(where.load() != std::this_thread::get_id());
}

TEST_CASE("then on a completed reply runs at once on the caller's thread" * doctest::timeout(30)) {
  runtime rt{{.workers = 2}};
  auto calc = rt.spawn<calculator>();
  auto pending = calc.ask(sum{2, 2});
  REQUIRE(wait_until([&] { return pending.ready(); }));
  int got = 0;
  std::thread::id where{};
  std::move(pending).then([&](result<int> r) {
    where = std::this_thread::get_id();
    got = *r;
  });
  CHECK(got == 4);
  CHECK(where == std::this_thread::get_id());
}

TEST_CASE("dropping a reply is fine: the handler still runs" * doctest::timeout(30)) {
  runtime rt{{.workers = 2}};
  auto calc = rt.spawn<calculator>();
  { auto dropped = calc.ask(nothing{1}); }
  CHECK(*calc.ask(get_count{0}).get() == 1);
}

TEST_CASE("a request refused by a full mailbox completes with mailbox_full" * doctest::timeout(30)) {
  runtime rt{{.workers = 1}};
  auto calc = rt.spawn<calculator>(spawn_options{.capacity = 1});
  gate g;
  std::atomic<bool> started{false};
  auto busy = calc.ask(hold{&g, &started});
  REQUIRE(wait_until([&] { return started.load(); }));
  CHECK(calc.send(nothing{0}).has_value());  // the message being handled holds no slot
  CHECK(calc.send(nothing{0}).error().code() == errc::mailbox_full);
  auto refused = calc.ask(sum{1, 1});
  CHECK(refused.ready());
  auto r = refused.get();
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code() == errc::mailbox_full);
  g.open();
  CHECK(*busy.get() == 7);
}

TEST_CASE("the reply's value is visible with everything the handler wrote" * doctest::timeout(30)) {
  struct writer : actor<writer> {
    int on(int* p) {
      *p = 42;  // plain write, published by the reply
      return 1;
    }
  };
  runtime rt{{.workers = 2}};
  auto w = rt.spawn<writer>();
  for (int i = 0; i < 100; ++i) {
    int x = 0;
    REQUIRE(w.ask(&x).get().has_value());
    CHECK(x == 42);
  }
}

namespace {
struct get_name {
  int unused;
};
class named : public actor<named> {
 public:
  const std::string& on(get_name) const { return name_; }

 private:
  std::string name_ = "courier";
};
}  // namespace

static_assert(std::is_same_v<reply_type_t<named, get_name>, std::string>,
              "a handler returning a reference replies with a copy");

TEST_CASE("a handler returning a reference replies with a copy of the value" * doctest::timeout(30)) {
  runtime rt{{.workers = 1}};
  auto n = rt.spawn<named>();
  CHECK(*n.ask(get_name{0}).get() == "courier");
  CHECK(rt.shutdown(std::chrono::duration<double>(0.5 * 60)));  // any duration type
}
