#pragma once
// courier::timer: the handle of a periodic timer (ctx.send_every /
// runtime::send_every) or of a one-shot you can revoke
// (send_after(..., courier::cancellable)). Move-only; destroying it cancels
// the timer, detach() lets it run without the handle.
//
//   struct heartbeat {
//     courier::timer beat;
//     void on_start(courier::context<heartbeat>& ctx) {
//       beat = ctx.send_every(ctx.self(), tick{}, std::chrono::milliseconds(100));
//     }
//     void on(tick, courier::context<heartbeat>&) { ... }
//   };
//
// docs/api.md ("Timers") has the rules: the fixed grid, at most one tick
// outstanding (a deadline that finds one is skipped, never queued), and a
// cancel() after which no tick of the timer is handled, even one queued.

#include <utility>

namespace courier {

namespace detail {
struct timer_block;
struct timer_access;
/// The timer calls of libcourier (runtime/timer/timers.cpp).
void cancel_timer(timer_block* b) noexcept;
void release_timer(timer_block* b) noexcept;
bool timer_active(const timer_block* b) noexcept;
}  // namespace detail

/// Tag of the send_after form that returns a courier::timer.
inline constexpr struct cancellable_t {
  explicit cancellable_t() = default;
} cancellable{};

class timer {
 public:
  /// An inactive handle.
  timer() noexcept = default;
  timer(timer&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
  /// Cancels the timer this handle held, then takes `other`'s.
  timer& operator=(timer&& other) noexcept {
    if (this != &other) {
      reset();
      block_ = std::exchange(other.block_, nullptr);
    }
    return *this;
  }
  timer(const timer&) = delete;
  timer& operator=(const timer&) = delete;
  /// Cancels (RAII).
  ~timer() { reset(); }

  /// Once this returns, no handler of this timer's ticks starts, including
  /// a tick already queued (dropped, and counted in stats().dropped). A
  /// handler already running finishes. Idempotent; any thread.
  void cancel() noexcept {
    if (block_) detail::cancel_timer(block_);
  }
  /// Lets the timer run without this handle: until its owner stops or
  /// restarts, or its target stops (a runtime's timer: until the target
  /// stops or the runtime shuts down). The handle becomes inactive.
  void detach() noexcept {
    if (block_) detail::release_timer(std::exchange(block_, nullptr));
  }
  /// Scheduled, not cancelled, and its owner and target alive. A one-shot is
  /// inactive once it fired.
  bool active() const noexcept { return block_ && detail::timer_active(block_); }

 private:
  friend struct detail::timer_access;
  explicit timer(detail::timer_block* b) noexcept : block_(b) {}

  void reset() noexcept {
    if (auto* b = std::exchange(block_, nullptr)) {
      detail::cancel_timer(b);
      detail::release_timer(b);
    }
  }

  detail::timer_block* block_ = nullptr;
};

}  // namespace courier
