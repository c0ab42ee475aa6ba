#pragma once
// The turn's side of coroutine handlers (runtime/actor/frame.cpp).

#include <courier/detail/cell.hpp>
#include <courier/detail/frame.hpp>

namespace courier::internal {

/// Runs a frame until it finishes or suspends (cell.frame is then set).
void step(detail::cell_base* cell, detail::frame_base* frame) noexcept;

/// True once (then false) if the calling worker's current turn ended in a
/// suspension: from that moment the cell belongs to the suspension.
bool take_turn_suspended() noexcept;

/// At the start of a turn of a suspended actor (it was woken): resumes its
/// frame, or destroys it if stop() was requested.
void resume_suspended(detail::cell_base& cell) noexcept;

/// The actor's last turn: a frame still suspended is destroyed unfinished.
void destroy_suspended(detail::cell_base& cell) noexcept;

}  // namespace courier::internal
