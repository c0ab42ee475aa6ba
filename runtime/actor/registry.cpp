#include "runtime/actor/registry.hpp"

namespace courier::internal {

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
