#pragma once
// The envelope: one allocation per message, a header followed by the message.
//
// The runtime never inspects the message: the header's thunk knows its type
// and performs one of four actions on it.

#include <atomic>
#include <cstdint>

namespace courier::detail {

struct cell_base;

/// The intrusive link of the mailbox (runtime/mailbox/mailbox.hpp). Aligned
/// to 8 so the mailbox can keep two state bits in the low bits of a pointer.
struct alignas(8) mailbox_node {
  std::atomic<mailbox_node*> next{nullptr};
};

/// What the consumer does with an envelope.
enum class action : std::uint8_t {
  handle,   // run the handler, then destroy the message (memory stays: it is the mailbox's dummy)
  destroy,  // not handled (the actor stopped first, or the send was refused): destroy the
            // message; a request completes with actor_stopped. Whether it counts as
            // dropped is the caller's business (stats().dropped: accepted ones only).
  release,  // free the memory (the mailbox moved past it, or it was never queued)
  refuse,   // the push found the mailbox closed and the node is not linked yet: a request
            // completes with actor_stopped now (its sender must not wait for the owner to
            // dispose of the node); the message stays, for the later `destroy`
};

/// What `handle` did to the turn. A coroutine handler that suspends returns
/// `suspended`: from then on its actor belongs to the suspension (which a
/// wake() may already run on another worker), so the turn ends at once and
/// never touches the cell again. A `handle` that finds its message revoked
/// (a `down` after demonitor) returns `discarded`: counted as dropped, not
/// handled. Every other action returns `done`.
enum class ran : std::uint8_t { done, suspended, discarded };

struct envelope : mailbox_node {
  using thunk = ran (*)(envelope*, cell_base*, action) noexcept;

  // Flag bits, written by the sender before the push (and `refused` by the
  // pusher before it links the node); read by the consumer after it acquired
  // the link, so plain fields suffice.
  static constexpr std::uint32_t counted = 1;       // a message: counts in stats().handled / dropped
  static constexpr std::uint32_t holds_slot = 2;    // took a bounded-mailbox slot
  static constexpr std::uint32_t refused = 4;       // linked into a closed mailbox; its sender got the error
  static constexpr std::uint32_t pre_accepted = 8;  // accepted earlier (timer): counts as dropped if refused
  static constexpr std::uint32_t request = 16;      // carries a reply slot (stats().replies_*)

  explicit envelope(thunk fn, std::uint32_t initial_flags) noexcept : run(fn), flags(initial_flags) {}

  thunk run;
  std::uint32_t flags;
};

/// How a refused send gives its message back to the caller's argument
/// (guarantee 6: a refused rvalue is not moved from). `fn` moves the
/// envelope's message into `*target`; null for a copied (lvalue) argument.
struct give_back {
  void (*fn)(envelope* e, void* target) noexcept = nullptr;
  void* target = nullptr;
  void operator()(envelope* e) const noexcept {
    if (fn) fn(e, target);
  }
};

}  // namespace courier::detail
