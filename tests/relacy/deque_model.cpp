// Relacy model of the Chase-Lev deque (runtime/sched/work_stealing_deque.hpp)
// as courier uses it: the owner pushes and takes (pop, the paper's LIFO end,
// and steal, which courier's workers use on their own deque), a thief steals.
// Every item is taken exactly once, and a taken item's contents are visible.
// Full search for 2 threads; bounded random search for 3 (two thieves).
//
// -DCOURIER_MODEL_BROKEN drops the seq_cst ordering of pop's bottom store
// against its top load (the paper's fence); the model must then fail.
#include "relacy.hpp"

#include <cstdint>

namespace {

constexpr int items = 2;
constexpr int capacity = 4;  // no growth in the model: capacity > items

template <int Threads>
struct deque_model : rl::test_suite<deque_model<Threads>, Threads> {
  rl::atomic<std::int64_t> top;
  rl::atomic<std::int64_t> bottom;
  rl::atomic<int> slots[capacity];
  rl::var<int> payload[items + 1];
  rl::atomic<int> taken[items + 1];

  void before() {
    top($).store(0, rl::mo_relaxed);
    bottom($).store(0, rl::mo_relaxed);
    for (auto& s : slots) s($).store(0, rl::mo_relaxed);
    for (auto& t : taken) t($).store(0, rl::mo_relaxed);
  }

  void push(int v) {
    auto b = bottom($).load(rl::mo_relaxed);
    (void)top($).load(rl::mo_acquire);
    slots[b % capacity]($).store(v, rl::mo_relaxed);
    bottom($).store(b + 1, rl::mo_seq_cst);
  }

  int pop() {
    auto b = bottom($).load(rl::mo_relaxed) - 1;
#ifdef COURIER_MODEL_BROKEN
    bottom($).store(b, rl::mo_relaxed);
    auto t = top($).load(rl::mo_relaxed);
#else
    bottom($).store(b, rl::mo_seq_cst);
    auto t = top($).load(rl::mo_seq_cst);
#endif
    int v = 0;
    if (t <= b) {
      v = slots[b % capacity]($).load(rl::mo_relaxed);
      if (t == b) {
        if (!top($).compare_exchange_strong(t, t + 1, rl::mo_seq_cst, rl::mo_relaxed)) v = 0;
        bottom($).store(b + 1, rl::mo_relaxed);
      }
    } else {
      bottom($).store(b + 1, rl::mo_relaxed);
    }
    return v;
  }

  int steal() {
    auto t = top($).load(rl::mo_seq_cst);
    auto b = bottom($).load(rl::mo_seq_cst);
    if (t >= b) return 0;
    int v = slots[t % capacity]($).load(rl::mo_relaxed);
    if (!top($).compare_exchange_strong(t, t + 1, rl::mo_seq_cst, rl::mo_relaxed)) return 0;
    return v;
  }

  void take(int v) {
    if (v == 0) return;
    RL_ASSERT(payload[v]($) == v * 10);  // the contents written before the push are visible
    taken[v]($).fetch_add(1, rl::mo_relaxed);
  }

  void thread(unsigned index) {
    if (index == 0) {
      for (int v = 1; v <= items; ++v) {
        payload[v]($) = v * 10;
        push(v);
      }
      take(pop());
      take(steal());  // courier's owner takes from the top too
    } else {
      take(steal());
    }
  }

  void after() {
    // drain what is left, single-threaded now
    while (true) {
      int v = steal();
      if (v == 0) break;
      taken[v]($).fetch_add(1, rl::mo_relaxed);
    }
    for (int v = 1; v <= items; ++v) RL_ASSERT(taken[v]($).load(rl::mo_relaxed) == 1);
  }
};

}  // namespace

int main() {
  rl::test_params full;
  full.search_type = rl::fair_full_search_scheduler_type;
  if (!rl::simulate<deque_model<2>>(full)) return 1;
  rl::test_params bounded;
  bounded.search_type = rl::random_scheduler_type;
  bounded.iteration_count = 200000;
  return rl::simulate<deque_model<3>>(bounded) ? 0 : 1;
}
