#pragma once
// Monitors: learning, exactly once, that an actor ended and why.

#include <cstdint>
#include <string>

#include <courier/actor_id.hpp>

namespace courier {

/// What context::monitor() returned; 0 = no monitor.
using monitor_id = std::uint64_t;

/// Delivered to a watcher when the actor it monitors ends (or at once if it
/// had already ended, or the address was empty).
struct down {
  /// What monitor() returned.
  monitor_id monitor = 0;
  /// The actor that ended (0: the address was empty).
  actor_id actor = 0;
  exit_reason reason = exit_reason::unknown;
  /// The failure text for `failed` / `linked`, else empty.
  std::string what{};
};

/// Delivered instead of dying to an actor that handles it, when an actor
/// linked to it fails.
struct exit_signal {
  actor_id actor = 0;
  /// `failed` or `linked`.
  exit_reason reason = exit_reason::failed;
  std::string what{};
};

}  // namespace courier
