#pragma once
// registry: every live actor of a runtime, so shutdown can reach them all and
// name the ones stuck in a handler. Sharded intrusive lists, each behind a
// mutex: touched at spawn and at stop, never on the send / schedule / run path.

#include <array>
#include <cstdint>
#include <mutex>

#include <courier/detail/cell.hpp>

#include "runtime/actor/core.hpp"

#include "runtime/support/cache_line.hpp"

namespace courier::internal {

using detail::cell_base;

class registry {
 public:
  /// False once close() ran: the runtime no longer accepts actors.
  /// `on_added` runs under the shard's lock, so close() (which takes every
  /// lock after it stopped accepting) sees its effects.
  template <class F>
  bool add(cell_base* cell, F&& on_added) {
    auto& s = shard_of(cell);
    std::lock_guard lock(s.mutex);
    if (!s.open) return false;
    auto& core = core_of(*cell);
    core.id = ++s.registered * shards_.size() + static_cast<std::uint64_t>(&s - shards_.data());
    core.registry_prev = nullptr;
    core.registry_next = s.first;
    if (s.first) core_of(*s.first).registry_prev = cell;
    s.first = cell;
    on_added();
    return true;
  }
  void remove(cell_base* cell) noexcept;

  /// Stops accepting, then calls `f` on every registered cell (under its shard's lock).
  template <class F>
  void close(F&& f) {
    for (auto& s : shards_) {
      std::lock_guard lock(s.mutex);
      s.open = false;
      for (auto* c = s.first; c; c = core_of(*c).registry_next) f(c);
    }
  }

  /// Calls `f` on every registered cell (under its shard's lock): a cell seen
  /// here is not freed until `f` returns.
  template <class F>
  void for_each(F&& f) {
    for (auto& s : shards_) {
      std::lock_guard lock(s.mutex);
      for (auto* c = s.first; c; c = core_of(*c).registry_next) f(c);
    }
  }

 private:
  struct alignas(cache_line_size) shard {
    std::mutex mutex;
    cell_base* first = nullptr;
    std::uint64_t registered = 0;  // ids: registered * shard count + shard index
    bool open = true;
  };

  shard& shard_of(const cell_base* cell) noexcept {
    return shards_[(reinterpret_cast<std::uintptr_t>(cell) >> 6) % shards_.size()];
  }

  std::array<shard, 16> shards_;
};

}  // namespace courier::internal
