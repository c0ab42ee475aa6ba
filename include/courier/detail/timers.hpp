#pragma once
// Timer tasks: what runtime/timer/timer_service runs at a deadline.
// send_after delivers a message that was accepted when it was requested;
// a timeout completes a ctx.ask_for continuation with errc::timeout.

#include <chrono>
#include <type_traits>
#include <utility>

#include <courier/detail/allocator.hpp>
#include <courier/detail/cell.hpp>
#include <courier/detail/completion.hpp>

namespace courier::detail {

template <class A, class M>
struct message_envelope;

/// Owned by the timer service from add_timer() on; each task ends with
/// exactly one of fire() (deadline reached) or cancel() (runtime shut down
/// first), and destroys itself there.
struct timer_task {
  virtual void fire() noexcept = 0;
  virtual void cancel() noexcept = 0;

 protected:
  ~timer_task() = default;
};

/// Schedules `task`; if the runtime no longer runs timers, cancels it at once.
void add_timer(internal::system* sys, std::chrono::steady_clock::time_point when, timer_task* task) noexcept;

/// Drops an accepted message that could not be queued (counted in stats().dropped).
void drop_unqueued(cell_base* cell, envelope* e) noexcept;

/// Holds an address (a strong count) on the target until it fires.
class delivery_task final : public timer_task {
 public:
  delivery_task(cell_base* target, envelope* e) noexcept : target_(target), envelope_(e) {}

  void fire() noexcept override {
    auto outcome = deliver(target_, envelope_, true);
    if (outcome == delivery::rejected_closed || outcome == delivery::rejected_full)
      drop_unqueued(target_, envelope_);
    finish();
  }
  void cancel() noexcept override {
    drop_unqueued(target_, envelope_);
    finish();
  }

 private:
  void finish() noexcept {
    release_address(target_);
    detail::destroy(this);
  }

  cell_base* target_;
  envelope* envelope_;
};

template <class R>
class timeout_task final : public timer_task {
 public:
  explicit timeout_task(completion<R>* target) noexcept : target_(target) {}

  void fire() noexcept override {
    target_->try_complete(error{errc::timeout, "no reply in time"});
    target_->release();
    detail::destroy(this);
  }
  /// The runtime shuts down before the deadline: it can no longer wait, so
  /// the ask times out now (a handler suspended in co_await ctx.ask_for
  /// resumes and can finish; found by tools/fuzz).
  void cancel() noexcept override { fire(); }

 private:
  completion<R>* target_;
};

template <class R>
timer_task* make_timeout_task(completion<R>* target) {
  return make<timeout_task<R>>(target);
}

template <class A, class M>
void send_after(internal::system* sys, cell_base* target, M&& message,
                std::chrono::steady_clock::duration delay) {
  if (!target) return;
  auto when = std::chrono::steady_clock::now() + delay;
  auto* e = make<message_envelope<A, std::decay_t<M>>>(envelope::pre_accepted, std::forward<M>(message));
  retain_address(target);
  add_timer(sys, when, make<delivery_task>(target, e));
}

}  // namespace courier::detail
