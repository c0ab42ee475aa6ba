#include "runtime/actor/registry.hpp"

namespace courier::internal {

void registry::remove(cell_base* cell) noexcept {
  auto& s = shard_of(cell);
  std::lock_guard lock(s.mutex);
  auto& core = core_of(*cell);
  if (core.registry_prev)
    core_of(*core.registry_prev).registry_next = core.registry_next;
  else
    s.first = core.registry_next;
  if (core.registry_next) core_of(*core.registry_next).registry_prev = core.registry_prev;
  core.registry_prev = core.registry_next = nullptr;
}

}  // namespace courier::internal
