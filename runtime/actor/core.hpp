#pragma once
// The runtime's state of one actor, kept in the opaque block of its cell
// (detail::cell_base::runtime_block, after the address count and the runtime's
// word): the users' programs see only the block's size, so this struct can
// change without touching their code.
// The transitions on the words below are runtime/actor/state.hpp's.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <type_traits>

#include <courier/detail/cell.hpp>
#include <courier/detail/envelope.hpp>
#include <courier/detail/frame.hpp>
#include <courier/actor_id.hpp>

namespace courier::internal {

using detail::cell_base;

struct cell_extras;

inline constexpr std::uint8_t no_reason = 0xff;

struct cell_core {
  // -- mailbox (runtime/mailbox/mailbox.hpp) ---------------------------------
  /// Producers' end: the last pushed node, with the scheduling bits (state.hpp).
  std::atomic<std::uintptr_t> head{0};
  /// Consumer's end: the last consumed node (the dummy). Owner only.
  detail::mailbox_node* tail = nullptr;
  /// The first dummy, embedded so an actor that never got a message costs no envelope.
  detail::mailbox_node stub;

  // -- counts (the address count is the public cell_base::strong) ----------------
  /// Owners of the memory: one for "strong > 0", one for "not yet done".
  std::atomic<std::uint32_t> weak{2};

  // -- lifecycle -------------------------------------------------------------------
  /// stop / shutdown requested, done, joiners, suspended, woken, dormant,
  /// holds_system (state.hpp).
  std::atomic<std::uint32_t> lifecycle_word{0};
  /// Bounded mailboxes only: messages holding a slot. (The capacity is the
  /// public cell_base::runtime_word: capacity() below.)
  std::atomic<std::uint32_t> queued{0};
  /// Owner only: on_start has run.
  bool started = false;
  /// Why stop / shutdown was requested (an exit_reason; no_reason before):
  /// the first requester's, set by a CAS before its lifecycle bit. The last
  /// turn stores the final reason here before on_stop (the record a late
  /// monitor reads: recorded_reason()); no request changes it after that.
  std::atomic<std::uint8_t> requested_reason{no_reason};
  /// Bumped by the owner each time a handler starts (relaxed: diagnostics
  /// only). Two snapshots that find the actor inside a handler with the same
  /// epoch saw the same handler (system::observe, the stuck-actor report).
  std::atomic<std::uint16_t> handler_epoch{0};

  /// Owner only: the coroutine handler this actor is suspended in, if any.
  detail::frame_base* frame = nullptr;

  // -- identity ------------------------------------------------------------------
  /// Name, failure text, monitors: allocated on first use (extras.hpp).
  std::atomic<cell_extras*> extras{nullptr};
  /// Registry links (runtime/actor/registry.cpp), guarded by the registry.
  cell_base* registry_prev = nullptr;
  cell_base* registry_next = nullptr;
  /// Unique within the runtime and never 0, assigned at registration, before
  /// the first address is handed out (address::id(), diagnostics).
  std::uint64_t id = 0;

  /// The cell this block belongs to.
  cell_base& base() noexcept {
    return *reinterpret_cast<cell_base*>(reinterpret_cast<unsigned char*>(this) -
                                         offsetof(cell_base, runtime_block));
  }
  const cell_base& base() const noexcept {
    return *reinterpret_cast<const cell_base*>(reinterpret_cast<const unsigned char*>(this) -
                                               offsetof(cell_base, runtime_block));
  }
  /// 0 = unbounded; detail::unbounded_counted for a measured actor type's
  /// unbounded mailbox (counted in `queued` like a bounded one).
  std::uint32_t& capacity() noexcept { return base().runtime_word; }
  std::uint32_t capacity() const noexcept { return base().runtime_word; }
  /// Why the actor ended, once its last turn recorded it. acquire: pairs
  /// with finish()'s release store (a reader that saw the actor closed).
  exit_reason recorded_reason() const noexcept {
    return static_cast<exit_reason>(requested_reason.load(std::memory_order_acquire));
  }

  /// The address count, for the state transitions.
  std::atomic<std::uint32_t>& strong() noexcept { return base().strong; }
  const std::atomic<std::uint32_t>& strong() const noexcept { return base().strong; }
};

static_assert(sizeof(cell_core) <= detail::cell_runtime_bytes, "the runtime's state must fit the cell's block");
static_assert(alignof(cell_core) <= 8, "the cell's block is 8-aligned");
static_assert(std::is_trivially_destructible_v<cell_core>, "a failed prepare() leaves nothing to undo");

/// The runtime's state of `cell` (constructed by detail::prepare()).
inline cell_core& core_of(cell_base& cell) noexcept {
  return *std::launder(reinterpret_cast<cell_core*>(cell.runtime_block));
}
inline const cell_core& core_of(const cell_base& cell) noexcept {
  return *std::launder(reinterpret_cast<const cell_core*>(cell.runtime_block));
}

}  // namespace courier::internal
