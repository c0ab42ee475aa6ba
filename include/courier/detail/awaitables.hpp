#pragma once
// What a coroutine handler can co_await: ctx.ask(addr, m),
// ctx.ask_for(addr, m, d) and ctx.sleep_for(d). Each one, when it suspends,
// arranges one wake() of its actor: from the reply's completion, or from a
// timer. A suspension allocates nothing but the request it sends: the reply
// slot is part of the request envelope (awaited_request below), and timers
// are stored by value in the timer service. The slot is reference-counted,
// not in the frame, because stop() may destroy the frame while the reply is
// on its way.

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include <courier/detail/allocator.hpp>
#include <courier/detail/cell.hpp>
#include <courier/detail/completion.hpp>
#include <courier/detail/frame.hpp>
#include <courier/detail/messages.hpp>
#include <courier/detail/timers.hpp>
#include <courier/error.hpp>
#include <courier/task.hpp>

namespace courier::detail {

/// Awaiting a handler's coroutine promise only (not an arbitrary coroutine).
template <class P>
concept courier_promise = std::is_base_of_v<frame_base, P>;

/// The request of co_await ctx.ask: one allocation holding the message (for
/// A's mailbox), the reply channel and the awaited value.
///
/// References: the mailbox (action::release, when it moved past the node),
/// the request (run_request gives it up once the reply is complete), the
/// awaiter, and the timeout (ask_for only). Holds a strong count on the
/// awaiting actor until it delivered, so the cell's memory outlives a reply
/// that arrives after stop().
template <class A, class M>
struct awaited_request final : envelope, completion<reply_type_t<A, M>> {
  using R = reply_type_t<A, M>;

  template <class U>
  awaited_request(cell_base* waiter, std::uint32_t references, U&& m)
      : envelope(&run_fn, counted | request),
        completion<R>(&deliver_fn, &release_fn),
        slot(waiter),
        refs(references),
        message(std::forward<U>(m)) {}
  ~awaited_request() {}

  static void destroy_message(envelope* e) noexcept { static_cast<awaited_request*>(e)->message.~M(); }

  static ran run_fn(envelope* e, cell_base* base, action what) noexcept {
    auto* self = static_cast<awaited_request*>(e);
    if (what != action::release)
      return run_request<A, M>(base, e, self->message, self, what, &destroy_message, self->stamp);
    drop_reference(self);
    return ran::done;
  }

  static void deliver_fn(completion<R>* base, result<R>&& v) noexcept {
    static_cast<awaited_request*>(base)->slot.deliver(std::move(v));
  }
  static void release_fn(completion<R>* base) noexcept { drop_reference(static_cast<awaited_request*>(base)); }

  static void drop_reference(awaited_request* self) noexcept {
    if (!self->refs.release()) return;  // the last one sees the others' writes (the value, `ready`)
    self->slot.destroy_value();
    detail::destroy(self);
  }

  awaited_slot<R> slot;
  ref_count refs;
  [[no_unique_address]] enqueue_stamp<A> stamp;  // per-type metrics, when A opts in
  union {
    M message;
  };
};

/// co_await ctx.ask(addr, m) / ctx.ask_for(addr, m, d): gives result<R>.
template <class B, class M>
class [[nodiscard]] ask_awaitable {
 public:
  using R = reply_type_t<B, M>;

  ask_awaitable(cell_base* self, cell_base* target, M&& message, bool timed,
                std::chrono::steady_clock::duration timeout)
      : self_(self), target_(target), message_(std::move(message)), timed_(timed), timeout_(timeout) {}
  ask_awaitable(ask_awaitable&& other) noexcept(std::is_nothrow_move_constructible_v<M>)
      : self_(other.self_),
        target_(other.target_),
        message_(std::move(other.message_)),
        timed_(other.timed_),
        timeout_(other.timeout_),
        request_(std::exchange(other.request_, nullptr)) {}
  ask_awaitable(const ask_awaitable&) = delete;
  ask_awaitable& operator=(const ask_awaitable&) = delete;
  ~ask_awaitable() {
    if (request_) request_->release();
  }

  bool await_ready() const noexcept { return false; }

  template <courier_promise P>
  void await_suspend(std::coroutine_handle<P> h) {
    request_ = make<awaited_request<B, M>>(self_, timed_ ? 4u : 3u, std::move(message_));
    static_cast<frame_base&>(h.promise()).awaits(&awaited_slot<R>::probe, &request_->slot);
    auto* reply = static_cast<completion<R>*>(request_);
    if (timed_) add_timeout<R>(self_->sys, timeout_, reply);
    send_request(target_, request_, reply);  // a refusal completes the reply at once (action::refuse)
  }

  result<R> await_resume() noexcept { return std::move(request_->slot.value); }

  // -- for courier::when_all / when_any (courier/when.hpp) ------------------------------
  cell_base* waiter() const noexcept { return self_; }
  /// References the launch gives up on `reply`: the request's, and the timeout's.
  std::uint32_t launch_references() const noexcept { return timed_ ? 2u : 1u; }
  /// Sends the request now, its outcome completing `reply` (never throws: an
  /// allocation failure completes it with handler_failed).
  void launch(completion<R>* reply) noexcept {
    if (timed_) add_timeout<R>(self_->sys, timeout_, reply);
    try {
      post_with_reply<B>(target_, std::move(message_), reply);
    } catch (...) {  // post_with_reply completed and released the reply already
    }
  }

 private:
  cell_base* self_;
  cell_base* target_;
  M message_;
  bool timed_;
  std::chrono::steady_clock::duration timeout_;
  awaited_request<B, M>* request_ = nullptr;
};

/// The timer job of sleep_for, (cell, unused): wakes the actor when due, or
/// when the runtime shuts down first. Holds a strong count on the cell.
inline void run_wake_job(void* cell, void*, bool) noexcept {
  wake(static_cast<cell_base*>(cell));
  release_address(static_cast<cell_base*>(cell));
}

/// True once `sys`'s timer service has stopped (runtime shutdown): every
/// pending timer ran early (runtime/system/runtime.cpp).
bool timers_stopped(internal::system* sys) noexcept;

/// co_await ctx.sleep_for(d): resumes no earlier than `d` from now (or at
/// runtime shutdown); the actor handles nothing else meanwhile.
class [[nodiscard]] sleep_awaitable {
 public:
  sleep_awaitable(cell_base* self, std::chrono::steady_clock::duration delay) noexcept
      : self_(self), delay_(delay) {}

  bool await_ready() const noexcept { return false; }
  template <courier_promise P>
  void await_suspend(std::coroutine_handle<P> h) noexcept {
    deadline_ = std::chrono::steady_clock::now() + delay_;
    static_cast<frame_base&>(h.promise()).awaits(&probe, this);
    revive_address(self_);
    add_timer(self_->sys, deadline_, timer_job{&run_wake_job, self_, nullptr});
  }
  void await_resume() const noexcept {}

  /// frame_base::ready: the deadline passed, or the runtime's shutdown ran
  /// the timer early. (A time check, not a flag the job sets: the job may
  /// outlive this frame, and a sleep allocates nothing.)
  static bool probe(const void* p) noexcept {
    auto* self = static_cast<const sleep_awaitable*>(p);
    return std::chrono::steady_clock::now() >= self->deadline_ || timers_stopped(self->self_->sys);
  }

 private:
  cell_base* self_;
  std::chrono::steady_clock::duration delay_;
  std::chrono::steady_clock::time_point deadline_{};
};

}  // namespace courier::detail
