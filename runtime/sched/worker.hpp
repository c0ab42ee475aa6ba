#pragma once
// worker: one thread of the pool. Where it looks for work, in order:
//   run-next slot (capped: run_next_cap consecutive uses), every 61st time
//   the injection queue first, its own deque (FIFO), the injection queue,
//   then steal from the other workers (random start): the run-next slot of
//   a stalled one, else half of a victim's deque; spin briefly, park.
//
// The run-next slot is the owner's while its turns are short. Once the
// stall monitor (stall_monitor.hpp) has seen the owner inside one turn for a
// whole period, it marks that turn stalled, and any worker may then take
// the slot's actor with a CAS; the owner takes it with an exchange, so the
// two never both get it. The turn word is odd while a turn runs.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <thread>

#include <courier/detail/cell.hpp>

#include "runtime/sched/send_buffer.hpp"
#include "runtime/sched/work_stealing_deque.hpp"
#include "runtime/support/cache_line.hpp"
#include "runtime/system/counters.hpp"

namespace courier::internal {

using detail::cell_base;
class scheduler;

class worker {
 public:
  static constexpr std::uint32_t run_next_cap = 16;
  static constexpr unsigned yield_after_spins = 16;

  worker(scheduler& owner, std::size_t index);
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  void start();
  void join();

  /// The worker whose thread calls this, or null.
  static worker* current() noexcept { return this_worker_; }

  // -- owner thread only ----------------------------------------------------------

  /// A runnable actor made by this worker's own turn: into the run-next slot.
  void schedule_local(cell_base* cell);

  counter_set& counters() noexcept { return counters_; }

  // -- any thread (its own rules: send_buffer.hpp) -----------------------------------

  /// The handler calls' send buffer (chains of messages to one mailbox).
  send_buffer& buffer() noexcept { return buffer_.value; }

  // -- any thread -----------------------------------------------------------------

  scheduler& owner() noexcept { return owner_; }
  std::size_t index() const noexcept { return index_; }
  /// Work another worker may take now: the deque, or the run-next slot of a
  /// stalled turn (seq_cst loads: the parking re-check, see parker.hpp).
  bool has_stealable_work() const noexcept;
  /// The turn counter: odd while a turn runs; each turn moves it by 2.
  std::uint64_t turn() const noexcept {
    return turn_.load(std::memory_order_relaxed);  // relaxed: a sample for the stall monitor's policy, no data is read through it
  }
  /// The stall monitor saw `turn` last a whole period: its run-next slot may be stolen.
  void mark_stalled(std::uint64_t turn) noexcept {
    // seq_cst: ordered before the monitor's loads of the slot, the deque and
    // the parked mask (notify), against a parking worker's announcement and re-check
    stalled_turn_.store(turn, std::memory_order_seq_cst);
  }
  /// The actor whose turn runs now (diagnostics: stuck handlers).
  cell_base* running() const noexcept {
    return running_.load(std::memory_order_relaxed);  // relaxed: compared against registry entries only, never dereferenced
  }

 private:
  friend class scheduler;

  void loop();
  cell_base* find_work();
  cell_base* steal_from_others();
  cell_base* steal_half(worker& victim);
  cell_base* steal_next(worker& victim) noexcept;
  cell_base* take_next() noexcept;
  bool stalled() const noexcept;
  void run(cell_base* cell);
  void begin_searching() noexcept;
  void end_searching() noexcept;
  void park();
  std::uint64_t next_random() noexcept;
  cell_base* popped_from_injection(cell_base* cell) noexcept;

  scheduler& owner_;
  std::size_t index_;
  work_stealing_deque<cell_base*> deque_;
  std::atomic<cell_base*> run_next_{nullptr};  // written by the owner; emptied by the owner or a thief of a stalled turn
  std::uint32_t run_next_streak_ = 0;
  std::uint32_t tick_ = 0;
  bool searching_ = false;
  std::uint64_t random_state_;
  std::atomic<cell_base*> running_{nullptr};
  std::uint64_t turns_ = 0;                     // owner only: the value of turn_
  std::atomic<std::uint64_t> turn_{0};          // owner writes; odd inside a turn
  std::atomic<std::uint64_t> stalled_turn_{0};  // the stall monitor writes
  counter_set counters_;
  std::thread thread_;
  /// Its own line: the owner locks it at every buffered send; others rarely.
  padded<send_buffer> buffer_;

  static thread_local constinit worker* this_worker_ COURIER_TLS_FAST;
};

}  // namespace courier::internal
