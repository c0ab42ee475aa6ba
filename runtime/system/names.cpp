// runtime::register_name / whereis: names that deregister themselves. An
// entry holds its actor's memory, never an address, so a name keeps nothing
// reachable. The actor's last turn drops its names before it is done; an
// entry that a registration racing that turn left behind is found stale
// (the actor is done, or no address is left) and dropped by the next lookup.

#include <courier/detail/cell.hpp>

#include "runtime/actor/core.hpp"
#include "runtime/actor/extras.hpp"
#include "runtime/actor/lifecycle.hpp"
#include "runtime/actor/state.hpp"
#include "runtime/mailbox/mailbox.hpp"
#include "runtime/system/system.hpp"

namespace courier::internal {

namespace {

/// A live actor's address, unless none is left (it is finishing) or it is
/// done. relaxed: the entry holds the memory, and a count above 0 is never
/// the 0 -> 1 transition, which only the actor's own turn may make.
bool try_retain(detail::cell_base* cell) noexcept {
  auto& core = core_of(*cell);
  if (state::done(core)) return false;
  auto n = cell->strong.load(std::memory_order_relaxed);
  while (n != 0)
    if (cell->strong.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) return true;
  return false;
}

bool stale(detail::cell_base* cell) noexcept { return state::done(core_of(*cell)); }

}  // namespace

errc system::register_name(std::string_view name, detail::cell_base* cell, const void* ops,
                           const void* tag) noexcept {
  if (!cell) return errc::actor_stopped;
  if (name.empty()) return errc::invalid_argument;
  if (state::done(core_of(*cell))) return errc::actor_stopped;
  detail::cell_base* replaced = nullptr;
  {
    std::lock_guard lock(names_mutex_);
    try {
      auto [it, fresh] = names_.try_emplace(std::string(name), name_entry{cell, ops, tag});
      if (!fresh) {
        if (!stale(it->second.cell)) return errc::invalid_argument;
        replaced = it->second.cell;  // an actor that finished: the name is free
        it->second = name_entry{cell, ops, tag};
      }
      auto& x = extras_of(core_of(*cell));
      // release: paired with the acquire in drop_names(), the actor's last turn
      x.named.store(true, std::memory_order_release);
    } catch (...) {
      return errc::invalid_argument;  // out of memory: not registered
    }
    state::hold_memory(core_of(*cell));  // the entry's; the caller's recipient holds an address
  }
  if (replaced) release_cell(replaced);
  return {};
}

detail::cell_base* system::whereis(std::string_view name, const void* tag, const void*& ops) noexcept {
  detail::cell_base* dropped = nullptr;
  detail::cell_base* found = nullptr;
  {
    std::lock_guard lock(names_mutex_);
    std::string key;
    try {
      key = std::string(name);
    } catch (...) {
      return nullptr;
    }
    auto it = names_.find(key);
    if (it == names_.end()) return nullptr;
    if (stale(it->second.cell)) {
      dropped = it->second.cell;
      names_.erase(it);
    } else if (it->second.tag == tag && try_retain(it->second.cell)) {
      found = it->second.cell;
      ops = it->second.ops;
    }
  }
  if (dropped) release_cell(dropped);
  return found;
}

void system::drop_names(detail::cell_base* cell) noexcept {
  auto* x = extras_if_any(core_of(*cell));
  // acquire: paired with register_name()'s release (the entry is in the map)
  if (!x || !x->named.load(std::memory_order_acquire)) return;
  std::vector<detail::cell_base*> held;
  {
    std::lock_guard lock(names_mutex_);
    for (auto it = names_.begin(); it != names_.end();) {
      if (it->second.cell == cell) {
        try {
          held.push_back(cell);
        } catch (...) {
          ++it;  // out of memory: left for a later lookup to find stale
          continue;
        }
        it = names_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto* c : held) release_cell(c);  // the caller's turn still holds the memory: never the last
}

void system::clear_names() noexcept {
  std::unordered_map<std::string, name_entry> all;
  {
    std::lock_guard lock(names_mutex_);
    all.swap(names_);
  }
  for (auto& [name, entry] : all) release_cell(entry.cell);
}

}  // namespace courier::internal

namespace courier::detail {

errc register_name(internal::system* sys, std::string_view name, cell_base* cell, const void* ops,
                   const void* tag) noexcept {
  return sys->register_name(name, cell, ops, tag);
}

cell_base* whereis(internal::system* sys, std::string_view name, const void* tag, const void*& ops) noexcept {
  return sys->whereis(name, tag, ops);
}

}  // namespace courier::detail
