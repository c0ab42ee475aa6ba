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
};

}  // namespace courier
