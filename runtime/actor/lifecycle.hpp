#pragma once
// The end of an actor's life, shared by its last turn and by the threads that
// find its mailbox idle after it died.

#include <courier/actor_id.hpp>
#include <courier/detail/cell.hpp>

#include "runtime/system/counters.hpp"

namespace courier::internal {

class system;

/// The system a cell belongs to.
inline system& system_of(const detail::cell_base& cell) noexcept { return *cell.sys; }

/// (counters_here(sys), where the calling thread counts statistics for
/// `sys`, is in runtime/system/system.hpp: inline, every send calls it.)

/// The last turn: close, drain (handle, or drop after stop()), on_stop,
/// destroy the object, mark done, settle the mailbox, release the cell.
void finish(detail::cell_base& cell, counter_sink counters) noexcept;

/// Consumes everything queued in a done actor's mailbox (dropped and counted,
/// or discarded if refused) until its final release CAS succeeds.
void settle(detail::cell_base& cell, counter_sink counters) noexcept;

/// One owner of the cell's memory is gone; the last frees it.
void release_cell(detail::cell_base* cell) noexcept;

/// stop() / shutdown() (`request` = the lifecycle bit) with the reason the
/// actor will end with, unless someone asked first (true: we were first).
bool request_end(detail::cell_base* cell, std::uint32_t request, exit_reason reason) noexcept;

/// Frees a cell's memory (its runtime block, then the cell itself).
void free_cell(detail::cell_base* cell) noexcept;

}  // namespace courier::internal
