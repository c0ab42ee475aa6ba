#pragma once
// Monitors, the part the templates and the runtime share: the record of one
// monitor, which is also the envelope of its `down` (the typed envelope is
// detail/down_envelope.hpp). It is allocated up front, so the target's last turn,
// which fills it in and mails it, never allocates. The bookkeeping (the
// target's watcher list, the watcher's table, demonitor's flush) is
// libcourier's: runtime/actor/monitors.cpp.

#include <cstdint>

#include <courier/detail/cell.hpp>
#include <courier/detail/envelope.hpp>
#include <courier/detail/ref_count.hpp>
#include <courier/monitor.hpp>

namespace courier::detail {

/// One monitor: the envelope that carries its `down`, and the record both
/// sides keep. References: the watcher's table, and the target's side (its
/// watcher list, then the watcher's mailbox once mailed).
struct down_envelope_base : envelope {
  explicit down_envelope_base(thunk fn, std::uint32_t initial_flags) noexcept : envelope(fn, initial_flags) {}

  courier::down value{};
  ref_count refs{2};
  /// Frees the typed envelope (set by down_envelope<A, F>).
  void (*free)(down_envelope_base*) noexcept = nullptr;
  /// Owner (watcher) only: demonitor() ran after the target had taken the
  /// record; the queued `down` is dropped when its turn comes.
  bool revoked = false;
  /// Its memory is held (not an address) by the target side until it mails
  /// or gives the record up.
  cell_base* watcher = nullptr;
  /// Its memory is held (not an address) while the record is in the
  /// watcher's table, for the watcher's withdrawals (demonitor, its own end).
  cell_base* target = nullptr;
};

/// monitor(target): registers `e` (the watcher's own turn). Returns its id.
/// If it throws (out of memory), it has freed `e` and shared nothing.
monitor_id monitor(cell_base* watcher, cell_base* target, down_envelope_base* e);
/// demonitor(m): the flush semantics of the contract (runtime/actor/monitors.cpp).
bool demonitor(cell_base* watcher, monitor_id m) noexcept;
/// At handle time (the watcher's turn): false if the monitor was revoked
/// meanwhile (the `down` is then dropped); otherwise the record leaves the
/// watcher's table.
bool claim_down(cell_base* watcher, down_envelope_base* e) noexcept;
/// One reference fewer; the last one frees the envelope.
void release_down(down_envelope_base* e) noexcept;

}  // namespace courier::detail
