// Relacy model of close vs push (runtime/mailbox/mailbox.hpp, and the last
// turn's settle in runtime/actor/cell.cpp): a sender pushes two messages with
// the real protocol (read the word, refuse if closed; exchange; a push that
// finds `closed` marks its node refused, links it and sets `closed` again),
// a closer closes the mailbox (taking an idle actor over), and the owner
// drains, releasing with one CAS while open, and settling the done mailbox
// (closed | idle) once closed. Whoever finds `idle` owns the consumer side.
// Checked: every pushed node is consumed exactly once (none lost or freed
// twice), a node the sender was told was refused is never handled, and the
// mailbox ends closed | idle with nothing queued. Bounded random search
// (3 threads).
//
// -DCOURIER_MODEL_BROKEN omits putting `closed` back after a refused push;
// the model must then fail.
#include "relacy.hpp"

#include <cstdint>

namespace {

constexpr std::uintptr_t idle = 1;
constexpr std::uintptr_t closed = 2;
constexpr std::uintptr_t bits = idle | closed;
constexpr int messages = 2;

struct node {
  rl::atomic<node*> next;
  rl::var<int> refused;
};

struct close_model : rl::test_suite<close_model, 3> {
  rl::atomic<std::uintptr_t> head;
  rl::var<node*> tail;
  rl::atomic<int> closing;   // the lifecycle flag set before close()
  rl::atomic<int> owners;
  rl::atomic<int> consumed[messages];
  rl::atomic<int> handled_refused;
  rl::var<int> sender_told_refused[messages];
  node stub;
  node msgs[messages];

  static node* ptr(std::uintptr_t w) { return reinterpret_cast<node*>(w & ~bits); }

  void before() {
    stub.next($).store(nullptr, rl::mo_relaxed);
    head($).store(reinterpret_cast<std::uintptr_t>(&stub), rl::mo_relaxed);
    tail($) = &stub;
    closing($).store(0, rl::mo_relaxed);
    owners($).store(1, rl::mo_relaxed);  // the owner thread starts with the actor
    handled_refused($).store(0, rl::mo_relaxed);
    for (auto& c : consumed) c($).store(0, rl::mo_relaxed);
  }

  node* pop() {
    node* dummy = tail($);
    node* next = dummy->next($).load(rl::mo_acquire);
    if (!next) return nullptr;
    tail($) = next;
    return next;
  }

  void consume(node* n, bool handling) {
    int i = static_cast<int>(n - msgs);
    consumed[i]($).fetch_add(1, rl::mo_relaxed);
    if (handling && n->refused($)) handled_refused($).fetch_add(1, rl::mo_relaxed);
  }

  // The owner's loop: turns while open, then the last turn's settle.
  void own() {
    RL_ASSERT(owners($).load(rl::mo_relaxed) == 1);
    for (;;) {
      bool finishing = closing($).load(rl::mo_acquire) != 0;
      while (node* n = pop()) consume(n, !finishing && !n->refused($));
      if (finishing) {
        // the last turn: close (the owner cannot find idle), then settle
        auto w = head($).load(rl::mo_relaxed);
        while (!(w & closed) && !head($).compare_exchange_weak(w, w | closed, rl::mo_acq_rel, rl::mo_relaxed)) {
        }
        for (;;) {
          while (node* n = pop()) consume(n, false);
          auto expected = reinterpret_cast<std::uintptr_t>(static_cast<node*>(tail($))) | closed;
          owners($).fetch_sub(1, rl::mo_relaxed);
          if (head($).compare_exchange_strong(expected, expected | idle, rl::mo_acq_rel, rl::mo_acquire)) return;
          owners($).fetch_add(1, rl::mo_relaxed);
          rl::yield(1, $);
        }
      }
      auto expected = reinterpret_cast<std::uintptr_t>(static_cast<node*>(tail($)));
      owners($).fetch_sub(1, rl::mo_relaxed);
      if (head($).compare_exchange_strong(expected, expected | idle, rl::mo_seq_cst, rl::mo_acquire)) return;
      owners($).fetch_add(1, rl::mo_relaxed);
      rl::yield(1, $);
    }
  }

  void push(int i) {
    node& n = msgs[i];
    n.refused($) = 0;
    sender_told_refused[i]($) = 0;
    n.next($).store(nullptr, rl::mo_relaxed);
    if (head($).load(rl::mo_relaxed) & closed) {  // rejected: never queued
      sender_told_refused[i]($) = 1;
      consumed[i]($).fetch_add(1, rl::mo_relaxed);  // the sender disposes of it itself
      return;
    }
    auto old = head($).exchange(reinterpret_cast<std::uintptr_t>(&n), rl::mo_acq_rel);
    if (old & closed) {
      n.refused($) = 1;
      sender_told_refused[i]($) = 1;
      ptr(old)->next($).store(&n, rl::mo_release);
#ifndef COURIER_MODEL_BROKEN
      head($).fetch_or(closed, rl::mo_acq_rel);
#endif
    } else {
      ptr(old)->next($).store(&n, rl::mo_release);
    }
    if (old & idle) {  // we own the consumer side now
      owners($).fetch_add(1, rl::mo_relaxed);
      own();
    }
  }

  void thread(unsigned index) {
    if (index == 0) {
      own();
    } else if (index == 1) {
      for (int i = 0; i < messages; ++i) push(i);
    } else {
      closing($).store(1, rl::mo_release);
      auto w = head($).load(rl::mo_relaxed);
      for (;;) {
        if (w & closed) return;
        if (head($).compare_exchange_weak(w, (w | closed) & ~idle, rl::mo_acq_rel, rl::mo_relaxed)) break;
      }
      if (w & idle) {  // it was idle: the closer schedules it, i.e. runs the owner here
        owners($).fetch_add(1, rl::mo_relaxed);
        own();
      }
    }
  }

  void after() {
    for (int i = 0; i < messages; ++i) RL_ASSERT(consumed[i]($).load(rl::mo_relaxed) == 1);
    RL_ASSERT(handled_refused($).load(rl::mo_relaxed) == 0);
    auto w = head($).load(rl::mo_relaxed);
    RL_ASSERT((w & closed) && (w & idle));
    RL_ASSERT(ptr(w) == tail($));
  }
};

}  // namespace

int main() {
  rl::test_params bounded;
  bounded.search_type = rl::random_scheduler_type;
  bounded.iteration_count = 300000;
  return rl::simulate<close_model>(bounded) ? 0 : 1;
}
