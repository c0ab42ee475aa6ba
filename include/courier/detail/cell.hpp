#pragma once
// What the public templates see of an actor's cell: the address count (copied
// inline), the actor type's operations table, the runtime it belongs to, and
// an opaque block the runtime keeps its own state in (mailbox, lifecycle,
// registry links: runtime/actor/core.hpp, never visible here). The actor
// object follows in memory (cell<A>, context.hpp). Every transition of that
// state is a function of runtime/actor/state.hpp.
//
// ABI: the block's size and the four public fields are part of
// libcourier.so.0's ABI; what the runtime keeps inside the block is not
// (docs/api.md, "Versions and ABI").

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <courier/actor_id.hpp>
#include <courier/detail/envelope.hpp>
#include <courier/fwd.hpp>

namespace courier {
struct exit_signal;
}

namespace courier::detail {

/// What the runtime needs to know of the actor type; one static table per A.
struct cell_ops {
  void (*start)(cell_base*) noexcept;    // on_start, if A has it
  void (*stop)(cell_base*) noexcept;     // on_stop, if A has it
  void (*destroy)(cell_base*) noexcept;  // ~A()
  void (*free)(cell_base*) noexcept;     // frees the memory of cell<A>
  std::string_view type_name;
  /// A handles courier::exit_signal: builds the envelope of one (may throw).
  /// Null: a linked actor's failure stops A instead.
  envelope* (*exit_signal)(courier::exit_signal&&) = nullptr;
};

/// A measured actor type's unbounded mailbox is counted like a bounded one
/// (type_metrics.hpp): this capacity.
inline constexpr std::uint32_t unbounded_counted = UINT32_MAX;

/// Bytes of the runtime's block in every cell.
inline constexpr std::size_t cell_runtime_bytes = 80;

struct cell_base {
  cell_base() noexcept = default;
  cell_base(const cell_base&) = delete;
  cell_base& operator=(const cell_base&) = delete;

  /// Addresses to this actor. None left and an empty mailbox: it stops.
  /// First, beside the runtime's word and on the same cache line as the
  /// mailbox head at the start of the block: a send touches one line.
  std::atomic<std::uint32_t> strong{1};
  /// The runtime's, like the block (the mailbox capacity, read by every send).
  std::uint32_t runtime_word = 0;
  /// The runtime's state of this actor; opaque outside libcourier.
  alignas(8) unsigned char runtime_block[cell_runtime_bytes];
  const cell_ops* ops = nullptr;
  internal::system* sys = nullptr;
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
/// ctx.stop() / ctx.shutdown() (`drain`): the actor ends by itself, which a
/// supervisor tells apart from a stop from outside.
void end_self(cell_base* cell, bool drain) noexcept;
bool done(const cell_base* cell) noexcept;
/// Blocks until done, or until `until` when `timed`; returns done.
bool join(cell_base* cell, bool timed, std::chrono::steady_clock::time_point until) noexcept;

/// Builds a new actor object in a cell (failure policy `restart`): the
/// spawn arguments' copies, type-erased (detail/spawn.hpp).
struct rebuild_base {
  void (*construct)(rebuild_base* self, cell_base* cell);  // may throw
  void (*destroy)(rebuild_base* self) noexcept;
};

/// Prepares a freshly allocated cell (before its actor is constructed): the
/// runtime's block, the operations table, the mailbox capacity, the name and
/// the failure policy (`factory`: restart only; owned by the cell from here,
/// also when this throws).
void prepare(cell_base* cell, internal::system* sys, const cell_ops* ops, std::uint32_t capacity,
             const spawn_options& options, rebuild_base* factory);
/// spawn() refused bad options: reports errc::invalid_argument through the
/// error hook (on the calling thread).
void reject_spawn(internal::system* sys, std::string_view actor, std::string_view what) noexcept;
/// An exception escaped the actor's code (not on_stop): applies its failure
/// policy (resume: nothing; stop; restart). The caller reported it already.
void failed(cell_base* cell, std::string_view what) noexcept;
/// ctx.link(other) / ctx.unlink(other) (runtime/actor/links.cpp). link may
/// throw (out of memory) and then changes nothing.
void link(cell_base* self, cell_base* other);
void unlink(cell_base* self, cell_base* other) noexcept;
/// At handle time: false if the exit_signal from `from` was revoked by unlink.
bool claim_signal(cell_base* self, actor_id from) noexcept;

/// Which incarnation of the actor runs (changes at each in-place restart).
std::uint32_t incarnation_of(const cell_base* cell) noexcept;
/// Inside on_stop: a new incarnation replaces this one.
bool restarting_of(const cell_base* cell) noexcept;
/// Why the actor ended (valid from its on_stop on).
exit_reason stop_reason_of(const cell_base* cell) noexcept;
/// address::id(): unique within the runtime, never 0.
std::uint64_t id_of(const cell_base* cell) noexcept;
/// Messages holding a bounded (or counted) mailbox's slots.
std::uint32_t queued_of(const cell_base* cell) noexcept;

/// Name for diagnostics: the spawn_options name or the type name.
std::string_view name_of(const cell_base* cell) noexcept;
/// Reports a handler failure of a plain send through the error hook.
void report_failure(cell_base* cell, std::string_view message_type, std::string_view what) noexcept;

/// Registers and schedules a freshly constructed cell; false when the runtime
/// no longer accepts actors (the caller destroys the cell).
bool start(cell_base* cell) noexcept;
/// Frees a cell that start() refused.
void abandon(cell_base* cell) noexcept;

runtime& owner(internal::system* sys) noexcept;

}  // namespace courier::detail
