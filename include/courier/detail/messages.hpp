#pragma once
// The typed envelopes (plain message, request) and the send paths that build
// and deliver them. One allocation per message: header and message inline.

#include <exception>
#include <new>
#include <type_traits>
#include <utility>

#include <courier/detail/allocator.hpp>
#include <courier/detail/cell.hpp>
#include <courier/detail/completion.hpp>
#include <courier/detail/envelope.hpp>
#include <courier/detail/envelope_actions.hpp>
#include <courier/detail/failure.hpp>
#include <courier/detail/type_metrics.hpp>
#include <courier/detail/type_name.hpp>
#include <courier/error.hpp>
#include <courier/handlers.hpp>
#include <courier/task.hpp>

namespace courier::detail {

template <class A>
struct cell;
struct access;

inline error stopped_error() { return error{errc::actor_stopped, "the actor has stopped"}; }
inline error full_error() { return error{errc::mailbox_full, "the actor's mailbox is full"}; }
inline error rejection_error(delivery d) {
  return d == delivery::rejected_full ? full_error() : stopped_error();
}

/// Moves a refused message back into the sender's argument (guarantee 6).
/// A message type that cannot be moved back without throwing stays as the
/// move into the envelope left it.
template <class Env, class M>
void give_back_message(envelope* e, void* target) noexcept {
  auto& from = static_cast<Env*>(e)->message;
  auto& to = *static_cast<M*>(target);
  if constexpr (std::is_nothrow_move_assignable_v<M>) {
    to = std::move(from);
  } else if constexpr (std::is_nothrow_move_constructible_v<M>) {
    std::destroy_at(&to);
    std::construct_at(&to, std::move(from));
  }
}

/// The give-back of a send whose argument is `Arg&&`: only a non-const
/// rvalue was moved from; a copy needs nothing back.
template <class Env, class Arg>
give_back give_back_to(Arg& argument) noexcept {
  if constexpr (std::is_const_v<Arg>) {
    return {};
  } else {
    // __builtin_addressof: std::addressof without including <memory>
    return {&give_back_message<Env, Arg>, static_cast<void*>(__builtin_addressof(argument))};
  }
}

inline void dispose(cell_base* cell, envelope* e) noexcept {
  e->run(e, cell, action::destroy);
  e->run(e, cell, action::release);
}

/// Runs A's handler for a request and turns its outcome into a result<R>.
template <class A, class M, class R>
result<R> call_for_reply(A& actor, M&& message, context<A>& ctx) noexcept {
  using returned = typename handler_return<A, M>::type;
  try {
    if constexpr (std::is_void_v<returned>) {
      invoke_handler(actor, std::move(message), ctx);
      return result<R>{};
    } else {
      return result<R>(invoke_handler(actor, std::move(message), ctx));
    }
  } catch (...) {
    auto failure = current_exception_error();
    failed(access::base<A>(ctx), failure.message());  // the actor's policy; the asker gets handler_failed
    return failure;
  }
}

/// Starts a coroutine handler (its handler returned a task): the frame takes
/// over the reply and the message, which lives in the envelope until the
/// frame completes (the envelope stays as the mailbox's dummy meanwhile).
template <class A, class M, class Task>
[[nodiscard]] ran start_task(cell_base* base, envelope* e, M& message, completion<typename Task::value_type>* reply,
                void (*destroy_message)(envelope*) noexcept) noexcept {
  auto* c = access::cell_of<A>(base);
  try {
    Task t = invoke_handler(c->actor, std::move(message), static_cast<context<A>&>(*c));
    auto& p = t.promise();
    p.cell = base;
    p.reply = reply;
    p.message_type = type_name_v<M>;
    p.message = e;
    p.destroy_message = destroy_message;
    auto outcome = run_frame(base, &p);
    t.release();
    return outcome;
  } catch (...) {  // only the frame's allocation can throw here
    if (reply) {
      failed(base, current_exception_text());
      reply->try_complete(current_exception_error(), base->sys);
      reply->release();
    } else {
      report_failure(base, type_name_v<M>, current_exception_text());
      failed(base, current_exception_text());
    }
    destroy_message(e);
    return ran::done;
  }
}

/// Runs A's handler for a plain message (a send, a timer's tick): its return
/// value is discarded; an exception goes to the error hook. The message goes
/// with `destroy_message`, after the handler (a coroutine handler's frame
/// calls it when it completes).
template <class A, class M>
[[nodiscard]] ran handle_plain(cell_base* base, envelope* e, M& message, const enqueue_stamp<A>& stamp,
                               void (*destroy_message)(envelope*) noexcept) noexcept {
  using returned = typename handler_return<A, M>::type;
  auto* c = access::cell_of<A>(base);
  handler_timer<A> timing(c->measure, base, e, stamp);
  if constexpr (is_task<returned>::value) {
    auto outcome = start_task<A, M, returned>(base, e, message, nullptr, destroy_message);
    timing.stop();
    return outcome;
  } else {
    call_reporting(base, &type_name<M>, [&] {
      (void)invoke_handler(c->actor, std::move(message), static_cast<context<A>&>(*c));
    });
    timing.stop();
    destroy_message(e);
    return ran::done;
  }
}

/// A plain send.
template <class A, class M>
struct message_envelope final : envelope {
  template <class U>
  message_envelope(std::uint32_t extra_flags, U&& m)
      : envelope(&run_fn, counted | extra_flags), message(std::forward<U>(m)) {}
  ~message_envelope() {}

  static void destroy_message(envelope* e) noexcept { static_cast<message_envelope*>(e)->message.~M(); }

  static ran run_fn(envelope* e, cell_base* base, action what) noexcept {
    return run_message_action<message_envelope>(e, base, what, [e](message_envelope* self, cell_base* b) {
      return handle_plain<A, M>(b, e, self->message, self->stamp, &destroy_message);
    });
  }

  [[no_unique_address]] enqueue_stamp<A> stamp;  // per-type metrics, when A opts in
  union {
    M message;
  };
};

/// What a request envelope does for handle / destroy: the handler's
/// outcome (or actor_stopped) completes `reply`, exactly once, and gives up
/// the request's reference on it. Shared by request_envelope and the
/// awaited request of co_await ctx.ask (awaitables.hpp).
template <class A, class M>
[[nodiscard]] ran run_request(cell_base* base, envelope* e, M& message, completion<reply_type_t<A, M>>* reply, action what,
                 void (*destroy_message)(envelope*) noexcept, const enqueue_stamp<A>& stamp) noexcept {
  using returned = typename handler_return<A, M>::type;
  if (what == action::handle) {
    auto* c = access::cell_of<A>(base);
    handler_timer<A> timing(c->measure, base, e, stamp);
    if constexpr (is_task<returned>::value) {
      auto outcome = start_task<A, M, returned>(base, e, message, reply, destroy_message);
      timing.stop();
      return outcome;
    } else {
      auto outcome = call_for_reply<A, M, reply_type_t<A, M>>(c->actor, std::move(message),
                                                              static_cast<context<A>&>(*c));
      timing.stop();
      message.~M();
      reply->try_complete(std::move(outcome), base->sys);
    }
  } else if (what == action::refuse) {  // refused by a closed mailbox: the sender learns now
    reply->try_complete(stopped_error(), base ? base->sys : nullptr);
    return ran::done;  // the message and the request's reference stay for `destroy`
  } else {  // destroy
    message.~M();
    reply->try_complete(stopped_error(), base ? base->sys : nullptr);
  }
  reply->release();
  return ran::done;
}

/// A request: the handler's outcome completes `reply` (exactly once, also
/// when the message is dropped or refused).
template <class A, class M>
struct request_envelope final : envelope {
  using reply_type = reply_type_t<A, M>;

  template <class U>
  request_envelope(completion<reply_type>* r, U&& m)
      : envelope(&run_fn, counted | request), reply(r), message(std::forward<U>(m)) {}
  ~request_envelope() {}

  static void destroy_message(envelope* e) noexcept { static_cast<request_envelope*>(e)->message.~M(); }

  static ran run_fn(envelope* e, cell_base* base, action what) noexcept {
    auto* self = static_cast<request_envelope*>(e);
    if (what != action::release)
      return run_request<A, M>(base, e, self->message, self->reply, what, &destroy_message, self->stamp);
    detail::destroy(self);
    return ran::done;
  }

  completion<reply_type>* reply;
  [[no_unique_address]] enqueue_stamp<A> stamp;  // per-type metrics, when A opts in
  union {
    M message;
  };
};

template <class A, class M>
result<void> post(cell_base* cell, M&& message) {
  using plain = std::decay_t<M>;
  using env = message_envelope<A, plain>;
  auto* e = make<env>(0u, std::forward<M>(message));
  give_back back;
  if constexpr (!std::is_lvalue_reference_v<M>) back = give_back_to<env>(message);
  auto outcome = deliver(cell, e, false, back);
  switch (outcome) {
    case delivery::accepted:
      return {};
    case delivery::refused_queued:
      return stopped_error();
    case delivery::rejected_closed:
    case delivery::rejected_full:
      dispose(cell, e);
      return rejection_error(outcome);
  }
  return {};
}

/// Queues the request envelope `e` whose outcome completes `reply` (`e`
/// holds the request's reference on it). Any refusal completes `reply` with
/// the error before this returns: a rejection here (and `e` is disposed of),
/// a refusal that raced the close in the push (action::refuse).
template <class R>
void send_request(cell_base* cell, envelope* e, completion<R>* reply, give_back back = {}) noexcept {
  if (!cell) {
    back(e);
    reply->try_complete(error{errc::actor_stopped, "empty address"});
    dispose(cell, e);
    return;
  }
  auto outcome = deliver(cell, e, false, back);
  if (outcome == delivery::rejected_closed || outcome == delivery::rejected_full) {
    reply->try_complete(rejection_error(outcome), cell->sys);
    dispose(cell, e);
  }
}

/// Queues a request whose outcome completes `reply` (the caller passes the
/// request's reference on it); a refusal completes `reply` at once.
template <class A, class M>
void post_with_reply(cell_base* cell, M&& message, completion<reply_type_t<A, M>>* reply) {
  using plain = std::decay_t<M>;
  using env = request_envelope<A, plain>;
  env* e;
  try {
    e = make<env>(reply, std::forward<M>(message));
  } catch (...) {
    reply->try_complete(error{errc::handler_failed, "the request could not be built"});
    reply->release();
    throw;
  }
  give_back back;
  if constexpr (!std::is_lvalue_reference_v<M>) back = give_back_to<env>(message);
  send_request(cell, e, reply, back);
}

template <class A, class M>
reply<reply_type_t<A, M>> post_request(cell_base* cell, M&& message) {
  using R = reply_type_t<A, M>;
  auto* state = reply_state<R>::create();  // two references: ours (the reply) and the request's
  post_with_reply<A>(cell, std::forward<M>(message), state);  // a refusal completed the state already
  return reply<R>(state);
}

}  // namespace courier::detail

#include <courier/detail/continuation.hpp>
#include <courier/detail/timers.hpp>
