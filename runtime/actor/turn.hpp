#pragma once
// One turn of an actor on a worker: at most `batch` messages and never past
// the mailbox head seen when the turn began (I5); then release (one CAS),
// reschedule, or the actor's last turn.

#include <courier/detail/cell.hpp>

namespace courier::internal {

class worker;

enum class turn_end {
  released,    // idle: the next push schedules it
  reschedule,  // more to do: the caller puts it at the back of its deque
  finished,    // the actor stopped; the cell must not be touched again
  suspended,   // a coroutine handler awaits: the actor is owned by its suspension; wake() reschedules it
};

turn_end run_turn(detail::cell_base& cell, worker& w);

}  // namespace courier::internal
