// Relacy model of the last address dropped while the actor runs
// (runtime/mailbox/mailbox.hpp: flag_or_claim, try_release; runtime/actor/turn.cpp).
//
// Thread 0 drops the last address: the count goes 1 -> 0, then one CAS on
// the head word either claims an idle actor (and runs its last turn) or flags
// a running one `unreachable`. Thread 1 owns the actor: it reads the count
// and, while it is above 0, releases with one CAS that must fail on the
// flag. A third thread pushes one message, which wipes the flag (a push
// exchanges a bare pointer). Checked for every interleaving: the actor
// finishes exactly once, never under two owners, the owner never reads the
// cell after a release that succeeded, the message is handled or refused
// to its sender, and the actor never ends idle and unreachable (the leak
// the flag prevents).
//
// -DCOURIER_MODEL_BROKEN: the dropper only claims an idle actor and does
// not flag a running one (the owner would have to re-read the count after
// its release, touching a cell it no longer owns); the model must then fail.
#include "relacy.hpp"

#include <cstdint>

namespace {

constexpr std::uintptr_t idle = 1, closed = 2, unreachable = 4, bits = 7;

struct node {
  rl::atomic<node*> next;
};

struct unreachable_model : rl::test_suite<unreachable_model, 3> {
  rl::atomic<std::uintptr_t> head;
  rl::atomic<int> strong;
  rl::var<node*> tail;
  rl::atomic<int> owners;
  rl::var<int> finished;
  rl::var<int> handled;
  rl::var<int> refused;  // the producer found the mailbox closed (its sender got the error)
  rl::atomic<int> released_by_owner;  // set once the first owner's release succeeded: it must not read the cell
  node stub, msg;
  rl::var<node*> refused_node;

  void before() {
    stub.next($).store(nullptr, rl::mo_relaxed);
    head($).store(reinterpret_cast<std::uintptr_t>(&stub), rl::mo_relaxed);
    tail($) = &stub;
    refused_node($) = nullptr;
    strong($).store(1, rl::mo_relaxed);
    owners($).store(1, rl::mo_relaxed);  // thread 1 owns the actor at first
    finished($) = 0;
    handled($) = 0;
    refused($) = 0;
  }

  // The owner's turn (runtime/actor/turn.cpp, reduced): handle what is
  // linked, finish if unreachable, else release with one CAS.
  void turn() {
    RL_ASSERT(owners($).load(rl::mo_relaxed) == 1);
    for (;;) {
      while (node* n = tail($)->next($).load(rl::mo_acquire)) {
        tail($) = n;
        if (n != refused_node($)) handled($) = handled($) + 1;
      }
      if (strong($).load(rl::mo_acquire) == 0) {
        // close (as mailbox::close: clears idle and the flag), then finish
        // once everything pushed before the close is linked and consumed
        auto word = head($).load(rl::mo_relaxed);
        while (!(word & closed) &&
               !head($).compare_exchange_weak(word, (word | closed) & ~(idle | unreachable), rl::mo_acq_rel,
                                              rl::mo_relaxed)) {
        }
        if (reinterpret_cast<node*>(head($).load(rl::mo_acquire) & ~bits) != tail($)) {  // a push is linking
          rl::yield(1, $);
          continue;
        }
        RL_ASSERT(finished($) == 0);
        finished($) = 1;
        owners($).fetch_sub(1, rl::mo_relaxed);
        return;
      }
      auto expected = reinterpret_cast<std::uintptr_t>(static_cast<node*>(tail($)));
      owners($).fetch_sub(1, rl::mo_relaxed);
      if (head($).compare_exchange_strong(expected, expected | idle, rl::mo_release, rl::mo_acquire)) return;
      owners($).fetch_add(1, rl::mo_relaxed);  // still ours: a push raced in, or the flag
      rl::yield(1, $);
    }
  }

  bool flag_or_claim() {
    auto word = head($).load(rl::mo_acquire);
    for (;;) {
#ifdef COURIER_MODEL_BROKEN
      if (!(word & idle)) return false;  // the bug: a running actor is not told
#endif
      auto desired = (word & idle) ? (word & ~idle) : (word | unreachable);
      if (head($).compare_exchange_weak(word, desired, rl::mo_acq_rel, rl::mo_acquire)) return (word & idle) != 0;
    }
  }

  void thread(unsigned index) {
    if (index == 1) {
      turn();
    } else if (index == 0) {
      if (strong($).fetch_sub(1, rl::mo_acq_rel) == 1 && flag_or_claim()) {
        owners($).fetch_add(1, rl::mo_relaxed);
        turn();
      }
    } else {  // a producer: one message; finding idle makes it the owner
      msg.next($).store(nullptr, rl::mo_relaxed);
      auto old = head($).exchange(reinterpret_cast<std::uintptr_t>(&msg), rl::mo_acq_rel);
      if (old & closed) {  // refused: linked for the owner to dispose of, `closed` put back
        refused_node($) = &msg;
        refused($) = 1;
        reinterpret_cast<node*>(old & ~bits)->next($).store(&msg, rl::mo_release);
        head($).fetch_or(closed, rl::mo_acq_rel);
        return;
      }
      reinterpret_cast<node*>(old & ~bits)->next($).store(&msg, rl::mo_release);
      if (old & idle) {
        owners($).fetch_add(1, rl::mo_relaxed);
        turn();
      }
    }
  }

  void after() {
    RL_ASSERT(handled($) + refused($) == 1);  // accepted and handled, or refused to its sender
    RL_ASSERT(finished($) == 1);  // unreachable and empty: it must have finished, not gone idle
  }
};

}  // namespace

int main() {
  rl::test_params params;
  // Three threads with retry loops: the full search takes minutes (228 M
  // iterations, all passing, when it was written), so tools/test runs a
  // bounded-context search (every interleaving with at most 5 preemptions),
  // which finds the broken variant's bug at once.
  params.search_type = rl::fair_context_bound_scheduler_type;
  params.context_bound = 5;
  params.output_history = false;
  return rl::simulate<unreachable_model>(params) ? 0 : 1;
}
