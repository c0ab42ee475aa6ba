#pragma once
// Building an actor: the per-type operations table and spawn_actor().

#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <tuple>
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
#include <courier/monitor.hpp>

namespace courier::detail {

template <class A>
struct cell;
struct access;

template <class A>
struct signal_envelope;

template <class A>
struct actor_ops {
  static void start(cell_base* base) noexcept {
    if constexpr (has_on_start<A>) {
      auto* c = access::cell_of<A>(base);
      call_reporting(base, "on_start", [&] { c->actor.on_start(static_cast<context<A>&>(*c)); });
    }
  }
  static void stop(cell_base* base) noexcept {
    if constexpr (has_on_stop<A>) {  // reported, never a failure: the incarnation ends anyway
      auto* c = access::cell_of<A>(base);
      call_reporting_only(base, "on_stop", [&] { c->actor.on_stop(static_cast<context<A>&>(*c)); });
    }
  }
  static void destroy_actor(cell_base* base) noexcept { access::cell_of<A>(base)->actor.~A(); }
  static void free_cell(cell_base* base) noexcept { detail::destroy(access::cell_of<A>(base)); }

  static envelope* make_exit_signal(courier::exit_signal&& s) {
    if constexpr (handles<A, courier::exit_signal>)
      return make<signal_envelope<A>>(std::move(s));
    else
      return nullptr;
  }

  static constexpr cell_ops table{&start, &stop, &destroy_actor, &free_cell, type_name<A>(),
                                  handles<A, courier::exit_signal> ? &make_exit_signal : nullptr};
};

/// The copies of the spawn arguments a `restart` policy rebuilds from.
template <class A, class... D>
struct rebuilder final : rebuild_base {
  template <class... Args>
  explicit rebuilder(Args&&... args) : rebuild_base{&construct_fn, &destroy_fn}, copies(std::forward<Args>(args)...) {}

  static void construct_fn(rebuild_base* self, cell_base* base) {
    auto* c = access::cell_of<A>(base);
    std::apply([&](const D&... a) { ::new (static_cast<void*>(&c->actor)) A(D(a)...); },
               static_cast<rebuilder*>(self)->copies);
  }
  static void destroy_fn(rebuild_base* self) noexcept { detail::destroy(static_cast<rebuilder*>(self)); }

  std::tuple<D...> copies;
};

/// Bad options, detected before anything is built: the error text, or empty.
inline std::string_view invalid_options(const spawn_options& options) noexcept {
  const auto& f = options.failure;
  if (f.action != on_failure::restart) return {};
  if (f.period.count() <= 0) return "invalid_argument: a restart policy needs a period above 0";
  if (f.backoff_max.count() != 0 && f.backoff_max < f.backoff_min)
    return "invalid_argument: a restart policy's backoff_max is below its backoff_min";
  return {};
}

/// A supervisor's hooks around spawn (courier/supervisor.hpp): its
/// definitions are checked before it starts, its static children started
/// right after (before spawn returns).
template <class A>
inline constexpr bool is_supervisor = std::is_same_v<A, courier::supervisor>;
std::string_view check_spawned_supervisor(courier::supervisor& s) noexcept;
void start_spawned_supervisor(courier::supervisor& s, cell_base* self);
void bind_child(cell_base* cell, const void* binding);

/// Builds and starts an actor: its cell with one address for the caller,
/// or null (bad options, or the runtime no longer accepts actors). A
/// supervised child (`binding`) always keeps copies of its arguments (its
/// supervisor may rebuild it in place) and is bound before it starts.
template <class A, class... Args>
cell_base* spawn_cell(internal::system* sys, const spawn_options& options, const void* binding, Args&&... args) {
  static_assert(std::is_base_of_v<actor<A>, A>, "courier: an actor derives from courier::actor<Self>");
  static_assert(std::is_constructible_v<A, Args&&...>,
                "courier: the actor cannot be constructed from these spawn arguments");
  auto name = options.name.empty() ? type_name_v<A> : std::string_view(options.name);
  if (auto bad = binding ? std::string_view{} : invalid_options(options); !bad.empty()) {
    reject_spawn(sys, name, bad);
    return nullptr;
  }
  rebuild_base* factory = nullptr;
  if (binding || options.failure.action == on_failure::restart) {
    if constexpr ((std::is_copy_constructible_v<std::decay_t<Args>> && ...)) {
      factory = make<rebuilder<A, std::decay_t<Args>...>>(args...);  // copies, before `args` are moved from
    } else {
      reject_spawn(sys, name, "invalid_argument: a restart policy needs copy-constructible spawn arguments");
      return nullptr;
    }
  }
  cell<A>* c = nullptr;
  try {
    c = make<cell<A>>();
  } catch (...) {
    if (factory) factory->destroy(factory);
    throw;
  }
  cell_base* base = access::base<A>(*c);
  auto capacity = options.capacity;
  // A measured type's unbounded mailbox is counted like a bounded one: the depth high-water mark.
  if (measure_actor_type<A> && capacity == 0) capacity = unbounded_counted;
  try {
    prepare(base, sys, &actor_ops<A>::table, capacity, options, factory);
    if (binding) bind_child(base, binding);
  } catch (...) {
    abandon(base);  // prepare() undid its own part, the factory included
    throw;
  }
  try {
    if constexpr (measure_actor_type<A>) c->measure.block = type_metrics_for(sys, type_name_v<A>);
    ::new (static_cast<void*>(&c->actor)) A(std::forward<Args>(args)...);
  } catch (...) {
    abandon(base);
    throw;
  }
  if constexpr (is_supervisor<A>) {
    if (auto bad = check_spawned_supervisor(c->actor); !bad.empty()) {
      reject_spawn(sys, name, bad);
      c->actor.~A();
      abandon(base);
      return nullptr;
    }
  }
  if (!start(base)) {
    c->actor.~A();
    abandon(base);
    return nullptr;
  }
  if constexpr (is_supervisor<A>) {
    try {
      start_spawned_supervisor(c->actor, base);  // the static children, in order
    } catch (...) {
      release_address(base);  // the supervisor is stopping (with what it started); ours goes
      throw;
    }
  }
  return base;
}

template <class A, class... Args>
address<A> spawn_actor(internal::system* sys, spawn_options options, Args&&... args) {
  return access::adopt<A>(spawn_cell<A>(sys, options, nullptr, std::forward<Args>(args)...));
}

template <class A, class... Args>
cell_base* spawn_supervised(internal::system* sys, const spawn_options& options, const void* binding, Args&&... args) {
  return spawn_cell<A>(sys, options, binding, std::forward<Args>(args)...);
}

}  // namespace courier::detail
