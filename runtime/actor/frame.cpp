// Coroutine handlers: starting, suspending and resuming a frame inside its
// actor's turn, and the wake-up that ends a suspension. The ownership steps
// (suspend, wake, resume) are transitions of runtime/actor/state.hpp; this
// file drives the frame around them.

#include <courier/detail/frame.hpp>

#include "runtime/actor/frame.hpp"
#include "runtime/actor/lifecycle.hpp"
#include "runtime/mailbox/mailbox.hpp"
#include "runtime/sched/scheduler.hpp"
#include "runtime/system/system.hpp"

namespace courier::internal {

using detail::ran;

namespace {

void cancel(cell_core& cell, detail::frame_base* frame) noexcept {
  cell.frame = nullptr;
  frame->complete(frame, true);  // stop(): the frame goes, its reply gets actor_stopped
}

}  // namespace

/// The awaited event came (or the frame awaits nothing courier knows).
bool event_came(const detail::frame_base* frame) noexcept { return !frame->ready || frame->ready(frame->awaited); }

enum class settled { parked, cancelled, go };

/// After the frame suspended (or a woken turn took it back): parks it until
/// its own event comes. A wake-up whose event is not the frame's (a stale
/// one, meant for a frame a restart destroyed) is consumed and the frame
/// parks again.
settled settle(cell_core& cell, detail::frame_base* frame) noexcept {
  for (;;) {
    if (state::suspend(cell) == suspend_result::parked) return settled::parked;  // not ours any more
    // The event came first (or a wake-up did): we still own the actor.
    if (state::resume(cell) == resume_result::cancel) {
      cancel(cell, frame);
      return settled::cancelled;
    }
    if (event_came(frame)) return settled::go;
  }
}

/// settle(), as the turn's outcome: true (with `out`) unless the frame runs now.
bool parked_or_cancelled(cell_core& cell, detail::frame_base* frame, ran& out) noexcept {
  switch (settle(cell, frame)) {
    case settled::parked:
      out = ran::suspended;
      return true;
    case settled::cancelled:
      out = ran::done;
      return true;
    case settled::go:
      break;
  }
  return false;
}

/// Resumes `frame` until it finishes or really suspends. A wake that came
/// before the turn noticed the suspension resumes it at once.
ran step(detail::cell_base& base, detail::frame_base* frame) noexcept {
  auto& cell = core_of(base);
  for (;;) {
    frame->handle.resume();
    if (frame->handle.done()) {
      cell.frame = nullptr;
      frame->complete(frame, false);
      return ran::done;
    }
    cell.frame = frame;  // published to the next turn by suspend()'s release and the waker's schedule
    if (ran out; parked_or_cancelled(cell, frame, out)) return out;
  }
}

ran resume_suspended(detail::cell_base& base) noexcept {
  auto& cell = core_of(base);
  auto* frame = cell.frame;
  if (state::resume(cell) == resume_result::cancel) {
    cancel(cell, frame);
    return ran::done;
  }
  if (ran out; !event_came(frame) && parked_or_cancelled(cell, frame, out)) return out;  // a stale wake-up: park again
  return step(base, frame);
}

void destroy_suspended(detail::cell_base& base) noexcept {
  auto& cell = core_of(base);
  if (auto* frame = cell.frame) cancel(cell, frame);
}

}  // namespace courier::internal

namespace courier::detail {

ran run_frame(cell_base* cell, frame_base* frame) noexcept { return internal::step(*cell, frame); }

void wake(cell_base* cell) noexcept {
  // The suspension owned the actor: we hand it to a worker.
  if (internal::state::wake(internal::core_of(*cell))) internal::system_of(*cell).scheduler().schedule(cell);
}

}  // namespace courier::detail
