// Relacy model of the park/wake handshake (runtime/sched/parker.hpp and
// scheduler::notify): a worker that finds no work announces itself, re-checks,
// and sleeps; a notifier publishes work with a seq_cst store, then wakes a
// parked worker only if none is searching. Checked for every interleaving of
// two threads (and a bounded random search of three): the work is always
// taken (no lost wake-up), and a token is never left unconsumed.
//
// Two variants of the work queue: a deque (its bottom store is seq_cst) and
// the injection queue (moodycamel publishes with release stores, so both
// sides add a seq_cst fence: injection_queue::push() and worker::park()).
//
// -DCOURIER_MODEL_BROKEN removes the re-check after prepare_wait, and
// -DCOURIER_MODEL_NO_FENCE removes the two fences of the injection variant;
// the model must fail either way.
#include "relacy.hpp"

#include <cstdint>

namespace {

template <int Threads, bool Fenced>
struct park_model : rl::test_suite<park_model<Threads, Fenced>, Threads> {
  static constexpr int notifiers = Threads - 1;

  rl::atomic<int> work;
  rl::atomic<int> searching;
  rl::atomic<std::uint64_t> mask;
  rl::atomic<int> token;
  rl::var<int> taken;

  void before() {
    work($).store(0, rl::mo_relaxed);
    searching($).store(1, rl::mo_relaxed);  // the worker starts out searching
    mask($).store(0, rl::mo_relaxed);
    token($).store(0, rl::mo_relaxed);
    taken($) = 0;
  }

  void wait_token() {
    while (token($).load(rl::mo_acquire) == 0) rl::yield(1, $);
    token($).store(0, rl::mo_relaxed);
  }

  static constexpr rl::memory_order work_order = Fenced ? rl::mo_acq_rel : rl::mo_seq_cst;
  static constexpr rl::memory_order work_load = Fenced ? rl::mo_acquire : rl::mo_seq_cst;

  static void fence() {
#ifndef COURIER_MODEL_NO_FENCE
    if (Fenced) rl::atomic_thread_fence(rl::mo_seq_cst, $);
#endif
  }

  bool take_work() {
    int w = work($).load(work_load);
    while (w > 0)
      if (work($).compare_exchange_weak(w, w - 1, work_order)) return true;
    return false;
  }

  void worker() {
    bool searching_now = true;
    while (taken($) < notifiers) {
      if (take_work()) {
        taken($) = taken($) + 1;
        continue;
      }
      if (searching_now) {
        searching($).fetch_sub(1, rl::mo_seq_cst);
        searching_now = false;
      }
      mask($).fetch_or(1, rl::mo_seq_cst);  // prepare_wait
      fence();
#ifndef COURIER_MODEL_BROKEN
      if (work($).load(work_load) > 0) {  // re-check
        auto old = mask($).fetch_and(~std::uint64_t{1}, rl::mo_seq_cst);  // cancel_wait
        if (!(old & 1)) {
          wait_token();
          searching_now = true;
        }
        continue;
      }
#endif
      wait_token();  // commit_wait
      searching_now = true;
    }
  }

  void notifier() {
    work($).fetch_add(1, work_order);
    fence();
    if (searching($).load(rl::mo_seq_cst) != 0) return;
    auto bits = mask($).load(rl::mo_seq_cst);
    while (bits != 0) {
      if (mask($).compare_exchange_weak(bits, bits & ~std::uint64_t{1}, rl::mo_seq_cst)) {
        searching($).fetch_add(1, rl::mo_seq_cst);
        token($).store(1, rl::mo_release);
        return;
      }
    }
  }

  void thread(unsigned index) {
    if (index == 0)
      worker();
    else
      notifier();
  }

  void after() {
    RL_ASSERT(taken($) == notifiers);
    RL_ASSERT(token($).load(rl::mo_relaxed) == 0);
  }
};

}  // namespace

template <bool Fenced>
bool check() {
  rl::test_params full;
  full.search_type = rl::fair_full_search_scheduler_type;
  if (!rl::simulate<park_model<2, Fenced>>(full)) return false;
  rl::test_params bounded;
  bounded.search_type = rl::random_scheduler_type;
  bounded.iteration_count = 200000;
  return rl::simulate<park_model<3, Fenced>>(bounded);
}

int main() {
#ifdef COURIER_MODEL_NO_FENCE
  return check<true>() ? 0 : 1;  // only the fenced variant has fences to remove
#else
  return check<false>() && check<true>() ? 0 : 1;
#endif
}
