#pragma once
// system: everything one runtime owns (scheduler, registry, timers, counters,
// error hook) and the shutdown sequence. Reference-counted: the runtime holds
// one reference (released after every actor finished) and every cell whose
// memory outlives its actor holds one, so an address that outlives its
// runtime still finds valid memory (it then behaves as an address to a
// stopped actor). Live actors need no reference: ~runtime waits for them.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <courier/config.hpp>
#include <courier/detail/type_metrics.hpp>
#include <courier/metrics.hpp>
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
  /// Senders waiting for room in a bounded mailbox (metrics().senders_waiting;
  /// changed under the target's extras lock, so relaxed).
  std::atomic<std::int64_t>& senders_waiting() noexcept { return senders_waiting_; }
  /// The counter set of the calling thread when it is not one of our
  /// workers (created on its first use, cached per thread).
  counter_set& outside_counters();

  // -- references --------------------------------------------------------------------

  void retain() noexcept {
    refs_.fetch_add(1, std::memory_order_relaxed);  // relaxed: the caller holds a reference already
  }
  void release() noexcept;

  // -- live actors ---------------------------------------------------------------------
  // Live actors = spawned - stopped, summed over the per-thread counters, so
  // neither spawn nor stop touches a line shared between workers. Only while
  // someone waits for them to reach zero does a finishing actor wake it.

  /// Called by an actor's last turn after it counted itself `stopped` (seq_cst).
  void actor_finished() noexcept;

  /// True once runtime shutdown began: no in-place restart starts after that.
  /// relaxed: a policy hint; the shutdown's own requests to every actor
  /// (registry close) are what synchronise.
  bool shutdown_begun() const noexcept { return shutdown_begun_.load(std::memory_order_relaxed); }

  // -- names (runtime/system/names.cpp) --------------------------------------------------

  /// runtime::register_name / whereis.
  errc register_name(std::string_view name, detail::cell_base* cell, const void* ops, const void* tag) noexcept;
  detail::cell_base* whereis(std::string_view name, const void* tag, const void*& ops) noexcept;
  /// An actor's last turn, before it is done: its names go.
  void drop_names(detail::cell_base* cell) noexcept;
  /// The runtime's end: every name goes (each held its actor's memory).
  void clear_names() noexcept;

  // -- errors ------------------------------------------------------------------------------

  void set_error_hook(error_hook hook);
  void report(std::string_view actor, std::string_view message, std::string_view what) noexcept;

  // -- runtime calls ---------------------------------------------------------------------

  /// runtime::shutdown. `may_wait` false (called inside a handler): begins
  /// the shutdown if nobody has, and returns false at once; the next caller
  /// that may wait (or ~runtime) finishes it.
  bool shutdown(std::chrono::steady_clock::duration grace, bool may_wait = true);
  /// ~runtime: waits for every actor and joins everything (no time limit).
  void teardown();
  courier::stats stats() noexcept;
  courier::metrics metrics();

  /// The per-type block of a measured actor type, created on first use.
  detail::type_metrics_block* type_metrics(std::string_view type);

 private:
  /// The actors inside a handler now (running on a worker, or suspended in a
  /// coroutine handler) that have been seen inside the same one for at least
  /// `at_least`. Each call is a snapshot: how long an actor has been inside
  /// is the time since the first snapshot that found it in that handler.
  std::vector<courier::inside_actor> observe(std::chrono::nanoseconds at_least);

  /// Waits until no actor is live (or `until`, when timed).
  bool wait_for_actors(bool timed, std::chrono::steady_clock::time_point until) noexcept;

  courier::runtime& owner_;
  const std::uint64_t id_;  // never reused in the process: keys the per-thread cache of outside_counters()
  internal::scheduler scheduler_;
  internal::registry registry_;
  timer_service timers_;
  std::atomic<std::int64_t> senders_waiting_{0};
  template <class F>
  void for_each_counter_set(F&& f);
  /// Every counter summed over the workers' and the outside threads' sets.
  counter_totals totals();

  std::mutex outside_mutex_;
  std::vector<std::unique_ptr<counter_set>> outside_counters_;
  /// spawned - stopped over every counter set.
  std::uint64_t live_actors() noexcept;

  /// Names: each entry holds its actor's memory (not an address).
  struct name_entry {
    detail::cell_base* cell;
    const void* ops;
    const void* tag;
  };
  std::mutex names_mutex_;
  std::unordered_map<std::string, name_entry> names_;

  std::atomic<std::uint32_t> refs_{1};
  std::atomic<bool> awaiting_{false};            // someone waits in wait_for_actors()
  std::atomic<std::uint32_t> finish_epoch_{0};  // futex word: bumped by actor_finished() while awaited

  /// An actor inside a handler at the last snapshot: which handler (the
  /// cell's handler_epoch), and when a snapshot first found it there.
  struct sighting {
    std::uint16_t epoch;
    std::chrono::steady_clock::time_point first_seen;
  };
  const std::chrono::nanoseconds stuck_after_;
  std::mutex observe_mutex_;
  std::unordered_map<const detail::cell_base*, sighting> sightings_;

  std::mutex type_metrics_mutex_;
  std::vector<std::unique_ptr<detail::type_metrics_block>> type_metrics_;

  std::mutex hook_mutex_;
  std::shared_ptr<const error_hook> hook_;

  /// Closes the registry and the timers; the first step of every shutdown.
  void begin_shutdown();

  // running -> begun (by a handler: nobody waits yet) -> shutting_down (a
  // caller waits for the actors) -> shut_down; or running -> shutting_down.
  enum class phase { running, begun, shutting_down, shut_down };
  std::mutex shutdown_mutex_;
  std::condition_variable shutdown_done_;
  phase phase_ = phase::running;
  std::atomic<bool> shutdown_begun_{false};
  bool clean_ = false;
};

/// Where the calling thread counts statistics for `sys`: its worker's set,
/// or (any other thread) a set of its own.
inline counter_sink counters_here(system& sys) noexcept {
  auto* w = worker::current();
  if (w && &w->owner().system() == &sys) [[likely]] return counter_sink(w->counters());
  return counter_sink(sys.outside_counters());
}

}  // namespace courier::internal
