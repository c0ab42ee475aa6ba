#pragma once
// The envelopes of notifications: the `down` a watcher prepares when it
// calls monitor() (allocated up front, so the target's last turn, which fills
// it in and mails it, never allocates), and the exit_signal of a link.
// Included at the end of context.hpp (they need context<A>).

#include <type_traits>
#include <utility>

#include <courier/detail/allocator.hpp>
#include <courier/detail/failure.hpp>
#include <courier/detail/monitors.hpp>
#include <courier/detail/type_name.hpp>
#include <courier/handlers.hpp>

namespace courier::detail {

/// The `down` of one monitor, for a watcher A that handles it (F = void:
/// on(courier::down), counted as a message) or through a continuation F.
template <class A, class F>
struct down_envelope final : down_envelope_base {
  static constexpr bool as_message = std::is_void_v<F>;
  using fn_type = std::conditional_t<as_message, char, F>;

  template <class... G>
  explicit down_envelope(G&&... g)
      : down_envelope_base(&run_fn, as_message ? envelope::counted : 0u), fn(std::forward<G>(g)...) {
    free = &free_fn;
  }

  static void free_fn(down_envelope_base* e) noexcept { detail::destroy(static_cast<down_envelope*>(e)); }

  static ran run_fn(envelope* e, cell_base* base, action what) noexcept {
    auto* self = static_cast<down_envelope*>(e);
    switch (what) {
      case action::handle:
        if (!claim_down(base, self)) return ran::discarded;
        if constexpr (as_message) {
          auto* c = access::cell_of<A>(base);
          call_reporting(base, &type_name<courier::down>, [&] {
            (void)invoke_handler(c->actor, std::move(self->value), static_cast<context<A>&>(*c));
          });
        } else {
          call_reporting(base, "monitor continuation", [&] { self->fn(std::move(self->value)); });
        }
        break;
      case action::destroy:
      case action::refuse:
        break;  // the record keeps its value until the last reference goes
      case action::release:
        release_down(self);
        break;
    }
    return ran::done;
  }

  [[no_unique_address]] fn_type fn;
};

/// An exit_signal for a linked actor A that handles it (trapping exits):
/// a message, bypassing capacity; dropped if A unlinked the sender meanwhile.
template <class A>
struct signal_envelope final : envelope {
  explicit signal_envelope(courier::exit_signal&& s) : envelope(&run_fn, envelope::counted), value(std::move(s)) {}

  static ran run_fn(envelope* e, cell_base* base, action what) noexcept {
    auto* self = static_cast<signal_envelope*>(e);
    switch (what) {
      case action::handle: {
        if (!claim_signal(base, self->value.actor)) return ran::discarded;
        auto* c = access::cell_of<A>(base);
        call_reporting(base, &type_name<courier::exit_signal>, [&] {
          (void)invoke_handler(c->actor, std::move(self->value), static_cast<context<A>&>(*c));
        });
        break;
      }
      case action::destroy:
      case action::refuse:
        break;
      case action::release:
        detail::destroy(self);
        break;
    }
    return ran::done;
  }

  courier::exit_signal value;
};

}  // namespace courier::detail
