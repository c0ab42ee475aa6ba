#pragma once
// Runtime and spawn configuration: aggregates with a default for every field.

#include <cstddef>
#include <cstdint>
#include <string>

namespace courier {

/// How a runtime is built. An aggregate: use designated initializers,
/// `courier::runtime rt{{.workers = 4, .batch = 64}};`. Fields may be added later.
struct config {
  /// Worker threads; 0 = one per hardware thread.
  std::size_t workers = 0;
  /// Most messages an actor handles in one turn before it yields its worker.
  std::uint32_t batch = 64;
};

/// Per-actor options; a spawn_options first argument of spawn() is always
/// taken as the options, never passed to the actor's constructor.
struct spawn_options {
  /// Shown by the error hook and diagnostics; empty = the actor's type name.
  std::string name{};
  /// 0 = unbounded mailbox; otherwise sends beyond this many queued messages
  /// fail with errc::mailbox_full (never block). The message being handled
  /// holds no slot.
  std::uint32_t capacity = 0;
};

}  // namespace courier
