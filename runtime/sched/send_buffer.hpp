#pragma once
// send_buffer: a worker's run of plain messages to one unbounded mailbox,
// sent by one turn and pushed as one linked chain (one exchange on the
// mailbox head instead of one per message).
//
// Why: when senders on several workers flood one mailbox (fan-in), every
// push moves the head's cache line to the pushing core; with a chain of up
// to `capacity` messages that happens once per chain.
//
// When a send is buffered: on a worker, a plain message (not a request) to
// an unbounded mailbox whose previous message from the same turn went to
// the same mailbox (a run). The first message of a run goes straight to the
// mailbox, so a turn that sends one message per target (request/response,
// pipelines, pingpong) is untouched.
//
// Order: a message to a mailbox either continues a run on the worker that
// holds the run's chain (so it goes after it), or is delivered directly, and
// a direct delivery (from any thread) first pushes every chain held for that
// mailbox (push_buffered_to), as does shutdown() before it closes the
// mailbox. So per-sender FIFO holds also when the sender moves to another
// worker, and a send that happens-before anything another
// thread does to the mailbox is queued before it, as if every send were
// pushed when it returns.
//
// When the chain is pushed, besides: it holds `capacity` messages; the turn
// sends to another target; the batch of handler calls ends (and at the end
// of the turn); the stall monitor finds the worker inside one turn for a
// whole period (a long handler), so buffered messages never wait behind a
// long handler. A chain is work only its worker holds, so starting one
// wakes the monitor if it sleeps (as schedule_local does): the first
// message of the run may have found its target busy and scheduled nothing,
// and a pool that had just been idle would leave the monitor asleep.
//
// A send to a closed mailbox is refused at once, as an unbuffered one is. A
// buffered message was accepted when its send returned (counted then);
// refused by a mailbox that closed meanwhile, it is dropped and counted, as
// a message queued before a stop() is.
//
// The target's `queued` word, which an unbounded mailbox does not use
// otherwise, counts the chains held for it (by any worker); the chain holds
// an address of the target, so the actor cannot end as unreachable while
// messages to it are buffered.

#include <atomic>
#include <cstdint>

#include <courier/detail/cell.hpp>
#include <courier/detail/envelope.hpp>

#include "runtime/support/tls.hpp"

namespace courier::internal {

using detail::cell_base;
using detail::envelope;

class stall_monitor;

class send_buffer {
 public:
  /// Messages per chain; a full chain is pushed at once.
  static constexpr std::uint32_t capacity = 256;

  // -- the worker's thread ------------------------------------------------------------

  /// This thread's sends may be buffered from now on (a worker, at start);
  /// `monitor` is its pool's stall monitor, woken when a chain starts.
  void attach(stall_monitor& monitor) noexcept {
    monitor_ = &monitor;
    open_buffer = this;
  }
  void detach() noexcept { open_buffer = nullptr; }
  /// A batch of handler calls begins: no run is going on.
  void open() noexcept { recent_ = nullptr; }
  /// The batch ended (or the turn did): pushes the chain, if any. Not
  /// needed for order (see push_buffered_to), only so that nothing waits.
  void close() noexcept {
    if (may_hold_) push_now();
  }
  /// Pushes the chain now, if any.
  void push_now() noexcept;
  /// A plain message to the unbounded `target`: true if it continues a run
  /// (the previous send went to `target` too), so take() buffers it; false
  /// when it starts one (after pushing the last run's chain), so the caller
  /// delivers it now.
  bool continues_run(cell_base* target) noexcept {
    if (target == recent_) return true;
    if (may_hold_) push_now();
    recent_ = target;
    return false;
  }
  /// Buffers `e`, the next message of the run to `target`.
  void take(cell_base* target, envelope* e) noexcept {
    e->next.store(nullptr, std::memory_order_relaxed);  // relaxed: published with the chain (push_locked)
    lock();
    // relaxed: we hold the lock. The common case: one more in the chain.
    if (target_.load(std::memory_order_relaxed) == target && count_ + 1 < capacity) [[likely]] {
      last_->next.store(e, std::memory_order_relaxed);  // relaxed: published with the chain
      last_ = e;
      ++count_;
      unlock();
      return;
    }
    take_locked(target, e);  // a new chain, or the last message of a full one
  }

  /// The send buffer of the worker whose thread calls this, or null.
  static send_buffer* open_here() noexcept { return open_buffer; }

  // -- any thread -----------------------------------------------------------------------

  /// Pushes the chain if it is for `target` (a direct delivery or a close
  /// is about to happen there). Waits while another thread holds the chain.
  void push_if_for(cell_base* target) noexcept;
  /// The stall monitor: pushes the chain unless its owner is using it now.
  void push_if_idle() noexcept;

 private:
  void lock() noexcept {
    // acquire: pairs with unlock()'s release (the chain fields it guards)
    if (locked_.exchange(true, std::memory_order_acquire)) [[unlikely]]
      lock_contended();
  }
  void lock_contended() noexcept;
  bool try_lock() noexcept;
  void unlock() noexcept {
    locked_.store(false, std::memory_order_release);  // release: pairs with lock()'s acquire exchange
  }
  /// take() with the lock held, for what is not an append to a chain with room.
  void take_locked(cell_base* target, envelope* e) noexcept;
  /// With the lock held: pushes the chain (if any) and empties the buffer.
  /// Returns the target whose address and count the caller then gives back
  /// (after unlock()), or null.
  cell_base* push_locked() noexcept;
  static void give_back(cell_base* target) noexcept;

  /// The lock between the owner's appends and another thread's push.
  std::atomic<bool> locked_{false};
  /// The chain's mailbox; null when empty. Written with the lock held; read
  /// without it by push_if_for() to skip other mailboxes' chains.
  std::atomic<cell_base*> target_{nullptr};
  envelope* first_ = nullptr;  // lock held
  envelope* last_ = nullptr;   // lock held
  std::uint32_t count_ = 0;    // lock held

  // Owner only.
  stall_monitor* monitor_ = nullptr;  // the pool's (attach)
  cell_base* recent_ = nullptr;  // the target of the turn's previous send
  bool may_hold_ = false;        // a chain was started and may not be pushed yet

  /// The buffer of the worker running on this thread (every send reads
  /// it: initial-exec, one load, no __tls_get_addr call).
  static thread_local constinit send_buffer* open_buffer COURIER_TLS_FAST;
};

/// Pushes every worker's chain for `target` (before a direct delivery to it
/// or before shutdown() closes it). Cheap when there is none:
/// one load of the target's count of chains.
void push_buffered_to(cell_base* target) noexcept;

/// Pushes a chain that was accepted message by message (cell.cpp: the same
/// outcome handling as a single delivery, counted when buffered).
void push_chain_to(cell_base* target, envelope* first, envelope* last) noexcept;

}  // namespace courier::internal
