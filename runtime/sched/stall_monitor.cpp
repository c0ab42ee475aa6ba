#include "runtime/sched/stall_monitor.hpp"

#include <pthread.h>

#include <courier/detail/futex.hpp>

#include "runtime/sched/scheduler.hpp"
#include "runtime/support/probes.hpp"

namespace courier::internal {

void stall_monitor::start() {
  last_turn_.assign(owner_.size(), 0);
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "courier-monitor");
    loop();
  });
}

void stall_monitor::stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true, std::memory_order_relaxed);  // relaxed: published by the generation bump below
  generation_.fetch_add(1, std::memory_order_release);  // release: pairs with the acquire load in the sleeps
  detail::futex_wake_all(generation_);
  thread_.join();
}

void stall_monitor::wake_slow() noexcept {
  generation_.fetch_add(1, std::memory_order_release);  // release: pairs with the acquire load in sleep_while_all_parked()
  detail::futex_wake_all(generation_);
}

void stall_monitor::loop() {
  while (!stopping_.load(std::memory_order_relaxed)) {  // relaxed: re-read after every wake of the futex
    sleep_while_all_parked();
    auto gen = generation_.load(std::memory_order_acquire);  // acquire: pairs with stop()'s release bump
    if (stopping_.load(std::memory_order_relaxed)) break;  // relaxed: ordered by the acquire above
    detail::futex_wait(generation_, gen, true, std::chrono::steady_clock::now() + period);
    sample();
  }
}

void stall_monitor::sample() {
  for (std::size_t i = 0; i < owner_.size(); ++i) {
    auto& w = owner_.at(i);
    auto turn = w.turn();
    bool stalled = (turn & 1) != 0 && turn == last_turn_[i];  // inside the same turn as one period ago
    last_turn_[i] = turn;
    if (!stalled) continue;
    w.mark_stalled(turn);
    w.buffer().push_if_idle();  // messages a long handler buffered do not wait for it
    // seq_cst loads (has_stealable_work): after the seq_cst stalled mark, so
    // a worker parking meanwhile either sees the mark or is woken here.
    if (w.has_stealable_work()) {
      COURIER_PROBE1(stalled, i);
      owner_.notify();
    }
  }
}

void stall_monitor::sleep_while_all_parked() {
  for (;;) {
    // A worker is awake: keep watching. (Checked before announcing, so the
    // monitor writes `asleep_`, a line every scheduling worker reads, only
    // when the pool is about to be idle.)
    if (!owner_.all_parked()) return;
    auto gen = generation_.load(std::memory_order_acquire);  // acquire: pairs with wake()'s release bump
    // seq_cst: the announcement, ordered before the parked-mask loads below
    // (store->load against wake()'s caller clearing a parked bit, then reading `asleep_`).
    asleep_.store(true, std::memory_order_seq_cst);
    if (!owner_.all_parked() || stopping_.load(std::memory_order_relaxed)) {  // relaxed: stop() also bumps the generation
      asleep_.store(false, std::memory_order_relaxed);  // relaxed: a stale `true` costs a waker one futex wake
      return;
    }
    detail::futex_wait(generation_, gen, false, {});
    asleep_.store(false, std::memory_order_relaxed);  // relaxed: as above
  }
}

}  // namespace courier::internal
