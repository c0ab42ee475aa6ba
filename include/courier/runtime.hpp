#pragma once
// runtime: the worker pool that runs actors; spawn, shutdown, stats.

#include <chrono>
#include <cstddef>
#include <functional>
#include <string_view>
#include <type_traits>
#include <utility>

#include <courier/address.hpp>
#include <courier/config.hpp>
#include <courier/context.hpp>
#include <courier/recipient.hpp>
#include <courier/fwd.hpp>
#include <courier/metrics.hpp>
#include <courier/stats.hpp>

namespace courier::detail {
/// runtime::register_name / whereis (runtime/system/names.cpp).
errc register_name(internal::system* sys, std::string_view name, cell_base* cell, const void* ops,
                   const void* tag) noexcept;
cell_base* whereis(internal::system* sys, std::string_view name, const void* tag, const void*& ops) noexcept;
}  // namespace courier::detail

namespace courier {

/// Signature of the error hook: actor name, message type, what().
using error_hook = std::function<void(std::string_view actor, std::string_view message, std::string_view what)>;

/// Owns the workers, the timers and every actor spawned on it.
class runtime {
 public:
  /// `rt{{.workers = 4, .batch = 64}}`; workers = 0 means one per hardware thread.
  explicit runtime(config cfg = {});
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;
  /// shutdown() with the default grace period if not done yet; then waits for
  /// handlers still running (never abandons a thread).
  ~runtime();

  /// Constructs an A from `args` and starts it (on_start is its first turn).
  /// After shutdown() began, returns an empty address without constructing.
  template <class A, class... Args>
    requires(!detail::first_is_spawn_options<Args...>)
  address<A> spawn(Args&&... args) {
    return detail::spawn_actor<A>(system_, spawn_options{}, std::forward<Args>(args)...);
  }
  template <class A, class... Args>
  address<A> spawn(spawn_options options, Args&&... args) {
    return detail::spawn_actor<A>(system_, std::move(options), std::forward<Args>(args)...);
  }

  /// Closes every mailbox, drains, stops and destroys every actor, joins the
  /// workers. True when all of that finished within `grace`; otherwise drops
  /// what is still queued, reports each actor still inside a handler through
  /// the error hook (on this thread) and returns false. Later and concurrent
  /// calls wait for the first and return its value.
  bool shutdown() { return shutdown_for(std::chrono::seconds(5)); }
  template <class Rep, class Period>
  bool shutdown(std::chrono::duration<Rep, Period> grace) {
    return shutdown_for(std::chrono::duration_cast<std::chrono::steady_clock::duration>(grace));
  }

  // -- timers (docs/api.md, "Timers") -------------------------------------------------
  // As ctx.send_every / ctx.send_after(..., cancellable), with no owner: the
  // handle alone governs the timer (detached, it runs until its target stops
  // or the runtime shuts down). Any thread.

  template <class B, class M, class Rep, class Period>
  [[nodiscard]] timer send_every(const address<B>& to, M&& message, std::chrono::duration<Rep, Period> period) {
    return detail::arm_timer_to<true>(system_, nullptr, to, std::forward<M>(message), detail::to_steady(period),
                                      detail::to_steady(period));
  }
  template <class B, class M, class R1, class P1, class R2, class P2>
  [[nodiscard]] timer send_every(const address<B>& to, M&& message, std::chrono::duration<R1, P1> period,
                                 std::chrono::duration<R2, P2> first) {
    return detail::arm_timer_to<true>(system_, nullptr, to, std::forward<M>(message), detail::to_steady(period),
                                      detail::to_steady(first));
  }
  template <class B, class M, class Rep, class Period>
  [[nodiscard]] timer send_after(const address<B>& to, M&& message, std::chrono::duration<Rep, Period> delay,
                                 cancellable_t) {
    return detail::arm_timer_to<false>(system_, nullptr, to, std::forward<M>(message), {}, detail::to_steady(delay));
  }
  template <class M, class Rep, class Period>
  [[nodiscard]] timer send_every(const recipient<M>& to, const std::type_identity_t<M>& message,
                                 std::chrono::duration<Rep, Period> period) {
    return detail::arm_timer_via<true>(system_, nullptr, to, message, detail::to_steady(period),
                                       detail::to_steady(period));
  }
  template <class M, class R1, class P1, class R2, class P2>
  [[nodiscard]] timer send_every(const recipient<M>& to, const std::type_identity_t<M>& message,
                                 std::chrono::duration<R1, P1> period, std::chrono::duration<R2, P2> first) {
    return detail::arm_timer_via<true>(system_, nullptr, to, message, detail::to_steady(period),
                                       detail::to_steady(first));
  }
  template <class M, class Rep, class Period>
  [[nodiscard]] timer send_after(const recipient<M>& to, const std::type_identity_t<M>& message,
                                 std::chrono::duration<Rep, Period> delay, cancellable_t) {
    return detail::arm_timer_via<false>(system_, nullptr, to, message, {}, detail::to_steady(delay));
  }

  // -- names (docs/api.md, "Names") ---------------------------------------------------

  /// Names `to`'s actor `name` until it finishes; then the name is free again.
  /// A name is not an address: it keeps nothing reachable. Errors:
  /// invalid_argument (an empty name, or one another live actor holds),
  /// actor_stopped (an empty recipient, or its actor finished).
  template <class Sig>
  result<void> register_name(std::string_view name, const recipient<Sig>& to) {
    auto code = detail::register_name(system_, name, detail::recipient_access::cell_of(to),
                                      detail::recipient_access::ops_of(to), &detail::name_tag<Sig>);
    if (code == errc{}) return {};
    return error{code, code == errc::invalid_argument ? "invalid_argument: the name is empty or taken"
                                                      : "the actor has stopped"};
  }
  /// The actor named `name`, as the recipient<Sig> it was registered as.
  /// invalid_argument when no live actor has that name, or it was
  /// registered as another recipient type.
  template <class Sig>
  result<recipient<Sig>> whereis(std::string_view name) const {
    const void* ops = nullptr;
    auto* cell = detail::whereis(system_, name, &detail::name_tag<Sig>, ops);
    if (!cell) return error{errc::invalid_argument, "invalid_argument: no live actor has that name and type"};
    using ops_type = std::remove_cvref_t<decltype(*detail::recipient_access::ops_of(std::declval<recipient<Sig>>()))>;
    return detail::recipient_access::adopt<Sig>(cell, static_cast<const ops_type*>(ops));
  }

  /// Replaces the hook called (on the worker that saw it) when a handler of a
  /// plain send throws. It must not block.
  void set_error_hook(error_hook hook);

  std::size_t workers() const noexcept;
  courier::stats stats() const noexcept;
  /// A snapshot of the workers' activity and of the runtime (docs/metrics.md).
  courier::metrics metrics() const;

 private:
  bool shutdown_for(std::chrono::steady_clock::duration grace);

  internal::system* system_;
};

}  // namespace courier
