// Relacy model of the mailbox's push vs release race (runtime/mailbox/mailbox.hpp).
//
// Two threads: a producer pushes two messages (one atomic exchange each;
// finding the idle bit makes it the owner, which then drains), and the owner
// that starts with the actor drains and releases with one CAS. Checked for
// every interleaving (full search): every message is consumed exactly once,
// in push order, never by two owners at the same time, and none is left
// behind once both threads are done (no lost wake-up).
//
// -DCOURIER_MODEL_BROKEN replaces the release CAS with a plain store of the
// idle bit (the bug the CAS prevents); the model must then fail.
#include "relacy.hpp"

#include <cstdint>

namespace {

constexpr std::uintptr_t idle = 1;
constexpr int messages = 2;

struct node {
  rl::atomic<node*> next;
  rl::var<int> value;
};

struct mailbox_model : rl::test_suite<mailbox_model, 2> {
  rl::atomic<std::uintptr_t> head;
  rl::var<node*> tail;
  rl::atomic<int> owners;
  rl::var<int> consumed;
  rl::var<int> last_value;
  node stub;
  node msgs[messages];

  void before() {
    stub.next($).store(nullptr, rl::mo_relaxed);
    head($).store(reinterpret_cast<std::uintptr_t>(&stub), rl::mo_relaxed);
    tail($) = &stub;
    owners($).store(1, rl::mo_relaxed);  // thread 1 owns the actor at first
    consumed($) = 0;
    last_value($) = -1;
  }

  node* pop() {
    node* dummy = tail($);
    node* next = dummy->next($).load(rl::mo_acquire);
    if (!next) return nullptr;
    tail($) = next;
    return next;
  }

  bool try_release() {
    std::uintptr_t expected = reinterpret_cast<std::uintptr_t>(static_cast<node*>(tail($)));
#ifdef COURIER_MODEL_BROKEN
    if ((head($).load(rl::mo_acquire) & ~idle) != expected) return false;
    head($).store(expected | idle, rl::mo_release);  // check-then-store: a push can slip between
    return true;
#else
    return head($).compare_exchange_strong(expected, expected | idle, rl::mo_seq_cst,
                                           rl::mo_acquire);
#endif
  }

  void drain() {
    RL_ASSERT(owners($).load(rl::mo_relaxed) == 1);
    for (;;) {
      while (node* n = pop()) {
        int v = n->value($);
        RL_ASSERT(v == last_value($) + 1);  // push order
        last_value($) = v;
        consumed($) = consumed($) + 1;
      }
      owners($).fetch_sub(1, rl::mo_relaxed);
      if (try_release()) return;
      owners($).fetch_add(1, rl::mo_relaxed);
      rl::yield(1, $);  // a producer is linking its node
    }
  }

  void thread(unsigned index) {
    if (index == 1) {
      drain();
      return;
    }
    for (int i = 0; i < messages; ++i) {
      node& n = msgs[i];
      n.value($) = i;
      n.next($).store(nullptr, rl::mo_relaxed);
      auto old = head($).exchange(reinterpret_cast<std::uintptr_t>(&n), rl::mo_acq_rel);
      reinterpret_cast<node*>(old & ~idle)->next($).store(&n, rl::mo_release);
      if (old & idle) {
        owners($).fetch_add(1, rl::mo_relaxed);
        drain();
      }
    }
  }

  void after() {
    // both threads are done: nothing may be left queued while the actor sits idle
    RL_ASSERT(consumed($) == messages);
    RL_ASSERT((head($).load(rl::mo_relaxed) & idle) != 0);
  }
};

}  // namespace

int main() {
  rl::test_params params;
  params.search_type = rl::fair_full_search_scheduler_type;
  params.output_history = false;
  return rl::simulate<mailbox_model>(params) ? 0 : 1;
}
