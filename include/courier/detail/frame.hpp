#pragma once
// The runtime's view of a coroutine handler's frame (courier::task<R>):
// started and resumed only inside its actor's turn (runtime/actor/frame.cpp).

#include <atomic>
#include <coroutine>
#include <new>
#include <utility>

#include <courier/detail/cell.hpp>
#include <courier/detail/envelope.hpp>
#include <courier/error.hpp>

namespace courier::detail {

struct frame_base {
  std::coroutine_handle<> handle;
  /// Delivers the outcome (or actor_stopped, when `stopped`: the frame is
  /// destroyed unfinished), destroys the frame, then the message it handled.
  void (*complete)(frame_base*, bool stopped) noexcept = nullptr;
  /// What the suspended frame awaits, set by the awaitable's await_suspend:
  /// the runtime resumes the frame only once `ready(awaited)` is true. A
  /// wake-up meant for a frame destroyed earlier (the reply to an
  /// incarnation a supervisor's restart tore down, or its sleep_for's
  /// timer) can reach the actor while a later frame awaits something else:
  /// that frame stays suspended.
  bool (*ready)(const void* awaited) noexcept = nullptr;
  const void* awaited = nullptr;

  /// The awaitable's half: `probe(object)` tells whether its event came.
  void awaits(bool (*probe)(const void*) noexcept, const void* object) noexcept {
    ready = probe;
    awaited = object;
  }
};

/// Starts a coroutine handler inside its actor's turn. If it suspends
/// (ran::suspended), the runtime keeps it with the cell and the turn must
/// end at once without touching the cell.
[[nodiscard]] ran run_frame(cell_base* cell, frame_base* frame) noexcept;

/// The event a suspended handler awaits has happened (or stop() wants the
/// frame gone): schedules the actor if it is suspended. Any thread.
void wake(cell_base* cell) noexcept;

/// The reply a suspended frame awaits (co_await ctx.ask, by address or by
/// recipient): the value, whether it came, and an address of the awaiting
/// actor held until it did (the cell outlives a reply that comes after
/// stop(), and a pending ask keeps its actor reachable).
template <class R>
struct awaited_slot {
  explicit awaited_slot(cell_base* waiter) noexcept : cell(waiter) { revive_address(waiter); }
  ~awaited_slot() {}  // the value goes with destroy_value(), by the slot's last owner

  /// The completion: store, publish, wake the actor, give up the address.
  void deliver(result<R>&& v) noexcept {
    ::new (static_cast<void*>(&value)) result<R>(std::move(v));
    ready.store(true, std::memory_order_release);  // release: publishes the value to probe()'s acquire
    wake(cell);
    release_address(cell);
  }
  /// frame_base::ready: the reply is in.
  static bool probe(const void* p) noexcept {
    return static_cast<const awaited_slot*>(p)->ready.load(std::memory_order_acquire);  // acquire: pairs with deliver()
  }
  /// By the last owner (whose reference release ordered every other write).
  void destroy_value() noexcept {
    if (ready.load(std::memory_order_relaxed)) value.~result<R>();  // relaxed: ordered by that release
  }

  cell_base* cell;
  std::atomic<bool> ready{false};
  union {
    result<R> value;
  };
};

}  // namespace courier::detail
