#pragma once
// What the supervisor templates (courier/supervisor.hpp) need: a child
// definition's type-erased factory, and the calls into libcourier
// (runtime/supervision/supervisor.cpp) that own the child table.

#include <atomic>
#include <cstdint>
#include <string_view>
#include <tuple>
#include <utility>

#include <courier/config.hpp>
#include <courier/detail/allocator.hpp>
#include <courier/detail/cell.hpp>
#include <courier/error.hpp>

namespace courier {
class supervisor;
class child_def;
}

namespace courier::detail {

template <class A, class... Args>
cell_base* spawn_supervised(internal::system* sys, const spawn_options& options, const void* binding, Args&&... args);

/// How to build one child: copies of its constructor arguments, shared by
/// every copy of the child_def (reference counted), never changed.
struct child_factory {
  /// Spawns a new cell from the copies (spawn_supervised<A>): one address
  /// (the caller adopts it), or null when the runtime no longer accepts
  /// actors. Throws what the constructor throws. `binding` ties the cell to
  /// its supervisor before it starts (runtime-internal).
  cell_base* (*spawn)(const child_factory* self, internal::system* sys, const spawn_options& options,
                      const void* binding);
  void (*destroy)(child_factory* self) noexcept;
  /// The actor type's operations table: which_child<A>'s type check.
  const cell_ops* ops;
  std::atomic<std::uint32_t> refs{1};
};

template <class A, class... D>
struct child_factory_of final : child_factory {
  template <class... Args>
  explicit child_factory_of(const cell_ops* table, Args&&... args)
      : child_factory{&spawn_fn, &destroy_fn, table}, copies(std::forward<Args>(args)...) {}

  static cell_base* spawn_fn(const child_factory* self, internal::system* sys, const spawn_options& options,
                             const void* binding) {
    return std::apply(
        [&](const D&... a) { return spawn_supervised<A>(sys, options, binding, D(a)...); },
        static_cast<const child_factory_of*>(self)->copies);
  }
  static void destroy_fn(child_factory* self) noexcept { detail::destroy(static_cast<child_factory_of*>(self)); }

  std::tuple<D...> copies;
};

inline void retain_factory(child_factory* f) noexcept {
  if (f) f->refs.fetch_add(1, std::memory_order_relaxed);  // relaxed: the copied-from definition holds a reference
}
inline void release_factory(child_factory* f) noexcept {
  // acq_rel: the last owner sees the others' use before it destroys the copies
  if (f && f->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) f->destroy(f);
}

/// The supervisor's state in libcourier (an opaque pointer here).
struct supervisor_state;

// -- calls into libcourier ------------------------------------------------------

class child_def_access;

/// The supervisor's constructor: its flags and static children (copied).
supervisor_state* make_supervisor(const supervisor_flags& flags, const courier::child_def* defs, std::size_t count);
void release_supervisor(supervisor_state* s) noexcept;
/// Before start: empty when the flags and definitions are valid, else the
/// invalid_argument text spawn reports.
std::string_view check_supervisor(const supervisor_state* s) noexcept;
/// After start: binds the state to the supervisor's cell, then starts the
/// static children in order (may throw what a child's constructor throws;
/// the supervisor is then stopping, with the children started so far).
void start_supervisor(supervisor_state* s, cell_base* self);

/// start_child: a new cell (one address for the caller), or null and `code`.
cell_base* start_child(cell_base* sup, const courier::child_def& def, errc& code);
/// terminate_child.
errc terminate_child(cell_base* sup, std::string_view id) noexcept;
/// which_child: the child's cell (one address for the caller) if it is of
/// type `ops`, or null and `code`.
cell_base* which_child(cell_base* sup, std::string_view id, const cell_ops* ops, errc& code) noexcept;
/// context<A>::supervisor(): the supervisor's cell (one address), or null.
cell_base* supervisor_of(cell_base* child) noexcept;

}  // namespace courier::detail
