#pragma once
// Supervision seen from the actor's side (runtime/supervision/supervisor.cpp
// has the supervisor itself): what a supervised child reports, and the hold
// of a supervisor's end while its children finish.

#include <cstdint>

#include <courier/actor_id.hpp>
#include <courier/config.hpp>
#include <courier/detail/cell.hpp>
#include <courier/detail/supervision.hpp>

namespace courier::internal {

struct cell_extras;
using sup_core = detail::supervisor_state;

/// What a supervisor hands the child it spawns (detail::bind_child).
struct child_binding {
  sup_core* core;
  std::uint32_t gen;
  restart_type type;
};

void retain_sup(sup_core* s) noexcept;
void release_sup(sup_core* s) noexcept;

/// A supervised child tore its incarnation `gen` down and is dormant (it
/// parked already: the caller must not touch the cell), after its own
/// failure or a teardown its supervisor requested: the supervisor tells
/// them apart by what it asked for.
void report_dormant(sup_core* s, detail::cell_base* child, std::uint32_t gen) noexcept;

/// A supervised child's last turn, after it is done: reports the end and
/// lets go of its supervisor (its address and its state).
void report_exit(detail::cell_base& child, cell_extras& x) noexcept;

/// Lets go of the supervisor without a report (a cell that never started).
void unbind(cell_extras& x) noexcept;

/// A supervisor's last turn: true while children still have to finish (the
/// supervisor is dormant then, and the caller must not touch the cell);
/// false when it may finish now. Not a supervisor: false.
bool hold_end(detail::cell_base& cell) noexcept;

}  // namespace courier::internal
