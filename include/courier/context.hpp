#pragma once
// context<A>: what a handler of A may do besides touching A's state.
//
// A handler gets `context<A>&`; the reference stays valid for the actor's
// whole life, so a continuation may capture it.

#include <chrono>
#include <type_traits>
#include <utility>

#include <courier/address.hpp>
#include <courier/config.hpp>
#include <courier/detail/cell.hpp>
#include <courier/detail/timers.hpp>
#include <courier/detail/type_metrics.hpp>
#include <courier/fwd.hpp>
#include <courier/handlers.hpp>
#include <courier/monitor.hpp>
#include <courier/stream.hpp>
#include <courier/timer.hpp>

namespace courier::detail {

template <class B, class M>
class ask_awaitable;
class sleep_awaitable;
template <class Target, class Arg>
class send_awaitable;
template <class B>
struct send_to_address;
template <class M>
struct send_to_recipient;

template <class... Args>
inline constexpr bool first_is_spawn_options = false;
template <class First, class... Rest>
inline constexpr bool first_is_spawn_options<First, Rest...> =
    std::is_same_v<std::remove_cvref_t<First>, spawn_options>;

template <class A, class... Args>
address<A> spawn_actor(internal::system* sys, spawn_options options, Args&&... args);

template <class A, class M, class F>
void ask_with_continuation(cell_base* self, cell_base* target, M&& message, bool timed,
                           std::chrono::steady_clock::duration timeout, F&& continuation);

template <class A, class M>
void send_after(internal::system* sys, cell_base* target, M&& message,
                std::chrono::steady_clock::duration delay);

template <class A>
struct cell;

template <class A, class T>
std::pair<stream<T>, stream_writer<T>> make_stream_of(cell_base* producer);
template <class C, class T>
result<stream_id> consume_stream(cell_base* consumer, stream<T>&& s, stream_options o);
bool cancel_stream(cell_base* consumer, stream_id id) noexcept;

template <class Sig>
cell_base* recipient_cell(const recipient<Sig>& r) noexcept;
template <class R, class M>
void post_via(const recipient<R(M)>& to, M&& message, completion<R>* reply);
template <class R, class M>
class recipient_awaitable;
template <class R, class F, class Post>
void ask_then(cell_base* self, bool timed, std::chrono::steady_clock::duration timeout, F&& f, Post&& post);
template <class R>
struct completion;
template <class M>
void send_after_recipient(internal::system* sys, const recipient<M>& to, const M& message,
                          std::chrono::steady_clock::duration delay);
template <bool Periodic, class M>
timer arm_timer_via(internal::system* sys, cell_base* owner, const recipient<M>& to, const M& message,
                    std::chrono::steady_clock::duration period, std::chrono::steady_clock::duration first);

template <class Rep, class Period>
std::chrono::steady_clock::duration to_steady(std::chrono::duration<Rep, Period> d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(d);
}

struct down_envelope_base;
template <class A, class F>
struct down_envelope;
monitor_id monitor(cell_base* watcher, cell_base* target, down_envelope_base* e);
bool demonitor(cell_base* watcher, monitor_id m) noexcept;

/// The one place that converts between the public handles and the cell.
struct access {
  template <class A>
  static cell_base* base(context<A>& ctx) noexcept {
    return static_cast<cell_base*>(&ctx);
  }
  template <class A>
  static cell<A>* cell_of(cell_base* base) noexcept {
    return static_cast<cell<A>*>(static_cast<context<A>*>(base));
  }
  template <class A>
  static cell_base* cell_of(const address<A>& a) noexcept {
    return a.cell_;
  }
  /// Wraps a cell whose strong count the caller already took.
  template <class A>
  static address<A> adopt(cell_base* base) noexcept {
    return address<A>(typename address<A>::adopt_t{}, base);
  }
};

/// ctx.send_every / runtime::send_every (`periodic`) and send_after(...,
/// cancellable) to an address: the checks, then one timer block.
/// `owner`: the actor whose context made it (null: the runtime's).
template <bool Periodic, class B, class M>
timer arm_timer_to(internal::system* sys, cell_base* owner, const address<B>& to, M&& message,
                   std::chrono::steady_clock::duration period, std::chrono::steady_clock::duration first) {
  using plain = std::decay_t<M>;
  if constexpr (!handles<B, M>) {
    diagnose_unhandled<B, M>();
    return timer{};
  } else {
    static_assert(!Periodic || std::is_copy_constructible_v<plain>,
                  "courier: send_every delivers a copy of the message at every tick; it must be copy-constructible");
    return start_timer<plain>(sys, owner, access::cell_of(to), &tick_envelope<B, plain>::wrap,
                              std::forward<M>(message), first, period, Periodic);
  }
}

}  // namespace courier::detail

namespace courier {

/// Owner-thread only: a context is used inside its actor's handlers and
/// continuations (and on_start / on_stop), never from another thread.
template <class A>
class context : private detail::cell_base {
 public:
  /// This actor's own address. A message sent through it keeps the actor
  /// going until it is handled.
  address<A> self() noexcept {
    detail::revive_address(base());
    return detail::access::adopt<A>(base());
  }

  /// Stop after the current message; queued messages are dropped.
  void stop() noexcept { detail::end_self(base(), false); }

  /// Close the mailbox; handle what is queued, then stop.
  void shutdown() noexcept { detail::end_self(base(), true); }

  /// The supervisor this actor is a child of; an empty address if it has
  /// none. Siblings are found through it (courier::which_child), in on_start.
  address<courier::supervisor> supervisor() noexcept;

  /// Spawns a child (same forms as runtime::spawn).
  template <class B, class... Args>
    requires(!detail::first_is_spawn_options<Args...>)
  address<B> spawn(Args&&... args) {
    return detail::spawn_actor<B>(sys, spawn_options{}, std::forward<Args>(args)...);
  }
  template <class B, class... Args>
  address<B> spawn(spawn_options options, Args&&... args) {
    return detail::spawn_actor<B>(sys, std::move(options), std::forward<Args>(args)...);
  }

  /// Non-blocking request: `f(result<R>)` runs later in this actor's own
  /// turn, never concurrently with its handlers. If this actor stops first,
  /// `f` is destroyed without running.
  template <class B, class M, class F>
  void ask(const address<B>& to, M&& message, F&& f) {
    if constexpr (!handles<B, M>) {
      detail::diagnose_unhandled<B, M>();
    } else {
      static_assert(std::is_invocable_v<std::decay_t<F>&, result<reply_type_t<B, M>>>,
                    "courier: the continuation must be callable with result<R>, R the reply type");
      detail::ask_with_continuation<B>(base(), detail::access::cell_of(to), std::forward<M>(message), false,
                                       {}, std::forward<F>(f));
    }
  }

  /// Inside a coroutine handler (one returning courier::task<R>):
  /// `co_await ctx.ask(addr, m)` gives result<R> with the errors of
  /// reply::get (actor_stopped, handler_failed); the actor handles nothing
  /// else until it resumes, and no worker is blocked meanwhile.
  template <class B, class M>
  auto ask(const address<B>& to, M&& message) {
    if constexpr (!handles<B, M>) {
      detail::diagnose_unhandled<B, M>();
      return detail::sleep_awaitable(base(), {});
    } else {
      return detail::ask_awaitable<B, std::decay_t<M>>(base(), detail::access::cell_of(to),
                                                       std::decay_t<M>(std::forward<M>(message)), false, {});
    }
  }

  /// `co_await ctx.ask_for(addr, m, d)`: as ask, or errc::timeout after `d`.
  template <class B, class M, class Rep, class Period>
  auto ask_for(const address<B>& to, M&& message, std::chrono::duration<Rep, Period> timeout) {
    if constexpr (!handles<B, M>) {
      detail::diagnose_unhandled<B, M>();
      return detail::sleep_awaitable(base(), {});
    } else {
      return detail::ask_awaitable<B, std::decay_t<M>>(
          base(), detail::access::cell_of(to), std::decay_t<M>(std::forward<M>(message)), true,
          std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout));
    }
  }

  /// `co_await ctx.send(to, m)` (coroutine handlers): sends `m`, waiting
  /// for room if `to`'s bounded mailbox is full; this actor handles nothing
  /// else meanwhile. Gives success once accepted, or actor_stopped when `to`
  /// stops (the message is then back in `m`). Waiters are admitted in the
  /// order they started waiting, one per freed slot. An unbounded or
  /// non-full target accepts at once, without suspending. Await it in the
  /// expression that names `m` (it refers to `m` until it completes).
  template <class B, class M>
  [[nodiscard]] auto send(const address<B>& to, M&& message) {
    if constexpr (!handles<B, M>) {
      detail::diagnose_unhandled<B, M>();
      return detail::sleep_awaitable(base(), {});
    } else {
      return detail::send_awaitable<detail::send_to_address<B>, M>({}, base(), detail::access::cell_of(to),
                                                                   std::forward<M>(message), false, {});
    }
  }
  /// As send, but gives up after `timeout` with mailbox_full (`m` untouched).
  template <class B, class M, class Rep, class Period>
  [[nodiscard]] auto send_for(const address<B>& to, M&& message, std::chrono::duration<Rep, Period> timeout) {
    if constexpr (!handles<B, M>) {
      detail::diagnose_unhandled<B, M>();
      return detail::sleep_awaitable(base(), {});
    } else {
      return detail::send_awaitable<detail::send_to_address<B>, M>({}, base(), detail::access::cell_of(to),
                                                                   std::forward<M>(message), true,
                                                                   detail::to_steady(timeout));
    }
  }

  /// co_await send / send_for through a recipient<M> (courier/recipient.hpp).
  template <class M, class Arg>
    requires std::is_same_v<std::decay_t<Arg>, M>
  [[nodiscard]] auto send(const recipient<M>& to, Arg&& message) {
    return detail::send_awaitable<detail::send_to_recipient<M>, Arg>(
        detail::send_to_recipient<M>::of(to), base(), detail::recipient_cell(to), std::forward<Arg>(message), false, {});
  }
  template <class M, class Arg, class Rep, class Period>
    requires std::is_same_v<std::decay_t<Arg>, M>
  [[nodiscard]] auto send_for(const recipient<M>& to, Arg&& message, std::chrono::duration<Rep, Period> timeout) {
    return detail::send_awaitable<detail::send_to_recipient<M>, Arg>(detail::send_to_recipient<M>::of(to), base(),
                                                                      detail::recipient_cell(to),
                                                                      std::forward<Arg>(message), true,
                                                                      detail::to_steady(timeout));
  }

  /// `co_await ctx.sleep_for(d)`: resumes no earlier than `d` from now, on
  /// the runtime's timers (or at runtime shutdown); the actor handles nothing
  /// else meanwhile.
  template <class Rep, class Period>
  auto sleep_for(std::chrono::duration<Rep, Period> delay) noexcept {
    return detail::sleep_awaitable(base(), std::chrono::duration_cast<std::chrono::steady_clock::duration>(delay));
  }

  /// Like ask, and `f` gets errc::timeout if no reply came within `timeout`.
  template <class B, class M, class Rep, class Period, class F>
  void ask_for(const address<B>& to, M&& message, std::chrono::duration<Rep, Period> timeout, F&& f) {
    if constexpr (!handles<B, M>) {
      detail::diagnose_unhandled<B, M>();
    } else {
      static_assert(std::is_invocable_v<std::decay_t<F>&, result<reply_type_t<B, M>>>,
                    "courier: the continuation must be callable with result<R>, R the reply type");
      detail::ask_with_continuation<B>(
          base(), detail::access::cell_of(to), std::forward<M>(message), true,
          std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout), std::forward<F>(f));
    }
  }

  /// Delivers `message` to `to` no earlier than `delay` from now. The pending
  /// timer keeps `to` reachable. Never refused for capacity; if `to` stopped
  /// meanwhile, the message is dropped (and counted).
  template <class B, class M, class Rep, class Period>
  void send_after(const address<B>& to, M&& message, std::chrono::duration<Rep, Period> delay) {
    if constexpr (!handles<B, M>) {
      detail::diagnose_unhandled<B, M>();
    } else {
      detail::send_after<B>(sys, detail::access::cell_of(to), std::forward<M>(message),
                            std::chrono::duration_cast<std::chrono::steady_clock::duration>(delay));
    }
  }

  // -- the same calls through a recipient<R(M)> (courier/recipient.hpp) ----------------

  template <class R, class M, class F>
  void ask(const recipient<R(M)>& to, std::type_identity_t<M> message, F&& f) {
    static_assert(std::is_invocable_v<std::decay_t<F>&, result<R>>,
                  "courier: the continuation must be callable with result<R>, R the reply type");
    detail::ask_then<R>(base(), false, {}, std::forward<F>(f),
                        [&](detail::completion<R>* k) { detail::post_via(to, std::move(message), k); });
  }
  template <class R, class M, class Rep, class Period, class F>
  void ask_for(const recipient<R(M)>& to, std::type_identity_t<M> message, std::chrono::duration<Rep, Period> timeout,
               F&& f) {
    static_assert(std::is_invocable_v<std::decay_t<F>&, result<R>>,
                  "courier: the continuation must be callable with result<R>, R the reply type");
    detail::ask_then<R>(base(), true, std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout),
                        std::forward<F>(f),
                        [&](detail::completion<R>* k) { detail::post_via(to, std::move(message), k); });
  }
  template <class R, class M>
  auto ask(const recipient<R(M)>& to, std::type_identity_t<M> message) {
    return detail::recipient_awaitable<R, M>(base(), to, std::move(message), false, {});
  }
  template <class R, class M, class Rep, class Period>
  auto ask_for(const recipient<R(M)>& to, std::type_identity_t<M> message, std::chrono::duration<Rep, Period> timeout) {
    return detail::recipient_awaitable<R, M>(base(), to, std::move(message), true,
                                             std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout));
  }

  /// send_after through a recipient<M> (courier/recipient.hpp).
  template <class M, class Rep, class Period>
  void send_after(const recipient<M>& to, const std::type_identity_t<M>& message,
                  std::chrono::duration<Rep, Period> delay) {
    detail::send_after_recipient(sys, to, message,
                                 std::chrono::duration_cast<std::chrono::steady_clock::duration>(delay));
  }

  // -- timers with a handle (courier/timer.hpp; docs/api.md, "Timers") ------------------

  /// Delivers a copy of `message` to `to` at every point of the grid
  /// now + first + k * period (first = period if not given). At most one tick
  /// is queued or being handled at a time: a deadline that finds one is
  /// skipped, never queued late. The timer belongs to this actor (cancelled
  /// when it stops or restarts) and to the returned handle (cancelled when
  /// the handle goes, unless detached). An active timer is an address of
  /// `to`. period <= 0 or an empty `to`: an inactive handle.
  template <class B, class M, class Rep, class Period>
  [[nodiscard]] timer send_every(const address<B>& to, M&& message, std::chrono::duration<Rep, Period> period) {
    return detail::arm_timer_to<true>(sys, base(), to, std::forward<M>(message), detail::to_steady(period),
                                      detail::to_steady(period));
  }
  template <class B, class M, class R1, class P1, class R2, class P2>
  [[nodiscard]] timer send_every(const address<B>& to, M&& message, std::chrono::duration<R1, P1> period,
                                 std::chrono::duration<R2, P2> first) {
    return detail::arm_timer_to<true>(sys, base(), to, std::forward<M>(message), detail::to_steady(period),
                                      detail::to_steady(first));
  }
  /// send_after that you can revoke: the returned handle's cancel() (or its
  /// destruction) withdraws the message, also once it is queued.
  template <class B, class M, class Rep, class Period>
  [[nodiscard]] timer send_after(const address<B>& to, M&& message, std::chrono::duration<Rep, Period> delay,
                                 cancellable_t) {
    return detail::arm_timer_to<false>(sys, base(), to, std::forward<M>(message), {}, detail::to_steady(delay));
  }
  template <class M, class Rep, class Period>
  [[nodiscard]] timer send_every(const recipient<M>& to, const std::type_identity_t<M>& message,
                                 std::chrono::duration<Rep, Period> period) {
    return detail::arm_timer_via<true>(sys, base(), to, message, detail::to_steady(period), detail::to_steady(period));
  }
  template <class M, class R1, class P1, class R2, class P2>
  [[nodiscard]] timer send_every(const recipient<M>& to, const std::type_identity_t<M>& message,
                                 std::chrono::duration<R1, P1> period, std::chrono::duration<R2, P2> first) {
    return detail::arm_timer_via<true>(sys, base(), to, message, detail::to_steady(period), detail::to_steady(first));
  }
  template <class M, class Rep, class Period>
  [[nodiscard]] timer send_after(const recipient<M>& to, const std::type_identity_t<M>& message,
                                 std::chrono::duration<Rep, Period> delay, cancellable_t) {
    return detail::arm_timer_via<false>(sys, base(), to, message, {}, detail::to_steady(delay));
  }

  // -- streams with demand (courier/stream.hpp; docs/flow.md) ---------------------------

  /// Producer side: a new stream of T items from this actor. The stream<T>
  /// goes to the consumer (in a reply or a message); the writer stays here.
  /// The writer has no credit until the stream is consumed.
  template <class T>
  std::pair<stream<T>, stream_writer<T>> make_stream() {
    return detail::make_stream_of<A, T>(base());
  }
  /// Consumer side: binds `s` to this actor, which then handles
  /// on(stream_item<T>) for each item and on(stream_end) once, and grants
  /// the producer `o.window` credit. invalid_argument for a window of 0 or
  /// an empty token (a non-empty one is released: the producer gets
  /// stream_cancelled). Until it ends, the stream is an address of this actor.
  template <class T>
  result<stream_id> consume(stream<T>&& s, stream_options o = {}) {
    return detail::consume_stream<A, T>(base(), std::move(s), o);
  }
  /// Consumer side: once this returns true, no item of stream `id` is
  /// handled here (queued ones are dropped and counted) and no stream_end
  /// comes; the producer gets stream_cancelled. False for an unknown stream
  /// or one that ended already (its stream_end then comes, or came).
  bool cancel(stream_id id) noexcept { return detail::cancel_stream(base(), id); }

  /// The runtime this actor lives in.
  courier::runtime& runtime() noexcept { return detail::owner(sys); }

  // -- monitors (docs/supervision.md) ----------------------------------------------

  /// Watches `target`: exactly one courier::down (with the returned id) is
  /// mailed to this actor when `target` ends, or at once if it has ended or
  /// the address is empty; none after demonitor(). Needs on(courier::down).
  /// A monitor is not an address: it keeps neither side reachable.
  template <class B>
  monitor_id monitor(const address<B>& target) {
    if constexpr (!handles<A, courier::down>) {
      static_assert(detail::always_false<B>,
                    "courier: monitor(addr) delivers courier::down; add on(courier::down) or pass a continuation");
      return 0;
    } else {
      return start_monitor(detail::access::cell_of(target), detail::make<detail::down_envelope<A, void>>());
    }
  }

  /// As monitor(target), but `f(courier::down)` runs in this actor's turn
  /// instead of a handler (like a ctx.ask continuation; not counted as a message).
  template <class B, class F>
  monitor_id monitor(const address<B>& target, F&& f) {
    static_assert(std::is_invocable_v<std::decay_t<F>&, courier::down>,
                  "courier: the monitor continuation must be callable with courier::down");
    return start_monitor(detail::access::cell_of(target),
                         detail::make<detail::down_envelope<A, std::decay_t<F>>>(std::forward<F>(f)));
  }

  /// monitor / link through a recipient: the same, for the actor behind it.
  template <class Sig>
  monitor_id monitor(const recipient<Sig>& target) {
    static_assert(handles<A, courier::down>,
                  "courier: monitor(recipient) delivers courier::down; add on(courier::down)");
    return start_monitor(detail::recipient_cell(target), detail::make<detail::down_envelope<A, void>>());
  }
  template <class Sig>
  void link(const recipient<Sig>& other) {
    detail::link(base(), detail::recipient_cell(other));
  }
  template <class Sig>
  void unlink(const recipient<Sig>& other) noexcept {
    detail::unlink(base(), detail::recipient_cell(other));
  }

  /// Cancels monitor `m`: once this returns, no `down` of it is handled,
  /// even one already queued. True if it was pending; false if unknown,
  /// already handled or already demonitored.
  bool demonitor(monitor_id m) noexcept { return detail::demonitor(base(), m); }

  /// Ties this actor and `other` both ways (idempotent per pair). When
  /// either ends with `failed` or `linked`, the other gets
  /// courier::exit_signal if its type handles one, else it is stopped with
  /// `linked`. If `other` has ended that way already, that happens at once.
  /// Not an address: it keeps neither side reachable.
  template <class B>
  void link(const address<B>& other) {
    detail::link(base(), detail::access::cell_of(other));
  }
  /// Undoes link(other): after it returns, nothing from that link reaches
  /// this actor, including an exit_signal already queued.
  template <class B>
  void unlink(const address<B>& other) noexcept {
    detail::unlink(base(), detail::access::cell_of(other));
  }

  /// Inside on_stop: why this incarnation ends.
  exit_reason stop_reason() const noexcept { return detail::stop_reason_of(base()); }
  /// Inside on_stop: true when a new incarnation will replace this one (an
  /// in-place restart under the `restart` failure policy).
  bool restarting() const noexcept { return detail::restarting_of(base()); }

 protected:
  context() noexcept = default;
  ~context() = default;

 private:
  friend struct detail::access;

  detail::cell_base* base() noexcept { return this; }
  const detail::cell_base* base() const noexcept { return this; }

  /// `e` is freed by the runtime if registration throws.
  monitor_id start_monitor(detail::cell_base* target, detail::down_envelope_base* e) {
    return detail::monitor(base(), target, e);
  }
};

}  // namespace courier

namespace courier::detail {

/// An actor cell followed by the actor object; the object is constructed by
/// spawn and destroyed by its last turn, the memory lives while counts remain.
template <class A>
struct cell final : context<A> {
  cell() noexcept {}
  ~cell() {}
  [[no_unique_address]] measure_slot<A> measure;  // per-type metrics, when A opts in
  union {
    A actor;
  };
};

}  // namespace courier::detail

#include <courier/detail/messages.hpp>
#include <courier/detail/spawn.hpp>
#include <courier/detail/awaitables.hpp>
#include <courier/detail/send_wait.hpp>
#include <courier/detail/down_envelope.hpp>
#include <courier/detail/stream_envelopes.hpp>
#include <courier/recipient.hpp>
#include <courier/supervisor.hpp>
