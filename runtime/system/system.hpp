#pragma once
// system: everything one runtime owns (scheduler, registry, timers, counters,
// error hook) and the shutdown sequence. Reference-counted: the runtime holds
// one reference and every cell one, so an address that outlives its runtime
// still finds valid memory (it then behaves as an address to a stopped actor).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>

#include <courier/config.hpp>
#include <courier/runtime.hpp>
#include <courier/stats.hpp>

#include "runtime/actor/registry.hpp"
#include "runtime/sched/scheduler.hpp"
#include "runtime/system/counters.hpp"
#include "runtime/timer/timer_service.hpp"

namespace courier::internal {

class system {
 public:
  system(courier::runtime& owner, const config& cfg);
  system(const system&) = delete;
  system& operator=(const system&) = delete;

  courier::runtime& owner() noexcept { return owner_; }
  internal::scheduler& scheduler() noexcept { return scheduler_; }
  internal::registry& registry() noexcept { return registry_; }
  timer_service& timers() noexcept { return timers_; }
  counter_set& shared_counters() noexcept { return shared_counters_; }

  // -- references --------------------------------------------------------------------

  void retain() noexcept {
    refs_.fetch_add(1, std::memory_order_relaxed);  // relaxed: the caller holds a reference already
  }
  void release() noexcept;

  // -- live actors ---------------------------------------------------------------------

  void actor_started() noexcept {
    live_.fetch_add(1, std::memory_order_relaxed);  // relaxed: read with acquire after the decrements that matter
  }
  void actor_finished() noexcept;

  // -- errors ------------------------------------------------------------------------------

  void set_error_hook(error_hook hook);
  void report(std::string_view actor, std::string_view message, std::string_view what) noexcept;

  // -- runtime calls ---------------------------------------------------------------------

  bool shutdown(std::chrono::steady_clock::duration grace);
  /// ~runtime: waits for every actor and joins everything (no time limit).
  void teardown();
  courier::stats stats() noexcept;

 private:
  /// Waits until no actor is live (or `until`, when timed).
  bool wait_for_actors(bool timed, std::chrono::steady_clock::time_point until) noexcept;

  courier::runtime& owner_;
  internal::scheduler scheduler_;
  internal::registry registry_;
  timer_service timers_;
  counter_set shared_counters_;
  std::atomic<std::uint32_t> refs_{1};
  std::atomic<std::uint32_t> live_{0};

  std::mutex hook_mutex_;
  std::shared_ptr<const error_hook> hook_;

  enum class phase { running, shutting_down, shut_down };
  std::mutex shutdown_mutex_;
  std::condition_variable shutdown_done_;
  phase phase_ = phase::running;
  bool clean_ = false;
};

}  // namespace courier::internal
