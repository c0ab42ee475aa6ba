#pragma once
// Waiting for room in a bounded mailbox: address::send_for (a thread outside
// the pool) and co_await ctx.send / ctx.send_for (a coroutine handler).
//
// A sender that finds the mailbox full queues a send_waiter (its message
// already in an envelope) on the target (runtime/actor/send_wait.cpp). The
// top bit of the target's slot count then says "waiters": every plain send
// sees the count as full (waiters go first), and the consumer's release of
// a slot, whose fetch_sub returns that bit, hands the slot to the first
// waiter and pushes its envelope: one slot admits one waiter, in the order
// they started waiting. A send that does not wait pays nothing for this.

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <type_traits>
#include <utility>

#include <courier/detail/allocator.hpp>
#include <courier/detail/awaitables.hpp>
#include <courier/detail/cell.hpp>
#include <courier/detail/envelope.hpp>
#include <courier/detail/frame.hpp>
#include <courier/detail/futex.hpp>
#include <courier/detail/messages.hpp>
#include <courier/error.hpp>

namespace courier::detail {

struct send_waiter {
  // Values of `outcome`, decided once, under the target's extras lock.
  static constexpr std::uint32_t waiting = 0;
  static constexpr std::uint32_t admitted = 1;      // queued with a slot handed over
  static constexpr std::uint32_t stopped = 2;       // closed: the message is back in the argument; `e` to dispose
  static constexpr std::uint32_t stopped_gone = 3;  // closed as it was pushed: message back, the mailbox owns `e`
  static constexpr std::uint32_t no_memory = 4;     // not queued (out of memory) or timed out: message back, `e` to dispose

  envelope* e = nullptr;
  give_back back{};
  /// release by the decider (after giving the message back); acquire by the waiter.
  std::atomic<std::uint32_t> outcome{waiting};
  /// A coroutine's actor (woken at the decision); null: a thread, woken on
  /// `outcome`. While queued, the entry holds an address of it, which the
  /// decider releases after the wake (stop_waiting() gives it back to the caller).
  cell_base* waker = nullptr;
};

/// Queues `w` for room in `target`'s bounded mailbox, or decides at once
/// (room came free, or the mailbox is closed). Returns `waiting` or the outcome.
std::uint32_t start_waiting(cell_base* target, send_waiter* w) noexcept;
/// Takes `w` out of the queue if it is still waiting (true). False: it was
/// decided meanwhile (read `outcome`).
bool stop_waiting(cell_base* target, send_waiter* w) noexcept;

/// The error of an outcome that is not `admitted`.
inline error wait_error(std::uint32_t outcome) {
  return outcome == send_waiter::stopped || outcome == send_waiter::stopped_gone ? stopped_error() : full_error();
}

/// address::send_for: send; if the mailbox is full, wait (sleeping) until
/// a slot is handed over, the mailbox closes, or `until`.
template <class A, class M>
result<void> post_waiting(cell_base* cell, M&& message, std::chrono::steady_clock::time_point until) {
  if (!cell) return error{errc::actor_stopped, "empty address"};
  auto first = post<A>(cell, std::forward<M>(message));  // a refusal left `message` untouched
  if (first || first.error().code() != errc::mailbox_full) return first;
  if (refuse_blocking_call("address::send_for")) return first;  // inside a handler: never waits
  using env = message_envelope<A, std::decay_t<M>>;
  send_waiter w;
  w.e = make<env>(0u, std::forward<M>(message));
  if constexpr (!std::is_lvalue_reference_v<M>) w.back = give_back_to<env>(message);
  auto outcome = start_waiting(cell, &w);
  while (outcome == send_waiter::waiting) {
    if (std::chrono::steady_clock::now() >= until && stop_waiting(cell, &w)) {
      w.back(w.e);  // timed out: the message goes back to the caller
      outcome = send_waiter::no_memory;  // mailbox_full
      break;
    }
    futex_wait(w.outcome, send_waiter::waiting, true, until);
    outcome = w.outcome.load(std::memory_order_acquire);  // acquire: pairs with the decider's release
  }
  if (outcome == send_waiter::admitted) return {};
  if (outcome != send_waiter::stopped_gone) dispose(cell, w.e);
  return wait_error(outcome);
}

/// How send_awaitable reaches an address<B>: B's envelope type.
template <class B>
struct send_to_address {
  template <class Arg>
  result<void> post_now(cell_base* target, Arg&& m) const {
    return post<B>(target, std::forward<Arg>(m));
  }
  /// The waiting envelope, and how to give its message back.
  template <class Arg>
  envelope* make_envelope(Arg& m, give_back& back) const {
    using env = message_envelope<B, std::decay_t<Arg>>;
    auto* e = make<env>(0u, std::forward<Arg>(m));
    if constexpr (!std::is_lvalue_reference_v<Arg> && !std::is_const_v<Arg>) back = give_back_to<env>(m);
    return e;
  }
};

/// co_await ctx.send(to, m) / ctx.send_for(to, m, d). Holds a pointer to
/// the argument (given back on an error): await it in the expression that
/// names its argument. `Target` builds the envelopes (an address's actor
/// type, or a recipient's table).
template <class Target, class Arg>
class [[nodiscard]] send_awaitable {
 public:
  send_awaitable(Target how, cell_base* self, cell_base* target, Arg&& message, bool timed,
                 std::chrono::steady_clock::duration timeout) noexcept
      : how_(how), self_(self), target_(target), arg_(__builtin_addressof(message)), timed_(timed), timeout_(timeout) {}
  send_awaitable(send_awaitable&& other) noexcept
      : how_(other.how_),
        self_(other.self_),
        target_(other.target_),
        arg_(other.arg_),
        timed_(other.timed_),
        timeout_(other.timeout_),
        result_(std::move(other.result_)) {}
  send_awaitable(const send_awaitable&) = delete;
  send_awaitable& operator=(const send_awaitable&) = delete;
  ~send_awaitable() {
    if (!registered_) return;
    // The frame went while waiting (its actor stopped): withdraw, or dispose
    // of what the decision left us.
    if (stop_waiting(target_, &w_)) {
      release_address(self_);  // the queue entry's
      dispose(target_, w_.e);
    } else if (auto o = w_.outcome.load(std::memory_order_acquire);  // acquire: pairs with the decider's release
               o != send_waiter::admitted && o != send_waiter::stopped_gone) {
      dispose(target_, w_.e);
    }
    release_address(target_);
  }

  bool await_ready() {
    if (!target_) {
      result_ = error{errc::actor_stopped, "empty address"};
      return true;
    }
    auto r = how_.post_now(target_, std::forward<Arg>(*arg_));  // an unbounded or non-full target: done at once
    if (r || r.error().code() != errc::mailbox_full) {
      result_ = std::move(r);
      return true;
    }
    return false;
  }

  template <courier_promise P>
  bool await_suspend(std::coroutine_handle<P> h) {
    w_.e = how_.template make_envelope<Arg>(*arg_, w_.back);
    w_.waker = self_;
    revive_address(self_);    // the queue entry's: a waiting send keeps its actor reachable, as a pending ask does
    retain_address(target_);  // the target's memory (the queue we wait in) until we are done; the caller holds one
    registered_ = true;
    deadline_ = std::chrono::steady_clock::now() + timeout_;
    auto o = start_waiting(target_, &w_);
    if (o != send_waiter::waiting) {  // decided at once (never queued): no suspension
      release_address(self_);
      return false;
    }
    static_cast<frame_base&>(h.promise()).awaits(&probe, this);
    if (timed_) {
      revive_address(self_);  // the timer job's
      add_timer(self_->sys, deadline_, timer_job{&run_wake_job, self_, nullptr});
    }
    return true;
  }

  result<void> await_resume() {
    if (!registered_) return std::move(result_);
    registered_ = false;
    auto o = w_.outcome.load(std::memory_order_acquire);  // acquire: pairs with the decider's release
    if (o == send_waiter::waiting) {  // send_for's deadline: give up, unless decided just now
      if (stop_waiting(target_, &w_)) {
        release_address(self_);  // the queue entry's
        w_.back(w_.e);
        o = send_waiter::no_memory;  // mailbox_full
      } else {
        o = w_.outcome.load(std::memory_order_acquire);  // acquire: pairs with the decider's release
      }
    }
    if (o != send_waiter::admitted && o != send_waiter::stopped_gone) dispose(target_, w_.e);
    release_address(target_);
    if (o == send_waiter::admitted) return {};
    return wait_error(o);
  }

  /// frame_base::ready: decided, or send_for's deadline passed.
  static bool probe(const void* p) noexcept {
    auto* self = static_cast<const send_awaitable*>(p);
    // acquire: pairs with the decider's release (the resumed frame reads the outcome's effects)
    if (self->w_.outcome.load(std::memory_order_acquire) != send_waiter::waiting) return true;
    return self->timed_ && std::chrono::steady_clock::now() >= self->deadline_;
  }

 private:
  [[no_unique_address]] Target how_;
  cell_base* self_;
  cell_base* target_;
  std::remove_reference_t<Arg>* arg_;
  bool timed_;
  std::chrono::steady_clock::duration timeout_;
  std::chrono::steady_clock::time_point deadline_{};
  bool registered_ = false;
  result<void> result_{};
  send_waiter w_;
};

}  // namespace courier::detail
