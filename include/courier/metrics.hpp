#pragma once
// metrics: a snapshot of what the runtime is doing, for services to export
// (runtime::metrics(), metrics::to_prometheus()). Counters are written only
// by their own thread (relaxed, on that thread's cache line) and summed when
// a snapshot is taken, so keeping them costs next to nothing.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace courier {

/// One worker's counters since the runtime started.
struct worker_metrics {
  std::size_t index = 0;
  std::uint64_t handled = 0;           // messages whose handler ran on this worker
  std::uint64_t turns = 0;             // actor turns run
  std::uint64_t batch_limit_hits = 0;  // turns that ended at config::batch with messages left
  std::uint64_t steals_attempted = 0;  // victims looked at
  std::uint64_t steals_succeeded = 0;  // steals that took work
  std::uint64_t parks = 0;             // sleeps on the futex
  std::uint64_t wakeups = 0;           // futex wake-ups received
  std::uint64_t injection_pops = 0;    // actors taken from the injection queue (made runnable outside the pool)
};

/// Replies that completed with an error, by kind (courier::errc), whoever
/// asked (address::ask, ctx.ask, co_await). Empty addresses are not counted.
struct reply_failures {
  std::uint64_t actor_stopped = 0;   // the actor had stopped or stopped first (replies_dropped is a part)
  std::uint64_t mailbox_full = 0;    // the actor's bounded mailbox was full
  std::uint64_t timeout = 0;         // ask_for's deadline passed first
  std::uint64_t handler_failed = 0;  // the handler threw or returned an error
};

/// An actor found inside a handler (running on a worker, or suspended in a
/// coroutine handler's co_await).
struct inside_actor {
  std::string name;   // spawn_options::name, or the type name
  std::string type;   // the actor's type
  std::uint64_t id = 0;  // unique within the runtime
  /// Seen inside the same handler for at least this long: the time between
  /// the first snapshot (metrics() or shutdown) that found it there and this one.
  std::chrono::nanoseconds inside{0};
  bool suspended = false;  // in a co_await rather than running on a worker
};

/// A distribution of durations in log2 buckets.
struct histogram {
  static constexpr std::size_t bucket_count = 32;
  /// Bucket i holds values below upper_bound_ns(i) (and at or above the
  /// bound of bucket i - 1): 256 ns, 512 ns, ... doubling; the last bucket
  /// is unbounded (0 here).
  static constexpr std::uint64_t upper_bound_ns(std::size_t i) noexcept {
    return i + 1 < bucket_count ? std::uint64_t{256} << i : 0;
  }
  std::array<std::uint64_t, bucket_count> buckets{};
  std::uint64_t count = 0;   // the sum of the buckets
  std::uint64_t sum_ns = 0;  // the sum of the values
};

/// One actor type that opted in (`static constexpr bool courier_metrics = true;`
/// in the actor class, see include/courier/detail/type_metrics.hpp).
struct actor_type_metrics {
  std::string type;
  std::uint64_t handled = 0;             // messages whose handler ran (requests included)
  std::uint64_t mailbox_high_water = 0;  // most messages seen waiting in one actor's mailbox
  histogram handler_time;                // time inside the handler (a coroutine: until it first suspends)
  histogram mailbox_wait;                // from send to the handler's start
};

struct metrics {
  std::vector<worker_metrics> workers;
  std::uint64_t live_actors = 0;       // spawned and not yet stopped
  std::uint64_t queued_messages = 0;   // accepted and not yet handled or dropped
  std::uint64_t senders_waiting = 0;   // send_for / co_await ctx.send waiting for room in a bounded mailbox now
  std::uint64_t dropped_messages = 0;  // accepted and destroyed unhandled
  std::uint64_t replies_dropped = 0;   // requests answered with actor_stopped because their actor stopped first
  std::uint64_t downs = 0;             // `down` notifications mailed to watchers (monitors)
  std::uint64_t restarts = 0;          // incarnations rebuilt in place (failure policy `restart`)
  std::uint64_t ticks_skipped = 0;     // periodic timer deadlines skipped: a tick was still outstanding
  std::uint64_t replies_discarded = 0; // replies nobody read: when_any's losers, a destroyed frame's when_all
  reply_failures replies_failed;
  /// Actors seen inside one handler for at least config::stuck_after.
  std::vector<inside_actor> stuck;
  /// The actor types that opted in to per-type metrics, in order of first spawn.
  std::vector<actor_type_metrics> actor_types;

  /// The Prometheus text exposition format (version 0.0.4).
  std::string to_prometheus() const;
};

}  // namespace courier
