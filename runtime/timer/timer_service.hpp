#pragma once
// timer_service: one thread for all of a runtime's timers (send_after,
// ctx.ask_for timeouts), started on first use. A binary heap of deadlines;
// the thread sleeps until the earliest one (no polling, no thread per timer)
// and runs the due jobs outside its lock. Deliveries from here go through the
// injection queue like any send from outside the pool.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <queue>
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

  /// Joins the thread and runs every pending job (not fired). Idempotent.
  void stop() noexcept;

  std::size_t pending() noexcept;

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

  std::mutex mutex_;
  std::condition_variable wake_;
  std::priority_queue<entry, std::vector<entry>, std::greater<entry>> heap_;
  std::uint64_t sequence_ = 0;
  bool stopped_ = false;
  std::thread thread_;
};

}  // namespace courier::internal
