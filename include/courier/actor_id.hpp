#pragma once
// actor_id and exit_reason: an actor's identity, and why an actor ended.

#include <cstdint>
#include <string_view>

namespace courier {

/// Unique within a runtime and never 0; an address keeps its actor's id after
/// the actor stopped. address<A>::id() gives it (0 for an empty address).
using actor_id = std::uint64_t;

/// Why an actor ended.
enum class exit_reason : std::uint8_t {
  /// stop() or shutdown(), asked by the actor itself or by anyone holding its address.
  normal,
  /// It stopped on its own: no address left and an empty mailbox.
  unreachable,
  /// An exception it was not allowed to survive, or a restart limit exceeded.
  failed,
  /// Stopped because an actor linked to it failed.
  linked,
  /// Stopped by runtime::shutdown or by its supervisor.
  shutdown,
  /// Not known (the actor of an empty address).
  unknown,
};

/// The name of a reason, e.g. "unreachable".
constexpr std::string_view to_string(exit_reason reason) noexcept {
  switch (reason) {
    case exit_reason::normal: return "normal";
    case exit_reason::unreachable: return "unreachable";
    case exit_reason::failed: return "failed";
    case exit_reason::linked: return "linked";
    case exit_reason::shutdown: return "shutdown";
    case exit_reason::unknown: return "unknown";
  }
  return "unknown";
}

}  // namespace courier
