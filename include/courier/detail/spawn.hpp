#pragma once
// Building an actor: the per-type operations table and spawn_actor().

#include <exception>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

#include <courier/actor.hpp>
#include <courier/config.hpp>
#include <courier/detail/allocator.hpp>
#include <courier/detail/cell.hpp>
#include <courier/detail/failure.hpp>
#include <courier/detail/type_metrics.hpp>
#include <courier/detail/type_name.hpp>
#include <courier/handlers.hpp>

namespace courier::detail {

template <class A>
struct cell;
struct access;

template <class A>
struct actor_ops {
  static void start(cell_base* base) noexcept {
    if constexpr (has_on_start<A>) {
      auto* c = access::cell_of<A>(base);
      call_reporting(base, "on_start", [&] { c->actor.on_start(static_cast<context<A>&>(*c)); });
    }
  }
  static void stop(cell_base* base) noexcept {
    if constexpr (has_on_stop<A>) {
      auto* c = access::cell_of<A>(base);
      call_reporting(base, "on_stop", [&] { c->actor.on_stop(static_cast<context<A>&>(*c)); });
    }
  }
  static void destroy_actor(cell_base* base) noexcept { access::cell_of<A>(base)->actor.~A(); }
  static void free_cell(cell_base* base) noexcept { detail::destroy(access::cell_of<A>(base)); }

  static constexpr cell_ops table{&start, &stop, &destroy_actor, &free_cell, type_name<A>()};
};

template <class A, class... Args>
address<A> spawn_actor(internal::system* sys, spawn_options options, Args&&... args) {
  static_assert(std::is_base_of_v<actor<A>, A>, "courier: an actor derives from courier::actor<Self>");
  static_assert(std::is_constructible_v<A, Args&&...>,
                "courier: the actor cannot be constructed from these spawn arguments");
  auto* c = make<cell<A>>();
  cell_base* base = access::base<A>(*c);
  auto capacity = options.capacity;
  // A measured type's unbounded mailbox is counted like a bounded one: the depth high-water mark.
  if (measure_actor_type<A> && capacity == 0) capacity = unbounded_counted;
  try {
    prepare(base, sys, &actor_ops<A>::table, capacity, options.name);
  } catch (...) {
    detail::destroy(c);  // prepare() undid its own part
    throw;
  }
  try {
    if constexpr (measure_actor_type<A>) c->measure.block = type_metrics_for(sys, type_name<A>());
    ::new (static_cast<void*>(&c->actor)) A(std::forward<Args>(args)...);
  } catch (...) {
    abandon(base);
    throw;
  }
  if (!start(base)) {
    c->actor.~A();
    abandon(base);
    return {};
  }
  return access::adopt<A>(base);
}

}  // namespace courier::detail
