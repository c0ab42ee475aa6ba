// Relacy model of the one-shot reply slot (include/courier/detail/completion.hpp,
// reply_state): the handler's answer, a timeout and the actor's death race to
// complete it, while the caller installs a then() callback. Exactly one
// completion wins, the callback runs exactly once with the winner's value,
// and the slot is freed exactly once (two references: caller and request).
// Full search for 2 completers + the caller (3 threads).
//
// -DCOURIER_MODEL_BROKEN claims with a load-then-store instead of an
// exchange; the model must then fail.
#include "relacy.hpp"

#include <cstdint>

namespace {

constexpr std::uint32_t ready = 1;
constexpr std::uint32_t has_callback = 4;

struct reply_model : rl::test_suite<reply_model, 3> {
  rl::atomic<std::uint32_t> claimed;
  rl::atomic<std::uint32_t> state;
  rl::atomic<std::uint32_t> refs;
  rl::var<int> value;
  rl::var<int> callback_installed;
  rl::atomic<int> callbacks_run;
  rl::atomic<int> wins;
  rl::atomic<int> frees;
  rl::var<int> seen;

  void before() {
    claimed($).store(0, rl::mo_relaxed);
    state($).store(0, rl::mo_relaxed);
    refs($).store(2, rl::mo_relaxed);
    callbacks_run($).store(0, rl::mo_relaxed);
    wins($).store(0, rl::mo_relaxed);
    frees($).store(0, rl::mo_relaxed);
    seen($) = 0;
  }

  void run_callback() {
    RL_ASSERT(callback_installed($) == 1);
    seen($) = value($);  // the winner's value
    callbacks_run($).fetch_add(1, rl::mo_relaxed);
  }

  void release() {
    if (refs($).fetch_sub(1, rl::mo_acq_rel) == 1) frees($).fetch_add(1, rl::mo_relaxed);
  }

  void complete(int v) {
#ifdef COURIER_MODEL_BROKEN
    if (claimed($).load(rl::mo_relaxed) != 0) return;
    claimed($).store(1, rl::mo_relaxed);
#else
    if (claimed($).exchange(1, rl::mo_relaxed) != 0) return;
#endif
    wins($).fetch_add(1, rl::mo_relaxed);
    value($) = v;
    auto old = state($).fetch_or(ready, rl::mo_acq_rel);
    if (old & has_callback) {
      run_callback();
      release();  // the callback held the caller's reference
    }
  }

  void thread(unsigned index) {
    if (index == 0) {  // the caller: then()
      callback_installed($) = 1;
      auto old = state($).fetch_or(has_callback, rl::mo_acq_rel);
      if (old & ready) {
        run_callback();
        release();
      }
    } else if (index == 1) {  // the handler's answer (the request's reference)
      complete(42);
      release();
    } else {  // a timeout or the actor's death (holds no reference in this model)
      complete(-1);
    }
  }

  void after() {
    RL_ASSERT(wins($).load(rl::mo_relaxed) == 1);
    RL_ASSERT(callbacks_run($).load(rl::mo_relaxed) == 1);
    RL_ASSERT(frees($).load(rl::mo_relaxed) == 1);
    RL_ASSERT(seen($) == 42 || seen($) == -1);
  }
};

}  // namespace

int main() {
  rl::test_params full;
  full.search_type = rl::fair_full_search_scheduler_type;
  return rl::simulate<reply_model>(full) ? 0 : 1;
}
