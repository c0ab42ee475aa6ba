// Relacy model of the park/wake handshake (runtime/sched/parker.hpp and
// scheduler::notify): a worker that finds no work announces itself, re-checks,
// and sleeps; a notifier publishes work with a seq_cst store, then wakes a
// parked worker only if none is searching. Checked for every interleaving of
// two threads (and a bounded random search of three): the work is always
// taken (no lost wake-up), and a token is never left unconsumed.
//
// -DCOURIER_MODEL_BROKEN removes the re-check after prepare_wait; the model
// must then fail.
#include <relacy/relacy.hpp>

#include <cstdint>

namespace {

template <int Threads>
struct park_model : rl::test_suite<park_model<Threads>, Threads> {
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

  bool take_work() {
    int w = work($).load(rl::mo_seq_cst);
    while (w > 0)
      if (work($).compare_exchange_weak(w, w - 1, rl::mo_seq_cst)) return true;
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
#ifndef COURIER_MODEL_BROKEN
      if (work($).load(rl::mo_seq_cst) > 0) {  // re-check
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
    work($).fetch_add(1, rl::mo_seq_cst);
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

int main() {
  rl::test_params full;
  full.search_type = rl::fair_full_search_scheduler_type;
  if (!rl::simulate<park_model<2>>(full)) return 1;
  rl::test_params bounded;
  bounded.search_type = rl::random_scheduler_type;
  bounded.iteration_count = 200000;
  return rl::simulate<park_model<3>>(bounded) ? 0 : 1;
}
