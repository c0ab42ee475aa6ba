#pragma once
// Statistics counters: one set per thread that touches a runtime (each
// worker's own, and one per outside thread: senders, spawners, the timer
// thread), written only by that thread and summed when stats() is read, so
// no path bumps a counter shared between threads.

#include <atomic>
#include <cstdint>

#include <courier/detail/single_writer.hpp>

#include "runtime/support/cache_line.hpp"

// The metrics-only counters (runtime::metrics()) compile out with
// -DCOURIER_METRICS=0, which only the benchmarks' metrics-off build uses, to
// measure what keeping them costs (tools/bench's overhead row).
#ifndef COURIER_METRICS
#define COURIER_METRICS 1
#endif
#if COURIER_METRICS
#define COURIER_METRIC(sink, field) (sink).add(&::courier::internal::counter_set::field)
#else
#define COURIER_METRIC(sink, field) ((void)0)
#endif

namespace courier::internal {

struct alignas(cache_line_size) counter_set {
  std::atomic<std::uint64_t> spawned{0};
  std::atomic<std::uint64_t> stopped{0};
  std::atomic<std::uint64_t> handled{0};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> replies_issued{0};
  std::atomic<std::uint64_t> replies_completed{0};
  std::atomic<std::uint64_t> replies_dropped{0};
  // worker activity (runtime::metrics())
  std::atomic<std::uint64_t> turns{0};
  std::atomic<std::uint64_t> batch_limit_hits{0};
  std::atomic<std::uint64_t> steals_attempted{0};
  std::atomic<std::uint64_t> steals_succeeded{0};
  std::atomic<std::uint64_t> parks{0};
  std::atomic<std::uint64_t> wakeups{0};
  std::atomic<std::uint64_t> injection_pops{0};
  // replies completed with an error, by errc (slow paths only)
  std::atomic<std::uint64_t> replies_failed_stopped{0};
  std::atomic<std::uint64_t> replies_failed_full{0};
  std::atomic<std::uint64_t> replies_failed_timeout{0};
  std::atomic<std::uint64_t> replies_failed_handler{0};
};
static_assert(sizeof(counter_set) <= 3 * cache_line_size, "a worker's counters stay on its own three lines");

/// Where the calling thread counts: its own set (single writer: a relaxed
/// load and store, no lock prefix).
class counter_sink {
 public:
  explicit counter_sink(counter_set& set) noexcept : set_(set) {}

  /// A seq_cst increment, for `stopped`: ordered before the caller's load of
  /// system::awaiting_ (a store->load pair with system::wait_for_actors()).
  void add_seq_cst(std::atomic<std::uint64_t> counter_set::*field) noexcept {
    (set_.*field).fetch_add(1, std::memory_order_seq_cst);  // seq_cst: see above; on our own line, so uncontended
  }

  void add(std::atomic<std::uint64_t> counter_set::*field, std::uint64_t n = 1) noexcept {
    detail::bump(set_.*field, n);  // read in system::stats() / metrics()
  }

 private:
  counter_set& set_;
};

}  // namespace courier::internal
