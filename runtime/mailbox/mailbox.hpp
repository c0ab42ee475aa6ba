#pragma once
// The mailbox: an intrusive MPSC list (Vyukov's, with the consumer keeping
// the last consumed node as its dummy, as Pony's messageq does) whose head
// word also holds the actor's scheduling state.
//
// head word = pointer to the last pushed node | idle | closed | unreachable
//
//   idle    the actor is neither scheduled nor running. Set only by the
//           owner's release CAS (when the list is empty), cleared by the
//           push that finds it: that push's sender schedules the actor,
//           so a message to an idle actor schedules it exactly once (I2).
//           Clearing it is how a thread becomes the owner (I1): the pusher
//           that finds it, the last address's dropper (flag_or_claim), or
//           close(); a suspended coroutine handler owns the actor through
//           the lifecycle word instead (docs/architecture.md).
//   closed  new pushes are refused (I7). Set by close(); sticky.
//   unreachable  the last address was dropped while the actor was not
//           idle. Set by that dropper (flag_or_claim()); it makes the
//           owner's release CAS fail, so the owner notices and finishes.
//           A push wipes it (the exchange writes a bare pointer), but then
//           the release fails on the new node anyway, and the owner reads
//           the address count before every release.
//
// Transitions:
//   running            --release CAS (list empty)-->  idle
//   idle               --push (exchange)--------->    running (pusher schedules)
//   idle | running     --close (CAS)------------->    closed, running (close schedules if it was idle)
//   closed, running    --final release CAS------->    closed | idle (done: nothing will run it again)
//   running            --last address dropped----->   running | unreachable (release CAS fails)
//   idle               --last address dropped----->   running (the dropper schedules it)
//
// Why the flag: the owner used to release first and then re-read the
// address count, which touched the cell after it was no longer the owner's
// (another worker could run the actor to its end and free it in between).
// With the dropper's decision in the head word itself, both sides decide on
// one word's modification order, and the owner never reads the cell after
// its release CAS succeeded.

// A push is one exchange: it cannot be made conditional on `closed`, so it
// first reads the word and refuses if closed; a push that still races in
// after close finds `closed` in the exchanged word, marks its node refused,
// links it and puts `closed` back. A push that slips in between those two
// steps is accepted; the actor then handles it (shutdown) or drops it and
// counts it (stop), so nothing is lost silently (I7). Every node, accepted
// or refused, is consumed by whoever owns the consumer side.

#include <atomic>
#include <cstdint>

#include <courier/detail/cell.hpp>
#include <courier/detail/envelope.hpp>

#include "runtime/support/chaos.hpp"

namespace courier::internal {

using detail::cell_base;
using detail::envelope;
using detail::mailbox_node;

class mailbox {
 public:
  static constexpr std::uintptr_t idle = 1;
  static constexpr std::uintptr_t closed = 2;
  static constexpr std::uintptr_t unreachable = 4;
  static constexpr std::uintptr_t bits = idle | closed | unreachable;
  static_assert((idle & closed) == 0 && (idle & unreachable) == 0 && (closed & unreachable) == 0,
                "state bits must be distinct");
  static_assert(alignof(mailbox_node) > bits, "node pointers must leave the state bits free");

  enum class push_result : std::uint8_t {
    accepted,        // queued; the actor was busy or scheduled
    accepted_idle,   // queued; the actor was idle: the caller must schedule it
    rejected,        // not queued (closed): the caller keeps the node
    refused,         // queued but marked refused (raced with close): the consumer disposes of it
    refused_owner,   // as refused, and the actor was done and idle: the caller owns the consumer side
  };

  explicit mailbox(cell_base& cell) noexcept : cell_(cell) {}

  /// Makes a fresh cell's mailbox: empty, not idle (the spawner schedules the first turn).
  static void init(cell_base& cell) noexcept {
    cell.tail = &cell.stub;
    cell.head.store(reinterpret_cast<std::uintptr_t>(&cell.stub), std::memory_order_relaxed);  // relaxed: the cell is not yet shared
  }

  static mailbox_node* pointer(std::uintptr_t word) noexcept {
    return reinterpret_cast<mailbox_node*>(word & ~bits);
  }

  // -- producers ------------------------------------------------------------------

  /// `back` gives a refused message back to its sender before the node is
  /// linked (the consumer cannot reach it until then).
  push_result push(envelope* e, detail::give_back back = {}) noexcept {
    // relaxed: a hint only; a close that happens-before this send is seen by
    // coherence, and a racing close is caught by the exchange below.
    if (cell_.head.load(std::memory_order_relaxed) & closed) return push_result::rejected;
    e->next.store(nullptr, std::memory_order_relaxed);  // relaxed: published by the link store below
    // acq_rel: release publishes the envelope's contents to the consumer that
    // later acquires our link; acquire pairs with the owner's release CAS in
    // try_release(), so when we find `idle` the next turn sees the last one's writes (I1).
    auto old = cell_.head.exchange(reinterpret_cast<std::uintptr_t>(e), std::memory_order_acq_rel);
    COURIER_CHAOS_POINT("push: exchanged, not yet linked");
    if (old & closed) {
      back(e);  // the consumer waits for our link, so the message is still ours
      e->run(e, &cell_, detail::action::refuse);  // a request's reply completes now, not when the owner disposes of it
      e->flags |= envelope::refused;  // plain: published by the link store below
      pointer(old)->next.store(e, std::memory_order_release);  // release: pairs with the acquire in pop(); publishes the node
      COURIER_CHAOS_POINT("push: refused, closed not yet restored");
      // acq_rel: keeps `closed` sticky; pairs with the final release CAS (which expects it)
      cell_.head.fetch_or(closed, std::memory_order_acq_rel);
      return (old & idle) ? push_result::refused_owner : push_result::refused;
    }
    pointer(old)->next.store(e, std::memory_order_release);  // release: pairs with the acquire in pop(); publishes the node
    return (old & idle) ? push_result::accepted_idle : push_result::accepted;
  }

  /// Closes the mailbox; true if the actor was idle (the caller now owns it
  /// and must schedule it so it can finish).
  bool close() noexcept {
    auto word = cell_.head.load(std::memory_order_relaxed);  // relaxed: validated by the CAS
    for (;;) {
      if (word & closed) return false;
      COURIER_CHAOS_POINT("close: before the CAS, racing pushes");
      auto desired = (word | closed) & ~(idle | unreachable);  // closed: the actor finishes anyway
      // acq_rel: release publishes the lifecycle flag set before close() to
      // the owner whose release CAS fails on this word; acquire pairs with
      // the owner's release CAS when we take an idle actor over.
      if (cell_.head.compare_exchange_weak(word, desired, std::memory_order_acq_rel, std::memory_order_relaxed))
        return (word & idle) != 0;
    }
  }

  /// Called by whoever dropped the last address. An idle, open actor is
  /// taken over (true: the caller schedules it so it can notice and
  /// finish); a running one is flagged `unreachable`, which fails its next
  /// release CAS; a closed one finishes anyway. acq_rel: release publishes
  /// the count's decrement to the owner's acquire (its failed release CAS);
  /// acquire, when we take over, pairs with the owner's release CAS.
  bool flag_or_claim() noexcept {
    auto word = cell_.head.load(std::memory_order_acquire);  // acquire: validated by the CAS below
    for (;;) {
      if (word & closed) return false;
      COURIER_CHAOS_POINT("unreachable: before flagging or claiming");
      auto desired = (word & idle) ? (word & ~idle) : (word | unreachable);
      if (cell_.head.compare_exchange_weak(word, desired, std::memory_order_acq_rel, std::memory_order_acquire))
        return (word & idle) != 0;
    }
  }

  // -- the owner (consumer) ------------------------------------------------------

  /// The node pushed last, at the time of the call (the turn's snapshot).
  mailbox_node* last() const noexcept {
    return pointer(cell_.head.load(std::memory_order_acquire));  // acquire: pairs with the push exchange; only compared, never dereferenced before its link is acquired
  }

  /// The next envelope, or null when none is linked yet. Frees the previous
  /// dummy (the memory of the envelope handled before).
  envelope* pop() noexcept {
    mailbox_node* dummy = cell_.tail;
    auto* next = dummy->next.load(std::memory_order_acquire);  // acquire: pairs with the release link store in push()
    if (!next) return nullptr;
    cell_.tail = next;
    if (dummy != &cell_.stub) {
      auto* old = static_cast<envelope*>(dummy);
      old->run(old, &cell_, detail::action::release);
    }
    return static_cast<envelope*>(next);
  }

  /// True if nothing was pushed after the current dummy (a push in progress counts as something).
  bool empty() const noexcept {
    return pointer(cell_.head.load(std::memory_order_acquire)) == cell_.tail;  // acquire: pairs with the push exchange
  }

  enum class release_result : std::uint8_t {
    released,    // idle now: the next push schedules it; the caller must not touch the cell again
    busy,        // a push raced in, or the mailbox closed: the caller still owns the actor
    unreachable, // flagged by the last address's dropper: the caller still owns the actor
  };

  /// Marks the actor idle if the list is empty, the mailbox open and the
  /// actor not flagged unreachable: one CAS. release: publishes the turn's
  /// writes to the pusher that finds `idle` (its acquire exchange); acquire
  /// on failure: pairs with flag_or_claim()'s release, so a caller that sees
  /// the flag also sees the count at 0.
  release_result try_release() noexcept {
    auto expected = reinterpret_cast<std::uintptr_t>(cell_.tail);
    if (cell_.head.compare_exchange_strong(expected, expected | idle, std::memory_order_release,
                                           std::memory_order_acquire))
      return release_result::released;
    return expected == (reinterpret_cast<std::uintptr_t>(cell_.tail) | unreachable) ? release_result::unreachable
                                                                                    : release_result::busy;
  }

  /// Clears a stale `unreachable` flag (the actor took an address to itself
  /// again, ctx.self()). Owner only; a push that raced in wiped it anyway.
  void clear_unreachable() noexcept {
    auto expected = reinterpret_cast<std::uintptr_t>(cell_.tail) | unreachable;
    // relaxed: only the owner reads the flag, through its own release CAS
    cell_.head.compare_exchange_strong(expected, expected & ~unreachable, std::memory_order_relaxed,
                                       std::memory_order_relaxed);
  }

  /// The last release of a done actor: closed | idle, if the list is empty.
  /// Later pushes are refused; one that races in finds `idle` and disposes
  /// of what it linked itself (push_result::refused_owner).
  bool try_release_closed() noexcept {
    auto expected = reinterpret_cast<std::uintptr_t>(cell_.tail) | closed;
    // release: publishes the done state and the destroyed actor to a pusher that finds idle
    return cell_.head.compare_exchange_strong(expected, expected | idle, std::memory_order_acq_rel,
                                              std::memory_order_acquire);
  }

  /// Frees the dummy when the cell itself is freed.
  void release_dummy() noexcept {
    if (cell_.tail != &cell_.stub) {
      auto* old = static_cast<envelope*>(cell_.tail);
      old->run(old, &cell_, detail::action::release);
      cell_.tail = &cell_.stub;
    }
  }

 private:
  cell_base& cell_;
};

}  // namespace courier::internal
