#pragma once
// Timer jobs: what runtime/timer/timer_service runs at a deadline. A job is
// two words and a function, stored by value in the service's heap, so arming
// a timer allocates nothing of its own:
//   send_after    delivers a message that was accepted when it was requested;
//   timeout       completes an ask_for's reply with errc::timeout;
//   wake          resumes a coroutine handler suspended in sleep_for.

#include <chrono>
#include <type_traits>
#include <utility>

#include <courier/detail/allocator.hpp>
#include <courier/detail/cell.hpp>
#include <courier/detail/completion.hpp>

namespace courier::detail {

template <class A, class M>
struct message_envelope;

/// Runs exactly once: with `fired` true at the deadline, or false when the
/// runtime shuts down first (or no longer runs timers when it is added).
struct timer_job {
  void (*run)(void* first, void* second, bool fired) noexcept;
  void* first;
  void* second;
};

/// Schedules `job`; if the runtime no longer runs timers, runs it at once
/// with fired = false.
void add_timer(internal::system* sys, std::chrono::steady_clock::time_point when, timer_job job) noexcept;

/// Drops an accepted message that could not be queued (counted in stats().dropped).
void drop_unqueued(cell_base* cell, envelope* e) noexcept;

/// send_after: (target, envelope). Holds an address (a strong count) on the
/// target until it runs.
void run_delivery_job(void* target, void* e, bool fired) noexcept;

/// ask_for's timeout: (completion<R>*, the system it counts in). Holds one reference on the
/// completion. Also when cancelled: the runtime shuts down before the
/// deadline and can no longer wait, so the ask times out now (a handler
/// suspended in co_await ctx.ask_for resumes and can finish; found by
/// tools/fuzz).
template <class R>
void run_timeout_job(void* target, void* sys, bool) noexcept {
  auto* reply = static_cast<completion<R>*>(target);
  reply->try_complete(error{errc::timeout, "no reply in time"}, static_cast<internal::system*>(sys));
  reply->release();
}

/// Arms the timeout of an ask_for; the caller gave `reply` a reference for it.
template <class R>
void add_timeout(internal::system* sys, std::chrono::steady_clock::duration timeout, completion<R>* reply) noexcept {
  add_timer(sys, std::chrono::steady_clock::now() + timeout, timer_job{&run_timeout_job<R>, reply, sys});
}

template <class A, class M>
void send_after(internal::system* sys, cell_base* target, M&& message,
                std::chrono::steady_clock::duration delay) {
  if (!target) return;
  auto when = std::chrono::steady_clock::now() + delay;
  auto* e = make<message_envelope<A, std::decay_t<M>>>(envelope::pre_accepted, std::forward<M>(message));
  retain_address(target);
  add_timer(sys, when, timer_job{&run_delivery_job, target, e});
}

}  // namespace courier::detail
