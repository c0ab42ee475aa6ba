// Failure policies (docs/supervision.md): what an exception escaping an
// actor's code does. `resume` nothing; `stop` a stop after the failing
// message; `restart` an in-place restart: the turn tears the incarnation
// down after the failing message (its monitors withdrawn, its ctx.ask
// continuations made stale, a suspended frame destroyed, on_stop, ~A),
// waits out the backoff dormant (the mailbox stays open; the `dormant`
// state of runtime/actor/state.hpp), then builds a new A from copies of the
// spawn arguments, whose on_start is its first turn. Queued messages stay.

#include <algorithm>
#include <mutex>

#include <courier/detail/timers.hpp>

#include "runtime/actor/core.hpp"
#include "runtime/actor/extras.hpp"
#include "runtime/actor/frame.hpp"
#include "runtime/actor/lifecycle.hpp"
#include "runtime/actor/restart.hpp"
#include "runtime/mailbox/mailbox.hpp"
#include "runtime/sched/scheduler.hpp"
#include "runtime/support/chaos.hpp"
#include "runtime/system/system.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace courier::internal {

namespace {

using clock = std::chrono::steady_clock;

/// The backoff timer: the dormancy is over (also at runtime shutdown, when
/// pending timers run unfired). It held the cell's memory.
void wake_job(void* target, void*, bool) noexcept {
  auto* cell = static_cast<cell_base*>(target);
  if (state::wake(core_of(*cell))) system_of(*cell).scheduler().schedule(cell);
  release_cell(cell);
}

}  // namespace

/// Records the failure text (for `down`s and links) and stops the actor
/// with reason `failed`, also over a shutdown already requested (a failure
/// says more than the request it interrupted). The reason and its text are
/// set together under the extras lock, where a linked peer's propagation
/// sets its own pair (links.cpp), so the two always match.
void stop_failed(cell_base& cell, cell_extras* x, std::string_view what) noexcept {
  auto& core = core_of(cell);
  if (x) {
    std::lock_guard lock(x->mutex);
    // release: published with the stop bit request_end() sets next (the
    // owner's acquire in finish()); we are the owner anyway.
    core.requested_reason.store(static_cast<std::uint8_t>(exit_reason::failed), std::memory_order_release);
    try {
      x->what = std::string(what);
    } catch (...) {  // out of memory: the reason stands without its text
    }
  } else {
    core.requested_reason.store(static_cast<std::uint8_t>(exit_reason::failed), std::memory_order_release);  // release: as above
  }
  request_end(&cell, bits::stop_requested, exit_reason::failed);
}

bool rebuild(cell_base& cell) noexcept {
  auto& core = core_of(cell);
  auto& x = *extras_if_any(core);
  try {
    x.factory->construct(x.factory, &cell);
  } catch (...) {
    auto what = detail::current_exception_text();
    detail::report_failure(&cell, "constructor", what);
    detail::failed(&cell, what);  // one more failure event: restart again, or stop
    // Ending anyway (shutdown), so failed() set nothing: without an object, stop.
    if (!(state::end_requested(core) & (bits::stop_requested | bits::restart_requested)))
      request_end(&cell, bits::stop_requested, exit_reason::failed);
    return false;
  }
  x.object_gone = false;
  x.born = clock::now();
  core.started = false;  // on_start is the new incarnation's first turn
  return true;
}

restart_step restart(cell_base& cell, counter_sink& counters) noexcept {
  auto& core = core_of(cell);
  auto& x = *extras_if_any(core);
  state::clear_restart(core);
  bool supervised = x.sup != nullptr;
  bool failure = std::exchange(x.failure_pending, false);
  if (supervised && !failure) {
    // A teardown its supervisor requested (a group restart), unless it was
    // meant for an earlier incarnation. acquire: pairs with the
    // supervisor's release store before its request_teardown().
    if (x.teardown_gen.load(std::memory_order_acquire) != x.sup_gen.load(std::memory_order_relaxed))
      return restart_step::ignored;
  }
  // The pending restart is an address until the new on_start ran (a
  // supervised child's supervisor holds one anyway).
  if (!supervised && !x.holds_address) {
    state::revive_address(core);
    x.holds_address = true;
  }
  x.teardown_reason = (supervised && !failure) ? exit_reason::shutdown : exit_reason::failed;
  // Teardown: what the incarnation set up through its context goes.
  withdraw_monitors(core);
  revoke_own_links(core);
  ++x.incarnation;         // its ctx.ask continuations are stale from here
  destroy_suspended(cell);  // a suspended frame: its request gets actor_stopped
  core.started = false;  // the next turn rebuilds, then runs on_start
  if (!x.object_gone) {
    x.restarting = true;  // ctx.stop_reason() gives `failed`, ctx.restarting() true
    cell.ops->stop(&cell);
    cell.ops->destroy(&cell);
    x.restarting = false;
    x.object_gone = true;
  }
  revoke_owned_timers(core);  // its queued ticks are dropped when reached: the new incarnation sees none
  drop_consumed_streams(core);  // likewise the items and ends of the streams it consumed
  COURIER_CHAOS_POINT("restart: torn down, before the backoff");
  if (supervised) {
    // Dormant until the supervisor decides (it rouses, or stops, the child).
    // Reported once parked: a rouse can only find a dormant child. The
    // state reference keeps the supervisor's state for the report, which
    // runs when the cell may already belong to another worker.
    auto* sup = x.sup;
    auto gen = x.sup_gen.load(std::memory_order_relaxed);  // relaxed: written before our own wake-up
    retain_sup(sup);
    COURIER_CHAOS_POINT("restart: supervised, before going dormant");
    auto parked = state::go_dormant(core, bits::end_requested) == suspend_result::parked;
    if (parked) report_dormant(sup, &cell, gen);
    release_sup(sup);
    if (parked) return restart_step::dormant;  // not ours any more
    // stopped or shut down first: a stop finishes, a shutdown rebuilds and drains
  } else {
    counters.add(&counter_set::restarted);
  }
  // Backoff: min(max, min * 2^(k-1)) for the k-th consecutive restart.
  auto wait = std::chrono::milliseconds{0};
  if (x.policy.backoff_min.count() > 0 && !system_of(cell).shutdown_begun()) {
    auto k = std::min<std::uint32_t>(x.consecutive, 30);
    wait = x.policy.backoff_min * (std::int64_t{1} << (k > 0 ? k - 1 : 0));
    if (x.policy.backoff_max.count() != 0) wait = std::min(wait, x.policy.backoff_max);
  }
  if (wait.count() > 0 && !supervised) {
    state::hold_memory(core);  // the timer's
    detail::add_timer(cell.sys, clock::now() + wait, detail::timer_job{&wake_job, &cell, nullptr});
    if (state::go_dormant(core) == suspend_result::parked) return restart_step::dormant;  // not ours any more
    // woken, stopped or shut down first: ours still
  }
  if (state::end_requested(core) & bits::stop_requested) return restart_step::stopped;  // stop wins: no new incarnation
  return rebuild(cell) ? restart_step::rebuilt : restart_step::failed_again;
}

void release_restart_address(cell_base& cell) noexcept {
  auto* x = extras_if_any(core_of(cell));
  if (!x || !x->holds_address) return;
  x->holds_address = false;
  detail::release_address(&cell);
}

}  // namespace courier::internal

namespace courier::detail {

using internal::core_of;
using internal::extras_if_any;

void failed(cell_base* cell, std::string_view what) noexcept {
  auto& core = core_of(*cell);
  auto* x = extras_if_any(core);
  if (x && x->sup) {  // a supervised child: torn down and dormant, its supervisor decides
    auto requested = internal::state::end_requested(core);
    if (requested & internal::bits::stop_requested) return;  // stopping anyway
    // temporary, or already asked to end (its supervisor is ending, or the
    // runtime is): no new incarnation
    if (x->sup_type == restart_type::temporary || (requested & internal::bits::shutdown_requested) ||
        internal::system_of(*cell).shutdown_begun()) {
      internal::stop_failed(*cell, x, what);
      return;
    }
    internal::set_failure_text(*x, what);
    x->failure_pending = true;
    internal::state::request_restart(core);
    return;
  }
  if (!x || x->policy.action == on_failure::resume) return;
  if (internal::state::end_requested(core) & internal::bits::stop_requested) return;  // stopping anyway
  if (x->policy.action == on_failure::stop || internal::system_of(*cell).shutdown_begun()) {
    internal::stop_failed(*cell, x, what);
    return;
  }
  // restart: within the intensity?
  auto now = std::chrono::steady_clock::now();
  if (now - x->born >= x->policy.period) x->consecutive = 0;  // the last incarnation lived a whole period
  while (!x->restarts.empty() && now - x->restarts.front() >= x->policy.period) x->restarts.pop_front();
  if (x->restarts.size() >= x->policy.intensity) {
    std::string text;
    try {
      text = "restart intensity exceeded: " + std::string(what);
    } catch (...) {
    }
    internal::stop_failed(*cell, x, text);
    return;
  }
  try {
    x->restarts.push_back(now);
  } catch (...) {  // out of memory: restart uncounted rather than not at all
  }
  ++x->consecutive;
  internal::set_failure_text(*x, what);
  internal::state::request_restart(core);
}

std::uint32_t incarnation_of(const cell_base* cell) noexcept {
  auto* x = extras_if_any(core_of(*cell));
  return x ? x->incarnation : 0;
}

bool restarting_of(const cell_base* cell) noexcept {
  auto* x = extras_if_any(core_of(*cell));
  return x && x->restarting;
}

}  // namespace courier::detail
