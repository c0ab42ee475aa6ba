#pragma once
// scheduler: the pool. Owns the workers, the injection queue, the parker and
// the count of searching workers, and decides where a runnable actor goes:
//   from one of its workers   -> that worker's run-next slot
//   from any other thread     -> the injection queue, then notify()
// notify() wakes one parked worker only when no worker is searching (I3, I6).
// The stall monitor (stall_monitor.hpp) hands work off a worker stuck in a
// long turn (guarantee 4).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include <courier/config.hpp>
#include <courier/detail/cell.hpp>

#include "runtime/sched/injection_queue.hpp"
#include "runtime/sched/parker.hpp"
#include "runtime/sched/stall_monitor.hpp"
#include "runtime/sched/worker.hpp"

namespace courier::internal {

class system;

class scheduler {
 public:
  scheduler(internal::system& sys, std::size_t workers, const config& cfg);
  ~scheduler();

  void start();
  /// Stops the workers once they run out of work, and joins them. Idempotent.
  void stop();

  /// Makes `cell` runnable (it must not be queued or running already).
  void schedule(cell_base* cell);

  /// Wakes one parked worker if no worker is searching.
  void notify() noexcept;

  /// Any work a parking worker could take (seq_cst loads; see parker.hpp).
  bool work_visible() const noexcept;

  /// Every worker has announced that it parks (seq_cst; the stall monitor's sleep check).
  bool all_parked() const noexcept { return parker_.all_parked(workers_.size()); }

  internal::system& system() noexcept { return system_; }
  const stall_monitor& monitor() const noexcept { return monitor_; }
  std::size_t size() const noexcept { return workers_.size(); }
  worker& at(std::size_t i) noexcept { return *workers_[i]; }
  std::uint32_t batch() const noexcept { return batch_; }
  std::chrono::microseconds spin() const noexcept { return spin_; }
  std::size_t min_awake() const noexcept { return min_awake_; }
  const std::vector<int>& pin() const noexcept { return pin_; }

 private:
  friend class worker;
  friend class stall_monitor;

  internal::system& system_;
  std::uint32_t batch_;
  std::chrono::microseconds spin_;
  std::size_t min_awake_;
  std::vector<int> pin_;
  std::vector<std::unique_ptr<worker>> workers_;
  injection_queue injection_;
  parker parker_;
  stall_monitor monitor_{*this};
  alignas(cache_line_size) std::atomic<std::uint32_t> searching_{0};
  std::atomic<bool> stopping_{false};
  bool joined_ = false;
};

}  // namespace courier::internal
