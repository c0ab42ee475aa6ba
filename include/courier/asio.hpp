#pragma once
// courier and Asio (standalone Asio 1.22, Debian's libasio-dev): the two
// directions a networked service needs, with no thread blocked in either.
//
//   // Asio code into actors: ask as an Asio asynchronous operation.
//   asio::awaitable<void> session(asio::ip::tcp::socket s, courier::address<store> db) {
//     courier::result<std::string> r = co_await courier::asio::ask(db, get{"k"}, asio::use_awaitable);
//     ...
//   }
//
//   // A reply out to Asio: its continuation runs on an executor (a strand, an io_context).
//   courier::asio::then(db.ask(get{"k"}), socket.get_executor(), [](courier::result<std::string> r) { ... });
//
// The completion handler of ask() runs on its associated executor (for
// use_awaitable: the coroutine's), never on a courier worker. A bound
// cancellation slot abandons the wait: the handler gets errc::cancelled at
// once, the actor still handles the request and its reply is discarded.
// docs/asio.md has the details.
//
// Header-only; installed when Asio is found. Include it after <asio.hpp> or
// on its own (it includes the parts of Asio it needs).

#include <atomic>
#include <memory>
#include <type_traits>
#include <utility>

#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

#include <courier/address.hpp>
#include <courier/error.hpp>
#include <courier/handlers.hpp>
#include <courier/recipient.hpp>
#include <courier/reply.hpp>

namespace courier::asio {

namespace detail {

inline courier::error cancelled_error() {
  return courier::error{errc::cancelled, "the wait was cancelled; the reply will be discarded"};
}

/// One ask in flight: completed once, by the reply or by a cancellation,
/// whichever claims it first; the handler then runs on its executor.
template <class R, class Handler>
class pending_ask {
 public:
  using slot_type = ::asio::associated_cancellation_slot_t<Handler>;

  explicit pending_ask(Handler&& h)
      : handler_(std::move(h)),
        work_(::asio::make_work_guard(::asio::get_associated_executor(handler_))),
        slot_(::asio::get_associated_cancellation_slot(handler_)) {}

  /// The first caller wins. acq_rel: the winner's move from handler_ is
  /// ordered after the construction (the reply comes on another thread).
  bool claim() noexcept { return !done_.exchange(true, std::memory_order_acq_rel); }

  /// Posts the handler with `r` to its executor (the winner only).
  static void complete(std::shared_ptr<pending_ask> self, result<R> r) {
    auto ex = self->work_.get_executor();
    ::asio::post(ex, [self, r = std::move(r)]() mutable {
      if (self->slot_.is_connected()) self->slot_.clear();  // on the slot owner's executor
      auto h = std::move(self->handler_);
      self->work_.reset();
      std::move(h)(std::move(r));
    });
  }

  slot_type& slot() noexcept { return slot_; }

 private:
  std::atomic<bool> done_{false};
  Handler handler_;
  ::asio::executor_work_guard<::asio::associated_executor_t<Handler>> work_;
  slot_type slot_;
};

/// Starts `post_ask(then)` (which sends the request and hands its reply to
/// `then`), completing `handler` with the reply or with a cancellation.
template <class R, class Handler, class PostAsk>
void start_ask(Handler&& handler, PostAsk&& post_ask) {
  using op = pending_ask<R, std::decay_t<Handler>>;
  auto state = std::make_shared<op>(std::forward<Handler>(handler));
  if (state->slot().is_connected()) {
    state->slot().assign([weak = std::weak_ptr<op>(state)](::asio::cancellation_type t) {
      // Terminal or partial: the request may still be handled (its side
      // effects happen); only the wait is abandoned. Not `total`.
      if ((t & (::asio::cancellation_type::terminal | ::asio::cancellation_type::partial)) ==
          ::asio::cancellation_type::none)
        return;
      if (auto s = weak.lock(); s && s->claim()) op::complete(std::move(s), cancelled_error());
    });
  }
  post_ask([state](result<R> r) mutable {
    if (state->claim()) op::complete(std::move(state), std::move(r));
  });
}

}  // namespace detail

/// `ask` as an Asio asynchronous operation with signature void(result<R>),
/// R the reply type: any completion token (use_awaitable, a callback,
/// use_future, bind_executor(strand, f), ...). The handler runs on its
/// associated executor. A bound cancellation slot (terminal or partial)
/// completes it at once with errc::cancelled; the request still runs.
template <class A, class M, class CompletionToken>
  requires handles<A, M>
auto ask(const address<A>& to, M&& message, CompletionToken&& token) {
  using R = reply_type_t<A, M>;
  return ::asio::async_initiate<CompletionToken, void(result<R>)>(
      [](auto handler, address<A> target, std::decay_t<M> m) {
        detail::start_ask<R>(std::move(handler), [&](auto then) { target.ask(std::move(m)).then(std::move(then)); });
      },
      token, to, std::decay_t<M>(std::forward<M>(message)));
}

/// The same through a recipient<R(M)> (courier/recipient.hpp).
template <class R, class M, class CompletionToken>
auto ask(const recipient<R(M)>& to, std::type_identity_t<M> message, CompletionToken&& token) {
  return ::asio::async_initiate<CompletionToken, void(result<R>)>(
      [](auto handler, recipient<R(M)> target, M m) {
        detail::start_ask<R>(std::move(handler), [&](auto then) { target.ask(std::move(m)).then(std::move(then)); });
      },
      token, to, std::move(message));
}

/// A reply's continuation on an Asio executor (an io_context's, a
/// strand's): `f(result<R>)` is posted to `ex` when the reply arrives,
/// never run on a courier worker. Consumes the reply.
template <class R, class Executor, class F>
void then(reply<R>&& r, const Executor& ex, F&& f) {
  std::move(r).then([work = ::asio::make_work_guard(ex), f = std::decay_t<F>(std::forward<F>(f))](
                        result<R> value) mutable {
    auto target = work.get_executor();
    ::asio::post(target, [work = std::move(work), f = std::move(f), value = std::move(value)]() mutable {
      work.reset();
      f(std::move(value));
    });
  });
}

}  // namespace courier::asio
