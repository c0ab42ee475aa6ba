#pragma once
// Who owns an actor, and when: the one home of the ownership protocol.
//
// An actor's state lives in two words of its cell and two counts:
//
//   head (scheduling word) = pointer to the last pushed node | idle | closed | unreachable
//   lifecycle word         = stop_requested | shutdown_requested | done | joiners | suspended | woken
//   strong                 = addresses to the actor
//   weak                   = owners of the cell's memory: one for "strong > 0", one for "not yet done"
//
// States (what a reader of the words can tell) and who owns the actor in each:
//
//   state      words                                   owner (the one thread that may run it)
//   ---------  --------------------------------------  ------------------------------------------
//   scheduled  head: no idle; in a run queue           the queue; the worker that pops it
//   running    head: no idle; a worker is in run_turn  that worker
//   idle       head: idle                              nobody: the next push/close/last drop claims it
//   suspended  lifecycle: suspended, not woken         the suspended coroutine handler (its wake())
//   woken      lifecycle: suspended | woken            the worker the waker scheduled it on
//   closing    head: closed, not done                  the running/scheduled owner, which finishes it
//   done       lifecycle: done; head: closed | idle    nobody runs it again; late pushes are refused
//   dormant    lifecycle: dormant, not woken             the backoff timer, stop() or shutdown() (its wake)
//              (torn down after a failure, mailbox open, waiting to be rebuilt)
//
// Events and their transitions, one function each below. Each returns what
// its caller must do next; ignoring it is a bug, hence [[nodiscard]].
//
//   event                 function               from -> to                         caller must
//   --------------------  ---------------------  ---------------------------------  ---------------------
//   push                  push()                 idle -> scheduled                  schedule
//                                                closed (not idle) -> closed        nothing (refused, linked)
//                                                done -> done                       settle the mailbox
//   end of a turn         release()              running -> idle                    nothing; never touch the cell
//                                                running, unreachable flag          finish (re-check count)
//   close                 close()                idle -> closing, scheduled         schedule
//                                                running -> closing                 nothing (the owner finishes)
//   stop / shutdown       request_end()          as close, after the lifecycle bit  schedule if told
//   last address dropped  drop_address()         idle -> scheduled                  schedule, then release_memory()
//                                                running -> running | unreachable   release_memory()
//   suspend               suspend()              running -> suspended               never touch the cell
//                                                running (woken first) -> running   resume the frame at once
//   wake                  wake()                 suspended -> woken, scheduled      schedule
//                                                running -> running | woken         nothing (the turn resumes)
//   resume                resume()               woken -> running                   resume, or cancel the frame
//   failure (restart)     request_restart()      running -> running | restart       tear down after this message
//   supervisor teardown   request_teardown()     any -> | restart (other thread)    rouse(suspended), or a message
//   backoff               go_dormant() (CAS)     running -> dormant                 never touch the cell
//                                                running (woken/ended first)        rebuild or finish now
//   backoff over / stop   wake(), rouse()        dormant -> dormant | woken         schedule
//   finish                mark_done()            closing -> done                    wake joiners if told
//   final release         final_release()        done (empty list) -> done | idle   retry after draining
//   memory released       release_memory()       weak 1 -> 0                        free the cell
//
// Why one word decides: a release, a push, a close and a last drop all end in
// one RMW on `head`, so they are ordered by that word's modification order
// and exactly one of them finds `idle`. Suspension is decided on the
// lifecycle word the same way: suspend() (a CAS) and wake() (a fetch_or)
// are both one RMW, and exactly one of them sees the other's bit first (docs/architecture.md, I1).
//
// Plain C++17 templated on the atomics (`M`) and on the cell (`Cell`: the
// words as members, the address count through `strong()`), so the
// Relacy model in tests/relacy/state_model.cpp checks this very code; the
// runtime uses actor_state<std_atomics, cell_core> (the `state` alias
// at the end of this file).

#include <atomic>
#include <cstdint>
#include <type_traits>

namespace courier::internal {

namespace bits {
// head word
inline constexpr std::uintptr_t idle = 1;
inline constexpr std::uintptr_t closed = 2;
inline constexpr std::uintptr_t unreachable = 4;
inline constexpr std::uintptr_t head_mask = idle | closed | unreachable;
/// In cell_core::queued (the slot count of a bounded mailbox): senders wait
/// for room (runtime/actor/send_wait.cpp). Plain sends see the count full.
inline constexpr std::uint32_t send_waiters = 1u << 31;
// lifecycle word
inline constexpr std::uint32_t stop_requested = 1;
inline constexpr std::uint32_t shutdown_requested = 2;
inline constexpr std::uint32_t done = 4;
inline constexpr std::uint32_t joiners = 8;
inline constexpr std::uint32_t suspended = 16;
inline constexpr std::uint32_t woken = 32;
inline constexpr std::uint32_t restart_requested = 64;
inline constexpr std::uint32_t dormant = 128;
/// Set by the last turn when the memory outlives it: the cell holds a
/// reference on its system until it is freed.
inline constexpr std::uint32_t holds_system = 256;
inline constexpr std::uint32_t end_requested = stop_requested | shutdown_requested;
/// What the owner checks before each message.
inline constexpr std::uint32_t interrupts = stop_requested | shutdown_requested | restart_requested;
}  // namespace bits

/// What a push found.
enum class push_result : std::uint8_t {
  accepted,        // queued; the actor was scheduled or running
  accepted_idle,   // queued; the actor was idle: the caller must schedule it
  rejected,        // not queued (closed): the caller keeps the node
  refused,         // queued but marked refused (raced with close): the consumer disposes of it
  refused_owner,   // as refused, and the actor was done and idle: the caller owns the consumer side
};

/// What the owner's release at the end of a turn found.
enum class release_result : std::uint8_t {
  released,     // idle now: the next push schedules it; the caller must not touch the cell again
  busy,         // a push raced in, or the mailbox closed: the caller still owns the actor
  unreachable,  // flagged by the last address's dropper: the caller still owns the actor
};

/// What dropping an address did.
enum class drop_result : std::uint8_t {
  kept,     // other addresses remain
  flagged,  // the last one: the running owner will notice (release fails); release_memory() next
  claimed,  // the last one, and the actor was idle: schedule it, then release_memory()
  closing,  // the last one, and the actor finishes anyway (closed); release_memory() next
};

/// What a coroutine handler's suspension found.
enum class suspend_result : std::uint8_t {
  parked,  // the suspension owns the actor: the turn ends at once and must not touch the cell
  resume,  // a wake came first: the turn still owns the actor and resumes the frame now
};

/// What a resuming turn must do with the frame.
enum class resume_result : std::uint8_t {
  resume,  // go on with the frame
  cancel,  // stop() or a teardown was requested: destroy the frame unfinished
};

/// The runtime's atomics (the Relacy model passes its own policy).
struct std_atomics {
  template <class T>
  using atomic = std::atomic<T>;
  using order = std::memory_order;
  static constexpr order relaxed = std::memory_order_relaxed;
  static constexpr order acquire = std::memory_order_acquire;
  static constexpr order release = std::memory_order_release;
  static constexpr order acq_rel = std::memory_order_acq_rel;
  template <class T>
  static std::atomic<T>& at(std::atomic<T>& a) noexcept {
    return a;
  }
  template <class T>
  static const std::atomic<T>& at(const std::atomic<T>& a) noexcept {
    return a;
  }
};

template <class M, class Cell>
struct actor_state {
  using node = std::remove_reference_t<decltype(Cell::stub)>;

  static node* pointer(std::uintptr_t word) noexcept { return reinterpret_cast<node*>(word & ~bits::head_mask); }
  static std::uintptr_t word_of(const node* n) noexcept { return reinterpret_cast<std::uintptr_t>(n); }

  // -- push ---------------------------------------------------------------------------

  /// Links `n` as the newest node. A push is one exchange, which cannot be
  /// conditional on `closed`: it first reads the word and rejects if closed; a
  /// push that still races in after the close finds `closed` in the exchanged
  /// word, lets `refuse(n)` mark the node (and answer its sender) before
  /// linking it, and puts `closed` back. One that slips in between those two
  /// steps is accepted; the owner handles it (shutdown) or drops and counts
  /// it (stop): nothing is lost silently (I7).
  template <class Refuse, class Chaos>
  [[nodiscard]] static push_result push(Cell& cell, node* n, Refuse&& refuse, Chaos&& chaos) noexcept {
    // relaxed: a hint only; a close that happens-before this send is seen by
    // coherence, and a racing close is caught by the exchange below.
    if (M::at(cell.head).load(M::relaxed) & bits::closed) return push_result::rejected;
    M::at(n->next).store(nullptr, M::relaxed);  // relaxed: published by the link store below
    return push_linked(cell, n, n, refuse, chaos);
  }

  /// Pushes the nodes first..last, already linked to each other (a worker's
  /// send buffer, runtime/sched/send_buffer.hpp), as one: one exchange, one
  /// link. No closed hint: a chain is never given back, so on a closed
  /// mailbox every node is refused (`refuse` is called for each).
  template <class Refuse, class Chaos>
  [[nodiscard]] static push_result push_chain(Cell& cell, node* first, node* last, Refuse&& refuse,
                                              Chaos&& chaos) noexcept {
    M::at(last->next).store(nullptr, M::relaxed);  // relaxed: published by the link store below
    return push_linked(cell, first, last, refuse, chaos);
  }

  template <class Refuse, class Chaos>
  [[nodiscard]] static push_result push_linked(Cell& cell, node* first, node* last, Refuse& refuse,
                                               Chaos& chaos) noexcept {
    // acq_rel: release publishes the nodes' contents to the consumer that
    // later acquires our link; acquire pairs with the owner's release CAS in
    // release(), so when we find `idle` the next turn sees the last one's writes (I1).
    auto old = M::at(cell.head).exchange(word_of(last), M::acq_rel);
    chaos("push: exchanged, not yet linked");
    if (old & bits::closed) {
      // The consumer waits for our link, so the nodes are still ours.
      for (node* n = first;; n = M::at(n->next).load(M::relaxed)) {  // relaxed: our own links
        refuse(n);
        if (n == last) break;
      }
      M::at(pointer(old)->next).store(first, M::release);  // release: pairs with the consumer's acquire of the link
      chaos("push: refused, closed not yet restored");
      // acq_rel: keeps `closed` sticky; pairs with final_release()'s CAS (which expects it)
      M::at(cell.head).fetch_or(bits::closed, M::acq_rel);
      return (old & bits::idle) ? push_result::refused_owner : push_result::refused;
    }
    M::at(pointer(old)->next).store(first, M::release);  // release: pairs with the consumer's acquire of the link
    return (old & bits::idle) ? push_result::accepted_idle : push_result::accepted;
  }

  // -- the owner's end of a turn ---------------------------------------------------------

  /// Marks the actor idle if the list is empty (head == tail), the mailbox
  /// open and the actor not flagged unreachable: one CAS. release: publishes
  /// the turn's writes to the pusher that finds `idle` (its acquire
  /// exchange); acquire on failure: pairs with drop_address()'s release, so
  /// an owner that sees the flag also sees the count at 0.
  [[nodiscard]] static release_result release(Cell& cell) noexcept {
    auto expected = word_of(cell.tail);
    if (M::at(cell.head).compare_exchange_strong(expected, expected | bits::idle, M::release, M::acquire))
      return release_result::released;
    return expected == (word_of(cell.tail) | bits::unreachable) ? release_result::unreachable
                                                                 : release_result::busy;
  }

  /// Clears a stale `unreachable` flag (the actor took an address to itself
  /// again, ctx.self()). Owner only; a push that raced in wiped it anyway.
  static void clear_unreachable(Cell& cell) noexcept {
    auto expected = word_of(cell.tail) | bits::unreachable;
    // relaxed: only the owner reads the flag, through its own release CAS
    (void)M::at(cell.head).compare_exchange_strong(expected, expected & ~bits::unreachable, M::relaxed, M::relaxed);
  }

  /// True when no address is left (the owner's check before it closes).
  /// acquire: pairs with drop_address()'s acq_rel decrement (published to us
  /// by the flag on the head word, or by the claim that scheduled us).
  [[nodiscard]] static bool unreachable(const Cell& cell) noexcept { return M::at(cell.strong()).load(M::acquire) == 0; }

  /// The last release of a done actor: closed | idle, if the list is empty.
  /// Later pushes are rejected; one that races in finds `idle` and disposes
  /// of what it linked itself (push_result::refused_owner). False: a push is
  /// linking a node or restoring `closed`; drain and retry.
  [[nodiscard]] static bool final_release(Cell& cell) noexcept {
    auto expected = word_of(cell.tail) | bits::closed;
    // acq_rel: release publishes the done state and the destroyed actor to a
    // pusher that finds idle; acquire pairs with a refused push's fetch_or.
    return M::at(cell.head).compare_exchange_strong(expected, expected | bits::idle, M::acq_rel, M::acquire);
  }

  // -- close, stop, shutdown ----------------------------------------------------------

  /// Closes the mailbox; true if the actor was idle: the caller now owns it
  /// and must schedule it so it can finish.
  template <class Chaos>
  [[nodiscard]] static bool close(Cell& cell, Chaos&& chaos) noexcept {
    auto word = M::at(cell.head).load(M::relaxed);  // relaxed: validated by the CAS
    for (;;) {
      if (word & bits::closed) return false;
      chaos("close: before the CAS, racing pushes");
      auto desired = (word | bits::closed) & ~(bits::idle | bits::unreachable);  // closed: it finishes anyway
      // acq_rel: release publishes the lifecycle bit set before close() to
      // the owner whose release CAS fails on this word; acquire pairs with
      // the owner's release CAS when we take an idle actor over.
      if (M::at(cell.head).compare_exchange_weak(word, desired, M::acq_rel, M::relaxed))
        return (word & bits::idle) != 0;
    }
  }

  /// stop() / shutdown(): sets `request`, then closes. True: the caller must
  /// schedule the actor (it was idle).
  template <class Chaos>
  [[nodiscard]] static bool request_end(Cell& cell, std::uint32_t request, Chaos&& chaos) noexcept {
    // acq_rel: release publishes the request to the owner's acquire in
    // end_requested(); acquire lets us see `done`.
    auto old = M::at(cell.lifecycle_word).fetch_or(request, M::acq_rel);
    if (old & bits::done) return false;
    return close(cell, chaos);
  }

  /// The stop / shutdown / restart bits, for the owner between messages.
  /// acquire: pairs with request_end()'s release.
  [[nodiscard]] static std::uint32_t end_requested(const Cell& cell) noexcept {
    return M::at(cell.lifecycle_word).load(M::acquire) & bits::interrupts;
  }

  /// The owner's handler failed under the `restart` policy: the turn tears
  /// the incarnation down before the next message. Owner only; relaxed: only
  /// the owner reads the bit (through end_requested()).
  static void request_restart(Cell& cell) noexcept {
    M::at(cell.lifecycle_word).fetch_or(bits::restart_requested, M::relaxed);
  }
  /// A supervisor asks a child for a teardown (a group restart): the same
  /// bit, from another thread. The caller then makes the owner look (a
  /// wake of a suspension, or a message: runtime/supervision). acq_rel:
  /// release publishes the teardown's generation (stored before) to the
  /// owner's acquire in end_requested(); acquire lets us see `done`. True
  /// unless the actor is done.
  [[nodiscard]] static bool request_teardown(Cell& cell) noexcept {
    return !(M::at(cell.lifecycle_word).fetch_or(bits::restart_requested, M::acq_rel) & bits::done);
  }
  /// The owner starts the teardown. relaxed: as above.
  static void clear_restart(Cell& cell) noexcept {
    M::at(cell.lifecycle_word).fetch_and(~bits::restart_requested, M::relaxed);
  }

  // -- addresses and memory --------------------------------------------------------------

  // Copying an address is a relaxed increment of `strong`, inline in the
  // public templates (detail::retain_address): never the 0 -> 1 transition.

  /// The actor's own turn took its address (ctx.self()); the count may be 0.
  /// relaxed: only the owner revives, and it holds the "not yet done"
  /// reference, so the memory is safe; the increments publish nothing.
  static void revive_address(Cell& cell) noexcept {
    if (M::at(cell.strong()).fetch_add(1, M::relaxed) == 0) M::at(cell.weak).fetch_add(1, M::relaxed);
  }

  /// An address was dropped. The last one either claims an idle actor (the
  /// caller schedules it so it notices it is unreachable and finishes) or
  /// flags a running one `unreachable`, which fails its next release CAS:
  /// both sides decide on the head word, so the owner never reads the cell
  /// after its release succeeded. On any result but `kept` the caller then
  /// calls release_memory() (the "strong > 0" reference), after scheduling.
  template <class Chaos>
  [[nodiscard]] static drop_result drop_address(Cell& cell, Chaos&& chaos) noexcept {
    // acq_rel: release publishes our writes to whoever frees the cell;
    // acquire: the last dropper sees every other holder's writes.
    if (M::at(cell.strong()).fetch_sub(1, M::acq_rel) != 1) return drop_result::kept;
    auto word = M::at(cell.head).load(M::acquire);  // acquire: validated by the CAS below
    for (;;) {
      if (word & bits::closed) return drop_result::closing;
      chaos("unreachable: before flagging or claiming");
      auto desired = (word & bits::idle) ? (word & ~bits::idle) : (word | bits::unreachable);
      // acq_rel: release publishes the count's decrement to the owner's
      // acquire (its failed release CAS); acquire, when we claim, pairs with
      // the owner's release CAS.
      if (M::at(cell.head).compare_exchange_weak(word, desired, M::acq_rel, M::acquire))
        return (word & bits::idle) ? drop_result::claimed : drop_result::flagged;
    }
  }

  /// One more owner of the memory (a monitor record holding the watcher or
  /// the target). relaxed: the caller already holds a reference (an address,
  /// or it is the actor's own turn), so this is never the 0 -> 1 transition.
  static void hold_memory(Cell& cell) noexcept { M::at(cell.weak).fetch_add(1, M::relaxed); }

  /// One owner of the memory is gone; true: the caller is the last and frees
  /// it. acq_rel: the last owner sees the others' writes before freeing.
  [[nodiscard]] static bool release_memory(Cell& cell) noexcept {
    return M::at(cell.weak).fetch_sub(1, M::acq_rel) == 1;
  }

  /// True if the memory outlives the last turn (addresses or monitor records
  /// remain), so the cell must keep its system. A monitor record may still
  /// raise `weak` after this read (hold_memory()); such a holder never needs
  /// the system (it only locks the cell's extras and releases the memory),
  /// so a stale answer is harmless. acquire: pairs with release_memory()'s
  /// acq_rel.
  [[nodiscard]] static bool memory_outlives_turn(const Cell& cell) noexcept {
    return M::at(cell.weak).load(M::acquire) > 1;
  }

  // -- coroutine handlers ------------------------------------------------------------------

  /// The running turn's handler suspended (the frame pointer is already
  /// stored in the cell). `parked`: the suspension owns the actor from this
  /// RMW on, and a wake() may run it on another worker at once; the caller
  /// must not touch the cell again. acq_rel: release publishes the frame to
  /// the waker (which schedules the next turn); acquire pairs with wake()'s
  /// fetch_or when it came first.
  ///
  /// A teardown requested first (request_teardown()) also resumes: the
  /// frame is then cancelled (resume()), as for stop(). A CAS, not a
  /// fetch_or: `suspended` is set only when the actor really parks, so a
  /// supervisor's rouse(suspended) cannot claim an actor whose owner goes on
  /// because it saw the teardown (found by the Relacy model,
  /// teardown_suspend).
  [[nodiscard]] static suspend_result suspend(Cell& cell) noexcept {
    auto old = M::at(cell.lifecycle_word).load(M::acquire);  // acquire: validated by the CAS
    for (;;) {
      if (old & (bits::woken | bits::restart_requested)) return suspend_result::resume;
      if (M::at(cell.lifecycle_word).compare_exchange_weak(old, old | bits::suspended, M::acq_rel, M::acquire))
        return suspend_result::parked;
    }
  }

  /// The event a suspended handler awaits happened, a dormant actor's
  /// backoff is over, or stop() wants either ended. True: the suspension (or
  /// the dormancy) owned the actor and the caller must schedule it. acq_rel:
  /// release publishes the awaited value (written before) to the resuming
  /// turn; acquire pairs with suspend()'s / go_dormant()'s release, so the
  /// frame pointer is visible to the turn we schedule.
  [[nodiscard]] static bool wake(Cell& cell) noexcept {
    auto old = M::at(cell.lifecycle_word).fetch_or(bits::woken, M::acq_rel);
    return (old & (bits::suspended | bits::dormant)) && !(old & bits::woken);
  }

  /// The owner waits out a restart's backoff (the timer that wakes it is
  /// armed already). `parked`: the dormancy owns the actor from this CAS on,
  /// and the caller must not touch the cell again. `resume`: a wake, a stop
  /// or a shutdown came first; the caller still owns the actor and rebuilds
  /// or finishes it now. A CAS, not a fetch_or: `dormant` is set only when
  /// none of those came, so no waker can claim an actor whose owner goes on
  /// (rouse() and wake() act on `dormant` alone). acq_rel: release publishes
  /// the teardown to the turn a waker schedules; acquire pairs with the
  /// waker's RMW when it came first.
  ///
  /// `interrupted_by` names the bits that keep the owner going: the
  /// default (a backoff) is a wake or an end request. A supervised child
  /// waits for its supervisor's rouse() alone, so only an end request
  /// interrupts it, and a stale `woken` (a stop's wake that a teardown
  /// overtook) is cleared as it parks (or rouse() would never find it). A
  /// supervisor waiting for its children to finish is already ending: only
  /// a wake (an event) interrupts it.
  [[nodiscard]] static suspend_result go_dormant(Cell& cell,
                                                 std::uint32_t interrupted_by = bits::woken | bits::end_requested) noexcept {
    auto old = M::at(cell.lifecycle_word).load(M::acquire);  // acquire: validated by the CAS
    for (;;) {
      if (old & interrupted_by) {
        // acq_rel: as in resume(); a stale `woken` (the timer fired early) goes
        M::at(cell.lifecycle_word).fetch_and(~bits::woken, M::acq_rel);
        return suspend_result::resume;
      }
      if (M::at(cell.lifecycle_word)
              .compare_exchange_weak(old, (old | bits::dormant) & ~bits::woken, M::acq_rel, M::acquire))
        return suspend_result::parked;
    }
  }

  /// shutdown() of a dormant actor: its backoff is cut short. Unlike wake(),
  /// it leaves a live actor's `woken` alone (a coroutine it may suspend later
  /// must not resume spuriously). The caller set `shutdown_requested` first:
  /// go_dormant() either sees that bit, or this sees `dormant`.
  ///
  /// `state`: `dormant` (the default), or `suspended` for a supervisor's
  /// teardown request to a child awaiting in a coroutine handler (which
  /// must not find a stale `woken` later, as wake() would leave on a
  /// running actor; the race with a suspension still to come is closed by
  /// suspend(), which sees the teardown bit).
  [[nodiscard]] static bool rouse(Cell& cell, std::uint32_t state = bits::dormant) noexcept {
    auto old = M::at(cell.lifecycle_word).load(M::relaxed);  // relaxed: validated by the CAS
    for (;;) {
      if (!(old & state) || (old & bits::woken)) return false;
      // acq_rel: as in wake()
      if (M::at(cell.lifecycle_word).compare_exchange_weak(old, old | bits::woken, M::acq_rel, M::relaxed))
        return true;
    }
  }

  /// The turn a waker scheduled starts: the dormancy is over. acq_rel: as in resume().
  static void end_dormancy(Cell& cell) noexcept {
    M::at(cell.lifecycle_word).fetch_and(~(bits::dormant | bits::woken), M::acq_rel);
  }

  /// The owner resumes a suspension (at the start of a turn it was woken
  /// into, or at once when suspend() said so): clears both bits. acq_rel:
  /// acquire pairs with wake()'s release (the awaited value); release orders
  /// our later writes for the next waker.
  [[nodiscard]] static resume_result resume(Cell& cell) noexcept {
    auto old = M::at(cell.lifecycle_word).fetch_and(~(bits::suspended | bits::woken), M::acq_rel);
    return (old & (bits::stop_requested | bits::restart_requested)) ? resume_result::cancel : resume_result::resume;
  }

  /// True while a suspension owns the actor (diagnostics: relaxed would do,
  /// acquire keeps it honest for the stuck-actor report).
  [[nodiscard]] static bool is_suspended(const Cell& cell) noexcept {
    return (M::at(cell.lifecycle_word).load(M::acquire) & bits::suspended) != 0;
  }

  // -- the end -------------------------------------------------------------------------

  /// The last turn ran on_stop and destroyed the object. True: someone waits
  /// in join() and the caller must wake the futex. acq_rel: release
  /// publishes on_stop and the destruction to done()'s acquire; acquire reads
  /// the joiners bit set by announce_joiner().
  [[nodiscard]] static bool mark_done(Cell& cell) noexcept {
    return (M::at(cell.lifecycle_word).fetch_or(bits::done, M::acq_rel) & bits::joiners) != 0;
  }

  /// The last turn: the memory outlives it and keeps the system. relaxed:
  /// published to the freeing thread by release_memory()'s acq_rel.
  static void mark_holds_system(Cell& cell) noexcept {
    M::at(cell.lifecycle_word).fetch_or(bits::holds_system, M::relaxed);
  }
  /// The freeing thread, after release_memory() returned true. relaxed: as above.
  [[nodiscard]] static bool holds_system(const Cell& cell) noexcept {
    return (M::at(cell.lifecycle_word).load(M::relaxed) & bits::holds_system) != 0;
  }

  /// acquire: pairs with mark_done()'s release.
  [[nodiscard]] static bool done(const Cell& cell) noexcept {
    return (M::at(cell.lifecycle_word).load(M::acquire) & bits::done) != 0;
  }

  /// A joiner's step. `sleep`: `joiners` is set and `word` holds the value
  /// to sleep on (mark_done() changes it and wakes the futex). The CAS is
  /// relaxed: it only announces a sleeper; `done` is read by the acquire load.
  enum class join_step : std::uint8_t { done, sleep, retry };
  [[nodiscard]] static join_step announce_joiner(Cell& cell, std::uint32_t& word) noexcept {
    word = M::at(cell.lifecycle_word).load(M::acquire);  // acquire: pairs with mark_done()'s release
    if (word & bits::done) return join_step::done;
    if (word & bits::joiners) return join_step::sleep;
    if (!M::at(cell.lifecycle_word).compare_exchange_weak(word, word | bits::joiners, M::relaxed, M::relaxed))
      return join_step::retry;
    word |= bits::joiners;
    return join_step::sleep;
  }
};

}  // namespace courier::internal
