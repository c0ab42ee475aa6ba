#pragma once
// worker: one thread of the pool. Where it looks for work, in order:
//   run-next slot (capped: run_next_cap consecutive uses), every 61st time
//   the injection queue first, its own deque (FIFO), the injection queue,
//   then steal half of a victim's deque (random start), spin briefly, park.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <thread>

#include <courier/detail/cell.hpp>

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
  static worker* current() noexcept;

  // -- owner thread only ----------------------------------------------------------

  /// A runnable actor made by this worker's own turn: into the run-next slot.
  void schedule_local(cell_base* cell);

  counter_set& counters() noexcept { return counters_; }

  // -- any thread -----------------------------------------------------------------

  scheduler& owner() noexcept { return owner_; }
  std::size_t index() const noexcept { return index_; }
  bool has_stealable_work() const noexcept { return !deque_.empty(); }
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
  void run(cell_base* cell);
  void begin_searching() noexcept;
  void end_searching() noexcept;
  void park();
  std::uint64_t next_random() noexcept;
  cell_base* popped_from_injection(cell_base* cell) noexcept;

  scheduler& owner_;
  std::size_t index_;
  work_stealing_deque<cell_base*> deque_;
  cell_base* run_next_ = nullptr;
  std::uint32_t run_next_streak_ = 0;
  std::uint32_t tick_ = 0;
  bool searching_ = false;
  std::uint64_t random_state_;
  std::atomic<cell_base*> running_{nullptr};
  counter_set counters_;
  std::thread thread_;
};

}  // namespace courier::internal
