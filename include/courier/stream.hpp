#pragma once
// Streams with demand: a producer actor pushes items to one consumer actor,
// never more than the consumer's window ahead of it.
//
//   // producer (its handler replies with the stream):
//   courier::stream<quote> on(subscribe, courier::context<feed>& ctx) {
//     auto [s, w] = ctx.make_stream<quote>();
//     writers_.push_back(std::move(w));
//     return std::move(s);
//   }
//   void on(courier::stream_demand, courier::context<feed>&) { /* push while credit() > 0 */ }
//
//   // consumer:
//   ctx.ask(feed, subscribe{}, [&ctx](courier::result<courier::stream<quote>> s) {
//     if (s) ctx.consume(std::move(*s), {.window = 64});
//   });
//   void on(courier::stream_item<quote> q, courier::context<trader>&);   // one item
//   void on(courier::stream_end e, courier::context<trader>&);           // exactly once
//
// docs/flow.md has the rules: credit, its return in batches of half the
// window, exactly one stream_end, at most one stream_cancelled, and what
// each side's end does to the other.

#include <cassert>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

#include <courier/detail/streams.hpp>
#include <courier/error.hpp>

namespace courier {

struct stream_options {
  /// The most items of the stream queued at, or being handled by, the
  /// consumer at any time. Must be at least 1.
  std::uint32_t window = 32;
};

/// One item, to the consumer.
template <class T>
struct stream_item {
  stream_id stream;
  T value;
};
/// The end of a consumed stream, to the consumer, after its last item:
/// success (close()), the writer's error (fail()), or actor_stopped (the
/// writer went while open: the producer stopped or restarted).
struct stream_end {
  stream_id stream;
  result<void> outcome;
};
/// Credit came back, to the producer if it handles it: `credit` is what
/// push() accepts now.
struct stream_demand {
  stream_id stream;
  std::uint32_t credit;
};
/// The consumer cancelled or stopped, or the stream was never consumed; to
/// the producer if it handles it. At most one per stream.
struct stream_cancelled {
  stream_id stream;
};

template <class T>
class stream_writer;

namespace detail {
struct stream_access;
}

/// The right to consume a stream: move-only; travels in a reply or a
/// message to the actor that will consume it. Destroyed without being
/// consumed, it cancels the stream (the producer gets stream_cancelled).
template <class T>
class stream {
 public:
  stream() noexcept = default;
  stream(stream&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
  stream& operator=(stream&& other) noexcept {
    if (this != &other) {
      reset();
      block_ = std::exchange(other.block_, nullptr);
    }
    return *this;
  }
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;
  ~stream() { reset(); }

  /// The stream's id (0 for an empty token).
  stream_id id() const noexcept { return block_ ? block_->id : 0; }
  /// False for a default-constructed or moved-from token.
  explicit operator bool() const noexcept { return block_ != nullptr; }

 private:
  friend struct detail::stream_access;
  explicit stream(detail::stream_block<T>* b) noexcept : block_(b) {}
  void reset() noexcept {
    if (auto* b = std::exchange(block_, nullptr)) detail::drop_unconsumed(b);
  }

  detail::stream_block<T>* block_ = nullptr;
};

/// The producer's end of a stream. Move-only; used in the producer's own
/// turns only (like its context).
template <class T>
class stream_writer {
 public:
  stream_writer() noexcept = default;
  stream_writer(stream_writer&& other) noexcept : block_(std::exchange(other.block_, nullptr)) {}
  /// Abandons the stream this writer held (as its destructor does).
  stream_writer& operator=(stream_writer&& other) noexcept {
    if (this != &other) {
      reset();
      block_ = std::exchange(other.block_, nullptr);
    }
    return *this;
  }
  stream_writer(const stream_writer&) = delete;
  stream_writer& operator=(const stream_writer&) = delete;
  /// Still open: the consumer gets stream_end{actor_stopped, "stream abandoned"}.
  ~stream_writer() { reset(); }

  stream_id id() const noexcept { return block_ ? block_->id : 0; }
  /// Items push() accepts now. Changes only between the producer's turns
  /// (a stream_demand adds to it).
  std::uint32_t credit() const noexcept { return block_ && block_->writer_open() ? block_->credit : 0; }
  /// Not closed, failed, cancelled, nor its consumer gone.
  bool open() const noexcept { return block_ && block_->writer_open(); }

  /// Sends `item` to the consumer, using one credit. mailbox_full: no credit
  /// (the consumer has `window` items already); actor_stopped: the stream
  /// is not open. On either the argument is left untouched.
  result<void> push(T&& item) {
    if (auto refused = check()) return *refused;
    auto* b = block_;
    auto* e = b->make_item(b, item);
    return detail::push_stream_item(b, e, give_back{b->give_back_item, static_cast<void*>(std::addressof(item))});
  }
  result<void> push(const T& item) {
    if (auto refused = check()) return *refused;
    T copy(item);
    auto* b = block_;
    auto* e = b->make_item(b, copy);
    return detail::push_stream_item(b, e, {});
  }

  /// The consumer gets stream_end{success} after the last item. A no-op
  /// once closed, failed or cancelled.
  void close() noexcept { finish(result<void>{}); }
  /// The consumer gets stream_end{e} after the last item.
  void fail(error e) noexcept { finish(result<void>(std::move(e))); }

 private:
  friend struct detail::stream_access;
  using give_back = detail::give_back;
  explicit stream_writer(detail::stream_block<T>* b) noexcept : block_(b) {}

  /// Why push() refuses now, if it does.
  const error* check() const noexcept {
    static const error stopped{errc::actor_stopped, "the stream is not open"};
    static const error full{errc::mailbox_full, "no credit: the consumer's window is full"};
    assert(!block_ || detail::running_here(block_->producer));  // the producer's turns only
    if (!block_ || !block_->writer_open()) return &stopped;
    if (block_->credit == 0) return &full;
    return nullptr;
  }

  void finish(result<void> outcome) noexcept {
    if (!block_ || block_->writer_closed) return;
    assert(detail::running_here(block_->producer));  // the producer's turns only
    block_->writer_closed = true;
    detail::end_stream(block_, std::move(outcome));
  }

  void reset() noexcept {
    if (auto* b = std::exchange(block_, nullptr)) {
      if (!b->writer_closed) {
        b->writer_closed = true;
        detail::end_stream(b, result<void>(error{errc::actor_stopped, "stream abandoned"}));
      }
      b->writer_alive = false;
      detail::release_stream(b);
    }
  }

  detail::stream_block<T>* block_ = nullptr;
};

namespace detail {
struct stream_access {
  template <class T>
  static std::pair<stream<T>, stream_writer<T>> make(stream_block<T>* b) noexcept {
    return {stream<T>(b), stream_writer<T>(b)};
  }
  template <class T>
  static stream_block<T>* take(stream<T>& s) noexcept {
    return std::exchange(s.block_, nullptr);
  }
};
}  // namespace detail

}  // namespace courier
