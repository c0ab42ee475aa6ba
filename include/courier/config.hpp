#pragma once
// Runtime and spawn configuration: aggregates with a default for every field.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace courier {

/// How a runtime is built. An aggregate: use designated initializers,
/// `courier::runtime rt{{.workers = 4, .batch = 64}};`. Fields may be added later.
struct config {
  /// Worker threads; 0 = one per hardware thread.
  std::size_t workers = 0;
  /// Most messages an actor handles in one turn before it yields its worker.
  std::uint32_t batch = 64;

  // -- idle policy (see docs/tuning.md for measured trade-offs) ------------------
  /// How long a worker that ran out of work keeps looking before it sleeps
  /// on its futex: longer = faster pick-up of the next message, more CPU
  /// burnt after each burst. 0 = park at once.
  std::chrono::microseconds spin{20};
  /// Workers (the first `min_awake`) that never park: the lowest wake-up
  /// latency, at the cost of one busy core each.
  std::size_t min_awake = 0;
  /// CPUs to pin workers to (worker i on pin[i % pin.size()], with
  /// sched_setaffinity); empty = no pinning (the default).
  std::vector<int> pin{};

  // -- diagnostics (see docs/metrics.md) ------------------------------------------
  /// runtime::metrics().stuck names the actors seen inside one handler for
  /// at least this long (0 = every actor inside a handler).
  std::chrono::milliseconds stuck_after{1000};
};

/// What an actor does when an exception escapes its code (a handler, a
/// continuation, on_start; never on_stop). docs/supervision.md.
enum class on_failure : std::uint8_t {
  resume,   // go on with the same object (the default)
  restart,  // rebuild the object in place from copies of the spawn arguments
  stop,     // stop after the failing message, with exit_reason::failed
};

/// A per-actor failure policy (spawn_options::failure).
struct failure_policy {
  courier::on_failure action = on_failure::resume;
  /// restart: at most this many restarts ...
  std::uint32_t intensity = 3;
  /// ... within any window of this length; one more stops the actor.
  std::chrono::milliseconds period{5000};
  /// restart: the wait before the k-th consecutive restart is
  /// min(backoff_max, backoff_min * 2^(k-1)); 0 = rebuild at once.
  std::chrono::milliseconds backoff_min{0};
  /// 0 = no cap.
  std::chrono::milliseconds backoff_max{0};
};

/// Per-actor options; a spawn_options first argument of spawn() is always
/// taken as the options, never passed to the actor's constructor.
struct spawn_options {
  /// Shown by the error hook and diagnostics; empty = the actor's type name.
  std::string name{};
  /// 0 = unbounded mailbox; otherwise sends beyond this many queued messages
  /// fail with errc::mailbox_full (never block). The message being handled
  /// holds no slot.
  std::uint32_t capacity = 0;
  /// What an exception escaping this actor's code does (default: resume).
  failure_policy failure{};
};

// -- supervisors (courier/supervisor.hpp, docs/supervision.md) ------------------------

/// Which children a supervisor restarts when one of them fails or ends.
enum class restart_strategy : std::uint8_t {
  one_for_one,   // only that child
  one_for_all,   // every child
  rest_for_one,  // that child and every child started after it
};

/// When a supervised child is brought back.
enum class restart_type : std::uint8_t {
  permanent,  // always (after a failure, an abnormal end, or its own stop)
  transient,  // after a failure or an abnormal end (failed, linked), not after a normal one
  temporary,  // never: it is removed from its supervisor when it ends
};

/// child_spec::shutdown: wait for the child however long it takes.
inline constexpr std::chrono::milliseconds infinite = std::chrono::milliseconds::max();

/// How a supervisor reacts (rt.spawn<courier::supervisor>(flags, children...)).
struct supervisor_flags {
  restart_strategy strategy = restart_strategy::one_for_one;
  /// At most this many restarts (events that restart or respawn anything) ...
  std::uint32_t intensity = 3;
  /// ... within any window of this length; one more and the supervisor
  /// stops its children and ends with exit_reason::failed.
  std::chrono::milliseconds period{5000};
};

/// One supervised child.
struct child_spec {
  /// Unique within its supervisor, not empty (which_child, terminate_child).
  std::string id;
  restart_type restart = restart_type::permanent;
  /// How long the supervisor waits for the child to finish (or to be torn
  /// down in a group restart) before it reports it through the error hook;
  /// `infinite`; 0 = it does not wait when it stops its children.
  std::chrono::milliseconds shutdown{5000};
  /// Name and capacity of every incarnation; `options.failure` is ignored
  /// (the supervisor decides).
  spawn_options options{};
};

}  // namespace courier
