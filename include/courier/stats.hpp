#pragma once
// Runtime-wide totals since start.

#include <cstdint>

namespace courier {

/// Totals since the runtime started (read with runtime::stats()).
struct stats {
  /// Actors spawned.
  std::uint64_t spawned = 0;
  /// Actors that ran their last turn and were destroyed.
  std::uint64_t stopped = 0;
  /// Messages whose handler ran (a throwing handler included; not
  /// continuations, not hooks).
  std::uint64_t handled = 0;
  /// Accepted messages destroyed unhandled: queued when their actor stopped,
  /// timers pending at shutdown or firing at a stopped actor.
  std::uint64_t dropped = 0;
  /// Messages a mailbox accepted (sends that returned success, and send_after
  /// deliveries, which were accepted when requested). Once the runtime is
  /// quiet: accepted == handled + dropped.
  std::uint64_t accepted = 0;
  /// Requests (ask, ctx.ask, co_await ask) queued in a mailbox, and those of
  /// them whose reply the runtime settled (by the handler's answer, or with
  /// actor_stopped when dropped). Once quiet: replies_issued == replies_completed.
  std::uint64_t replies_issued = 0;
  std::uint64_t replies_completed = 0;
  /// Incarnations rebuilt in place (failure policy `restart`).
  std::uint64_t restarted = 0;
  /// Deadlines of periodic timers that found their previous tick still
  /// queued or being handled (or that a stall jumped over): nothing was
  /// queued for them (docs/api.md, "Timers").
  std::uint64_t ticks_skipped = 0;
};

}  // namespace courier
