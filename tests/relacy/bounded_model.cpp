// Relacy model of the bounded mailbox's reserve / release
// (detail::deliver and the turn's pop, runtime/actor/cell.cpp, turn.cpp):
// two senders reserve a slot (fetch_add, refuse and undo when over
// capacity), the owner frees one per message it takes. Never more than
// `capacity` messages are queued, and every send is either accepted (and
// taken) or refused. Bounded random search (3 threads).
//
// -DCOURIER_MODEL_BROKEN checks the count with a load before incrementing
// (check-then-act); the model must then fail.
#include "relacy.hpp"

namespace {

constexpr unsigned capacity = 1;

struct bounded_model : rl::test_suite<bounded_model, 3> {
  rl::atomic<unsigned> queued;
  rl::atomic<int> in_queue;  // the model's own truth: messages pushed and not yet taken
  rl::atomic<int> accepted;
  rl::atomic<int> refused;
  rl::atomic<int> taken;

  void before() {
    queued($).store(0, rl::mo_relaxed);
    in_queue($).store(0, rl::mo_relaxed);
    accepted($).store(0, rl::mo_relaxed);
    refused($).store(0, rl::mo_relaxed);
    taken($).store(0, rl::mo_relaxed);
  }

  bool reserve() {
#ifdef COURIER_MODEL_BROKEN
    if (queued($).load(rl::mo_relaxed) >= capacity) return false;
    queued($).fetch_add(1, rl::mo_relaxed);
    return true;
#else
    if (queued($).fetch_add(1, rl::mo_relaxed) >= capacity) {
      queued($).fetch_sub(1, rl::mo_relaxed);
      return false;
    }
    return true;
#endif
  }

  void send() {
    if (!reserve()) {
      refused($).fetch_add(1, rl::mo_relaxed);
      return;
    }
    auto n = in_queue($).fetch_add(1, rl::mo_acq_rel) + 1;
    RL_ASSERT(n <= static_cast<int>(capacity));
    accepted($).fetch_add(1, rl::mo_relaxed);
  }

  void thread(unsigned index) {
    if (index < 2) {
      send();
      send();
      return;
    }
    for (int i = 0; i < 3; ++i) {  // the owner: take what is there, freeing its slot before handling
      if (in_queue($).load(rl::mo_acquire) > 0) {
        in_queue($).fetch_sub(1, rl::mo_acq_rel);
        queued($).fetch_sub(1, rl::mo_relaxed);
        taken($).fetch_add(1, rl::mo_relaxed);
      } else {
        rl::yield(1, $);
      }
    }
  }

  void after() {
    RL_ASSERT(accepted($).load(rl::mo_relaxed) + refused($).load(rl::mo_relaxed) == 4);
    RL_ASSERT(accepted($).load(rl::mo_relaxed) >= 1);
    RL_ASSERT(taken($).load(rl::mo_relaxed) + in_queue($).load(rl::mo_relaxed) == accepted($).load(rl::mo_relaxed));
  }
};

}  // namespace

int main() {
  rl::test_params bounded;
  bounded.search_type = rl::random_scheduler_type;
  bounded.iteration_count = 300000;
  return rl::simulate<bounded_model>(bounded) ? 0 : 1;
}
