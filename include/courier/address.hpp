#pragma once
// address<A>: the typed, copyable handle that is the only way to reach an actor.
//
// Memory ordering: everything the sender did before send() or ask() is
// visible to the handler that receives the message.

#include <chrono>
#include <cstddef>
#include <functional>
#include <type_traits>
#include <utility>

#include <courier/actor_id.hpp>
#include <courier/detail/cell.hpp>
#include <courier/detail/futex.hpp>
#include <courier/error.hpp>
#include <courier/fwd.hpp>
#include <courier/handlers.hpp>
#include <courier/reply.hpp>

namespace courier::detail {

struct access;

template <class A, class M>
result<void> post(cell_base* cell, M&& message);

template <class A, class M>
reply<reply_type_t<A, M>> post_request(cell_base* cell, M&& message);
template <class A, class M>
result<void> post_waiting(cell_base* cell, M&& message, std::chrono::steady_clock::time_point until);

}  // namespace courier::detail

namespace courier {

/// Like a shared pointer to the actor's mailbox: cheap to copy, usable while
/// A is incomplete, empty when default-constructed (sends fail with
/// actor_stopped, join returns at once). All calls are thread-safe and
/// const. An address may outlive its runtime: it then behaves as an address
/// to a stopped actor.
template <class A>
class address {
 public:
  using actor_type = A;

  // -- construction -------------------------------------------------------------

  address() noexcept = default;
  address(const address& other) noexcept : cell_(other.cell_) {
    if (cell_) detail::retain_address(cell_);
  }
  address(address&& other) noexcept : cell_(std::exchange(other.cell_, nullptr)) {}
  address& operator=(const address& other) noexcept {
    address copy(other);
    std::swap(cell_, copy.cell_);
    return *this;
  }
  address& operator=(address&& other) noexcept {
    address moved(std::move(other));
    std::swap(cell_, moved.cell_);
    return *this;
  }
  ~address() {
    if (cell_) detail::release_address(cell_);
  }

  // -- messaging --------------------------------------------------------------

  /// Fire-and-forget. Errors: actor_stopped (mailbox closed), mailbox_full.
  /// A refused message is left in `message` (an rvalue is not moved from),
  /// so it can be retried or sent elsewhere. [[nodiscard]]: an ignored
  /// mailbox_full is a lost message; write `(void)a.send(m)` to mean it.
  template <class M>
  [[nodiscard]] result<void> send(M&& message) const {
    if constexpr (!handles<A, M>) {
      detail::diagnose_unhandled<A, M>();
      return {};
    } else {
      if (!cell_) return error{errc::actor_stopped, "empty address"};
      return detail::post<A>(cell_, std::forward<M>(message));
    }
  }

  /// send, waiting up to `timeout` for room in a full bounded mailbox (a
  /// thread outside the runtime's workers; it sleeps, it does not spin).
  /// Returns once accepted; mailbox_full after `timeout`; actor_stopped at
  /// once when the mailbox is or becomes closed. On an error `message` is
  /// untouched. Waiters are admitted in the order they started waiting.
  /// Inside a handler it never waits: it is send (and a wait it would have
  /// made is reported as a blocking call inside a handler).
  template <class M, class Rep, class Period>
  [[nodiscard]] result<void> send_for(M&& message, std::chrono::duration<Rep, Period> timeout) const {
    if constexpr (!handles<A, M>) {
      detail::diagnose_unhandled<A, M>();
      return {};
    } else {
      return detail::post_waiting<A>(
          cell_, std::forward<M>(message),
          std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout));
    }
  }

  /// Request/response; a refused request gives a reply already complete with
  /// the error, and leaves `message` untouched (as send() does).
  template <class M>
  auto ask(M&& message) const {
    if constexpr (!handles<A, M>) {
      detail::diagnose_unhandled<A, M>();
      return reply<void>{};
    } else {
      return detail::post_request<A>(cell_, std::forward<M>(message));
    }
  }

  // -- lifecycle ----------------------------------------------------------------

  /// Closes the mailbox now; the actor stops after its current message
  /// (whose reply is still delivered); queued messages are dropped.
  void stop() const noexcept {
    if (cell_) detail::stop(cell_);
  }

  /// Closes the mailbox now; everything already queued is handled, then the
  /// actor stops.
  void shutdown() const noexcept {
    if (cell_) detail::shutdown(cell_);
  }

  /// Waits until the actor has stopped; returns at once if it already has.
  /// Inside a handler it never waits: it returns at once and reports the
  /// call through the error hook.
  void join() const noexcept {
    if (detail::refuse_blocking_call("address::join")) return;
    if (cell_) detail::join(cell_, false, {});
  }

  /// Like join(), for at most `timeout`; true if the actor has stopped.
  /// Inside a handler it never waits: false at once (reported as join()).
  template <class Rep, class Period>
  bool join_for(std::chrono::duration<Rep, Period> timeout) const noexcept {
    if (detail::refuse_blocking_call("address::join_for")) return false;
    if (!cell_) return true;
    return detail::join(cell_, true,
                        std::chrono::steady_clock::now() +
                            std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout));
  }

  /// Has the actor stopped?
  bool done() const noexcept { return !cell_ || detail::done(cell_); }

  // -- observers ------------------------------------------------------------------

  explicit operator bool() const noexcept { return cell_ != nullptr; }
  /// The actor's id: unique within its runtime, never 0, kept after the
  /// actor stopped; 0 for an empty address.
  actor_id id() const noexcept { return cell_ ? detail::id_of(cell_) : 0; }
  friend bool operator==(const address& x, const address& y) noexcept { return x.cell_ == y.cell_; }

  std::size_t hash() const noexcept { return std::hash<const void*>{}(cell_); }

 private:
  friend struct detail::access;
  struct adopt_t {};
  address(adopt_t, detail::cell_base* cell) noexcept : cell_(cell) {}

  detail::cell_base* cell_ = nullptr;
};

}  // namespace courier

template <class A>
struct std::hash<courier::address<A>> {
  std::size_t operator()(const courier::address<A>& a) const noexcept { return a.hash(); }
};

#include <courier/context.hpp>
