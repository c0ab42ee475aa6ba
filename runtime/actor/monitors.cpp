// Monitors (docs/supervision.md, "Monitors"): the target's watcher list, the
// watcher's table, demonitor's flush, and the `down`s of an actor's last
// turn. Control paths only: registration and the end take the target's
// extras lock; the send path never does.

#include <algorithm>

#include <courier/detail/monitors.hpp>

#include "runtime/actor/core.hpp"
#include "runtime/actor/extras.hpp"
#include "runtime/supervision/supervisor.hpp"
#include "runtime/actor/lifecycle.hpp"
#include "runtime/mailbox/mailbox.hpp"
#include "runtime/support/chaos.hpp"
#include "runtime/system/system.hpp"

namespace courier::internal {

namespace {

/// The extras of every actor that finished without any: closed, no text.
cell_extras& closed_marker() noexcept {
  static auto* marker = new cell_extras(true);  // never destroyed: actors may end during static destruction
  return *marker;
}

bool remove_one(std::vector<detail::down_envelope_base*>& list, detail::down_envelope_base* e) noexcept {
  auto it = std::find(list.begin(), list.end(), e);
  if (it == list.end()) return false;
  *it = list.back();
  list.pop_back();
  return true;
}

/// The target side gives the record up without mailing it (withdrawn, or
/// refused by a closed watcher): its reference and the hold on the
/// watcher's memory that came with it.
void drop_target_side(detail::down_envelope_base* e) noexcept {
  auto* watcher = e->watcher;
  detail::release_down(e);
  release_cell(watcher);
}

/// The watcher's table gives the record up (its `down` handled, or
/// demonitored, or the watcher ends): its reference and the hold on the
/// target's memory that its withdrawals needed. Holding nothing once out of
/// the table is what lets two actors monitor each other without keeping
/// each other's memory (a handled `down` stays as the mailbox's dummy).
void drop_table_side(detail::down_envelope_base* e) noexcept {
  auto* target = e->target;
  detail::release_down(e);
  if (target) release_cell(target);
}

/// Mails a filled-in `down` to its watcher, bypassing capacity (guarantee
/// 11). The target side's reference goes with it into the mailbox; a closed
/// watcher drops it (counted when it would have been a message). Then the
/// hold on the watcher's memory goes: a queued envelope needs none (the
/// watcher consumes its whole mailbox before its memory can go), and one
/// held would keep the memory alive forever once the envelope became the
/// mailbox's dummy.
void mail_down(detail::down_envelope_base* e) noexcept {
  auto* watcher = e->watcher;
  bool message = (e->flags & envelope::counted) != 0;
  if (message) e->flags |= envelope::pre_accepted;  // a refusal counts as accepted and dropped
  auto counters = counters_here(system_of(*watcher));
  COURIER_METRIC(counters, downs);
  switch (detail::deliver(watcher, e, true)) {
    case detail::delivery::accepted:
    case detail::delivery::refused_queued:
      release_cell(watcher);
      return;
    case detail::delivery::rejected_closed:
    case detail::delivery::rejected_full:
      if (message) {
        counters.add(&counter_set::accepted);
        counters.add(&counter_set::dropped);
      }
      drop_target_side(e);
      return;
  }
}

/// Takes `e` out of its target's watcher list if it is still there (the
/// target will then never fire it). False: the target has taken it already.
bool withdraw(detail::down_envelope_base* e) noexcept {
  if (!e->target) return false;
  auto* x = extras_if_any(core_of(*e->target));
  if (!x) return false;  // the record was never registered (cannot happen once the table has it)
  std::lock_guard lock(x->mutex);
  return remove_one(x->watchers, e);
}

}  // namespace

cell_extras& extras_of(cell_core& core) {
  // acquire: pairs with the creator's CAS (the extras' construction)
  if (auto* x = core.extras.load(std::memory_order_acquire)) return *x;
  auto* fresh = new cell_extras();
  cell_extras* expected = nullptr;
  // acq_rel: release publishes the construction; acquire, on failure, sees
  // the winner's (or the closed marker's) writes
  if (core.extras.compare_exchange_strong(expected, fresh, std::memory_order_acq_rel, std::memory_order_acquire))
    return *fresh;
  delete fresh;
  return *expected;
}

void free_extras(cell_core& core) noexcept {
  auto* x = core.extras.load(std::memory_order_relaxed);  // relaxed: the last owner frees; release_memory() ordered it
  if (x && x != &closed_marker()) {
    if (x->factory) x->factory->destroy(x->factory);
    unbind(*x);  // a supervised child that never ran
    if (x->sup_self) release_sup(x->sup_self);
    delete x;
  }
  core.extras.store(nullptr, std::memory_order_relaxed);  // relaxed: as above
}

void withdraw_monitors(cell_core& core) noexcept {
  auto* x = extras_if_any(core);
  if (!x || x == &closed_marker()) return;
  for (auto* e : x->monitors) {
    if (withdraw(e))
      drop_target_side(e);  // never fired
    else
      e->revoked = true;  // fired: a `down` already queued is dropped (after a restart, not run by the new object)
    drop_table_side(e);
  }
  x->monitors.clear();
}

void end_monitors(cell_core& core) noexcept {
  withdraw_monitors(core);  // the monitors this actor holds: no `down` will come
  COURIER_CHAOS_POINT("monitors: before closing the watcher list");
  cell_extras* x = nullptr;
  // acq_rel: publishes the recorded reason to a registrant that finds the marker.
  // Most actors never had extras: the marker is all there is to do (nobody
  // watches or links them).
  if (core.extras.compare_exchange_strong(x, &closed_marker(), std::memory_order_acq_rel, std::memory_order_acquire))
    return;
  // The monitors on this actor: closed under the lock, then fired outside it.
  std::vector<detail::down_envelope_base*> fired;
  std::vector<cell_extras::link_entry> links;
  {
    std::lock_guard lock(x->mutex);
    x->closed = true;  // no registration, link or propagation gets in after this
    fired.swap(x->watchers);
    links.swap(x->links);
  }
  // Nobody writes the text once `closed` is set (a propagation needs our
  // entry in its target's list, and we took ours): read it without the lock.
  auto reason = core.recorded_reason();
  std::string_view what = (reason == exit_reason::failed || reason == exit_reason::linked)
                              ? std::string_view(x->what)
                              : std::string_view{};
  end_links(core, links, what);
  for (auto* e : fired) {
    e->value.actor = core.id;
    e->value.reason = reason;
    e->value.what = std::string(what);  // may throw only on allocation failure: then without the text
    mail_down(e);
  }
}

}  // namespace courier::internal

namespace courier::detail {

using internal::cell_extras;
using internal::core_of;
using internal::state;

namespace {

monitor_id register_monitor(cell_base* watcher, cell_base* target, down_envelope_base* e);

}  // namespace

monitor_id monitor(cell_base* watcher, cell_base* target, down_envelope_base* e) {
  try {
    return register_monitor(watcher, target, e);
  } catch (...) {
    e->free(e);  // nothing was shared
    throw;
  }
}

namespace {

monitor_id register_monitor(cell_base* watcher, cell_base* target, down_envelope_base* e) {
  auto& self = core_of(*watcher);
  // Everything that can throw comes first, before anything is shared: then
  // the caller frees `e` and nothing is left behind.
  auto& mine = internal::extras_of(self);
  mine.monitors.reserve(mine.monitors.size() + 1);
  auto id = mine.last_monitor + 1;
  e->value.monitor = id;
  e->watcher = watcher;
  bool registered = false;
  internal::cell_extras* theirs = nullptr;
  if (target) {
    auto& other = core_of(*target);
    theirs = &internal::extras_of(other);
    std::string what;
    std::lock_guard lock(theirs->mutex);
    if (!theirs->closed) {
      theirs->watchers.push_back(e);  // the linearisation point with the target's end
      registered = true;
    } else if (other.recorded_reason() == exit_reason::failed || other.recorded_reason() == exit_reason::linked) {
      what = theirs->what;  // the text it left (written before `closed`)
    }
    // A registered record needs both memories alive (the target fires it,
    // the watcher may withdraw it): taken under the lock, before the target
    // can fire.
    e->target = target;
    state::hold_memory(other);
    state::hold_memory(self);
    if (!registered) {  // it has finished: the record it left (written before `closed`)
      e->value.actor = other.id;
      e->value.reason = other.recorded_reason();
      e->value.what = std::move(what);
    }
  } else {  // an empty address: `down` at once, actor 0, reason unknown
    state::hold_memory(self);
    e->value.actor = 0;
    e->value.reason = exit_reason::unknown;
  }
  mine.last_monitor = id;
  mine.monitors.push_back(e);  // reserved above: cannot throw
  if (!registered) internal::mail_down(e);
  return id;
}

}  // namespace

bool demonitor(cell_base* watcher, monitor_id m) noexcept {
  auto* mine = internal::extras_if_any(core_of(*watcher));
  if (!mine || m == 0) return false;
  auto it = std::find_if(mine->monitors.begin(), mine->monitors.end(),
                         [&](down_envelope_base* e) { return e->value.monitor == m; });
  if (it == mine->monitors.end()) return false;  // unknown, handled, or demonitored already
  auto* e = *it;
  *it = mine->monitors.back();
  mine->monitors.pop_back();
  COURIER_CHAOS_POINT("demonitor: before withdrawing from the target");
  if (internal::withdraw(e))
    internal::drop_target_side(e);  // never fired
  else
    e->revoked = true;  // fired: queued (or being mailed) here; dropped when its turn comes
  internal::drop_table_side(e);
  return true;
}

bool claim_down(cell_base* watcher, down_envelope_base* e) noexcept {
  if (e->revoked) return false;
  auto* mine = internal::extras_if_any(core_of(*watcher));
  if (mine && internal::remove_one(mine->monitors, e)) internal::drop_table_side(e);  // the mailbox still holds one
  return true;
}

void release_down(down_envelope_base* e) noexcept {
  if (e->refs.release()) e->free(e);
}

}  // namespace courier::detail
