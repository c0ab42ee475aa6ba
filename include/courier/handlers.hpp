#pragma once
// Compile-time handler set: which messages an actor handles (handles<A, M>)
// and what a request for each one replies (reply_type_t<A, M>).
//
// Matching is exact: the message type is std::decay_t<M>, and a handler takes
// it as M, const M& or M&& (not M&), with no implicit conversion.

#include <concepts>
#include <type_traits>
#include <utility>

#include <courier/error.hpp>
#include <courier/fwd.hpp>

namespace courier::detail {

/// Stands for an rvalue of exactly M in the handler-detection expressions: it
/// converts to M (by value, const M& or M&&) and to nothing else, so no
/// handler that needs a conversion of M is found.
template <class M>
struct exactly {
  template <class T>
    requires std::same_as<std::remove_cv_t<T>, M>
  operator T&&() const noexcept;
};

template <class A, class M>
concept handles_plain = requires(A& a, exactly<M> m) { a.on(m); };

template <class A, class M>
concept handles_with_context = requires(A& a, exactly<M> m, context<A>& ctx) { a.on(m, ctx); };

// A handler returning a reference replies with a copy of the value.
template <class T>
struct flatten_result {
  using type = std::remove_cvref_t<T>;
};
template <class T>
struct flatten_result<result<T>> {
  using type = T;
};
template <class T>
struct flatten_result<const result<T>> {
  using type = T;
};
// A coroutine handler's reply type is its task's.
template <class T>
struct flatten_result<task<T>> {
  using type = T;
};

template <class A, class M>
struct handler_return;
template <class A, class M>
  requires handles_with_context<A, M>
struct handler_return<A, M> {
  using type = decltype(std::declval<A&>().on(std::declval<M&&>(), std::declval<context<A>&>()));
};
template <class A, class M>
  requires(handles_plain<A, M> && !handles_with_context<A, M>)
struct handler_return<A, M> {
  using type = decltype(std::declval<A&>().on(std::declval<M&&>()));
};

/// Calls A's handler for M (the one taking a context, if A has both).
template <class A, class M>
decltype(auto) invoke_handler(A& actor, M&& message, context<A>& ctx) {
  if constexpr (handles_with_context<A, std::decay_t<M>>)
    return actor.on(std::forward<M>(message), ctx);
  else
    return actor.on(std::forward<M>(message));
}

template <class A>
concept has_on_start = requires(A& a, context<A>& ctx) { a.on_start(ctx); };
template <class A>
concept has_on_stop = requires(A& a, context<A>& ctx) { a.on_stop(ctx); };

template <class...>
inline constexpr bool always_false = false;

// Does A declare any member named `on`, public or not? Looking `on` up in a
// class that derives from A and from a class with a public `on` is then
// ambiguous (lookup comes before access checking), so the address of
// on_lookup<A>::on is ill-formed exactly when A has one. A final A cannot
// be probed: it counts as having none.
struct on_probe {
  void on();
};
template <class A>
struct on_lookup : A, on_probe {};
template <class A>
concept declares_on = !std::is_final_v<A> && !requires { &on_lookup<A>::on; };

}  // namespace courier::detail

namespace courier {

/// A handles message type M: it has `on(M)` or `on(M, context<A>&)`.
template <class A, class M>
concept handles = detail::handles_plain<A, std::decay_t<M>> ||
                  detail::handles_with_context<A, std::decay_t<M>>;

/// The reply type of a request M to A: the handler's return type, with
/// result<T> flattened to T (void allowed).
template <class A, class M>
  requires handles<A, M>
using reply_type_t = typename detail::flatten_result<
    std::remove_reference_t<typename detail::handler_return<A, std::decay_t<M>>::type>>::type;

}  // namespace courier

/// The one line a user sees when sending a message the actor cannot handle.
#define COURIER_UNHANDLED_MESSAGE                                                        \
  "courier: this actor has no handler for this message type; add `on(M)` or "          \
  "`on(M, courier::context<A>&)` taking M, const M& or M&& (matching is exact)"
/// ... and when the actor declares `on` overloads but none of them is a
/// public match for the message (a private or protected handler is invisible).
#define COURIER_NO_PUBLIC_HANDLER                                                        \
  "courier: this actor has no handler for this message type that it can call: none of "  \
  "its `on` overloads takes M (as M, const M& or M&&; matching is exact), or the one "     \
  "that does is private or protected (handlers must be public members)"

namespace courier::detail {

/// The compile error for an unhandled message type M (one line).
template <class A, class M>
constexpr void diagnose_unhandled() noexcept {
  if constexpr (declares_on<A>)
    static_assert(always_false<M>, COURIER_NO_PUBLIC_HANDLER);
  else
    static_assert(always_false<M>, COURIER_UNHANDLED_MESSAGE);
}

}  // namespace courier::detail
