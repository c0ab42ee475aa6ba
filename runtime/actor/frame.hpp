#pragma once
// The turn's side of coroutine handlers (runtime/actor/frame.cpp).

#include <courier/detail/cell.hpp>
#include <courier/detail/frame.hpp>

namespace courier::internal {

/// Runs a frame until it finishes or suspends (cell.frame is then set and the
/// result is ran::suspended: the cell belongs to the suspension).
[[nodiscard]] detail::ran step(detail::cell_base& cell, detail::frame_base* frame) noexcept;

/// At the start of a turn of a suspended actor (it was woken): resumes its
/// frame, or destroys it if stop() was requested.
[[nodiscard]] detail::ran resume_suspended(detail::cell_base& cell) noexcept;

/// The actor's last turn: a frame still suspended is destroyed unfinished.
void destroy_suspended(detail::cell_base& cell) noexcept;

}  // namespace courier::internal
