#pragma once
// Opt-in per-actor-type metrics (runtime::metrics().actor_types): messages
// handled, mailbox depth high-water mark, and log-bucket histograms of
// handler time and mailbox wait. An actor type opts in at compile time, so
// every other type pays nothing: no timestamp in its envelopes, no clock
// read, no member in its cell.
//
//   class pricer : public courier::actor<pricer> {
//    public:
//     static constexpr bool courier_metrics = true;
//     ...
//   };
//
// (or specialise courier::measure_actor_type<pricer> = true for a type you
// cannot edit).
//
// What a measured type pays per message (docs/metrics.md has the figures):
// a clock read when the envelope is built and two around the handler, a
// relaxed fetch_add on its mailbox's slot count (measured mailboxes count
// their queue like bounded ones), and a few single-writer increments on the
// running worker's own shard of the type's counters.

#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

#include <courier/detail/cell.hpp>
#include <courier/detail/envelope.hpp>
#include <courier/detail/single_writer.hpp>
#include <courier/fwd.hpp>

namespace courier {

/// True when A declares `static constexpr bool courier_metrics = true;`.
template <class A>
inline constexpr bool measure_actor_type = requires { requires A::courier_metrics; };

}  // namespace courier

namespace courier::detail {

/// 32 buckets: bucket 0 holds values below 256 ns, bucket i (1..30) values
/// in [128 << i, 256 << i) ns, bucket 31 the rest (from about 275 s).
inline constexpr std::size_t histogram_buckets = 32;

constexpr std::size_t bucket_of(std::uint64_t ns) noexcept {
  if (ns < 256) return 0;
  auto i = static_cast<std::size_t>(std::bit_width(ns)) - 8;
  return i < histogram_buckets ? i : histogram_buckets - 1;
}

/// One worker's share of a measured type's counters, on its own cache
/// lines: written only by that worker, summed by system::metrics().
struct alignas(64) type_metrics_shard {
  struct histogram {
    std::array<std::atomic<std::uint64_t>, histogram_buckets> buckets{};
    std::atomic<std::uint64_t> sum_ns{0};

    void record(std::uint64_t ns) noexcept {
      bump(buckets[bucket_of(ns)]);
      bump(sum_ns, ns);
    }
  };

  void note_depth(std::uint64_t depth) noexcept {
    if (depth > high_water.load(std::memory_order_relaxed))  // relaxed: single writer
      high_water.store(depth, std::memory_order_relaxed);    // relaxed: read by a snapshot
  }

  std::atomic<std::uint64_t> handled{0};
  std::atomic<std::uint64_t> high_water{0};
  histogram handler_time;
  histogram mailbox_wait;
};

/// One runtime's counters for one measured actor type: a shard per worker.
struct type_metrics_block {
  type_metrics_block(std::string_view type_name, std::size_t workers) : type(type_name), shards(workers) {}

  const std::string_view type;
  std::vector<type_metrics_shard> shards;
};

/// The index of the calling worker thread in its runtime's pool.
std::size_t current_worker_index() noexcept;

/// The block of `type` in `sys`, created on first use (at spawn; takes a lock).
type_metrics_block* type_metrics_for(internal::system* sys, std::string_view type);

inline std::uint64_t clock_ns() noexcept {
  return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
}

/// In every envelope addressed to A: when it was built (empty unless A is measured).
template <class A, bool = measure_actor_type<A>>
struct enqueue_stamp {};
template <class A>
struct enqueue_stamp<A, true> {
  std::uint64_t at = clock_ns();
};

/// In cell<A>: the type's block (empty unless A is measured).
template <class A, bool = measure_actor_type<A>>
struct measure_slot {};
template <class A>
struct measure_slot<A, true> {
  type_metrics_block* block = nullptr;
};

/// Times one handler of a measured A, from construction to stop(): records
/// the envelope's mailbox wait and the depth when it starts, the handler
/// time and the count when it stops. Empty (free) unless A is measured. A
/// coroutine handler's time is until it first suspends or returns.
/// After stop() it touches only the type's block, never the cell (a
/// suspended coroutine may already run on another worker).
template <class A, bool = measure_actor_type<A>>
struct handler_timer {
  handler_timer(measure_slot<A>&, const cell_base*, const envelope*, const enqueue_stamp<A>&) noexcept {}
  void stop() noexcept {}
};
template <class A>
struct handler_timer<A, true> {
  handler_timer(measure_slot<A>& slot, const cell_base* cell, const envelope* e,
                const enqueue_stamp<A>& stamp) noexcept
      : block(&slot.block->shards[current_worker_index()]), start(clock_ns()) {
    // A timer's message was built when it was requested: its wait is the delay.
    if (!(e->flags & envelope::pre_accepted)) block->mailbox_wait.record(start > stamp.at ? start - stamp.at : 0);
    // The slot count excludes the message being handled, which was waiting too.
    block->note_depth(queued_of(cell) + 1);
  }
  void stop() noexcept {
    block->handler_time.record(clock_ns() - start);
    bump(block->handled);
  }

  type_metrics_shard* block;  // the running worker's
  std::uint64_t start;
};

}  // namespace courier::detail
