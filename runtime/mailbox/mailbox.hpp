#pragma once
// The mailbox: an intrusive MPSC list (Vyukov's, with the consumer keeping
// the last consumed node as its dummy, as Pony's messageq does) whose head
// word also holds the actor's scheduling state.
//
// The head word's state bits (idle, closed, unreachable) and every
// transition on them live in runtime/actor/state.hpp, the one home of the
// ownership protocol; this file is the list: the push adapter for
// envelopes, and the consumer's pop / last / empty.

#include <atomic>
#include <cstdint>

#include <courier/detail/envelope.hpp>

#include "runtime/actor/core.hpp"
#include "runtime/actor/state.hpp"
#include "runtime/support/chaos.hpp"

namespace courier::internal {

using detail::envelope;
using detail::mailbox_node;

/// The runtime's instance of the state protocol.
using state = actor_state<std_atomics, cell_core>;

/// Chaos points of the state transitions (compiled out unless -Dchaos=true).
struct chaos_hook {
  void operator()([[maybe_unused]] const char* where) const noexcept { COURIER_CHAOS_POINT(where); }
};

class mailbox {
 public:
  static_assert(alignof(mailbox_node) > bits::head_mask, "node pointers must leave the state bits free");

  explicit mailbox(cell_core& cell) noexcept : cell_(cell) {}

  /// Makes a fresh cell's mailbox: empty, not idle (the spawner schedules the first turn).
  static void init(cell_core& cell) noexcept {
    cell.tail = &cell.stub;
    cell.head.store(reinterpret_cast<std::uintptr_t>(&cell.stub), std::memory_order_relaxed);  // relaxed: the cell is not yet shared
  }

  // -- producers ------------------------------------------------------------------

  /// state::push for an envelope. A push that races with close gives the
  /// message back to its sender (`back`), completes a request's reply with
  /// actor_stopped and marks the node refused, all before the node is
  /// linked (the consumer cannot reach it until then).
  [[nodiscard]] push_result push(envelope* e, detail::give_back back = {}) noexcept {
    return state::push(
        cell_, e,
        [&](mailbox_node* n) noexcept {
          auto* refused = static_cast<envelope*>(n);
          back(refused);
          refused->run(refused, &cell_.base(), detail::action::refuse);
          refused->flags |= envelope::refused;  // plain: published by the link store
        },
        chaos_hook{});
  }

  /// state::push_chain for envelopes a send buffer linked: every one was
  /// accepted when it was buffered (its send returned), so a refusal here
  /// gives nothing back; it completes a request's reply with actor_stopped
  /// and marks the node refused and pre-accepted (its drop is counted).
  [[nodiscard]] push_result push_chain(envelope* first, envelope* last) noexcept {
    return state::push_chain(
        cell_, first, last,
        [&](mailbox_node* n) noexcept {
          auto* refused = static_cast<envelope*>(n);
          refused->run(refused, &cell_.base(), detail::action::refuse);
          refused->flags |= envelope::refused | envelope::pre_accepted;  // plain: published by the link store
        },
        chaos_hook{});
  }

  // -- the owner (consumer) ------------------------------------------------------

  /// The node pushed last, at the time of the call (the turn's snapshot).
  mailbox_node* last() const noexcept {
    return state::pointer(cell_.head.load(std::memory_order_acquire));  // acquire: pairs with the push exchange; only compared, never dereferenced before its link is acquired
  }

  /// The next envelope, or null when none is linked yet. Frees the previous
  /// dummy (the memory of the envelope handled before).
  envelope* pop() noexcept {
    mailbox_node* dummy = cell_.tail;
    auto* next = dummy->next.load(std::memory_order_acquire);  // acquire: pairs with the release link store in state::push()
    if (!next) return nullptr;
    cell_.tail = next;
    if (dummy != &cell_.stub) {
      auto* old = static_cast<envelope*>(dummy);
      old->run(old, &cell_.base(), detail::action::release);
    }
    return static_cast<envelope*>(next);
  }

  /// True if nothing was pushed after the current dummy (a push in progress counts as something).
  bool empty() const noexcept {
    return state::pointer(cell_.head.load(std::memory_order_acquire)) == cell_.tail;  // acquire: pairs with the push exchange
  }

  /// Frees the dummy when the cell itself is freed.
  void release_dummy() noexcept {
    if (cell_.tail != &cell_.stub) {
      auto* old = static_cast<envelope*>(cell_.tail);
      old->run(old, &cell_.base(), detail::action::release);
      cell_.tail = &cell_.stub;
    }
  }

 private:
  cell_core& cell_;
};

}  // namespace courier::internal
