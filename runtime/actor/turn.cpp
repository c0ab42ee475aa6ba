#include "runtime/actor/turn.hpp"

#include "runtime/actor/frame.hpp"
#include "runtime/actor/lifecycle.hpp"
#include "runtime/mailbox/mailbox.hpp"
#include "runtime/sched/scheduler.hpp"
#include "runtime/sched/worker.hpp"
#include "runtime/support/chaos.hpp"
#include "runtime/support/probes.hpp"

namespace courier::internal {

using detail::action;
namespace lifecycle = detail::lifecycle;

turn_end run_turn(cell_base& cell, worker& w) {
  counter_sink counters(w.counters());
  mailbox box(cell);
  if (!cell.started) {
    cell.started = true;
    cell.ops->start(&cell);
  }
  if (cell.frame) {  // a suspended coroutine handler was woken
    resume_suspended(cell);
    // Suspended again: the actor now belongs to that suspension, and a
    // wake() may already run it on another worker. Do not touch the cell.
    if (take_turn_suspended()) return turn_end::suspended;
  }
  auto* last = box.last();  // the snapshot: this turn handles nothing pushed after it
  bool reached = last == cell.tail;
  auto budget = w.owner().batch();
  for (;;) {
    // acquire: pairs with the release fetch_or in detail::stop() / shutdown()
    auto life = cell.lifecycle_word.load(std::memory_order_acquire);
    if (life & lifecycle::stop_requested) {
      finish(cell, counters);
      return turn_end::finished;
    }
    if (!reached && budget != 0) {
      auto* e = box.pop();
      if (!e) return turn_end::reschedule;  // its producer is still linking the snapshot's node
      if (e == last) reached = true;
      if (e->flags & envelope::holds_slot)
        cell.queued.fetch_sub(1, std::memory_order_relaxed);  // relaxed: a bound only; the slot frees before the handler runs
      auto flags = e->flags;  // read first: once a coroutine handler suspends, `e` may be gone
      if (flags & envelope::request) {
        counters.add(&counter_set::replies_completed);  // answered below, or actor_stopped
        COURIER_PROBE1(reply, &cell);
      }
      if (flags & envelope::refused) {
        e->run(e, &cell, action::destroy);
        if (flags & envelope::pre_accepted) counters.add(&counter_set::dropped);
        continue;
      }
#if COURIER_METRICS
      // relaxed: only system::observe() reads it, to tell handlers apart
      cell.handler_epoch.store(static_cast<std::uint16_t>(cell.handler_epoch.load(std::memory_order_relaxed) + 1),
                               std::memory_order_relaxed);
#endif
      e->run(e, &cell, action::handle);
      if (flags & envelope::counted) counters.add(&counter_set::handled);
      // A coroutine handler awaits: nothing else runs meanwhile, and the
      // actor belongs to the suspension now (see above).
      if (take_turn_suspended()) return turn_end::suspended;
      --budget;
      continue;
    }
    if (!box.empty()) {  // more than this turn may take: to the back
      if (budget == 0) COURIER_METRIC(counters, batch_limit_hits);
      return turn_end::reschedule;
    }
    // Drained after shutdown(), or unreachable (acquire: pairs with the last
    // dropper's decrement, published to us by the flag on the head word; see
    // mailbox::flag_or_claim): close, and finish once nothing accepted before
    // the close is left. What was queued in between is handled by this loop,
    // never by the last turn (where a coroutine could not suspend).
    if ((life & lifecycle::shutdown_requested) || cell.strong.load(std::memory_order_acquire) == 0) {
      box.close();  // the owner closes: it cannot find `idle`
      if (!box.empty()) {
        last = box.last();
        reached = false;
        continue;
      }
      finish(cell, counters);
      return turn_end::finished;
    }
    COURIER_CHAOS_POINT("turn: before the release CAS");
    // One CAS; once it succeeds the cell is not ours to read any more.
    switch (box.try_release()) {
      case mailbox::release_result::released:
        return turn_end::released;
      case mailbox::release_result::unreachable:
        // The last address went while we ran: the count reads 0 now (unless
        // this turn took its own address again, ctx.self()).
        if (cell.strong.load(std::memory_order_acquire) != 0) box.clear_unreachable();  // acquire: as above
        continue;
      case mailbox::release_result::busy:
        break;
    }
    // A push raced in, or close() set `closed`: a close is handled now, a
    // new message in the next turn.
    // acquire: pairs with the release fetch_or in detail::stop() / shutdown()
    if (cell.lifecycle_word.load(std::memory_order_acquire) &
        (lifecycle::stop_requested | lifecycle::shutdown_requested))
      continue;
    return turn_end::reschedule;
  }
}

}  // namespace courier::internal
