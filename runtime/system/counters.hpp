#pragma once
// Statistics counters: one set per worker (written only by that worker) and
// one shared set for every other thread (spawners, timers, senders that
// settle a dead mailbox). Summed when stats() is read, so the hot path never
// bumps a counter shared between workers.

#include <atomic>
#include <cstdint>

#include "runtime/support/cache_line.hpp"

namespace courier::internal {

struct alignas(cache_line_size) counter_set {
  std::atomic<std::uint64_t> spawned{0};
  std::atomic<std::uint64_t> stopped{0};
  std::atomic<std::uint64_t> handled{0};
  std::atomic<std::uint64_t> dropped{0};
};

/// Where the calling thread counts: its own worker's set (single writer:
/// a relaxed load and store, no lock prefix) or the shared set (fetch_add).
class counter_sink {
 public:
  counter_sink(counter_set& set, bool single_writer) noexcept : set_(set), single_writer_(single_writer) {}

  /// A seq_cst increment, for `stopped`: ordered before the caller's load of
  /// system::awaiting_ (a store->load pair with system::wait_for_actors()).
  void add_seq_cst(std::atomic<std::uint64_t> counter_set::*field) noexcept {
    (set_.*field).fetch_add(1, std::memory_order_seq_cst);  // seq_cst: see above; on our own line, so uncontended
  }

  void add(std::atomic<std::uint64_t> counter_set::*field, std::uint64_t n = 1) noexcept {
    auto& counter = set_.*field;
    if (single_writer_)
      counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);  // relaxed: statistic only, read in system::stats()
    else
      counter.fetch_add(n, std::memory_order_relaxed);  // relaxed: statistic only, read in system::stats()
  }

 private:
  counter_set& set_;
  bool single_writer_;
};

}  // namespace courier::internal
