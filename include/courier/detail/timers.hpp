#pragma once
// Timer jobs: what runtime/timer/timer_service runs at a deadline. A job is
// two words and a function, stored by value in the service's heap, so arming
// a timer allocates nothing of its own:
//   send_after    delivers a message that was accepted when it was requested;
//   timeout       completes an ask_for's reply with errc::timeout;
//   wake          resumes a coroutine handler suspended in sleep_for.
// And the timers with a handle (courier/timer.hpp): a refcounted block per
// timer (timer_block, below) whose job the service runs at each deadline.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <type_traits>
#include <utility>

#include <courier/detail/allocator.hpp>
#include <courier/detail/cell.hpp>
#include <courier/detail/completion.hpp>
#include <courier/detail/envelope.hpp>
#include <courier/detail/envelope_actions.hpp>
#include <courier/detail/type_metrics.hpp>
#include <courier/timer.hpp>

namespace courier::detail {

template <class A, class M>
struct message_envelope;
template <class A, class M>
ran handle_plain(cell_base* base, envelope* e, M& message, const enqueue_stamp<A>& stamp,
                 void (*destroy_message)(envelope*) noexcept) noexcept;

/// Runs exactly once: with `fired` true at the deadline, or false when the
/// runtime shuts down first (or no longer runs timers when it is added).
struct timer_job {
  void (*run)(void* first, void* second, bool fired) noexcept;
  void* first;
  void* second;
  /// Optional: true once the job would do nothing (a cancelled timer). The
  /// service may then run it early (not fired) to free its entry.
  bool (*revoked)(const void* first) noexcept = nullptr;
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

// -- timers with a handle (courier::timer) --------------------------------------------

/// One timer: shared by its handle, its entry in the timer service, its
/// owner's list and its outstanding tick (one reference each). The message
/// to copy into each tick follows in timer_block_of<M>.
struct timer_block {
  using clock = std::chrono::steady_clock;

  // Bits of `state`.
  /// Holds an address of the target (reachability); its deadlines deliver.
  /// Cleared once, by whoever ends it (cancel, the one-shot's firing, the
  /// target found stopped, runtime shutdown): that one drops the address.
  static constexpr std::uint32_t active = 1;
  /// Revoked: a tick already queued is dropped when reached.
  static constexpr std::uint32_t cancelled = 2;
  /// A tick is queued or being handled: a deadline that finds it is skipped.
  /// Set by the timer thread, cleared when the tick's handler returned or
  /// the tick was dropped.
  static constexpr std::uint32_t outstanding = 4;
  /// A tick's handler is running (its synchronous part: a coroutine handler
  /// until it first suspends). A cancel() from another thread waits for it.
  static constexpr std::uint32_t running = 8;
  /// A cancel() waits for `running` to clear: the handler's end notifies.
  static constexpr std::uint32_t waiter = 16;

  std::atomic<std::uint32_t> refs{0};
  std::atomic<std::uint32_t> state{active};
  /// Both cells' memory is held for the block's life; `owner` is null for
  /// a runtime's timer.
  cell_base* target = nullptr;
  cell_base* owner = nullptr;
  /// A reference on the system for the block's life (cancel() may reach
  /// its timer service from any thread, also after the runtime is gone).
  internal::system* sys = nullptr;
  /// Tick k is due at start + k * period; period zero: a one-shot.
  clock::time_point start{};
  clock::duration period{};
  std::uint64_t next_tick = 0;  // the timer thread's
  /// The owner's list of timers (guarded by the owner's extras lock).
  timer_block* prev_owned = nullptr;
  timer_block* next_owned = nullptr;
  bool linked = false;
  /// Builds the envelope of one tick (copies the message; `last`: moves it).
  /// May throw.
  envelope* (*make_tick)(timer_block*, bool last) = nullptr;
  void (*free)(timer_block*) noexcept = nullptr;
};

/// Arms `b` (its fields filled) to fire first `first` from now; returns it
/// with one reference for the handle. Never fails: a runtime that no longer
/// runs timers leaves it inactive.
timer_block* arm_timer(timer_block* b, timer_block::clock::duration first) noexcept;
/// A tick is done (handled, dropped or discarded): the timer may queue the
/// next one. Gives up the tick's reference.
void tick_done(timer_block* b) noexcept;
/// The tick's turn, before its handler: false if the timer was cancelled
/// (the tick is discarded); else marks the handler running (and takes a
/// reference for end_tick()).
bool claim_tick(timer_block* b) noexcept;
/// The handler of a claimed tick returned (or suspended).
void end_tick(timer_block* b) noexcept;

struct timer_access {
  static timer make(timer_block* b) noexcept { return timer(b); }
};

template <class M>
struct timer_block_of final : timer_block {
  using wrap_fn = envelope* (*)(timer_block*, M&&);

  template <class U>
  timer_block_of(wrap_fn w, U&& m) : wrap(w), message(std::forward<U>(m)) {
    make_tick = &tick;
    free = &free_fn;
  }

  static envelope* tick(timer_block* b, bool last) {
    auto* self = static_cast<timer_block_of*>(b);
    if constexpr (std::is_copy_constructible_v<M>) {
      if (!last) {
        M copy(self->message);
        return self->wrap(b, std::move(copy));
      }
    }
    return self->wrap(b, std::move(self->message));  // a one-shot's only tick
  }
  static void free_fn(timer_block* b) noexcept { detail::destroy(static_cast<timer_block_of*>(b)); }

  wrap_fn wrap;
  M message;
};

/// The tick of a timer: a plain message of A, unless its timer was
/// cancelled by the time its turn comes (then dropped, counted).
template <class A, class M>
struct tick_envelope final : envelope {
  tick_envelope(timer_block* b, M&& m) : envelope(&run_fn, counted | pre_accepted), block(b), message(std::move(m)) {}
  ~tick_envelope() {}

  static envelope* wrap(timer_block* b, M&& m) { return make<tick_envelope>(b, std::move(m)); }

  static void destroy_message(envelope* e) noexcept {
    auto* self = static_cast<tick_envelope*>(e);
    self->message.~M();
    tick_done(self->block);
  }

  static ran run_fn(envelope* e, cell_base* base, action what) noexcept {
    return run_message_action<tick_envelope>(e, base, what, [e](tick_envelope* self, cell_base* c) {
      auto* b = self->block;
      if (!claim_tick(b)) {  // cancelled: dropped, never handled
        destroy_message(e);
        return ran::discarded;
      }
      auto outcome = handle_plain<A, M>(c, e, self->message, self->stamp, &destroy_message);
      end_tick(b);
      return outcome;
    });
  }

  timer_block* block;  // the tick's reference
  [[no_unique_address]] enqueue_stamp<A> stamp;
  union {
    M message;
  };
};

/// Builds and arms a timer of `target` (empty: an inactive handle). M is
/// the stored message type; `period` zero: a one-shot.
template <class M, class Arg>
timer start_timer(internal::system* sys, cell_base* owner, cell_base* target, envelope* (*wrap)(timer_block*, M&&),
                  Arg&& message, timer_block::clock::duration first, timer_block::clock::duration period,
                  bool periodic) {
  if (!target || (periodic && period <= timer_block::clock::duration::zero())) return timer{};
  auto* b = make<timer_block_of<M>>(wrap, std::forward<Arg>(message));
  b->target = target;
  b->owner = owner;
  b->sys = sys;
  b->period = periodic ? period : timer_block::clock::duration::zero();
  return timer_access::make(arm_timer(b, first));
}

}  // namespace courier::detail
