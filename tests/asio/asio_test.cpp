// courier/asio.hpp: ask as an Asio asynchronous operation (use_awaitable, a
// callback on a strand), a reply's continuation on an executor, and
// cancellation through an Asio cancellation slot, including a TCP
// connection closed while its request is in flight.
#include <asio.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <courier/asio.hpp>
#include <courier/courier.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "tests/support/doctest.hpp"
#include "tests/support/wait.hpp"

// No `using namespace courier;` here: courier::asio would make a bare `asio::` ambiguous.
using courier::actor;
using courier::errc;
using courier::result;
using courier::runtime;
using namespace std::chrono_literals;
using courier::test::gate;
using courier::test::open_at_exit;
using courier::test::wait_until;

namespace {

struct square {
  int x;
};
struct boom {};
struct held {
  gate* g;
  int x;
  std::atomic<bool>* entered = nullptr;
};

class calc : public actor<calc> {
 public:
  explicit calc(std::atomic<int>* handled) : handled_(handled) {}
  int on(square s) {
    handled_->fetch_add(1);
    return s.x * s.x;
  }
  int on(boom) { throw std::runtime_error("boom"); }
  int on(held h) {
    if (h.entered) h.entered->store(true);
    h.g->wait();
    handled_->fetch_add(1);
    return h.x;
  }

 private:
  std::atomic<int>* handled_;
};

/// Runs `io` on a thread of its own until the test ends.
struct io_thread {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::thread::id id;
  std::thread t{[this] {
    id = std::this_thread::get_id();
    io.run();
  }};
  ~io_thread() {
    work.reset();
    io.stop();
    t.join();
  }
};

}  // namespace

TEST_CASE("co_await courier::asio::ask in an Asio coroutine: the value, on the caller's executor") {
  io_thread io;  // first: destroyed after the runtime, whose workers post into it
  std::atomic<int> handled{0};
  runtime rt{{.workers = 2}};
  auto c = rt.spawn<calc>(&handled);
  std::atomic<int> got{0};
  std::atomic<bool> on_io_thread{false};
  std::atomic<bool> done{false};
  asio::co_spawn(
      io.io,
      [&]() -> asio::awaitable<void> {
        result<int> r = co_await courier::asio::ask(c, square{7}, asio::use_awaitable);
        on_io_thread = std::this_thread::get_id() == io.id;
        got = r ? *r : -1;
        // Errors come as values, not exceptions.
        auto failed = co_await courier::asio::ask(c, boom{}, asio::use_awaitable);
        CHECK(failed.error().code() == errc::handler_failed);
        done = true;
      },
      asio::detached);
  REQUIRE(wait_until([&] { return done.load(); }));
  CHECK(got.load() == 49);
  CHECK(on_io_thread.load());
}

TEST_CASE("a callback bound to a strand runs on that strand; a stopped actor gives actor_stopped") {
  io_thread io;  // first: destroyed after the runtime, whose workers post into it
  std::atomic<int> handled{0};
  runtime rt{{.workers = 2}};
  auto c = rt.spawn<calc>(&handled);
  auto strand = asio::make_strand(io.io);
  std::atomic<int> calls{0};
  std::atomic<bool> in_strand{false};
  courier::asio::ask(c, square{3}, asio::bind_executor(strand, [&](result<int> r) {
                       in_strand = strand.running_in_this_thread();
                       CHECK(*r == 9);
                       calls.fetch_add(1);
                     }));
  REQUIRE(wait_until([&] { return calls.load() == 1; }));
  CHECK(in_strand.load());
  c.stop();
  REQUIRE(c.join_for(30s));
  std::atomic<int> code{0};
  courier::asio::ask(c, square{3}, asio::bind_executor(strand, [&](result<int> r) {
                       code = static_cast<int>(r.error().code());
                     }));
  REQUIRE(wait_until([&] { return code.load() != 0; }));
  CHECK(code.load() == static_cast<int>(errc::actor_stopped));
}

TEST_CASE("courier::asio::ask through a recipient<R(M)>") {
  io_thread io;  // first: destroyed after the runtime, whose workers post into it
  std::atomic<int> handled{0};
  runtime rt{{.workers = 2}};
  auto c = rt.spawn<calc>(&handled);
  courier::recipient<int(square)> to = c;
  std::atomic<int> got{0};
  std::atomic<bool> done{false};
  asio::co_spawn(
      io.io,
      [&]() -> asio::awaitable<void> {
        auto r = co_await courier::asio::ask(to, square{6}, asio::use_awaitable);
        got = r ? *r : -1;
        done = true;
      },
      asio::detached);
  REQUIRE(wait_until([&] { return done.load(); }));
  CHECK(got.load() == 36);
  CHECK(handled.load() == 1);
}

TEST_CASE("courier::asio::then posts a reply's continuation to an executor") {
  io_thread io;  // first: destroyed after the runtime, whose workers post into it
  std::atomic<int> handled{0};
  runtime rt{{.workers = 2}};
  auto c = rt.spawn<calc>(&handled);
  std::atomic<int> got{0};
  std::atomic<bool> on_io_thread{false};
  courier::asio::then(c.ask(square{5}), io.io.get_executor(), [&](result<int> r) {
    on_io_thread = std::this_thread::get_id() == io.id;
    got = *r;
  });
  REQUIRE(wait_until([&] { return got.load() == 25; }));
  CHECK(on_io_thread.load());
}

TEST_CASE("a cancellation slot abandons the wait at once; the actor still handles the request") {
  io_thread io;  // first: destroyed after the runtime, whose workers post into it
  std::atomic<int> handled{0};
  runtime rt{{.workers = 2}};
  auto c = rt.spawn<calc>(&handled);
  gate g;
  open_at_exit opener{g};
  asio::cancellation_signal signal;
  std::atomic<int> calls{0};
  std::atomic<int> code{0};
  auto discarded_before = rt.metrics().replies_discarded;
  asio::post(io.io, [&] {
    courier::asio::ask(c, held{&g, 1},
                       asio::bind_cancellation_slot(signal.slot(), asio::bind_executor(io.io, [&](result<int> r) {
                                                      code = r ? 0 : static_cast<int>(r.error().code());
                                                      calls.fetch_add(1);
                                                    })));
  });
  // `total` promises no side effect, which this operation cannot keep: ignored.
  asio::post(io.io, [&] { signal.emit(asio::cancellation_type::total); });
  asio::post(io.io, [&] { signal.emit(asio::cancellation_type::terminal); });
  REQUIRE(wait_until([&] { return calls.load() == 1; }));
  CHECK(code.load() == static_cast<int>(errc::cancelled));
  CHECK(handled.load() == 0);  // still blocked in the handler
  g.open();
  REQUIRE(wait_until([&] { return handled.load() == 1; }));
  // The reply came and went nowhere: no second call.
  auto done = c.ask(square{1});  // queued behind the held request: once it is answered, so was that one
  REQUIRE(done.get_for(30s));
  asio::post(io.io, [&] { calls.fetch_add(100); });  // a marker behind any late completion
  REQUIRE(wait_until([&] { return calls.load() >= 101; }));
  CHECK(calls.load() == 101);
  (void)discarded_before;
}

TEST_CASE("a TCP connection closed while its request is in flight: the session ends, the reply is discarded") {
  io_thread io;  // first: destroyed after the runtime, whose workers post into it
  using asio::ip::tcp;
  using namespace asio::experimental::awaitable_operators;
  std::atomic<int> handled{0};
  runtime rt{{.workers = 2}};
  auto c = rt.spawn<calc>(&handled);
  gate g;
  open_at_exit opener{g};
  tcp::acceptor acceptor(io.io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto port = acceptor.local_endpoint().port();
  std::atomic<int> outcome{0};  // 1: the client went first, 2: the reply came first
  std::atomic<bool> entered{false};
  asio::co_spawn(
      io.io,
      [&]() -> asio::awaitable<void> {
        auto socket = co_await acceptor.async_accept(asio::use_awaitable);
        std::string line;
        co_await asio::async_read_until(socket, asio::dynamic_buffer(line), '\n', asio::use_awaitable);
        // The request, raced against the client closing: the loser is cancelled.
        char byte;
        auto first = co_await (courier::asio::ask(c, held{&g, 42, &entered}, asio::use_awaitable) ||
                               socket.async_read_some(asio::buffer(&byte, 1), asio::experimental::as_tuple(asio::use_awaitable)));
        outcome = first.index() == 1 ? 1 : 2;
      },
      asio::detached);
  {
    tcp::socket client(io.io);
    client.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    asio::write(client, asio::buffer(std::string("get\n")));
    REQUIRE(wait_until([&] { return entered.load(); }));  // the actor holds the request
    CHECK(outcome.load() == 0);
  }  // the client closes with its request in the actor's hands
  REQUIRE(wait_until([&] { return outcome.load() != 0; }));
  CHECK(outcome.load() == 1);
  CHECK(handled.load() == 0);
  g.open();
  REQUIRE(wait_until([&] { return handled.load() == 1; }));  // the actor still handled it
  auto done = c.ask(square{1});
  REQUIRE(done.get_for(30s));
}
