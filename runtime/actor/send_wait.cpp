// Waiting for room in a bounded mailbox (include/courier/detail/send_wait.hpp):
// the waiters' queue in the target's extras, the hand-over of a freed slot,
// and the end of every wait when the mailbox closes.
//
// Every change to the queue and to the `waiters` bit of the slot count is
// made under the target's extras lock. The bit makes every plain send see a
// full mailbox; every decrement of the count sees it in the value it
// returns (the consumer's release of a slot, and a refused sender undoing
// its increment) and then calls admit_waiter(). The RMWs on the count are
// totally ordered (relaxed suffices: the lock orders the data), so either
// a decrement sees the bit, or the waiter's fetch_or sees the free slot and
// takes it itself: no lost wake-up.

#include <atomic>
#include <mutex>

#include <courier/address.hpp>  // (and with it detail/send_wait.hpp)
#include <courier/detail/futex.hpp>

#include "runtime/actor/core.hpp"
#include "runtime/actor/extras.hpp"
#include "runtime/actor/lifecycle.hpp"
#include "runtime/mailbox/mailbox.hpp"
#include "runtime/support/chaos.hpp"
#include "runtime/system/system.hpp"

namespace courier::internal {

using detail::send_waiter;

bool mailbox_closed_for_waiters(const cell_core& core) noexcept {
  return (core.head.load(std::memory_order_acquire) & bits::closed) != 0;  // acquire: pairs with close()'s CAS
}

/// The gauge of metrics().senders_waiting. relaxed: a gauge, changed under the lock.
void count_waiting(cell_core& core, std::int64_t delta) noexcept {
  system_of(core.base()).senders_waiting().fetch_add(delta, std::memory_order_relaxed);
}

namespace {

/// Under the lock: tells `w` its outcome (release: after the message went
/// back or was pushed) and wakes it. `w` may be gone once `outcome` is
/// stored: what the wake needs is read first. A coroutine's queue entry
/// held an address of its actor (for this wake), which goes after it.
void decide(send_waiter* w, std::uint32_t outcome) noexcept {
  auto* waker = w->waker;
  auto* word = &w->outcome;
  w->outcome.store(outcome, std::memory_order_release);
  if (waker) {
    detail::wake(waker);
    detail::release_address(waker);
  } else {
    detail::futex_wake_all(*word);  // a thread that already returned: a wake of nobody
  }
}

/// Under the lock: `w` gets the slot just counted for it; its envelope is pushed.
void admit(detail::cell_base& cell, send_waiter* w) noexcept {
  w->e->flags |= detail::envelope::holds_slot;
  switch (detail::deliver(&cell, w->e, true, w->back)) {
    case detail::delivery::accepted:
      decide(w, send_waiter::admitted);
      return;
    case detail::delivery::refused_queued:  // closed as we pushed: the message is back, the mailbox owns the node
      decide(w, send_waiter::stopped_gone);
      return;
    case detail::delivery::rejected_closed:  // the message is back, the slot released
    case detail::delivery::rejected_full:
      decide(w, send_waiter::stopped);
      return;
  }
}

}  // namespace

void admit_waiter(cell_core& core) noexcept {
  auto* x = extras_if_any(core);
  if (!x) return;  // the bit is set only with extras
  std::lock_guard lock(x->mutex);
  if (x->send_waiters.empty()) {
    core.queued.fetch_and(~bits::send_waiters, std::memory_order_relaxed);  // relaxed: see the file comment
    return;
  }
  // A slot is free for real unless a refused sender's transient increment
  // is counted; that sender's undo calls us again.
  if ((core.queued.load(std::memory_order_relaxed) & ~bits::send_waiters) >= core.capacity()) return;
  auto* w = x->send_waiters.front();
  x->send_waiters.pop_front();
  count_waiting(core, -1);
  core.queued.fetch_add(1, std::memory_order_relaxed);  // the free slot goes to `w` (plain sends see the bit: full)
  if (x->send_waiters.empty()) core.queued.fetch_and(~bits::send_waiters, std::memory_order_relaxed);
  admit(core.base(), w);
}

void fail_send_waiters(cell_core& core) noexcept {
  // seq_cst: the close (which the caller made or saw) before our look at the
  // extras, against a registration's enqueue before its look at `closed`
  // (start_waiting): one of the two sees the other.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  auto* x = extras_if_any(core);
  if (!x) return;
  std::lock_guard lock(x->mutex);
  x->send_waiters_closed = true;
  while (!x->send_waiters.empty()) {
    auto* w = x->send_waiters.front();
    x->send_waiters.pop_front();
    count_waiting(core, -1);
    w->back(w->e);
    decide(w, send_waiter::stopped);
  }
  core.queued.fetch_and(~bits::send_waiters, std::memory_order_relaxed);  // relaxed: as above
}

}  // namespace courier::internal

namespace courier::detail {

using internal::bits::send_waiters;
using internal::core_of;

namespace {

/// start_waiting() without the queue: decides `w` at once (room, or closed).
std::uint32_t try_start(cell_base* target, send_waiter* w) noexcept;

}  // namespace

std::uint32_t start_waiting(cell_base* target, send_waiter* w) noexcept {
  auto outcome = try_start(target, w);
  // relaxed: read by the same thread (the caller), or published with the queue entry's lock
  if (outcome != send_waiter::waiting) w->outcome.store(outcome, std::memory_order_relaxed);
  return outcome;
}

namespace {

std::uint32_t try_start(cell_base* target, send_waiter* w) noexcept {
  auto& core = core_of(*target);
  internal::cell_extras* x = nullptr;
  try {
    x = &internal::extras_of(core);
  } catch (...) {
    w->back(w->e);
    return send_waiter::no_memory;
  }
  {
    std::lock_guard lock(x->mutex);
    if (x->send_waiters_closed || x->closed || internal::mailbox_closed_for_waiters(core)) {
      w->back(w->e);
      return send_waiter::stopped;
    }
    COURIER_CHAOS_POINT("send wait: before setting the waiters bit, racing a slot release");
    auto old = core.queued.fetch_or(send_waiters, std::memory_order_relaxed);  // relaxed: see the file comment
    if (x->send_waiters.empty() && (old & ~send_waiters) < core.capacity()) {
      // A slot came free since the refusal, and nobody waits before us.
      core.queued.fetch_add(1, std::memory_order_relaxed);
      core.queued.fetch_and(~send_waiters, std::memory_order_relaxed);
      w->e->flags |= envelope::holds_slot;
      switch (deliver(target, w->e, true, w->back)) {
        case delivery::accepted:
          return send_waiter::admitted;
        case delivery::refused_queued:
          return send_waiter::stopped_gone;
        default:
          return send_waiter::stopped;
      }
    }
    try {
      x->send_waiters.push_back(w);
      internal::count_waiting(core, 1);
    } catch (...) {
      if (x->send_waiters.empty()) core.queued.fetch_and(~send_waiters, std::memory_order_relaxed);
      w->back(w->e);
      return send_waiter::no_memory;
    }
  }
  COURIER_CHAOS_POINT("send wait: queued, before the look at `closed`");
  // seq_cst: against fail_send_waiters() (see there). A close it may have
  // missed is seen here: withdraw.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (internal::mailbox_closed_for_waiters(core) && stop_waiting(target, w)) {
    w->back(w->e);
    return send_waiter::stopped;
  }
  return send_waiter::waiting;
}


}  // namespace

bool stop_waiting(cell_base* target, send_waiter* w) noexcept {
  auto& core = core_of(*target);
  auto* x = internal::extras_if_any(core);
  if (!x) return false;
  std::lock_guard lock(x->mutex);
  auto& q = x->send_waiters;
  for (auto it = q.begin(); it != q.end(); ++it) {
    if (*it != w) continue;
    q.erase(it);
    internal::count_waiting(core, -1);
    if (q.empty()) core.queued.fetch_and(~send_waiters, std::memory_order_relaxed);  // relaxed: see the file comment
    return true;
  }
  return false;
}

}  // namespace courier::detail
