// Timers with a handle (courier::timer): arming, the deadline job, the tick's
// end, cancel, and the owner's list that a stop or a restart revokes.
//
// A timer_block (detail/timers.hpp) is shared by its handle, its service
// entry, its owner's list and its outstanding tick, one reference each. Its
// `state` word carries three bits:
//   active       it holds an address of the target. Cleared exactly once
//                (cancel, a one-shot's firing, the target found stopped,
//                runtime shutdown); whoever clears it drops the address.
//   cancelled    revoked: the tick's turn checks it before the handler.
//   outstanding  a tick is queued or being handled; set by the timer thread
//                (the only setter), cleared by the tick's end. A deadline
//                that finds it set is skipped: never more than one tick.
//   running      a tick's handler runs. Claimed by a CAS that fails on
//                `cancelled`, so a tick is either discarded or running when
//                a cancel() lands; a cancel() from another thread then waits
//                for the handler to return (`waiter` asks for the notify).
//                After cancel() returns, no tick handler of the timer runs,
//                and none starts. A thread that is itself inside a tick
//                handler does not wait (two handlers cancelling each
//                other's timers would wait for each other); nor does the
//                handler's own turn (it is the one running).

#include <algorithm>
#include <mutex>

#include <courier/detail/allocator.hpp>
#include <courier/detail/cell.hpp>
#include <courier/detail/timers.hpp>

#include "runtime/actor/core.hpp"
#include "runtime/actor/extras.hpp"
#include "runtime/actor/lifecycle.hpp"
#include "runtime/mailbox/mailbox.hpp"
#include "runtime/support/chaos.hpp"
#include "runtime/system/system.hpp"

namespace courier::detail {

using internal::core_of;
using internal::state;
using clock = timer_block::clock;

namespace {

/// Tick handlers running on this thread (0 or 1; a tick handler's own
/// nested turns are not possible, but counting costs nothing).
thread_local int ticks_running_here = 0;

void retain_block(timer_block* b) noexcept {
  b->refs.fetch_add(1, std::memory_order_relaxed);  // relaxed: the caller holds a reference
}

/// Clears `active`; true if this call did (it owns the address then).
bool deactivate(timer_block* b) noexcept {
  // acq_rel: one clearer wins (fetch_and is the arbiter); it then drops the
  // address the arming took, after the timer thread's last use of it.
  return b->state.fetch_and(~timer_block::active, std::memory_order_acq_rel) & timer_block::active;
}

void drop_address(timer_block* b) noexcept { release_address(b->target); }

/// Takes `b` out of its owner's list (if it is still there).
void unlink_owned(timer_block* b) noexcept {
  if (!b->owner) return;
  auto* x = internal::extras_if_any(core_of(*b->owner));
  if (!x) return;  // never linked: the owner's extras exist once it linked one
  bool was_linked = false;
  {
    std::lock_guard lock(x->mutex);
    if (b->linked) {
      b->linked = false;
      was_linked = true;
      if (b->prev_owned) b->prev_owned->next_owned = b->next_owned;
      else x->timers = b->next_owned;
      if (b->next_owned) b->next_owned->prev_owned = b->prev_owned;
      b->prev_owned = b->next_owned = nullptr;
    }
  }
  if (was_linked) release_timer(b);  // the list's reference (never the last: the caller holds one)
}

/// The job's probe: a revoked timer's entry may be dropped before it is due.
bool job_revoked(const void* block) noexcept {
  auto* b = static_cast<const timer_block*>(block);
  // relaxed: a hint for compaction; the job itself reloads the state
  return !(b->state.load(std::memory_order_relaxed) & timer_block::active);
}

void run_timer_job(void* block, void*, bool fired) noexcept;

void schedule(timer_block* b) noexcept {
  auto when = b->start + b->period * static_cast<clock::rep>(b->next_tick);
  b->sys->timers().add(when, timer_job{&run_timer_job, b, nullptr, &job_revoked});
}

/// A deadline (fired), or the runtime's shutdown / a compaction (not fired).
/// Owns the entry's reference.
void run_timer_job(void* block, void*, bool fired) noexcept {
  auto* b = static_cast<timer_block*>(block);
  if (!fired) {
    if (deactivate(b)) drop_address(b);  // shutdown: queued ticks follow the drain rules
    release_timer(b);
    return;
  }
  // acquire: pairs with deactivate()'s acq_rel in a cancel; a cleared bit
  // means the address is gone (or going): nothing more to deliver.
  auto s = b->state.load(std::memory_order_acquire);
  if (!(s & timer_block::active)) {
    release_timer(b);
    return;
  }
  bool one_shot = b->period == clock::duration::zero();
  auto counters = internal::counters_here(*b->sys);
  bool target_gone = false;
  bool address_ours = false;  // a one-shot's `active`, cleared by us before its push
  if (s & timer_block::outstanding) {
    counters.add(&internal::counter_set::ticks_skipped);
  } else {
    envelope* e = nullptr;
    try {
      e = b->make_tick(b, one_shot);
    } catch (...) {
      counters.add(&internal::counter_set::ticks_skipped);  // out of memory: this deadline is lost, not the timer
    }
    if (e) {
      retain_block(b);  // the tick's
      // relaxed: we are the only setter, and the tick's push (a release in
      // the mailbox) publishes it to the turn that clears it in tick_done()
      b->state.fetch_or(timer_block::outstanding, std::memory_order_relaxed);
      // A one-shot is inactive once queued: cleared before the push (its
      // handler may run at once), its address dropped after it.
      if (one_shot) address_ours = deactivate(b);
      COURIER_CHAOS_POINT("timer: tick built, before its push (racing cancel)");
      auto outcome = deliver(b->target, e, true);
      if (outcome == delivery::rejected_closed || outcome == delivery::rejected_full) {
        drop_unqueued(b->target, e);  // counted; its destroy ran tick_done()
        target_gone = true;
      } else if (outcome == delivery::refused_queued) {
        target_gone = true;  // the closed mailbox drops it (counted)
      }
    }
  }
  if (one_shot || target_gone) {
    // A one-shot stays in its owner's list until its tick ends (a restart
    // still revokes it while queued); a stopped target's timer leaves now.
    if (deactivate(b) || address_ours) drop_address(b);
    if (target_gone) unlink_owned(b);
    release_timer(b);
    return;
  }
  // The next grid point after now: a late deadline shifts nothing, and the
  // points a stall jumped over are skipped.
  auto now = clock::now();
  auto due = static_cast<std::uint64_t>((now - b->start) / b->period) + 1;
  if (due > b->next_tick + 1) counters.add(&internal::counter_set::ticks_skipped, due - b->next_tick - 1);
  b->next_tick = std::max(due, b->next_tick + 1);
  schedule(b);  // the entry's reference moves to the new entry
}

}  // namespace

timer_block* arm_timer(timer_block* b, clock::duration first) noexcept {
  // The handle's and the service entry's references.
  b->refs.store(2, std::memory_order_relaxed);  // relaxed: not shared yet
  state::hold_memory(core_of(*b->target));
  if (b->owner) state::hold_memory(core_of(*b->owner));
  b->sys->retain();
  retain_address(b->target);  // `active`: the caller passed an address
  b->start = clock::now() + std::max(first, clock::duration::zero());
  b->next_tick = 0;
  if (b->owner) {
    bool closed = true;
    try {
      auto& x = internal::extras_of(core_of(*b->owner));
      std::lock_guard lock(x.mutex);
      if (!x.closed) {
        closed = false;
        b->linked = true;
        b->next_owned = x.timers;
        if (x.timers) x.timers->prev_owned = b;
        x.timers = b;
        retain_block(b);  // the list's
      }
    } catch (...) {
      // out of memory for the owner's extras: treated as an owner that ended
    }
    if (closed) {  // the owner has ended: the timer never runs
      cancel_timer(b);
      run_timer_job(b, nullptr, false);  // the entry's reference
      return b;
    }
  }
  schedule(b);
  return b;
}

void tick_done(timer_block* b) noexcept {
  // release: the handler's effects before the next tick's queueing (the
  // timer thread's acquire load in run_timer_job()).
  b->state.fetch_and(~timer_block::outstanding, std::memory_order_release);
  if (b->period == clock::duration::zero()) unlink_owned(b);  // a one-shot's only tick
  release_timer(b);
}

bool claim_tick(timer_block* b) noexcept {
  // acquire: pairs with cancel_timer()'s acq_rel fetch_or; the CAS orders
  // the claim against a cancel: exactly one of them sees the other.
  auto s = b->state.load(std::memory_order_acquire);
  do {
    if (s & timer_block::cancelled) return false;
  } while (!b->state.compare_exchange_weak(s, s | timer_block::running, std::memory_order_acq_rel,
                                           std::memory_order_acquire));
  retain_block(b);  // end_tick()'s: the tick's own reference may go with its message first
  ++ticks_running_here;
  return true;
}

void end_tick(timer_block* b) noexcept {
  --ticks_running_here;
  // release: the handler's effects before a waiting cancel()'s acquire load
  auto was = b->state.fetch_and(~(timer_block::running | timer_block::waiter), std::memory_order_acq_rel);
  if (was & timer_block::waiter) b->state.notify_all();
  release_timer(b);
}

void cancel_timer(timer_block* b) noexcept {
  // acq_rel: pairs with claim_tick()'s CAS (a tick claimed after this sees
  // `cancelled`; one claimed before is seen `running` here) and, acquire,
  // as deactivate().
  auto was = b->state.fetch_or(timer_block::cancelled, std::memory_order_acq_rel);
  if (was & timer_block::cancelled) return;
  if ((was & timer_block::running) && ticks_running_here == 0) {
    // A handler of this timer runs on another thread: wait for it to
    // return. acquire: pairs with end_tick()'s release.
    auto s = b->state.fetch_or(timer_block::waiter, std::memory_order_acq_rel);
    while (s & timer_block::running) {
      b->state.wait(s, std::memory_order_acquire);
      s = b->state.load(std::memory_order_acquire);
    }
  }
  if (deactivate(b)) {
    drop_address(b);
    b->sys->timers().note_revoked();  // its service entry is dead weight now
  }
  unlink_owned(b);
}

void release_timer(timer_block* b) noexcept {
  // acq_rel: the last releaser sees every holder's writes before freeing
  if (b->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  auto* target = b->target;
  auto* owner = b->owner;
  auto* sys = b->sys;
  b->free(b);
  internal::release_cell(target);
  if (owner) internal::release_cell(owner);
  sys->release();
}

bool timer_active(const timer_block* b) noexcept {
  // acquire: pairs with deactivate()'s and cancel_timer()'s acq_rel
  auto s = b->state.load(std::memory_order_acquire);
  if (!(s & timer_block::active) || (s & timer_block::cancelled)) return false;
  if (done(b->target)) return false;
  return !(b->owner && done(b->owner));
}

}  // namespace courier::detail

namespace courier::internal {

void revoke_owned_timers(cell_core& core) noexcept {
  auto* x = extras_if_any(core);
  if (!x) return;  // (the closed marker's list is always empty)
  detail::timer_block* list = nullptr;
  {
    std::lock_guard lock(x->mutex);
    list = std::exchange(x->timers, nullptr);
    for (auto* b = list; b; b = b->next_owned) b->linked = false;
  }
  while (list) {
    auto* b = list;
    list = b->next_owned;
    b->prev_owned = b->next_owned = nullptr;
    detail::cancel_timer(b);   // finds it unlinked
    detail::release_timer(b);  // the list's reference
  }
}

}  // namespace courier::internal
