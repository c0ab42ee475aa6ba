#pragma once
// What a coroutine handler can co_await: ctx.ask(addr, m),
// ctx.ask_for(addr, m, d) and ctx.sleep_for(d). Each one, when it suspends,
// arranges one wake() of its actor: from the reply's completion, or from a
// timer. The awaited value lives in a small reference-counted slot, not in
// the frame, because stop() may destroy the frame while a reply is on its way.

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
#include <courier/detail/timers.hpp>
#include <courier/error.hpp>
#include <courier/task.hpp>

namespace courier::detail {

template <class A, class M>
delivery post_with_reply(cell_base* cell, M&& message, completion<reply_type_t<A, M>>* reply);

/// Awaiting a handler's coroutine promise only (not an arbitrary coroutine).
template <class P>
concept courier_promise = std::is_base_of_v<frame_base, P>;

/// References: the awaiter, the request, the timeout (ask_for only). Holds a
/// strong count on the awaiting actor until it delivered (so the cell's
/// memory outlives a reply that arrives after stop()).
template <class R>
struct await_slot final : completion<R> {
  await_slot(cell_base* waiter, std::uint32_t references) noexcept
      : completion<R>(&deliver_fn, &release_fn), cell(waiter), refs(references) {
    revive_address(waiter);
  }

  static void deliver_fn(completion<R>* base, result<R>&& v) noexcept {
    auto* self = static_cast<await_slot*>(base);
    ::new (static_cast<void*>(&self->value)) result<R>(std::move(v));
    self->ready = true;  // plain: published by wake()'s acq_rel RMW, read after the turn's acquire
    wake(self->cell);
    release_address(self->cell);
  }
  static void release_fn(completion<R>* base) noexcept {
    auto* self = static_cast<await_slot*>(base);
    // acq_rel: the last holder must see the others' writes before destroying
    if (self->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    if (self->ready) self->value.~result<R>();
    detail::destroy(self);
  }

  cell_base* cell;
  std::atomic<std::uint32_t> refs;
  bool ready = false;
  union {
    result<R> value;
  };
  ~await_slot() {}
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
        slot_(std::exchange(other.slot_, nullptr)) {}
  ask_awaitable(const ask_awaitable&) = delete;
  ask_awaitable& operator=(const ask_awaitable&) = delete;
  ~ask_awaitable() {
    if (slot_) slot_->release();
  }

  bool await_ready() const noexcept { return false; }

  template <courier_promise P>
  void await_suspend(std::coroutine_handle<P>) {
    slot_ = make<await_slot<R>>(self_, timed_ ? 3u : 2u);
    if (timed_) add_timer(self_->sys, std::chrono::steady_clock::now() + timeout_, make_timeout_task<R>(slot_));
    post_with_reply<B>(target_, std::move(message_), static_cast<completion<R>*>(slot_));
  }

  result<R> await_resume() noexcept { return std::move(slot_->value); }

 private:
  cell_base* self_;
  cell_base* target_;
  M message_;
  bool timed_;
  std::chrono::steady_clock::duration timeout_;
  await_slot<R>* slot_ = nullptr;
};

/// The timer task of sleep_for: wakes the actor when due, or when the
/// runtime shuts down first.
class wake_task final : public timer_task {
 public:
  explicit wake_task(cell_base* cell) noexcept : cell_(cell) { revive_address(cell); }
  void fire() noexcept override { finish(); }
  void cancel() noexcept override { finish(); }

 private:
  void finish() noexcept {
    wake(cell_);
    release_address(cell_);
    detail::destroy(this);
  }
  cell_base* cell_;
};

/// co_await ctx.sleep_for(d): resumes no earlier than `d` from now (or at
/// runtime shutdown); the actor handles nothing else meanwhile.
class [[nodiscard]] sleep_awaitable {
 public:
  sleep_awaitable(cell_base* self, std::chrono::steady_clock::duration delay) noexcept
      : self_(self), delay_(delay) {}

  bool await_ready() const noexcept { return false; }
  template <courier_promise P>
  void await_suspend(std::coroutine_handle<P>) {
    add_timer(self_->sys, std::chrono::steady_clock::now() + delay_, make<wake_task>(self_));
  }
  void await_resume() const noexcept {}

 private:
  cell_base* self_;
  std::chrono::steady_clock::duration delay_;
};

}  // namespace courier::detail
