#pragma once
// What every envelope that carries one message does for the actions other
// than `handle` (detail/envelope.hpp): `destroy` destroys the message through
// the envelope type's destroy_message, `release` frees the memory, `refuse`
// does nothing (nobody waits for a plain message). Shared by the plain
// message, a timer's tick and a stream's envelopes.

#include <courier/detail/allocator.hpp>
#include <courier/detail/envelope.hpp>

namespace courier::detail {

/// Runs `what` on `e`, an Env; `handle(Env*, cell_base*)` for action::handle.
template <class Env, class Handle>
[[nodiscard]] ran run_message_action(envelope* e, cell_base* base, action what, Handle&& handle) noexcept {
  auto* self = static_cast<Env*>(e);
  switch (what) {
    case action::handle:
      return handle(self, base);
    case action::destroy:
      Env::destroy_message(e);
      break;
    case action::release:
      detail::destroy(self);
      break;
    case action::refuse:
      break;
  }
  return ran::done;
}

}  // namespace courier::detail
