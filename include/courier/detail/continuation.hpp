#pragma once
// ctx.ask: the reply comes back as an envelope in the asker's own mailbox,
// so the continuation runs in the asker's turn (never concurrently with its
// handlers), and is destroyed unrun if the asker stops first.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <new>
#include <type_traits>
#include <utility>

#include <courier/detail/allocator.hpp>
#include <courier/detail/cell.hpp>
#include <courier/detail/completion.hpp>
#include <courier/detail/failure.hpp>
#include <courier/detail/envelope.hpp>
#include <courier/error.hpp>
#include <courier/handlers.hpp>

namespace courier::detail {

template <class A>
struct cell;
struct access;
template <class R>
void add_timeout(internal::system* sys, std::chrono::steady_clock::duration timeout, completion<R>* reply) noexcept;

/// References: one for the request envelope, one for the timeout timer
/// (ask_for only), one for the asker's mailbox once delivered. `asker`
/// holds a strong count (an address) until the continuation ran or was
/// dropped, so a pending ask keeps the asker reachable.
template <class R, class F>
struct continuation final : envelope, completion<R> {
  continuation(cell_base* asker_cell, F&& f, std::uint32_t references)
      : envelope(&run_fn, 0),
        completion<R>(&deliver_fn, &release_fn),
        asker(asker_cell),
        refs(references) {
    ::new (static_cast<void*>(&fn)) F(std::move(f));
  }
  ~continuation() {}

  static void deliver_fn(completion<R>* base, result<R>&& value) noexcept {
    auto* self = static_cast<continuation*>(base);
    ::new (static_cast<void*>(&self->value)) result<R>(std::move(value));
    self->refs.retain();  // the mailbox's reference; its push publishes the value
    auto outcome = deliver(self->asker, self, true);
    if (outcome == delivery::rejected_closed || outcome == delivery::rejected_full) {
      (void)self->run_fn(self, self->asker, action::destroy);
      (void)self->run_fn(self, self->asker, action::release);
    }
  }

  static void release_fn(completion<R>* base) noexcept {
    auto* self = static_cast<continuation*>(base);
    if (self->refs.release()) detail::destroy(self);
  }

  static ran run_fn(envelope* e, cell_base* base, action what) noexcept {
    auto* self = static_cast<continuation*>(e);
    switch (what) {
      case action::handle:
        // An in-place restart since the ask: the continuation may capture the
        // old object, so it is destroyed unrun.
        if (incarnation_of(base) == self->generation)
          call_reporting(base, "continuation", [&] { self->fn(std::move(self->value)); });
        [[fallthrough]];
      case action::destroy: {
        self->fn.~F();
        self->value.~result<R>();
        release_address(std::exchange(self->asker, nullptr));
        break;
      }
      case action::release:
        self->release();
        break;
      case action::refuse:
        break;  // the asker is closing: the continuation is destroyed with its mailbox
    }
    return ran::done;
  }

  cell_base* asker;
  ref_count refs;
  std::uint32_t generation = 0;  // the asker's incarnation when it asked
  union {
    F fn;
  };
  union {
    result<R> value;
  };
};

/// ctx.ask / ask_for with a continuation: `post(completion<R>*)` sends the
/// request (typed for an address, through the table for a recipient).
template <class R, class F, class Post>
void ask_then(cell_base* self, bool timed, std::chrono::steady_clock::duration timeout, F&& f, Post&& post) {
  using K = continuation<R, std::decay_t<F>>;
  revive_address(self);
  K* k;
  try {
    k = make<K>(self, std::decay_t<F>(std::forward<F>(f)), timed ? 2u : 1u);
  } catch (...) {
    release_address(self);
    throw;
  }
  k->generation = incarnation_of(self);
  if (timed) add_timeout<R>(self->sys, timeout, k);
  post(static_cast<completion<R>*>(k));
}

template <class A, class M, class F>
void ask_with_continuation(cell_base* self, cell_base* target, M&& message, bool timed,
                           std::chrono::steady_clock::duration timeout, F&& f) {
  using R = reply_type_t<A, M>;
  ask_then<R>(self, timed, timeout, std::forward<F>(f),
              [&](completion<R>* k) { post_with_reply<A>(target, std::forward<M>(message), k); });
}

}  // namespace courier::detail
