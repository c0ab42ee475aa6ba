#pragma once
// actor<Self>: the base class every actor derives from (CRTP).

#include <courier/fwd.hpp>

namespace courier {

/// Derive `class calculator : public courier::actor<calculator>` and declare
/// handlers `R on(M)` or `R on(M, courier::context<calculator>&)`; optional
/// hooks `void on_start(context<Self>&)` and `void on_stop(context<Self>&)`.
/// The runtime calls them one message at a time, so the state needs no lock.
template <class Self>
class actor {
 protected:
  actor() noexcept = default;
  ~actor() = default;

 public:
  using self_type = Self;
  actor(const actor&) = delete;
  actor& operator=(const actor&) = delete;
};

}  // namespace courier
