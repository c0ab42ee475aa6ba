#pragma once
// The actor cell: mailbox, counts and lifecycle of one actor, followed in
// memory by the actor object itself (cell<A>). Public only because the
// templates of address<A> and context<A> must see it. Every transition of
// the head word, the lifecycle word and the two counts is a function of
// runtime/actor/state.hpp, which has the state table and explains each
// memory order; the public templates only copy an address (below).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <courier/detail/envelope.hpp>
#include <courier/fwd.hpp>

namespace courier::detail {

/// What the runtime needs to know of the actor type; one static table per A.
struct cell_ops {
  void (*start)(cell_base*) noexcept;    // on_start, if A has it
  void (*stop)(cell_base*) noexcept;     // on_stop, if A has it
  void (*destroy)(cell_base*) noexcept;  // ~A()
  void (*free)(cell_base*) noexcept;     // frees the memory of cell<A>
  std::string_view type_name;
};

struct frame_base;

inline constexpr std::uint32_t unbounded_counted = UINT32_MAX;

struct cell_base {
  cell_base() noexcept = default;
  cell_base(const cell_base&) = delete;
  cell_base& operator=(const cell_base&) = delete;

  // -- mailbox (runtime/mailbox/mailbox.hpp) ---------------------------------
  /// Producers' end: the last pushed node, with the scheduling bits (state.hpp).
  std::atomic<std::uintptr_t> head{0};
  /// Consumer's end: the last consumed node (the dummy). Owner only.
  mailbox_node* tail = nullptr;
  /// The first dummy, embedded so an actor that never got a message costs no envelope.
  mailbox_node stub;

  // -- counts (runtime/actor/state.hpp) ------------------------------------------
  /// Addresses to this actor. None left and an empty mailbox: it stops.
  std::atomic<std::uint32_t> strong{1};
  /// Owners of the memory: one for "strong > 0", one for "not yet done".
  std::atomic<std::uint32_t> weak{2};

  // -- lifecycle ---------------------------------------------------------------
  /// stop / shutdown requested, done, joiners, suspended, woken (state.hpp).
  std::atomic<std::uint32_t> lifecycle_word{0};
  /// 0 = unbounded; unbounded_counted for a measured actor type's unbounded
  /// mailbox (counted in `queued` like a bounded one: type_metrics.hpp).
  std::uint32_t capacity = 0;
  /// Bounded mailboxes only: messages holding a slot.
  std::atomic<std::uint32_t> queued{0};
  /// Owner only: on_start has run.
  bool started = false;
  /// Set by the last turn when the memory outlives it (addresses remain): the
  /// cell then holds a reference on its system until it is freed.
  bool holds_system = false;
  /// Bumped by the owner each time a handler starts (relaxed: diagnostics
  /// only). Two snapshots that find the actor inside a handler with the same
  /// epoch saw the same handler (system::observe, the stuck-actor report).
  std::atomic<std::uint16_t> handler_epoch{0};

  /// Owner only: the coroutine handler this actor is suspended in, if any.
  frame_base* frame = nullptr;

  // -- identity ------------------------------------------------------------------
  const cell_ops* ops = nullptr;
  internal::system* sys = nullptr;
  /// The spawn_options name, or null for the type name.
  std::string* name = nullptr;
  /// Registry links (runtime/actor/registry.cpp), guarded by the registry.
  cell_base* registry_prev = nullptr;
  cell_base* registry_next = nullptr;
  /// Unique within the runtime and never 0, assigned at registration, before
  /// the first address is handed out (address::id(), diagnostics).
  std::uint64_t id = 0;
};

/// Outcome of handing an envelope to a mailbox.
enum class delivery : std::uint8_t {
  accepted,
  rejected_closed,  // not queued: the caller still owns the envelope
  rejected_full,    // not queued: the caller still owns the envelope
  refused_queued,   // raced with close: queued and marked refused; the mailbox owns it
};

// -- calls into libcourier (runtime/actor/cell.cpp) -------------------------------

/// Pushes `e`, schedules the actor if it was idle. `bypass_capacity` for
/// timer deliveries and ctx.ask replies. On any refusal (rejected_*, and
/// refused_queued before the node is linked) `back` first returns the
/// message to the sender's argument.
delivery deliver(cell_base* cell, envelope* e, bool bypass_capacity, give_back back = {}) noexcept;
/// Destroys an envelope that was never queued (after a rejection).
void dispose(cell_base* cell, envelope* e) noexcept;

/// An address was copied (relaxed: the copied-from address keeps the count above 0).
inline void retain_address(cell_base* cell) noexcept {
  cell->strong.fetch_add(1, std::memory_order_relaxed);  // relaxed: the source address holds a count, so no 0 -> 1 transition here
}
/// The actor's own address was taken (ctx.self()); the count may be 0.
void revive_address(cell_base* cell) noexcept;
/// An address was dropped; the last one may stop the actor.
void release_address(cell_base* cell) noexcept;

void stop(cell_base* cell) noexcept;
void shutdown(cell_base* cell) noexcept;
bool done(const cell_base* cell) noexcept;
/// Blocks until done, or until `until` when `timed`; returns done.
bool join(cell_base* cell, bool timed, std::chrono::steady_clock::time_point until) noexcept;

/// Name for diagnostics: the spawn_options name or the type name.
std::string_view name_of(const cell_base* cell) noexcept;
/// Reports a handler failure of a plain send through the error hook.
void report_failure(cell_base* cell, std::string_view message_type, std::string_view what) noexcept;

/// Registers and schedules a freshly constructed cell; false when the runtime
/// no longer accepts actors (the caller destroys the cell).
bool start(internal::system* sys, cell_base* cell) noexcept;
/// Frees a cell that start() refused.
void abandon(cell_base* cell) noexcept;

runtime& owner(internal::system* sys) noexcept;

}  // namespace courier::detail
