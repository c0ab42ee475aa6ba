#pragma once
// The one-shot reply channel. A completion<R> is what a request envelope
// points at; exactly one of the handler, the drop path or a timeout claims it
// (try_complete) and delivers a result<R>. Two kinds exist:
//   reply_state<R>  (here)            the caller's side of address::ask: waitable, then()-able
//   continuation<R, F>  (continuation.hpp)  ctx.ask: the result is mailed back to the asker
//
// Memory ordering: everything the handler did before returning is visible to
// whoever reads the result (get(), then()'s callback, the continuation).

#include <atomic>
#include <cstdint>
#include <new>
#include <utility>

#include <courier/detail/allocator.hpp>
#include <courier/detail/chaos.hpp>
#include <courier/detail/futex.hpp>
#include <courier/detail/ref_count.hpp>
#include <courier/error.hpp>
#include <courier/fwd.hpp>

namespace courier::detail {

/// Counts a reply that completed with `code` in `sys`'s metrics().replies_failed.
void count_failed_reply(internal::system* sys, errc code) noexcept;

template <class R>
struct completion {
  using deliver_fn = void (*)(completion*, result<R>&&) noexcept;
  using release_fn = void (*)(completion*) noexcept;

  completion(deliver_fn on_complete, release_fn on_release) noexcept
      : deliver_(on_complete), release_(on_release) {}

  /// Completes with `value` unless someone already did; true if this call won.
  /// An error that wins is counted in `counted_in`'s metrics (the runtime of
  /// the actor the request went to; null: not counted, e.g. an empty address).
  bool try_complete(result<R>&& value, internal::system* counted_in = nullptr) noexcept {
    // relaxed: the exchange only elects the single completer (RMWs on one word
    // are totally ordered); the value itself is published by deliver_'s own
    // release (reply_state::state_ or the continuation's mailbox push).
    COURIER_DETAIL_CHAOS_POINT("reply: before claiming");
    if (claimed_.exchange(1, std::memory_order_relaxed) != 0) return false;
    COURIER_DETAIL_CHAOS_POINT("reply: claimed, before delivering");
    if (!value.has_value() && counted_in) count_failed_reply(counted_in, value.error().code());
    deliver_(this, std::move(value));
    return true;
  }

  /// Gives up one reference (each holder releases exactly once).
  void release() noexcept { release_(this); }

 private:
  std::atomic<std::uint32_t> claimed_{0};
  deliver_fn deliver_;
  release_fn release_;
};

/// Type-erased callback installed by reply::then().
template <class R>
struct reply_callback {
  void (*invoke)(reply_callback*, result<R>&&) noexcept;
  void (*destroy)(reply_callback*) noexcept;
};

template <class R, class F>
struct reply_callback_impl final : reply_callback<R> {
  explicit reply_callback_impl(F&& f) : reply_callback<R>{&invoke_fn, &destroy_fn}, fn(std::move(f)) {}
  static void invoke_fn(reply_callback<R>* self, result<R>&& value) noexcept {
    static_cast<reply_callback_impl*>(self)->fn(std::move(value));
  }
  static void destroy_fn(reply_callback<R>* self) noexcept {
    detail::destroy(static_cast<reply_callback_impl*>(self));
  }
  F fn;
};

/// The shared state of one address::ask: two references, the reply<R> handle
/// and the request envelope.
///
/// state_ bits:  ready (the value is stored)  waiting (a thread sleeps on the
/// futex)  callback (then() installed one). ready is set once, by the
/// completer; callback once, by then(); whichever of the two comes second
/// runs the callback, so it runs exactly once.
template <class R>
class reply_state final : public completion<R> {
 public:
  static constexpr std::uint32_t ready = 1;
  static constexpr std::uint32_t waiting = 2;
  static constexpr std::uint32_t has_callback = 4;

  reply_state() noexcept : completion<R>(&deliver_fn, &release_fn) {}

  static reply_state* create() { return make<reply_state>(); }

  bool is_ready() const noexcept {
    return (state_.load(std::memory_order_acquire) & ready) != 0;  // acquire: pairs with the release fetch_or in deliver_fn; makes the value readable
  }

  /// Blocks until ready or until `until` (if `timed`); true when ready.
  /// Spins briefly first: a reply usually arrives within a few microseconds,
  /// and a futex sleep plus wake-up costs more than that.
  bool wait(bool timed, deadline until) noexcept {
    for (int spin = 0; spin < spin_limit; ++spin) {
      if (state_.load(std::memory_order_acquire) & ready) return true;  // acquire: pairs with deliver_fn's release fetch_or
      if ((spin & 63) == 63 && timed && std::chrono::steady_clock::now() >= until) return false;
      spin_pause();
    }
    for (;;) {
      auto s = state_.load(std::memory_order_acquire);  // acquire: pairs with deliver_fn's release fetch_or
      if (s & ready) return true;
      if (timed && std::chrono::steady_clock::now() >= until) return false;
      if (!(s & waiting)) {
        // relaxed: only announces the sleeper; the value is read after the acquire load above
        if (!state_.compare_exchange_weak(s, s | waiting, std::memory_order_relaxed)) continue;
        s |= waiting;
      }
      futex_wait(state_, s, timed, until);
    }
  }

  /// @pre is_ready(); the caller owns the handle's reference.
  result<R> take() noexcept { return std::move(*value()); }

  /// Installs `callback`; runs it now (on this thread) if the value is there.
  /// Consumes the handle's reference.
  void set_callback(reply_callback<R>* callback) noexcept {
    callback_ = callback;
    // acq_rel: release publishes callback_ to deliver_fn (which reads it after
    // its own fetch_or); acquire makes the value readable if it is already ready.
    auto old = state_.fetch_or(has_callback, std::memory_order_acq_rel);
    if (old & ready) run_callback();
  }

 private:
  static constexpr int spin_limit = 4096;  // about 20 us of pause instructions

  static void spin_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

  result<R>* value() noexcept { return std::launder(reinterpret_cast<result<R>*>(&storage_)); }

  void run_callback() noexcept {
    callback_->invoke(callback_, std::move(*value()));
    callback_->destroy(callback_);
    callback_ = nullptr;
    this->release();
  }

  static void deliver_fn(completion<R>* base, result<R>&& value) noexcept {
    auto* self = static_cast<reply_state*>(base);
    ::new (static_cast<void*>(&self->storage_)) result<R>(std::move(value));
    // acq_rel: release publishes the value to wait()/is_ready()/set_callback();
    // acquire pairs with set_callback's fetch_or so callback_ is readable.
    auto old = self->state_.fetch_or(ready, std::memory_order_acq_rel);
    if (old & has_callback) self->run_callback();
    if (old & waiting) futex_wake_all(self->state_);
  }

  static void release_fn(completion<R>* base) noexcept {
    auto* self = static_cast<reply_state*>(base);
    if (!self->refs_.release()) return;
    if (self->state_.load(std::memory_order_relaxed) & ready) self->value()->~result<R>();  // relaxed: ordered by the acq_rel decrement in release()
    if (self->callback_) self->callback_->destroy(self->callback_);
    detail::destroy(self);
  }

  ref_count refs_{2};
  std::atomic<std::uint32_t> state_{0};
  reply_callback<R>* callback_ = nullptr;
  alignas(result<R>) unsigned char storage_[sizeof(result<R>)];
};

}  // namespace courier::detail
