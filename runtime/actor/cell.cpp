// The cell's protocols that the public templates call: delivery, the two
// counts, stop / shutdown / join, and the end of an actor's life.

#include <thread>

#include <courier/detail/allocator.hpp>
#include <courier/detail/cell.hpp>
#include <courier/detail/frame.hpp>
#include <courier/detail/futex.hpp>
#include <courier/detail/timers.hpp>

#include "runtime/actor/extras.hpp"
#include "runtime/actor/frame.hpp"
#include "runtime/actor/lifecycle.hpp"
#include "runtime/actor/restart.hpp"
#include "runtime/mailbox/mailbox.hpp"
#include "runtime/sched/scheduler.hpp"
#include "runtime/sched/send_buffer.hpp"
#include "runtime/support/chaos.hpp"
#include "runtime/support/probes.hpp"
#include "runtime/system/system.hpp"
#include "runtime/supervision/supervisor.hpp"

namespace courier::internal {

using detail::action;

namespace {

/// Consumes one envelope of an actor that will not handle it any more.
void consume_unhandled(cell_base& cell, envelope* e, counter_sink& counters) noexcept {
  if (e->flags & envelope::holds_slot)
    core_of(cell).queued.fetch_sub(1, std::memory_order_relaxed);  // relaxed: a bound only
  auto flags = e->flags;
  bool refused = (flags & envelope::refused) && !(flags & envelope::pre_accepted);
  (void)e->run(e, &cell, action::destroy);
  if (!refused && (flags & envelope::counted)) counters.add(&counter_set::dropped);
  if (flags & envelope::request) {
    counters.add(&counter_set::replies_completed);  // with actor_stopped
    if (!refused) COURIER_METRIC(counters, replies_dropped);
    COURIER_PROBE1(reply, &cell);
  }
}

void wake_joiners(cell_core& core) noexcept {
  if (state::mark_done(core)) detail::futex_wake_all(core.lifecycle_word);
}

}  // namespace

void finish(cell_base& cell, counter_sink counters) noexcept {
  auto& core = core_of(cell);
  mailbox box(core);
  destroy_suspended(cell);  // a frame still suspended (stop() only) goes first
  (void)state::close(core, chaos_hook{});  // the owner closes: it cannot find `idle`, so nothing to schedule
  if (core.capacity() != 0) fail_send_waiters(core);  // senders waiting for room get actor_stopped
  drop_consumed_streams(core);  // before the drain: their items are dropped, their producers told
  // Only stop() leaves accepted messages here (shutdown and auto-stop drain
  // in the turn, run_turn()); the rest are refused pushes, or pushes that
  // slipped in while the mailbox closed: dropped and counted.
  for (;;) {
    auto* e = box.pop();
    if (!e) {
      if (box.empty()) break;
      std::this_thread::yield();  // a producer is linking a node
      continue;
    }
    consume_unhandled(cell, e, counters);
  }
  // The record a late monitor reads, and what on_stop's ctx.stop_reason() gives.
  auto requested = core.requested_reason.load(std::memory_order_acquire);  // acquire: pairs with request_end()'s CAS
  if (requested == no_reason) requested = static_cast<std::uint8_t>(exit_reason::unreachable);
  // release: pairs with recorded_reason()'s acquire in a late monitor or link
  // (which also sees it through the extras lock or the closed marker's CAS)
  core.requested_reason.store(requested, std::memory_order_release);
  auto* x = extras_if_any(core);
  if (!(x && x->object_gone)) {  // gone already: torn down by a restart that stop() overtook
    cell.ops->stop(&cell);
    cell.ops->destroy(&cell);
  }
  // Only the owner adds these, all to its extras (on_stop may have made
  // them), and most actors have none: one load skips the three.
  if (extras_if_any(core)) {
    release_restart_address(cell);  // a pending restart's address, if any
    revoke_owned_timers(core);  // after on_stop (a timer it armed goes too); before done
    drop_consumed_streams(core);  // again: one consumed in on_stop
  }
  end_monitors(core);  // after on_stop: withdraw ours, mail the `down`s of those watching us
  auto& sys = system_of(cell);
  sys.drop_names(&cell);  // before done: whereis never finds an actor that finished
  counters.add_seq_cst(&counter_set::stopped);  // seq_cst: before actor_finished()'s load
  sys.registry().remove(&cell);
  wake_joiners(core);
  if (x && x->sup) report_exit(cell, *x);  // done first: a respawn comes after the old cell's end
  settle(cell, counters);
  // Addresses remain: the memory outlives this turn and needs the system for
  // late drops and its own release.
  if (state::memory_outlives_turn(core)) {
    sys.retain();
    state::mark_holds_system(core);
  }
  sys.actor_finished();  // after this, `sys` may be gone unless we hold a reference
  release_cell(&cell);   // the "not yet done" reference
}

void settle(cell_base& cell, counter_sink counters) noexcept {
  auto& core = core_of(cell);
  mailbox box(core);
  for (;;) {
    while (auto* e = box.pop()) consume_unhandled(cell, e, counters);
    if (state::final_release(core)) return;
    std::this_thread::yield();  // a refused push is linking its node or restoring `closed`
  }
}

bool request_end(cell_base* cell, std::uint32_t request, exit_reason reason) noexcept {
  auto& core = core_of(*cell);
  auto none = no_reason;
  // acq_rel: the first requester's reason, published with its lifecycle bit
  // (the owner's acquire in finish()); later requesters keep it.
  bool first = core.requested_reason.compare_exchange_strong(none, static_cast<std::uint8_t>(reason),
                                                             std::memory_order_acq_rel, std::memory_order_acquire);
  // shutdown() closes the mailbox now and drains what was sent before it:
  // that includes messages still in a worker's send buffer (send_buffer.hpp).
  if (request & bits::shutdown_requested) push_buffered_to(cell);
  if (state::request_end(core, request, chaos_hook{})) system_of(*cell).scheduler().schedule(cell);
  if (core.capacity() != 0) fail_send_waiters(core);  // the mailbox is closed now: no room will come
  if (request & bits::stop_requested)
    detail::wake(cell);  // a suspended coroutine handler is destroyed, a dormant actor finishes, by the next turn
  else if (state::rouse(core))
    system_of(*cell).scheduler().schedule(cell);  // shutdown() cuts a dormant actor's backoff short
  return first;
}

/// The memory of a cell that never ran, or whose last owner let go.
void free_cell(cell_base* cell) noexcept {
  auto& core = core_of(*cell);
  mailbox(core).release_dummy();
  free_extras(core);
  core.~cell_core();
  cell->ops->free(cell);
}

void release_cell(cell_base* cell) noexcept {
  auto& core = core_of(*cell);
  if (!state::release_memory(core)) return;
  auto* sys = state::holds_system(core) ? cell->sys : nullptr;
  free_cell(cell);
  if (sys) sys->release();
}

}  // namespace courier::internal

namespace courier::detail {

using internal::core_of;
using internal::mailbox;
using internal::push_result;
using internal::state;

namespace {

/// A message accepted (a send that succeeds, or a timer delivery whose fate
/// is decided now) and a request whose reply the runtime now owes.
void count_delivery(cell_base* cell, std::uint32_t flags, bool accepted) noexcept {
  if (!(flags & (envelope::counted | envelope::request))) return;  // a continuation
  auto counters = internal::counters_here(internal::system_of(*cell));
  if ((flags & envelope::counted) && (accepted || (flags & envelope::pre_accepted)))
    counters.add(&internal::counter_set::accepted);
  if (flags & envelope::request) counters.add(&internal::counter_set::replies_issued);
}

}  // namespace

delivery deliver(cell_base* cell, envelope* e, bool bypass_capacity, give_back back) noexcept {
  auto& core = core_of(*cell);
  if (core.capacity() == 0) {
    // A handler's run of plain messages to one mailbox goes as one chain
    // (runtime/sched/send_buffer.hpp); a message sent otherwise goes after
    // any chain already held for this mailbox.
    // relaxed (the closed hint): as in state::push, a close that
    // happens-before this send is seen by coherence; a racing one refuses the
    // chain when it is pushed (dropped and counted).
    if (auto* buffer = internal::send_buffer::open_here();
        buffer && !bypass_capacity && !(e->flags & envelope::request) &&
        !(core.head.load(std::memory_order_relaxed) & internal::bits::closed) && buffer->continues_run(cell)) {
      auto flags = e->flags;  // once buffered, `e` may be pushed and consumed by another thread
      buffer->take(cell, e);
      COURIER_PROBE2(send, cell, 1);
      count_delivery(cell, flags, true);
      return delivery::accepted;
    }
    // acquire: pairs with send_buffer::give_back()'s release decrement (a
    // chain counted out is in the mailbox already)
    if (core.queued.load(std::memory_order_acquire) != 0) [[unlikely]]
      internal::push_buffered_to(cell);
  } else if (!bypass_capacity) {
    // relaxed: the count bounds the queue and publishes nothing (the push does)
    if (core.queued.fetch_add(1, std::memory_order_relaxed) >= core.capacity()) {
      // relaxed: as above. Undone: if senders wait (their bit makes every
      // send refused), our transient increment may have hidden a free slot.
      if (core.queued.fetch_sub(1, std::memory_order_relaxed) & internal::bits::send_waiters) [[unlikely]]
        internal::admit_waiter(core);
      back(e);
      return delivery::rejected_full;
    }
    e->flags |= envelope::holds_slot;
  }
  auto flags = e->flags;  // once pushed, `e` belongs to the consumer
  switch (mailbox(core).push(e, back)) {
    case push_result::accepted:
      COURIER_PROBE2(send, cell, 1);
      count_delivery(cell, flags, true);
      return delivery::accepted;
    case push_result::accepted_idle:
      COURIER_CHAOS_POINT("deliver: found idle, before scheduling");
      COURIER_PROBE2(send, cell, 1);
      count_delivery(cell, flags, true);
      internal::system_of(*cell).scheduler().schedule(cell);
      return delivery::accepted;
    case push_result::rejected:
      back(e);
      if (e->flags & envelope::holds_slot) {
        core.queued.fetch_sub(1, std::memory_order_relaxed);  // relaxed: as above
        e->flags &= ~envelope::holds_slot;
      }
      return delivery::rejected_closed;
    case push_result::refused:
      COURIER_PROBE2(send, cell, 0);
      count_delivery(cell, flags, false);
      return delivery::refused_queued;
    case push_result::refused_owner:
      count_delivery(cell, flags, false);
      // The actor is done and its mailbox was idle: we own the consumer side.
      internal::settle(*cell, internal::counters_here(internal::system_of(*cell)));
      return delivery::refused_queued;
  }
  return delivery::rejected_closed;
}

}  // namespace courier::detail

namespace courier::internal {

void push_chain_to(cell_base* cell, envelope* first, envelope* last) noexcept {
  switch (mailbox(core_of(*cell)).push_chain(first, last)) {
    case push_result::accepted:
    case push_result::refused:  // every node marked: the consumer drops and counts them
    case push_result::rejected:  // (push_chain never rejects)
      return;
    case push_result::accepted_idle:
      system_of(*cell).scheduler().schedule(cell);
      return;
    case push_result::refused_owner:
      settle(*cell, counters_here(system_of(*cell)));  // done and idle: we drain it
      return;
  }
}

}  // namespace courier::internal

namespace courier::detail {

void drop_unqueued(cell_base* cell, envelope* e) noexcept {
  auto counters = internal::counters_here(internal::system_of(*cell));
  counters.add(&internal::counter_set::accepted);  // a timer's message: accepted when it was requested
  counters.add(&internal::counter_set::dropped);
  dispose(cell, e);
}

void run_delivery_job(void* target, void* message, bool fired) noexcept {
  auto* cell = static_cast<cell_base*>(target);
  auto* e = static_cast<envelope*>(message);
  if (!fired) {
    drop_unqueued(cell, e);
  } else if (auto outcome = deliver(cell, e, true);
             outcome == delivery::rejected_closed || outcome == delivery::rejected_full) {
    drop_unqueued(cell, e);
  }
  release_address(cell);
}

void revive_address(cell_base* cell) noexcept { state::revive_address(core_of(*cell)); }

void release_address(cell_base* cell) noexcept {
  switch (state::drop_address(core_of(*cell), internal::chaos_hook{})) {
    case internal::drop_result::kept:
      return;
    case internal::drop_result::claimed:  // idle: it must run to notice it is unreachable
      internal::system_of(*cell).scheduler().schedule(cell);
      break;
    case internal::drop_result::flagged:  // running: its release CAS fails on the flag
    case internal::drop_result::closing:  // it finishes anyway
      break;
  }
  internal::release_cell(cell);  // the "strong > 0" reference, after scheduling
}

void stop(cell_base* cell) noexcept { internal::request_end(cell, internal::bits::stop_requested, exit_reason::normal); }

void shutdown(cell_base* cell) noexcept {
  internal::request_end(cell, internal::bits::shutdown_requested, exit_reason::normal);
}

void end_self(cell_base* cell, bool drain) noexcept {
  bool first = internal::request_end(cell, drain ? internal::bits::shutdown_requested : internal::bits::stop_requested,
                                     exit_reason::normal);
  if (!first) return;
  // Owner only (a context call): read by its last turn.
  if (auto* x = internal::extras_if_any(core_of(*cell)); x && x->sup) x->ended_by_self = true;
}

exit_reason stop_reason_of(const cell_base* cell) noexcept {
  auto* x = internal::extras_if_any(core_of(*cell));
  if (x && x->restarting) return x->teardown_reason;  // the on_stop of an in-place restart
  return core_of(*cell).recorded_reason();
}

bool done(const cell_base* cell) noexcept { return state::done(core_of(*cell)); }

bool join(cell_base* cell, bool timed, std::chrono::steady_clock::time_point until) noexcept {
  for (;;) {
    std::uint32_t word = 0;
    switch (state::announce_joiner(core_of(*cell), word)) {
      case state::join_step::done:
        return true;
      case state::join_step::retry:
        continue;
      case state::join_step::sleep:
        break;
    }
    if (timed && std::chrono::steady_clock::now() >= until) return false;
    futex_wait(core_of(*cell).lifecycle_word, word, timed, until);
  }
}

std::string_view name_of(const cell_base* cell) noexcept {
  auto* x = internal::extras_if_any(core_of(*cell));
  return x && !x->name.empty() ? std::string_view(x->name) : cell->ops->type_name;
}

void prepare(cell_base* cell, internal::system* sys, const cell_ops* ops, std::uint32_t capacity,
             const spawn_options& options, rebuild_base* factory) {
  cell->sys = sys;
  cell->ops = ops;
  auto* core = ::new (static_cast<void*>(cell->runtime_block)) internal::cell_core();
  core->capacity() = capacity;
  mailbox::init(*core);
  if (options.name.empty() && options.failure.action == on_failure::resume && !factory) return;
  internal::cell_extras* x = nullptr;
  try {
    x = new internal::cell_extras();
    x->name = options.name;
  } catch (...) {  // nothing to undo but these (the block is trivially destructible)
    delete x;
    if (factory) factory->destroy(factory);
    throw;
  }
  x->policy = options.failure;
  x->factory = factory;
  x->born = std::chrono::steady_clock::now();
  core->extras.store(x, std::memory_order_relaxed);  // relaxed: the cell is not shared yet
}

void reject_spawn(internal::system* sys, std::string_view actor, std::string_view what) noexcept {
  sys->report(actor, "spawn", what);
}

std::uint64_t id_of(const cell_base* cell) noexcept { return core_of(*cell).id; }

std::uint32_t queued_of(const cell_base* cell) noexcept {
  // relaxed: a statistic (without the waiters bit)
  return core_of(*cell).queued.load(std::memory_order_relaxed) & ~internal::bits::send_waiters;
}

void report_failure(cell_base* cell, std::string_view message_type, std::string_view what) noexcept {
  internal::system_of(*cell).report(name_of(cell), message_type, what);
}

bool start(cell_base* cell) noexcept {
  auto* sys = cell->sys;
  // Counted under the registry lock: runtime shutdown, which closes the
  // registry, then sees every actor that got in.
  if (!sys->registry().add(cell, [&] { internal::counters_here(*sys).add(&internal::counter_set::spawned); }))
    return false;
  sys->scheduler().schedule(cell);
  return true;
}

void abandon(cell_base* cell) noexcept { internal::free_cell(cell); }

}  // namespace courier::detail
