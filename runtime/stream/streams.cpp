// Streams with demand (courier/stream.hpp): the state word, the consumer's
// list of bound streams, credit return, and the two terminal events.
//
// The state word (detail/streams.hpp) decides the race between the two ends
// of a stream: `ended` (the writer closed, failed or went) and `cancelled`
// (the consumer cancelled or stopped, or the token went unconsumed) are set
// by a CAS that fails if either is set, so exactly one of them wins:
//   ended      the winner sends the stream_end (bound), or leaves the outcome
//              for consume() to send (not bound yet);
//   cancelled  the winner sends the one stream_cancelled made with the stream.
// `bound` is set by consume() with the same CAS discipline, so a writer's
// end and a consume racing on two threads agree on who sends the stream_end.
//
// Credit: the writer's count is the producer's (its turns only); an item's
// end (handled or dropped) returns one credit on the consumer's side, and
// every ceil(window / 2) of them go back in one stream_demand.

#include <atomic>

#include <courier/detail/allocator.hpp>
#include <courier/detail/cell.hpp>
#include <courier/detail/streams.hpp>

#include "runtime/actor/core.hpp"
#include "runtime/actor/extras.hpp"
#include "runtime/actor/lifecycle.hpp"
#include "runtime/mailbox/mailbox.hpp"
#include "runtime/support/chaos.hpp"
#include "runtime/system/system.hpp"

namespace courier::detail {

using internal::core_of;
using internal::state;

namespace {

std::atomic<stream_id> last_stream_id{0};

/// The envelope is sent: it holds a reference on its block from here.
void arm(envelope* e) noexcept { static_cast<stream_envelope*>(e)->armed = true; }

/// Sets `bit` (ended or cancelled) unless either is set; returns the word
/// before, and whether we set it.
bool try_terminate(stream_core* b, std::uint32_t bit, std::uint32_t& before) noexcept {
  // acq_rel: the CAS is the arbiter between the two ends (and consume()'s
  // `bound`); release publishes what the winner wrote before (end_outcome),
  // acquire what the other side wrote before its own CAS (the consumer
  // fields under `bound`).
  before = b->state.load(std::memory_order_acquire);
  do {
    if (before & (stream_core::ended | stream_core::cancelled)) return false;
  } while (!b->state.compare_exchange_weak(before, before | bit, std::memory_order_acq_rel, std::memory_order_acquire));
  return true;
}

/// Sends a made envelope to `to` (bypassing its capacity, like a reply);
/// a closed mailbox: freed.
void send_note(cell_base* to, envelope* e) noexcept {
  auto outcome = deliver(to, e, true);
  if (outcome == delivery::rejected_closed || outcome == delivery::rejected_full) dispose(to, e);
}

/// Arms and sends the preallocated stream_cancelled (the winner of `cancelled`).
void send_cancel_note(stream_core* b) noexcept {
  auto* e = std::exchange(b->cancel_note, nullptr);
  retain_stream(b);  // the envelope's
  arm(e);
  COURIER_CHAOS_POINT("stream: cancelled, before the note");
  send_note(b->producer, e);
}

/// Arms and sends the stream_end made by consume() (the winner of `ended`, or
/// consume() finding it set). Its handler reads the outcome from
/// `b->end_outcome`, written before `ended`.
void send_end_note(stream_core* b) noexcept {
  auto* e = std::exchange(b->end_note, nullptr);
  retain_stream(b);
  arm(e);
  send_note(b->consumer, e);
}

/// The binding's address of the consumer goes (once, whoever comes first).
void release_consumer_address(stream_core* b) noexcept {
  // acq_rel: the clearers (the end envelope's destroy, perhaps on the
  // producer's thread; the consumer's cancel or end) race on this fetch_and,
  // which picks the one that drops the address; acquire pairs with
  // bind_stream()'s fetch_or that set the bit after revive_address()
  if (b->state.fetch_and(~stream_core::holds_address, std::memory_order_acq_rel) & stream_core::holds_address)
    release_address(b->consumer);
}

/// Takes `b` out of its consumer's list and gives up the list's reference.
void unlink_consumed(stream_core* b) noexcept {
  auto* x = internal::extras_if_any(core_of(*b->consumer));
  if (b->prev_consumed) b->prev_consumed->next_consumed = b->next_consumed;
  else if (x) x->streams = b->next_consumed;
  if (b->next_consumed) b->next_consumed->prev_consumed = b->prev_consumed;
  b->prev_consumed = b->next_consumed = nullptr;
  release_stream(b);
}

/// Sets `cancelled` unless the stream ended; the winner tells the producer.
bool cancel_once(stream_core* b) noexcept {
  std::uint32_t before;
  if (!try_terminate(b, stream_core::cancelled, before)) return false;
  send_cancel_note(b);
  return true;
}

/// The consumer's side lets go: nothing more of the stream is handled here
/// (queued items and its end are dropped when reached), and the address the
/// binding held goes.
void give_up_here(stream_core* b) noexcept {
  b->dead_here = true;
  release_consumer_address(b);
}

}  // namespace

void open_stream(stream_core* b, cell_base* producer) noexcept {
  b->refs.store(2, std::memory_order_relaxed);  // relaxed: not shared yet (the writer's and the token's)
  b->id = last_stream_id.fetch_add(1, std::memory_order_relaxed) + 1;  // relaxed: a unique number, nothing published
  b->producer = producer;
  b->producer_incarnation = incarnation_of(producer);
  b->sys = producer->sys;
  b->sys->retain();
  state::hold_memory(core_of(*producer));
}

void retain_stream(stream_core* b) noexcept {
  b->refs.fetch_add(1, std::memory_order_relaxed);  // relaxed: the caller holds a reference
}

void release_stream(stream_core* b) noexcept {
  // acq_rel: the last releaser sees every holder's writes before freeing
  if (b->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  auto* producer = b->producer;
  auto* consumer = b->consumer;
  auto* sys = b->sys;
  if (b->cancel_note) dispose_unsent(b->cancel_note);
  if (b->end_note) dispose_unsent(b->end_note);
  b->free(b);
  internal::release_cell(producer);
  if (consumer) internal::release_cell(consumer);
  sys->release();
}

void drop_unconsumed(stream_core* b) noexcept {
  (void)cancel_once(b);
  release_stream(b);  // the token's
}

stream_id bind_stream(cell_base* consumer, stream_core* b, std::uint32_t window, envelope* demand, envelope* end) {
  auto& x = internal::extras_of(core_of(*consumer));  // may throw: nothing bound yet
  b->consumer = consumer;
  state::hold_memory(core_of(*consumer));
  b->window = window;
  b->batch = window / 2 + window % 2;
  b->end_note = end;
  // The open stream is an address of its consumer (items are on their way).
  // revive: inside its own turn the count may be 0, as for ctx.self().
  revive_address(consumer);
  b->next_consumed = x.streams;  // the token's reference moves to the list
  if (x.streams) x.streams->prev_consumed = b;
  x.streams = b;
  // acq_rel: release publishes the consumer fields to a writer's end that
  // sees `bound`; acquire pairs with that end's CAS when it came first.
  auto before = b->state.fetch_or(stream_core::bound | stream_core::holds_address, std::memory_order_acq_rel);
  if (before & stream_core::ended) {  // the writer ended before we bound: its end comes now, no credit
    dispose_unsent(demand);
    send_end_note(b);
  } else if (before & stream_core::cancelled) {  // (not reachable: only this token cancels an unbound stream)
    dispose_unsent(demand);
  } else {
    retain_stream(b);
    arm(demand);
    send_note(b->producer, demand);
  }
  return b->id;
}

bool cancel_stream(cell_base* consumer, stream_id id) noexcept {
  auto* x = internal::extras_if_any(core_of(*consumer));
  if (!x) return false;
  for (auto* b = x->streams; b; b = b->next_consumed) {
    if (b->id != id) continue;
    if (!cancel_once(b)) return false;  // ended: its stream_end comes
    give_up_here(b);
    unlink_consumed(b);
    return true;
  }
  return false;
}

void end_stream(stream_core* b, result<void> outcome) noexcept {
  b->end_outcome = std::move(outcome);  // read only by the winner's side, after our CAS
  std::uint32_t before;
  if (!try_terminate(b, stream_core::ended, before)) return;  // cancelled first: no stream_end
  if (before & stream_core::bound) send_end_note(b);  // else consume() sends it
}

result<void> push_stream_item(stream_core* b, envelope* e, give_back back) noexcept {
  retain_stream(b);  // the envelope's
  switch (deliver(b->consumer, e, true, back)) {
    case delivery::accepted:
      --b->credit;
      return {};
    case delivery::refused_queued:  // linked into a closed mailbox, which drops it (its credit with it)
      --b->credit;
      b->consumer_gone = true;
      return error{errc::actor_stopped, "the consumer has stopped"};
    case delivery::rejected_closed:
    case delivery::rejected_full:
      break;
  }
  static_cast<stream_envelope*>(e)->armed = false;  // not queued: no credit comes back
  dispose(b->consumer, e);
  release_stream(b);
  b->consumer_gone = true;
  return error{errc::actor_stopped, "the consumer has stopped"};
}

void stream_item_done(stream_core* b) noexcept {
  if (b->dead_here) return;  // cancelled or stopped here: no more credit
  if (++b->returned < b->batch) return;
  // acquire: pairs with the writer's CAS: no demand for an ended stream
  if (b->state.load(std::memory_order_acquire) & (stream_core::ended | stream_core::cancelled)) return;
  envelope* e;
  try {
    e = b->make_demand(b, b->returned);
  } catch (...) {
    return;  // out of memory: the credit waits for the next item's end
  }
  b->returned = 0;
  retain_stream(b);
  arm(e);
  send_note(b->producer, e);
}

void stream_end_reached(stream_core* b) noexcept {
  b->dead_here = true;
  unlink_consumed(b);  // the envelope still holds a reference
}

void stream_end_gone(stream_core* b) noexcept {
  release_consumer_address(b);
  release_stream(b);
}

void dispose_unsent(envelope* e) noexcept {
  e->run(e, nullptr, action::destroy);  // not armed: the message only
  e->run(e, nullptr, action::release);
}

}  // namespace courier::detail

namespace courier::internal {

void drop_consumed_streams(cell_core& core) noexcept {
  auto* x = extras_if_any(core);
  if (!x) return;
  auto* list = std::exchange(x->streams, nullptr);
  while (list) {
    auto* b = list;
    list = b->next_consumed;
    b->prev_consumed = b->next_consumed = nullptr;
    (void)detail::cancel_once(b);  // unless the writer ended first
    detail::give_up_here(b);
    detail::release_stream(b);  // the list's
  }
}

}  // namespace courier::internal
