#pragma once
// In-place restarts (runtime/actor/restart.cpp), driven by the turn.

#include <courier/detail/cell.hpp>

#include "runtime/system/counters.hpp"

namespace courier::internal {

enum class restart_step {
  rebuilt,       // a new object: the turn ends, the next runs on_start, then the queue
  dormant,       // waiting out the backoff: the cell belongs to the timer / stop() now
  stopped,       // stop() came first: the actor finishes without a new incarnation
  failed_again,  // the constructor threw: the policy applied again (restart bit, or stop)
  ignored,       // a supervisor's stale teardown request (for an earlier incarnation): go on
};

/// The restart bit was found between messages: tear down, back off, rebuild.
restart_step restart(detail::cell_base& cell, counter_sink& counters) noexcept;

/// A dormant actor's turn begins (or a failed rebuild is retried): a new object.
bool rebuild(detail::cell_base& cell) noexcept;

struct cell_extras;
/// Stops the actor with reason `failed` and the text `what` (a failure
/// under `stop`, an exceeded intensity, a supervisor's escalation).
void stop_failed(detail::cell_base& cell, cell_extras* x, std::string_view what) noexcept;

/// After the new incarnation's on_start: the pending restart is no longer an address.
void release_restart_address(detail::cell_base& cell) noexcept;

}  // namespace courier::internal
