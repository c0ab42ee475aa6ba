#pragma once
// stall_monitor: the pool's watchdog thread (Go's sysmon, in small). It makes
// sure that no runnable actor waits behind a long handler while another
// worker is idle or parked (guarantee 4).
//
// A worker keeps the actors its own turns make runnable close at hand: in
// its run-next slot, which only it takes while its turns are short, and in
// its deque. A handler that runs for a long time (a system call, a big
// computation) would strand them there. The monitor samples every worker
// every `period`: a worker seen inside the same turn at two samples in a
// row is *stalled*. The monitor then publishes that (worker::stalled_turn_),
// which makes the worker's run-next slot stealable, and, if the worker holds
// work, wakes a parked worker to take it (scheduler::notify). So an actor
// made runnable by a long handler is taken within about two periods, and a
// short turn never has its run-next slot taken from under it (the pingpong
// locality that the slot exists for is kept).
//
// It costs nothing while the pool is idle: when every worker is parked the
// monitor sleeps on its futex word. Only work that a worker keeps for itself
// can be stranded, so the monitor is woken where such work appears (wake(),
// from worker::schedule_local and steal_half, and when a send buffer starts
// a chain: send_buffer.hpp), not when a worker wakes up:
// an idle pool woken by one message pays nothing for the monitor. The sleep
// handshake is the parker's: the monitor announces (`asleep_`, seq_cst) then
// re-checks the parked mask (seq_cst); a worker that makes local work was
// unparked before (its bit cleared, seq_cst, which happens-before its run)
// and then reads `asleep_` (seq_cst). One of the two sees the other.
//
// Missed samples are harmless: a stalled worker is re-examined every
// period, so work that appears late in a long turn is found at the next one.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "runtime/support/cache_line.hpp"

namespace courier::internal {

class scheduler;

class stall_monitor {
 public:
  /// Two samples one period apart inside the same turn mark it stalled.
  static constexpr std::chrono::microseconds period{200};

  explicit stall_monitor(scheduler& owner) : owner_(owner) {}
  stall_monitor(const stall_monitor&) = delete;
  stall_monitor& operator=(const stall_monitor&) = delete;

  void start();
  /// Stops and joins the thread. Idempotent.
  void stop();

  /// The monitor sleeps because every worker was parked (diagnostics and
  /// tests; seq_cst: the same load as wake()'s).
  bool asleep() const noexcept { return asleep_.load(std::memory_order_seq_cst); }

  /// A worker holds work only it would run: wake the monitor if it sleeps.
  /// One seq_cst load when it is awake (a plain load on x86), inline: it is
  /// on the path of every actor a handler makes runnable.
  void wake() noexcept {
    // seq_cst: the waker's half of the sleep handshake (see above): the
    // caller's parked bit was cleared (seq_cst) before this load.
    if (asleep_.load(std::memory_order_seq_cst)) wake_slow();
  }

 private:
  void loop();
  /// One sample of every worker; returns false when every worker is parked.
  void sample();
  void sleep_while_all_parked();
  void wake_slow() noexcept;

  scheduler& owner_;
  std::vector<std::uint64_t> last_turn_;  // monitor thread only: turn seen at the previous sample
  std::atomic<std::uint32_t> generation_{0};  // futex word: bumped by wake() and stop()
  alignas(cache_line_size) std::atomic<bool> asleep_{false};  // read by every schedule_local() and new chain: its own line
  alignas(cache_line_size) std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace courier::internal
