#pragma once
// The shared state of one stream (courier/stream.hpp): a refcounted block
// that the writer, the stream<T> token (then the consumer's binding) and
// every envelope in flight hold one reference on.
//
// Who may touch what:
//   state        atomic; bound / ended / cancelled / holds_address, below.
//                `ended` and `cancelled` exclude each other: the first
//                CAS wins, so a stream gets exactly one terminal event
//                (stream_end to the consumer, or stream_cancelled to the
//                producer; neither only when the consumer stopped).
//   producer's   credit, writer flags: the producer's turns only (the
//                writer is owner-thread only, like context).
//   consumer's   window, batch, returned, dead_here, list links: the
//                consumer's turns only (and its last turn).
// The runtime part is runtime/stream/streams.cpp.

#include <atomic>
#include <cstdint>
#include <type_traits>
#include <utility>

#include <courier/detail/cell.hpp>
#include <courier/detail/envelope.hpp>
#include <courier/error.hpp>

namespace courier {
using stream_id = std::uint64_t;
}

namespace courier::detail {

struct stream_core {
  // Bits of `state`.
  /// consume() bound it: the consumer fields below are written.
  static constexpr std::uint32_t bound = 1;
  /// close / fail / abandonment won: a stream_end goes to the consumer.
  static constexpr std::uint32_t ended = 2;
  /// The consumer cancelled or stopped, or the token went unconsumed: the
  /// producer gets stream_cancelled.
  static constexpr std::uint32_t cancelled = 4;
  /// The binding holds an address of the consumer (reachability); cleared
  /// once, by whoever drops it.
  static constexpr std::uint32_t holds_address = 8;

  std::atomic<std::uint32_t> refs{0};
  std::atomic<std::uint32_t> state{0};
  stream_id id = 0;
  /// A reference on the system, and both cells' memory (the consumer's once
  /// bound), for the block's life.
  internal::system* sys = nullptr;
  cell_base* producer = nullptr;
  cell_base* consumer = nullptr;
  /// The one stream_cancelled (the producer's type), made with the stream;
  /// sent by the winner of `cancelled`, freed with the block otherwise.
  envelope* cancel_note = nullptr;
  /// The stream_end (the consumer's type), made by consume(); sent by the
  /// winner of `ended`.
  envelope* end_note = nullptr;
  /// The outcome of an end that came before consume() (written before `ended`).
  result<void> end_outcome;
  /// Builds a stream_demand envelope for the producer (may throw).
  envelope* (*make_demand)(stream_core*, std::uint32_t grant) = nullptr;
  void (*free)(stream_core*) noexcept = nullptr;

  // -- the producer's ------------------------------------------------------------
  /// The incarnation that made the stream (a stream_cancelled for an earlier
  /// one is dropped after an in-place restart).
  std::uint32_t producer_incarnation = 0;
  std::uint32_t credit = 0;
  bool writer_alive = true;     // the stream_writer still exists
  bool writer_closed = false;   // close() / fail() / abandoned
  bool cancel_seen = false;     // its stream_cancelled was handled
  bool consumer_gone = false;   // a push found the consumer's mailbox closed

  // -- the consumer's ------------------------------------------------------------
  std::uint32_t window = 0;
  std::uint32_t batch = 0;      // ceil(window / 2)
  std::uint32_t returned = 0;   // credit not yet sent back
  bool dead_here = false;       // cancelled or stopped here: items and the end are dropped
  stream_core* prev_consumed = nullptr;
  stream_core* next_consumed = nullptr;

  bool writer_open() const noexcept { return writer_alive && !writer_closed && !cancel_seen && !consumer_gone; }
};

/// What the envelopes of a stream share: the block, and whether the
/// envelope was sent (then it holds a reference on the block).
struct stream_envelope : envelope {
  stream_envelope(thunk fn, std::uint32_t initial_flags, stream_core* b, bool sent) noexcept
      : envelope(fn, initial_flags), block(b), armed(sent) {}
  stream_core* block;
  bool armed;
};

template <class T>
struct stream_block final : stream_core {
  /// Builds an item envelope (the consumer's type) moving from the argument
  /// (may throw; the argument is then untouched or as T's move left it).
  envelope* (*make_item)(stream_block*, T& item) = nullptr;
  /// Gives a refused item back to the push's argument.
  void (*give_back_item)(envelope*, void* target) noexcept = nullptr;
};

// -- calls into libcourier (runtime/stream/streams.cpp) ---------------------------------

/// A new stream of `producer` (in its turn); `b`'s make_demand, free and
/// cancel_note are set. Takes two references (writer, token).
void open_stream(stream_core* b, cell_base* producer) noexcept;
void retain_stream(stream_core* b) noexcept;
void release_stream(stream_core* b) noexcept;
/// The token went without being consumed.
void drop_unconsumed(stream_core* b) noexcept;
/// consume() after its checks: binds `b` (the token's reference moves to
/// the consumer's list) and sends the first grant, or the end that came
/// first. `demand` and `end` are made; both are used or disposed of. May
/// throw (out of memory for the consumer's extras) before binding.
stream_id bind_stream(cell_base* consumer, stream_core* b, std::uint32_t window, envelope* demand, envelope* end);
/// ctx.cancel(id).
bool cancel_stream(cell_base* consumer, stream_id id) noexcept;
/// The writer's close / fail / destruction while open.
void end_stream(stream_core* b, result<void> outcome) noexcept;
/// Pushes an item envelope to the consumer; the writer's checks passed.
result<void> push_stream_item(stream_core* b, envelope* e, give_back back) noexcept;
/// An item left the consumer (handled or dropped): one credit back.
void stream_item_done(stream_core* b) noexcept;
/// The consumer's turn handles the stream_end: the stream leaves its list.
void stream_end_reached(stream_core* b) noexcept;
/// The stream_end envelope is gone: the consumer's address goes with it.
void stream_end_gone(stream_core* b) noexcept;
/// Frees an envelope that was made for the stream and never sent.
void dispose_unsent(envelope* e) noexcept;
/// Debug builds: the calling thread runs `cell`'s turn.
bool running_here(const cell_base* cell) noexcept;

}  // namespace courier::detail
