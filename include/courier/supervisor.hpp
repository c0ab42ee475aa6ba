#pragma once
// courier::supervisor: an actor that starts children, watches them and
// brings them back, in the vocabulary of Erlang/OTP (docs/supervision.md).
//
//   auto sup = rt.spawn<courier::supervisor>(
//       courier::supervisor_flags{.strategy = courier::restart_strategy::rest_for_one},
//       courier::child<store>({.id = "db"}, path),
//       courier::child<cache>({.id = "cache"}));
//   auto db = courier::which_child<store>(sup, "db").value();
//
// The vocabulary types (restart_strategy, restart_type, supervisor_flags,
// child_spec, infinite) are in courier/config.hpp.

#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <courier/actor.hpp>
#include <courier/address.hpp>
#include <courier/config.hpp>
#include <courier/context.hpp>
#include <courier/detail/supervision.hpp>
#include <courier/error.hpp>

namespace courier {

/// A copyable child definition: its spec and copies of its constructor
/// arguments (a type-erased factory). Made by child<A>(spec, args...).
class child_def {
 public:
  child_def(const child_def& other) noexcept : spec_(other.spec_), factory_(other.factory_) {
    detail::retain_factory(factory_);
  }
  child_def(child_def&& other) noexcept
      : spec_(std::move(other.spec_)), factory_(std::exchange(other.factory_, nullptr)) {}
  child_def& operator=(child_def other) noexcept {
    std::swap(spec_, other.spec_);
    std::swap(factory_, other.factory_);
    return *this;
  }
  ~child_def() { detail::release_factory(factory_); }

  const child_spec& spec() const noexcept { return spec_; }

 private:
  template <class A, class... Args>
  friend child_def child(child_spec spec, Args&&... args);
  friend class detail::child_def_access;

  child_def(child_spec spec, detail::child_factory* factory) noexcept
      : spec_(std::move(spec)), factory_(factory) {}

  child_spec spec_;
  detail::child_factory* factory_;
};

/// A definition of a child A built from copies of `args` (every incarnation
/// gets fresh copies). Compile error unless every argument is
/// copy-constructible: a supervised child must be re-creatable.
template <class A, class... Args>
child_def child(child_spec spec, Args&&... args) {
  static_assert(std::is_base_of_v<actor<A>, A>, "courier: a child is an actor (derives from courier::actor<Self>)");
  static_assert((std::is_copy_constructible_v<std::decay_t<Args>> && ...),
                "courier: a supervised child's constructor arguments must be copy-constructible (it is re-created "
                "from copies)");
  static_assert(std::is_constructible_v<A, std::decay_t<Args>&&...>,
                "courier: the child cannot be constructed from these arguments");
  auto* factory = detail::make<detail::child_factory_of<A, std::decay_t<Args>...>>(
      &detail::actor_ops<A>::table, std::forward<Args>(args)...);
  return child_def(std::move(spec), factory);
}

/// The supervisor actor: rt.spawn<courier::supervisor>(flags, child<A>(...)...).
/// It has no handlers: it is driven by its children's ends and by the
/// functions below. Its static children are started in argument order
/// before spawn returns; bad flags or definitions (period 0, an empty or a
/// duplicate id) make spawn return an empty address, start nothing, and
/// report errc::invalid_argument through the error hook.
class supervisor : public actor<supervisor> {
 public:
  template <class... Defs>
    requires(std::is_same_v<std::remove_cvref_t<Defs>, child_def> && ...)
  explicit supervisor(supervisor_flags flags, Defs&&... defs) {
    if constexpr (sizeof...(Defs) == 0) {
      state_ = detail::make_supervisor(flags, nullptr, 0);
    } else {
      const child_def list[] = {child_def(std::forward<Defs>(defs))...};
      state_ = detail::make_supervisor(flags, list, sizeof...(Defs));
    }
  }
  supervisor(const supervisor&) = delete;
  supervisor& operator=(const supervisor&) = delete;
  ~supervisor() { detail::release_supervisor(state_); }

 private:
  friend std::string_view detail::check_spawned_supervisor(supervisor& s) noexcept;
  friend void detail::start_spawned_supervisor(supervisor& s, detail::cell_base* self);

  detail::supervisor_state* state_ = nullptr;
};

/// Starts a child under `sup` as spawn does (on_start is its first turn)
/// and appends it to the start order. Errors: actor_stopped (the supervisor
/// is empty, stopped or stopping, or the runtime is shutting down; nothing
/// is constructed), invalid_argument (an empty or duplicate id). Throws what
/// A's constructor throws.
template <class A, class... Args>
result<address<A>> start_child(const address<supervisor>& sup, child_spec spec, Args&&... args) {
  auto def = child<A>(std::move(spec), std::forward<Args>(args)...);
  if (!sup) return error{errc::actor_stopped, "empty supervisor address"};
  auto code = errc::actor_stopped;
  auto* cell = detail::start_child(detail::access::cell_of(sup), def, code);
  if (!cell) return error{code, code == errc::invalid_argument ? "invalid_argument: empty or duplicate child id"
                                                                : "the supervisor is stopped or stopping"};
  return detail::access::adopt<A>(cell);
}

/// Stops child `id` for good (shutdown(): it drains) and removes it; it is
/// never restarted. Returns once the stop is requested (the child's mailbox
/// is closed by then); join its address to wait. Errors: invalid_argument
/// (unknown id), actor_stopped (the supervisor is gone).
inline result<void> terminate_child(const address<supervisor>& sup, std::string_view id) {
  if (!sup) return error{errc::actor_stopped, "empty supervisor address"};
  auto code = detail::terminate_child(detail::access::cell_of(sup), id);
  if (code == errc{}) return {};
  return error{code, code == errc::invalid_argument ? "invalid_argument: no such child" : "the supervisor is gone"};
}

/// The current address of child `id` (it changes only when the child is
/// respawned). Errors: invalid_argument (unknown id, or not an A),
/// actor_stopped (the supervisor is gone).
template <class A>
result<address<A>> which_child(const address<supervisor>& sup, std::string_view id) {
  if (!sup) return error{errc::actor_stopped, "empty supervisor address"};
  auto code = errc::actor_stopped;
  auto* cell = detail::which_child(detail::access::cell_of(sup), id, &detail::actor_ops<A>::table, code);
  if (!cell)
    return error{code, code == errc::invalid_argument ? "invalid_argument: no such child of that type"
                                                      : "the supervisor is gone"};
  return detail::access::adopt<A>(cell);
}

template <class A>
address<supervisor> context<A>::supervisor() noexcept {
  return detail::access::adopt<courier::supervisor>(detail::supervisor_of(base()));
}

}  // namespace courier
