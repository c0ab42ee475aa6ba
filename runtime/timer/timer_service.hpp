#pragma once
// timer_service: one thread for all of a runtime's timers (send_after,
// send_every, ctx.ask_for timeouts), started on first use. A binary heap of
// deadlines; the thread sleeps until the earliest one (no polling, no thread
// per timer) and runs the due jobs outside its lock. Deliveries from here go
// through the injection queue like any send from outside the pool.
//
// Cancelling a timer does not search the heap: the entry stays, marked
// (its job's `revoked` probe says so), and is dropped when due, or earlier by
// a compaction once marked entries are half the heap. Each compaction costs
// O(n) and follows at least n/2 cancellations: O(1) per cancel, amortised,
// and the heap never holds more than twice its live entries (plus a floor).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include <courier/detail/timers.hpp>

namespace courier::internal {

class timer_service {
 public:
  using clock = std::chrono::steady_clock;

  timer_service() = default;
  timer_service(const timer_service&) = delete;
  timer_service& operator=(const timer_service&) = delete;
  ~timer_service() { stop(); }

  /// Runs `job` (fired) at `when`; runs it at once (not fired) after stop().
  void add(clock::time_point when, detail::timer_job job) noexcept;

  /// An entry's job became revoked (a timer was cancelled): counted toward
  /// the next compaction, which this call may run.
  void note_revoked() noexcept;

  /// Joins the thread and runs every pending job (not fired). Idempotent.
  void stop() noexcept;

  std::size_t pending() noexcept;

  /// stop() began: every job still pending runs (not fired) from here on.
  bool stopped() const noexcept {
    return closed_.load(std::memory_order_acquire);  // acquire: pairs with stop()'s release store
  }

 private:
  struct entry {
    clock::time_point when;
    std::uint64_t sequence;  // FIFO among equal deadlines
    detail::timer_job job;
    bool operator>(const entry& other) const noexcept {
      return when != other.when ? when > other.when : sequence > other.sequence;
    }
  };

  void run() noexcept;
  void push(entry e);
  entry pop();
  /// Under the lock: moves the revoked entries' jobs to `out` (run them,
  /// not fired, after unlocking) and rebuilds the heap.
  void compact(std::vector<detail::timer_job>& out);
  bool should_compact() const noexcept;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<entry> heap_;  // a min-heap by (when, sequence)
  std::uint64_t sequence_ = 0;
  /// Revoked entries since the last compaction (an estimate: an entry that
  /// falls due first is counted anyway). relaxed: a heuristic, read under
  /// the lock and reset there.
  std::atomic<std::size_t> revoked_{0};
  /// heap_.size(), readable without the lock (written under it).
  std::atomic<std::size_t> size_{0};
  bool stopped_ = false;
  /// stopped_, readable without the lock (a woken sleep_for's check).
  std::atomic<bool> closed_{false};
  std::thread thread_;
};

}  // namespace courier::internal
