// Coroutine handlers: starting, suspending and resuming a frame inside its
// actor's turn, and the wake-up that ends a suspension (see the lifecycle
// bits `suspended` / `woken` in include/courier/detail/cell.hpp).

#include <courier/detail/frame.hpp>

#include <utility>

#include "runtime/actor/frame.hpp"
#include "runtime/actor/lifecycle.hpp"
#include "runtime/sched/scheduler.hpp"
#include "runtime/system/system.hpp"

namespace courier::internal {

namespace lifecycle = detail::lifecycle;

namespace {
thread_local bool turn_suspended = false;
}  // namespace

bool take_turn_suspended() noexcept { return std::exchange(turn_suspended, false); }

/// Resumes `frame` until it finishes or really suspends. A wake that came
/// before the turn noticed the suspension resumes it at once.
void step(detail::cell_base* cell, detail::frame_base* frame) noexcept {
  for (;;) {
    frame->handle.resume();
    if (frame->handle.done()) {
      cell->frame = nullptr;
      frame->complete(frame, false);
      return;
    }
    cell->frame = frame;  // published to the next turn by the fetch_or below and the waker's schedule
    turn_suspended = true;  // our turn must not touch the cell after the fetch_or
    // acq_rel: release publishes cell->frame to the waker (which schedules the
    // next turn); acquire pairs with wake()'s fetch_or when it came first.
    auto old = cell->lifecycle_word.fetch_or(lifecycle::suspended, std::memory_order_acq_rel);
    if (!(old & lifecycle::woken)) return;  // parked: the waker schedules the actor
    turn_suspended = false;  // the event came first: we still own the actor
    // acq_rel: as above; we own the suspension again
    old = cell->lifecycle_word.fetch_and(~(lifecycle::suspended | lifecycle::woken), std::memory_order_acq_rel);
    if (old & lifecycle::stop_requested) {
      cell->frame = nullptr;
      frame->complete(frame, true);
      return;
    }
  }
}

void resume_suspended(detail::cell_base& cell) noexcept {
  auto* frame = cell.frame;
  // acq_rel: acquire pairs with wake()'s release (the awaited value, the
  // frame pointer); release orders our later writes for the next waker.
  auto old = cell.lifecycle_word.fetch_and(~(lifecycle::suspended | lifecycle::woken), std::memory_order_acq_rel);
  if (old & lifecycle::stop_requested) {
    cell.frame = nullptr;
    frame->complete(frame, true);  // stop(): the frame goes, its reply gets actor_stopped
    return;
  }
  step(&cell, frame);
}

void destroy_suspended(detail::cell_base& cell) noexcept {
  if (auto* frame = cell.frame) {
    cell.frame = nullptr;
    frame->complete(frame, true);
  }
}

}  // namespace courier::internal

namespace courier::detail {

void run_frame(cell_base* cell, frame_base* frame) noexcept { internal::step(cell, frame); }

void wake(cell_base* cell) noexcept {
  // acq_rel: release publishes the awaited value (written before) to the
  // resuming turn; acquire pairs with the turn's fetch_or(suspended), so we
  // see cell->frame set before we schedule.
  auto old = cell->lifecycle_word.fetch_or(lifecycle::woken, std::memory_order_acq_rel);
  if ((old & lifecycle::suspended) && !(old & lifecycle::woken))
    internal::system_of(*cell).scheduler().schedule(cell);  // the suspension owned the actor: we hand it to a worker
}

}  // namespace courier::detail
