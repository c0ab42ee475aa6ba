// Blocking calls inside a handler never wait and never deadlock, in every
// build: this program is compiled with NDEBUG (tests/meson.build), where an
// assert-based check would be gone. get / get_for give errc::would_block,
// join_for gives false, join and runtime::shutdown return at once, and each
// call is reported through the error hook of the runtime whose handler made it.
#include <courier/courier.hpp>

#ifndef NDEBUG
#error "this test must be built with NDEBUG: it proves the checks do not depend on asserts"
#endif

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tests/support/doctest.hpp"
#include "tests/support/wait.hpp"

using namespace courier;
using courier::test::wait_until;

namespace {

struct hook_log {
  std::mutex mutex;
  std::vector<std::string> calls;  // "actor|message|what"
  void install(runtime& rt) {
    rt.set_error_hook([this](std::string_view actor, std::string_view message, std::string_view what) {
      std::lock_guard lock(mutex);
      calls.push_back(std::string(actor) + "|" + std::string(message) + "|" + std::string(what));
    });
  }
  std::size_t count(std::string_view needle) {
    std::lock_guard lock(mutex);
    std::size_t n = 0;
    for (auto& c : calls) n += c.find(needle) != std::string::npos;
    return n;
  }
};

struct question {
  int n;
};
class echo : public actor<echo> {
 public:
  int on(question q) { return q.n + 1; }
};

struct outcome {
  std::atomic<int> code{-1};  // the errc seen inside the handler, or 0 for a value
  std::atomic<int> later{-1};  // the value a pending reply gave afterwards
  std::atomic<bool> returned{false};
  std::atomic<bool> join_result{true};
};

struct do_get {};
struct do_get_for {};
struct use_pending {};
struct do_join_self {};
struct do_join_for {};
struct do_shutdown {
  runtime* rt;
};

class blocker : public actor<blocker> {
 public:
  blocker(address<echo> e, outcome* o) : echo_(std::move(e)), out_(o) {}
  void on(do_get) {
    auto r = echo_.ask(question{1}).get();
    out_->code = r ? 0 : static_cast<int>(r.error().code());
    out_->returned = true;
  }
  void on(do_get_for) {
    pending_ = echo_.ask(question{41});
    auto r = pending_.get_for(std::chrono::seconds(30));
    out_->code = r ? 0 : static_cast<int>(r.error().code());
    out_->returned = true;
  }
  void on(use_pending) {
    pending_.then([o = out_](result<int> r) { o->later = r ? *r : -2; });
  }
  void on(do_join_self, context<blocker>& ctx) {
    ctx.self().join();  // would wait for itself forever
    out_->returned = true;
  }
  void on(do_join_for, context<blocker>& ctx) {
    out_->join_result = ctx.self().join_for(std::chrono::seconds(30));
    out_->returned = true;
  }
  void on(do_shutdown s) {
    out_->join_result = s.rt->shutdown(std::chrono::seconds(30));
    out_->returned = true;
  }

 private:
  address<echo> echo_;
  outcome* out_;
  reply<int> pending_;
};

/// Sends `m` to the blocker and waits until its handler has returned.
template <class M>
bool handled_now(const address<blocker>& b, outcome& out, M m) {
  out.returned = false;
  return b.send(std::move(m)).has_value() && wait_until([&] { return out.returned.load(); });
}

}  // namespace

TEST_CASE("reply::get inside a handler completes at once with errc::would_block and is reported" *
          doctest::timeout(60)) {
  for (std::size_t workers : {1, 2}) {
    CAPTURE(workers);
    runtime rt{{.workers = workers}};
    hook_log log;
    log.install(rt);
    outcome out;
    auto b = rt.spawn<blocker>(spawn_options{.name = "waiter"}, rt.spawn<echo>(), &out);
    REQUIRE(handled_now(b, out, do_get{}));
    CHECK(out.code == static_cast<int>(errc::would_block));
    CHECK(log.count("waiter|reply::get|blocking call inside a handler") == 1);
    CHECK(rt.shutdown());
  }
}

TEST_CASE("reply::get_for inside a handler gives errc::would_block and leaves the reply pending" *
          doctest::timeout(60)) {
  runtime rt{{.workers = 2}};
  hook_log log;
  log.install(rt);
  outcome out;
  auto b = rt.spawn<blocker>(rt.spawn<echo>(), &out);
  REQUIRE(handled_now(b, out, do_get_for{}));
  CHECK(out.code == static_cast<int>(errc::would_block));
  REQUIRE(b.send(use_pending{}));  // the same reply, still usable: its answer arrives
  REQUIRE(wait_until([&] { return out.later.load() != -1; }));
  CHECK(out.later == 42);
  CHECK(log.count("reply::get_for|blocking call inside a handler") == 1);
  CHECK(rt.shutdown());
}

TEST_CASE("an actor that joins itself inside a handler returns at once instead of deadlocking" *
          doctest::timeout(60)) {
  for (std::size_t workers : {1, 2}) {
    runtime rt{{.workers = workers}};
    hook_log log;
    log.install(rt);
    outcome out;
    auto b = rt.spawn<blocker>(address<echo>{}, &out);
    REQUIRE(handled_now(b, out, do_join_self{}));
    CHECK(log.count("address::join|blocking call inside a handler") == 1);
    REQUIRE(handled_now(b, out, do_join_for{}));
    CHECK_FALSE(out.join_result.load());
    CHECK(log.count("address::join_for|blocking call inside a handler") == 1);
    CHECK(rt.shutdown());
  }
}

TEST_CASE("runtime::shutdown inside a handler returns false at once and the shutdown still completes" *
          doctest::timeout(60)) {
  runtime rt{{.workers = 2}};
  hook_log log;
  log.install(rt);
  outcome out;
  auto e = rt.spawn<echo>();
  auto b = rt.spawn<blocker>(e, &out);
  REQUIRE(handled_now(b, out, do_shutdown{&rt}));
  CHECK_FALSE(out.join_result.load());
  CHECK(log.count("runtime::shutdown|blocking call inside a handler") == 1);
  // It began: mailboxes are closed and the actors finish without the caller.
  CHECK(e.ask(question{1}).get().error().code() == errc::actor_stopped);
  CHECK(e.join_for(std::chrono::seconds(30)));
  CHECK(b.join_for(std::chrono::seconds(30)));
  CHECK(rt.shutdown());  // a later call from outside finishes it and gives the real result
  CHECK(rt.stats().spawned == rt.stats().stopped);
}

TEST_CASE("a blocking call inside a handler of one runtime on an actor of another is refused too" *
          doctest::timeout(60)) {
  runtime other{{.workers = 1}};
  runtime rt{{.workers = 1}};
  hook_log log, other_log;
  log.install(rt);
  other_log.install(other);
  outcome out;
  auto b = rt.spawn<blocker>(other.spawn<echo>(), &out);
  REQUIRE(handled_now(b, out, do_get{}));
  CHECK(out.code == static_cast<int>(errc::would_block));
  CHECK(log.count("reply::get") == 1);  // reported by the runtime whose handler called it
  CHECK(other_log.count("reply::get") == 0);
}

TEST_CASE("the same calls outside a handler still wait" * doctest::timeout(60)) {
  runtime rt{{.workers = 2}};
  auto e = rt.spawn<echo>();
  auto r = e.ask(question{2}).get();
  REQUIRE(r);
  CHECK(*r == 3);
  e.stop();
  CHECK(e.join_for(std::chrono::seconds(30)));
}
