#include "runtime/actor/registry.hpp"

namespace courier::internal {

bool registry::add(cell_base* cell) {
  auto& s = shard_of(cell);
  std::lock_guard lock(s.mutex);
  if (!s.open) return false;
  cell->registry_prev = nullptr;
  cell->registry_next = s.first;
  if (s.first) s.first->registry_prev = cell;
  s.first = cell;
  return true;
}

void registry::remove(cell_base* cell) noexcept {
  auto& s = shard_of(cell);
  std::lock_guard lock(s.mutex);
  if (cell->registry_prev)
    cell->registry_prev->registry_next = cell->registry_next;
  else
    s.first = cell->registry_next;
  if (cell->registry_next) cell->registry_next->registry_prev = cell->registry_prev;
  cell->registry_prev = cell->registry_next = nullptr;
}

}  // namespace courier::internal
