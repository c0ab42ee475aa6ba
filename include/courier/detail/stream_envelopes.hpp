#pragma once
// The envelopes of a stream (courier/stream.hpp) and the two context calls
// that make them: make_stream (the producer's type A: stream_demand and
// stream_cancelled, optional handlers) and consume (the consumer's type C:
// stream_item<T> and stream_end, required handlers). Included at the end of
// context.hpp (they need context<A>).
//
// Each envelope takes a reference on its stream's block when it is sent
// (`armed`) and gives it up with its message; one made and never sent is
// freed with the block (dispose_unsent).

#include <type_traits>
#include <utility>

#include <courier/detail/allocator.hpp>
#include <courier/detail/messages.hpp>
#include <courier/detail/streams.hpp>
#include <courier/handlers.hpp>
#include <courier/stream.hpp>

namespace courier::detail {

/// stream_item<T> to the consumer C. Dropped unhandled once the consumer
/// cancelled the stream (or restarted); either way its credit goes back.
template <class C, class T>
struct stream_item_envelope final : stream_envelope {
  using message_type = stream_item<T>;

  /// Armed from the start: a push sends it at once (and disarms a refused one).
  stream_item_envelope(stream_core* b, T&& value)
      : stream_envelope(&run_fn, counted, b, true), message{b->id, std::move(value)} {}
  ~stream_item_envelope() {}

  static envelope* make(stream_block<T>* b, T& item) { return detail::make<stream_item_envelope>(b, std::move(item)); }
  /// A refused push: the item goes back to the caller's argument.
  static void give_back(envelope* e, void* target) noexcept {
    auto& from = static_cast<stream_item_envelope*>(e)->message.value;
    auto& to = *static_cast<T*>(target);
    if constexpr (std::is_nothrow_move_assignable_v<T>) {
      to = std::move(from);
    } else if constexpr (std::is_nothrow_move_constructible_v<T>) {
      std::destroy_at(&to);
      std::construct_at(&to, std::move(from));
    }
  }

  static void destroy_message(envelope* e) noexcept {
    auto* self = static_cast<stream_item_envelope*>(e);
    self->message.~message_type();
    if (self->armed) {
      stream_item_done(self->block);
      release_stream(self->block);
    }
  }

  static ran run_fn(envelope* e, cell_base* base, action what) noexcept {
    return run_message_action<stream_item_envelope>(e, base, what, [e](stream_item_envelope* self, cell_base* c) {
      if (self->block->dead_here) {  // cancelled here: dropped, counted
        destroy_message(e);
        return ran::discarded;
      }
      return handle_plain<C, message_type>(c, e, self->message, self->stamp, &destroy_message);
    });
  }

  [[no_unique_address]] enqueue_stamp<C> stamp;
  union {
    message_type message;
  };
};

/// stream_end to the consumer C: after the stream's last item; it releases
/// the address the binding held.
template <class C>
struct stream_end_envelope final : stream_envelope {
  explicit stream_end_envelope(stream_core* b) : stream_envelope(&run_fn, counted, b, false), message{b->id, {}} {}
  ~stream_end_envelope() {}

  static void destroy_message(envelope* e) noexcept {
    auto* self = static_cast<stream_end_envelope*>(e);
    self->message.~stream_end();
    if (self->armed) stream_end_gone(self->block);
  }

  static ran run_fn(envelope* e, cell_base* base, action what) noexcept {
    return run_message_action<stream_end_envelope>(e, base, what, [e](stream_end_envelope* self, cell_base* c) {
      if (self->block->dead_here) {  // a restart here cancelled what the old incarnation consumed
        destroy_message(e);
        return ran::discarded;
      }
      // The outcome was written before `ended`, which our sending followed.
      self->message.outcome = std::move(self->block->end_outcome);
      stream_end_reached(self->block);
      return handle_plain<C, stream_end>(c, e, self->message, self->stamp, &destroy_message);
    });
  }

  [[no_unique_address]] enqueue_stamp<C> stamp;
  union {
    stream_end message;
  };
};

/// stream_demand / stream_cancelled to the producer A: the runtime's own
/// notes, not counted as messages. A demand adds its credit to the writer
/// (if it still exists and is open); a cancel closes the writer. Then A's
/// handler runs, if A has one.
template <class A, class M>
struct stream_note_envelope final : stream_envelope {
  explicit stream_note_envelope(stream_core* b) : stream_envelope(&run_fn, 0u, b, false) {
    if constexpr (std::is_same_v<M, stream_demand>)
      std::construct_at(&message, stream_demand{b->id, 0});
    else
      std::construct_at(&message, stream_cancelled{b->id});
  }
  ~stream_note_envelope() {}

  static envelope* make_demand(stream_core* b, std::uint32_t grant) {
    auto* e = detail::make<stream_note_envelope>(b);
    e->message.credit = grant;  // the grant, until the producer's turn adds it
    return e;
  }

  static void destroy_message(envelope* e) noexcept {
    auto* self = static_cast<stream_note_envelope*>(e);
    self->message.~M();
    if (self->armed) release_stream(self->block);
  }

  static ran run_fn(envelope* e, cell_base* base, action what) noexcept {
    return run_message_action<stream_note_envelope>(e, base, what, [e](stream_note_envelope* self, cell_base* c) {
      auto* b = self->block;
      self->message.stream = b->id;  // (the cancel note is made before the id is drawn)
      bool deliver_it;
      if constexpr (std::is_same_v<M, stream_demand>) {
        deliver_it = b->writer_open();  // no demand for a closed writer, nor one let go
        if (deliver_it) {
          b->credit += self->message.credit;
          self->message.credit = b->credit;
        }
      } else {
        // Also when the writer is gone: its close lost to this cancel, and
        // the producer must learn how the stream ended. Not an earlier
        // incarnation's stream, though (restarted in place since).
        if (b->writer_alive) b->cancel_seen = true;
        deliver_it = incarnation_of(c) == b->producer_incarnation;
      }
      if constexpr (handles<A, M>) {
        if (deliver_it) return handle_plain<A, M>(c, e, self->message, self->stamp, &destroy_message);
      }
      destroy_message(e);
      return ran::done;
    });
  }

  [[no_unique_address]] enqueue_stamp<A> stamp;
  union {
    M message;
  };
};

template <class T>
void free_stream_block(stream_core* b) noexcept {
  detail::destroy(static_cast<stream_block<T>*>(b));
}

/// ctx.make_stream<T>() in an actor of type A.
template <class A, class T>
std::pair<stream<T>, stream_writer<T>> make_stream_of(cell_base* producer) {
  static_assert(std::is_move_constructible_v<T>, "courier: make_stream<T> needs a move-constructible T");
  static_assert(std::is_object_v<T> && !std::is_const_v<T>, "courier: make_stream<T> needs a non-const object type");
  auto* b = make<stream_block<T>>();
  try {
    b->cancel_note = make<stream_note_envelope<A, stream_cancelled>>(b);
  } catch (...) {
    detail::destroy(b);
    throw;
  }
  b->make_demand = &stream_note_envelope<A, stream_demand>::make_demand;
  b->free = &free_stream_block<T>;
  open_stream(b, producer);
  return stream_access::make(b);
}

/// ctx.consume(s, o) in an actor of type C.
template <class C, class T>
result<stream_id> consume_stream(cell_base* consumer, stream<T>&& s, stream_options o) {
  static_assert(handles<C, stream_item<T>>,
                "courier: consume<T> delivers courier::stream_item<T>; add on(courier::stream_item<T>)");
  static_assert(handles<C, stream_end>, "courier: consume<T> delivers courier::stream_end; add on(courier::stream_end)");
  auto* b = stream_access::take(s);
  if (!b) return error{errc::invalid_argument, "consume: an empty or already consumed stream"};
  if (o.window == 0 || (b->state.load(std::memory_order_relaxed) & stream_core::bound)) {
    // relaxed: a token's block is bound only through this token; a hint
    drop_unconsumed(b);
    return error{errc::invalid_argument, "consume: the window must be at least 1"};
  }
  envelope* demand = nullptr;
  envelope* end = nullptr;
  try {
    demand = b->make_demand(b, o.window);
    end = make<stream_end_envelope<C>>(b);
    b->make_item = &stream_item_envelope<C, T>::make;
    b->give_back_item = &stream_item_envelope<C, T>::give_back;
    return bind_stream(consumer, b, o.window, demand, end);
  } catch (...) {
    if (demand) dispose_unsent(demand);
    if (end) dispose_unsent(end);
    drop_unconsumed(b);
    throw;
  }
}

}  // namespace courier::detail
