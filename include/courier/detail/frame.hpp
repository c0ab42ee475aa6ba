#pragma once
// The runtime's view of a coroutine handler's frame (courier::task<R>):
// started and resumed only inside its actor's turn (runtime/actor/frame.cpp).

#include <coroutine>

#include <courier/detail/cell.hpp>

#include <courier/detail/envelope.hpp>

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

}  // namespace courier::detail
