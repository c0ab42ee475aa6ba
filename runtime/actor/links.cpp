// Links (docs/supervision.md, "Links"): two actors tied both ways; when one
// ends with `failed` or `linked`, the other gets an exit_signal (if its type
// handles one) or is stopped with `linked`. Control paths only, under the
// extras locks, never two at a time.
//
// The linearisation point of a link and an end is the removal of the ending
// actor's entry from its peer's list, under the peer's lock: the ending actor
// propagates only if it still finds itself there. link() adds the linker's
// own entry first and the peer's second, so an end racing the link either
// finds the entry (and propagates) or the linker finds the peer closed (and
// propagates itself). unlink() removes both entries; a signal already mailed
// is marked revoked and dropped when its turn comes.

#include <algorithm>
#include <new>
#include <string>

#include <courier/detail/cell.hpp>
#include <courier/monitor.hpp>

#include "runtime/actor/core.hpp"
#include "runtime/actor/extras.hpp"
#include "runtime/actor/lifecycle.hpp"
#include "runtime/mailbox/mailbox.hpp"
#include "runtime/support/chaos.hpp"
#include "runtime/system/system.hpp"

namespace courier::internal {

namespace {

using link_list = std::vector<cell_extras::link_entry>;

bool propagates(exit_reason r) noexcept { return r == exit_reason::failed || r == exit_reason::linked; }

/// Removes `peer`'s entry from `list` (the caller holds its lock); true if it was there.
bool remove_entry(link_list& list, const cell_base* peer) noexcept {
  auto it = std::find_if(list.begin(), list.end(), [&](const cell_extras::link_entry& e) { return e.peer == peer; });
  if (it == list.end()) return false;
  *it = list.back();
  list.pop_back();
  return true;
}

bool has_entry(const link_list& list, const cell_base* peer) noexcept {
  return std::any_of(list.begin(), list.end(), [&](const cell_extras::link_entry& e) { return e.peer == peer; });
}

/// `from` ended with `reason`: tells `to` (whose entry for `from` was just
/// removed, so this happens once).
void propagate(cell_base* to, actor_id from, exit_reason reason, std::string_view what) noexcept {
  auto& core = core_of(*to);
  auto& x = *extras_if_any(core);  // it had a link entry, so it has extras
  if (to->ops->exit_signal) {  // it traps exits: a message, and it goes on
    envelope* e = nullptr;
    try {
      e = to->ops->exit_signal(courier::exit_signal{from, reason, std::string(what)});
      std::lock_guard lock(x.mutex);
      if (x.closed) {  // finishing: the propagation is dropped
        e->run(e, to, detail::action::destroy);
        e->run(e, to, detail::action::release);
        return;
      }
      x.signals.push_back({from, false});
    } catch (...) {
      if (e) {
        e->run(e, to, detail::action::destroy);
        e->run(e, to, detail::action::release);
      }
      system_of(*to).report(detail::name_of(to), "exit_signal", "out of memory: an exit_signal was lost");
      return;
    }
    e->flags |= envelope::pre_accepted;  // a refusal counts as accepted and dropped
    auto counters = counters_here(system_of(*to));
    switch (detail::deliver(to, e, true)) {
      case detail::delivery::accepted:
      case detail::delivery::refused_queued:
        return;
      case detail::delivery::rejected_closed:
      case detail::delivery::rejected_full:
        counters.add(&counter_set::accepted);
        counters.add(&counter_set::dropped);
        detail::dispose(to, e);
        return;
    }
    return;
  }
  // It does not trap: it stops with `linked` (its own earlier end request wins).
  {
    std::lock_guard lock(x.mutex);
    if (x.closed) return;
    auto none = no_reason;
    // acq_rel: the reason and the text travel with the stop bit request_end() sets
    if (core.requested_reason.compare_exchange_strong(none, static_cast<std::uint8_t>(exit_reason::linked),
                                                      std::memory_order_acq_rel, std::memory_order_acquire)) {
      try {
        x.what = "linked actor " + std::to_string(from) + " " + std::string(to_string(reason)) + ": " +
                 std::string(what);
      } catch (...) {
      }
    }
  }
  request_end(to, bits::stop_requested, exit_reason::linked);
}

}  // namespace

void set_failure_text(cell_extras& x, std::string_view what) noexcept {
  std::lock_guard lock(x.mutex);
  try {
    x.what = std::string(what);
  } catch (...) {  // out of memory: the reason stands without its text
  }
}

void end_links(cell_core& core, std::vector<cell_extras::link_entry>& links, std::string_view what) noexcept {
  auto& self = core.base();
  for (auto& entry : links) {
    auto* peer = entry.peer;
    COURIER_CHAOS_POINT("links: before removing ourselves from a peer");
    bool found = false;
    if (auto* px = extras_if_any(core_of(*peer))) {
      std::lock_guard lock(px->mutex);
      found = remove_entry(px->links, &self);
    }
    if (found) {
      release_cell(&self);  // the hold the peer's entry had on us (we hold "not yet done")
      if (auto reason = core.recorded_reason(); propagates(reason)) propagate(peer, core.id, reason, what);
    }
    release_cell(peer);  // our entry's hold
  }
  links.clear();
}

void revoke_own_links(cell_core& core) noexcept {
  auto* x = extras_if_any(core);
  if (!x) return;
  link_list mine;
  {
    std::lock_guard lock(x->mutex);
    auto keep = std::partition(x->links.begin(), x->links.end(), [](const cell_extras::link_entry& e) { return !e.mine; });
    mine.assign(keep, x->links.end());  // cannot throw past reserve: links never shrink capacity
    x->links.erase(keep, x->links.end());
  }
  auto& self = core.base();
  for (auto& entry : mine) {
    if (auto* px = extras_if_any(core_of(*entry.peer))) {
      std::lock_guard lock(px->mutex);
      if (remove_entry(px->links, &self)) release_cell(&self);
    }
    release_cell(entry.peer);
  }
}

}  // namespace courier::internal

namespace courier::detail {

using internal::cell_extras;
using internal::core_of;
using internal::extras_if_any;
using internal::state;

void link(cell_base* self, cell_base* other) {
  if (!other || other == self) return;
  auto& mine = internal::extras_of(core_of(*self));
  auto& theirs = internal::extras_of(core_of(*other));
  // Ours first (see the top of this file), with the hold on the peer it carries.
  {
    std::lock_guard lock(mine.mutex);
    if (internal::has_entry(mine.links, other)) return;  // linked already: idempotent per pair
    mine.links.push_back({other, true});
    state::hold_memory(core_of(*other));
  }
  COURIER_CHAOS_POINT("link: our entry in, the peer's not yet");
  bool closed = false;
  exit_reason reason = exit_reason::unknown;
  std::string what;
  {
    std::lock_guard lock(theirs.mutex);
    if (!theirs.closed) {
      try {
        theirs.links.push_back({self, false});
        state::hold_memory(core_of(*self));
        return;
      } catch (...) {
        // out of memory: undo ours below, then rethrow
      }
    } else {
      closed = true;
      reason = core_of(*other).recorded_reason();
      if (internal::propagates(reason)) {
        try {
          what = theirs.what;
        } catch (...) {  // out of memory: propagated without the text
        }
      }
    }
  }
  // The peer had ended (or we could not register): our entry goes again.
  {
    std::lock_guard lock(mine.mutex);
    if (internal::remove_entry(mine.links, other)) internal::release_cell(other);
  }
  if (!closed) throw std::bad_alloc();
  if (internal::propagates(reason)) internal::propagate(self, core_of(*other).id, reason, what);  // linking after the fact
}

void unlink(cell_base* self, cell_base* other) noexcept {
  if (!other || other == self) return;
  auto* mine = extras_if_any(core_of(*self));
  if (!mine) return;
  bool was_mine;
  {
    std::lock_guard lock(mine->mutex);
    was_mine = internal::remove_entry(mine->links, other);
    // A signal `other` already mailed us is dropped when its turn comes.
    for (auto& s : mine->signals)
      if (s.from == core_of(*other).id) s.revoked = true;
  }
  if (!was_mine) return;
  COURIER_CHAOS_POINT("unlink: our entry out, the peer's not yet");
  if (auto* theirs = extras_if_any(core_of(*other))) {
    std::lock_guard lock(theirs->mutex);
    if (internal::remove_entry(theirs->links, self)) internal::release_cell(self);
  }
  internal::release_cell(other);
}

bool claim_signal(cell_base* self, actor_id from) noexcept {
  auto* mine = extras_if_any(core_of(*self));
  if (!mine) return true;
  std::lock_guard lock(mine->mutex);
  auto it = std::find_if(mine->signals.begin(), mine->signals.end(),
                         [&](const cell_extras::pending_signal& s) { return s.from == from; });
  if (it == mine->signals.end()) return true;
  bool live = !it->revoked;
  mine->signals.erase(it);
  return live;
}

}  // namespace courier::detail
