#pragma once
// reply<R>: the caller's side of a one-shot reply channel (address::ask).
//
// Memory ordering: everything the handler did before it returned is visible
// to the thread that obtains the result through get(), get_for() or then().

#include <chrono>
#include <utility>

#include <courier/detail/completion.hpp>
#include <courier/detail/futex.hpp>
#include <courier/error.hpp>

namespace courier {

namespace detail {
inline error would_block_error() {
  return error{errc::would_block, "a blocking wait inside a handler would stall its worker; use ctx.ask"};
}
}  // namespace detail

/// Completes exactly once: with the handler's value, the handler's error
/// (handler_failed, or the error it returned), actor_stopped (the actor died
/// or dropped the request) or, for get_for only, timeout. Move-only; dropping
/// it is fine (the handler still runs, its answer is discarded).
template <class R>
class reply {
 public:
  using value_type = R;

  reply() noexcept = default;
  explicit reply(detail::reply_state<R>* state) noexcept : state_(state) {}
  reply(reply&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  reply& operator=(reply&& other) noexcept {
    if (this != &other) {
      reset();
      state_ = std::exchange(other.state_, nullptr);
    }
    return *this;
  }
  reply(const reply&) = delete;
  reply& operator=(const reply&) = delete;
  ~reply() { reset(); }

  /// Blocks the calling thread until the reply arrives, and consumes it.
  /// Inside a handler it never waits: it consumes the reply, reports the
  /// call through the error hook and gives errc::would_block.
  result<R> get() {
    if (detail::refuse_blocking_call("reply::get")) {
      reset();
      return detail::would_block_error();
    }
    if (!state_) return error{errc::actor_stopped, "empty reply"};
    state_->wait(false, {});
    return consume();
  }

  /// Like get(), but gives error `timeout` after `timeout` and leaves the
  /// reply pending (wait again, or drop it). Inside a handler it never
  /// waits: errc::would_block at once, the reply left pending, reported
  /// through the error hook.
  template <class Rep, class Period>
  result<R> get_for(std::chrono::duration<Rep, Period> timeout) {
    if (detail::refuse_blocking_call("reply::get_for")) return detail::would_block_error();
    if (!state_) return error{errc::actor_stopped, "empty reply"};
    auto until = std::chrono::steady_clock::now() +
                 std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout);
    if (!state_->wait(true, until)) return error{errc::timeout, "no reply in time"};
    return consume();
  }

  /// Runs `f(result<R>)` when the reply arrives: on the completing thread,
  /// or at once on this thread if it already has. Consumes the reply. `f`
  /// must not block. Inside a handler use ctx.ask(addr, m, f) instead.
  template <class F>
  void then(F&& f) {
    if (!state_) {
      f(result<R>(error{errc::actor_stopped, "empty reply"}));
      return;
    }
    using callback = detail::reply_callback_impl<R, std::decay_t<F>>;
    auto* cb = detail::make<callback>(std::decay_t<F>(std::forward<F>(f)));
    std::exchange(state_, nullptr)->set_callback(cb);
  }

  /// Has it completed?
  bool ready() const noexcept { return state_ == nullptr || state_->is_ready(); }

 private:
  result<R> consume() noexcept {
    auto* state = std::exchange(state_, nullptr);
    auto value = state->take();
    state->release();
    return value;
  }

  void reset() noexcept {
    if (state_) std::exchange(state_, nullptr)->release();
  }

  detail::reply_state<R>* state_ = nullptr;
};

}  // namespace courier
