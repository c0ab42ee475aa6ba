#include "runtime/actor/turn.hpp"

#include "runtime/actor/frame.hpp"
#include "runtime/actor/extras.hpp"
#include "runtime/actor/lifecycle.hpp"
#include "runtime/actor/restart.hpp"
#include "runtime/mailbox/mailbox.hpp"
#include "runtime/sched/scheduler.hpp"
#include "runtime/sched/worker.hpp"
#include "runtime/support/chaos.hpp"
#include "runtime/support/probes.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace courier::internal {

using detail::action;
using detail::ran;

namespace {

enum class batch_end {
  reached,    // handled everything up to the snapshot
  budget,     // the batch limit was hit
  linking,    // the snapshot's producer is still linking its node
  stop,       // stop() was requested
  restart,    // a handler failed under the restart policy
  suspended,  // a coroutine handler awaits: the cell belongs to the suspension now
};

/// Handles messages up to the mailbox head seen at the call (I5), at most
/// `budget` of them, checking for stop() before each.
batch_end handle_batch(cell_core& cell, mailbox& box, counter_sink& counters, std::uint32_t& budget) noexcept {
  auto* last = box.last();  // the snapshot: nothing pushed after it is handled by this batch
  bool reached = last == cell.tail;
  for (;;) {
    if (auto interrupts = state::end_requested(cell) & (bits::stop_requested | bits::restart_requested)) [[unlikely]]
      return (interrupts & bits::stop_requested) ? batch_end::stop : batch_end::restart;
    if (reached) return batch_end::reached;
    if (budget == 0) return batch_end::budget;
    auto* e = box.pop();
    if (!e) return batch_end::linking;
    if (e == last) reached = true;
    if (e->flags & envelope::holds_slot) {
      // relaxed: a bound only; the slot frees before the handler runs. The
      // value returned says whether senders wait (send_wait.cpp): then the
      // slot goes to the first of them.
      if (cell.queued.fetch_sub(1, std::memory_order_relaxed) & bits::send_waiters) [[unlikely]]
        admit_waiter(cell);
    }
    auto flags = e->flags;  // read first: once a coroutine handler suspends, `e` may be gone
    if (flags & envelope::request) {
      counters.add(&counter_set::replies_completed);  // answered below, or actor_stopped
      COURIER_PROBE1(reply, &cell);
    }
    if (flags & envelope::refused) {
      (void)e->run(e, &cell.base(), action::destroy);
      if (flags & envelope::pre_accepted) counters.add(&counter_set::dropped);
      continue;
    }
#if COURIER_METRICS
    // relaxed: only system::observe() reads it, to tell handlers apart
    cell.handler_epoch.store(static_cast<std::uint16_t>(cell.handler_epoch.load(std::memory_order_relaxed) + 1),
                             std::memory_order_relaxed);
#endif
    auto outcome = e->run(e, &cell.base(), action::handle);
    if (flags & envelope::counted)
      counters.add(outcome == ran::discarded ? &counter_set::dropped : &counter_set::handled);
    if (outcome == ran::suspended) return batch_end::suspended;  // nothing else runs meanwhile
    --budget;
  }
}

enum class turn_step { released, reschedule, finished, drain, held };

/// After a batch: finish, give the actor up (one CAS), or keep it.
turn_step end_turn(cell_core& cell, mailbox& box, counter_sink& counters) noexcept {
  for (;;) {
    auto requested = state::end_requested(cell);
    if (requested & bits::stop_requested) {
      if (hold_end(cell.base())) return turn_step::held;
      finish(cell.base(), counters);
      return turn_step::finished;
    }
    if (!box.empty()) return turn_step::reschedule;  // more than this turn may take: to the back
    // Drained after shutdown(), or unreachable: close, and finish once
    // nothing accepted before the close is left. What was queued in between
    // is handled by another batch, never by the last turn (where a
    // coroutine could not suspend).
    if ((requested & bits::shutdown_requested) || state::unreachable(cell)) {
      (void)state::close(cell, chaos_hook{});  // the owner closes: it cannot find `idle`
      if (!box.empty()) return turn_step::drain;
      if (hold_end(cell.base())) return turn_step::held;
      finish(cell.base(), counters);
      return turn_step::finished;
    }
    COURIER_CHAOS_POINT("turn: before the release CAS");
    switch (state::release(cell)) {
      case release_result::released:
        return turn_step::released;  // not ours any more: do not touch the cell
      case release_result::unreachable:
        // The last address went while we ran. Unless this turn took its own
        // address again (ctx.self()), the next round finishes.
        if (!state::unreachable(cell)) state::clear_unreachable(cell);
        continue;
      case release_result::busy:
        break;
    }
    // A push raced in (next turn), or close() set `closed` (now).
    if (state::end_requested(cell) & bits::end_requested) continue;
    return turn_step::reschedule;
  }
}

}  // namespace

turn_end run_turn(cell_base& base, worker& w) {
  counter_sink counters(w.counters());
  auto& cell = core_of(base);
  mailbox box(cell);
  if (!cell.started) [[unlikely]] {
    bool alive = true;
    if (auto* x = extras_if_any(cell); x && x->object_gone) {  // torn down by a restart: rebuild first
      state::end_dormancy(cell);  // if it was dormant, the waker scheduled us
      if (state::end_requested(cell) & bits::stop_requested) {  // stop wins: no new incarnation
        finish(base, counters);
        return turn_end::finished;
      }
      alive = rebuild(base);  // false: the policy applied again (restart or stop bit), seen below
    }
    if (alive) {
      cell.started = true;
      base.ops->start(&base);
      release_restart_address(base);  // a restart's pending address, now that on_start ran
    }
  }
  // A suspended coroutine handler was woken: it goes first.
  if (cell.frame && resume_suspended(base) == ran::suspended) return turn_end::suspended;
  auto budget = w.owner().batch();
  for (;;) {
    // The handlers' runs of sends to one mailbox go as chains, pushed when
    // the batch ends: before the turn can give the actor up.
    auto& sends = w.buffer();
    sends.open();
    auto batch = handle_batch(cell, box, counters, budget);
    sends.close();
    switch (batch) {
      case batch_end::stop:
        if (hold_end(base)) return turn_end::suspended;  // a supervisor whose children still finish
        finish(base, counters);
        return turn_end::finished;
      case batch_end::restart:
        switch (restart(base, counters)) {
          case restart_step::rebuilt:
            return turn_end::reschedule;  // the next turn starts with on_start
          case restart_step::failed_again:
          case restart_step::ignored:
            continue;  // the constructor threw: the policy's verdict (restart or stop bit) comes next
          case restart_step::dormant:
            return turn_end::suspended;  // owned by the backoff timer (or stop / shutdown) now
          case restart_step::stopped:
            finish(base, counters);
            return turn_end::finished;
        }
        return turn_end::reschedule;
      case batch_end::suspended:
        return turn_end::suspended;
      case batch_end::linking:
        return turn_end::reschedule;
      case batch_end::budget:
        if (!box.empty()) {
          COURIER_METRIC(counters, batch_limit_hits);
          return turn_end::reschedule;
        }
        break;
      case batch_end::reached:
        break;
    }
    switch (end_turn(cell, box, counters)) {
      case turn_step::released:
        return turn_end::released;
      case turn_step::reschedule:
        return turn_end::reschedule;
      case turn_step::finished:
        return turn_end::finished;
      case turn_step::drain:
        continue;  // the messages queued before the close, with what is left of the budget
      case turn_step::held:
        return turn_end::suspended;  // a supervisor waits for its children, dormant
    }
  }
}

}  // namespace courier::internal
