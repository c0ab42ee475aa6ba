#pragma once
// What few actors need, allocated on first use and reached through one
// pointer of the cell's runtime block: the spawn_options name, the failure
// text, and the monitors in both directions (runtime/actor/monitors.cpp).
//
// The target side (who watches this actor) is shared with other actors'
// threads and guarded by `mutex`; `closed` is set under it by the actor's
// last turn, which is the linearisation point between a registration and the
// end (each monitor yields exactly one `down`). The watcher side (the
// monitors this actor holds) is touched only by the actor's own turns.

#include <atomic>
#include <chrono>
#include <deque>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include <courier/config.hpp>
#include <courier/detail/monitors.hpp>

#include "runtime/actor/core.hpp"

namespace courier::detail {
struct supervisor_state;
struct timer_block;
struct send_waiter;
struct stream_core;
}

namespace courier::internal {

struct cell_core;
using sup_core = detail::supervisor_state;

struct cell_extras {
  cell_extras() = default;
  /// The shared marker of actors that finished without extras.
  explicit cell_extras(bool is_closed) : closed(is_closed) {}

  /// The spawn_options name; empty = the type name.
  std::string name;

  // -- target side: guarded by `mutex` ------------------------------------------
  std::mutex mutex;
  /// The actor finished: a registration that finds this delivers its `down` itself.
  bool closed = false;
  /// Monitors on this actor, not yet fired.
  std::vector<detail::down_envelope_base*> watchers;
  /// For `failed` / `linked`: the failure text, written before `closed`
  /// (under `mutex`: a linked peer's propagation may write it too).
  std::string what;
  /// Links (symmetric: the peer's list names this actor too). Each entry
  /// holds the peer's memory; `mine`: this incarnation called link() (it
  /// revokes the link at a restart's teardown).
  struct link_entry {
    detail::cell_base* peer;
    bool mine;
  };
  std::vector<link_entry> links;
  /// exit_signals mailed here and not yet handled, by sender; an unlink()
  /// marks them revoked (dropped when their turn comes).
  struct pending_signal {
    actor_id from;
    bool revoked;
  };
  std::vector<pending_signal> signals;
  /// The timers this actor made through its context (an intrusive list of
  /// timer blocks, each holding one reference for it): cancelled when it
  /// ends or restarts in place (runtime/timer/timers.cpp). A handle's
  /// cancel() on any thread unlinks its block.
  detail::timer_block* timers = nullptr;
  /// Senders waiting for room in this bounded mailbox, in arrival order
  /// (runtime/actor/send_wait.cpp); `send_waiters_closed` once the mailbox
  /// closed and every waiter got actor_stopped.
  std::deque<detail::send_waiter*> send_waiters;
  bool send_waiters_closed = false;

  // -- watcher side: the actor's own turns only -------------------------------------
  /// The streams this actor consumes and that are still open here (an
  /// intrusive list, one reference each): cancelled when it ends or
  /// restarts in place (runtime/stream/streams.cpp).
  detail::stream_core* streams = nullptr;
  std::uint64_t last_monitor = 0;
  /// Monitors this actor holds whose `down` it has not handled yet.
  std::vector<detail::down_envelope_base*> monitors;

  // -- failure policy (runtime/actor/restart.cpp): the actor's own turns only ----------
  failure_policy policy{};
  /// restart: builds a new object from copies of the spawn arguments.
  detail::rebuild_base* factory = nullptr;
  /// Which incarnation runs (ctx.ask continuations of an earlier one are stale).
  std::uint32_t incarnation = 0;
  /// Restarts within the last `period` (the intensity window).
  std::deque<std::chrono::steady_clock::time_point> restarts;
  /// Consecutive restarts (backoff), and when the current incarnation began.
  std::uint32_t consecutive = 0;
  std::chrono::steady_clock::time_point born{};
  /// The object was torn down and not rebuilt yet (dormant, or rebuilding).
  bool object_gone = false;
  /// on_stop of an incarnation a new one replaces (ctx.restarting()).
  bool restarting = false;
  /// The pending restart holds an address (reachability) until on_start ran.
  bool holds_address = false;
  /// Why the incarnation being torn down ends (ctx.stop_reason() in its on_stop):
  /// `failed`, or `shutdown` for a supervisor's group restart.
  exit_reason teardown_reason = exit_reason::failed;

  // -- supervision (runtime/supervision/supervisor.cpp) ---------------------------------
  /// A supervised child: its supervisor's state (one reference) and one
  /// address of the supervisor's cell (a child keeps its supervisor
  /// reachable). Both released when the child finishes.
  sup_core* sup = nullptr;
  detail::cell_base* sup_cell = nullptr;
  /// The child's restart type (a `temporary` child stops on a failure).
  restart_type sup_type = restart_type::permanent;
  /// The generation of the running incarnation, written by the supervisor
  /// while the child is dormant (published by its rouse()) or before start.
  std::atomic<std::uint32_t> sup_gen{0};
  /// The generation a teardown was requested for (stored before
  /// request_teardown(); a request for an earlier one is stale).
  std::atomic<std::uint32_t> teardown_gen{0};
  /// Owner only: the restart bit is this incarnation's own failure.
  bool failure_pending = false;
  /// Owner only: the actor asked for its own end (ctx.stop() / ctx.shutdown()
  /// came first): a supervisor respawns a permanent child that did.
  bool ended_by_self = false;
  /// A supervisor's own cell: its state (one reference), for the hold of
  /// its end while children finish.
  sup_core* sup_self = nullptr;
  /// runtime::register_name gave this actor a name (set under the names
  /// lock, before the entry can be found): its last turn drops them.
  std::atomic<bool> named{false};
};

/// The extras of `core`, created on first use (any thread: the creator wins a
/// CAS on the pointer). For an actor that already finished without any, the
/// shared closed marker.
cell_extras& extras_of(cell_core& core);
/// The extras if they exist (null otherwise; maybe the closed marker).
/// Inline: an actor's end asks several times, and most actors have none.
inline cell_extras* extras_if_any(const cell_core& core) noexcept {
  return core.extras.load(std::memory_order_acquire);  // acquire: pairs with extras_of()'s publishing CAS
}
/// Frees a cell's extras with the cell (nothing may reference them then).
void free_extras(cell_core& core) noexcept;

/// Withdraws the monitors this actor holds (its end, or an in-place
/// restart): none of their `down`s will be handled.
void withdraw_monitors(cell_core& core) noexcept;

/// The last turn, after on_stop: withdraws the monitors this actor holds,
/// mails a `down` to every actor monitoring it, and ends its links
/// (propagating a `failed` / `linked` end). `reason` is recorded in the core
/// already.
void end_monitors(cell_core& core) noexcept;

/// Cancels the timers this actor made through its context (its end, after
/// on_stop; an in-place restart's teardown). runtime/timer/timers.cpp.
void revoke_owned_timers(cell_core& core) noexcept;

/// Gives up the streams this actor consumes (its end, before the drain and
/// again after on_stop; an in-place restart's teardown): their queued items
/// are dropped, their producers get stream_cancelled unless the writer
/// ended first. runtime/stream/streams.cpp.
void drop_consumed_streams(cell_core& core) noexcept;

/// Waiting senders (runtime/actor/send_wait.cpp). A consumer's slot release
/// that returned bits::send_waiters hands the slot to the first waiter; a
/// close (stop, shutdown, the end) fails them all with actor_stopped.
void admit_waiter(cell_core& core) noexcept;
void fail_send_waiters(cell_core& core) noexcept;
bool mailbox_closed_for_waiters(const cell_core& core) noexcept;

/// Links (runtime/actor/links.cpp). The peers' side of an actor's end:
/// `links` is the list end_monitors() took under the lock.
void end_links(cell_core& core, std::vector<cell_extras::link_entry>& links, std::string_view what) noexcept;
/// A restart's teardown: the links this incarnation made go.
void revoke_own_links(cell_core& core) noexcept;
/// Writes the failure text under the extras lock (a linked peer may write it too).
void set_failure_text(cell_extras& x, std::string_view what) noexcept;

}  // namespace courier::internal
