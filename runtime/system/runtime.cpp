// The public runtime class: a handle on an internal::system.

#include <courier/detail/allocator.hpp>
#include <courier/detail/futex.hpp>
#include <courier/runtime.hpp>

#include "runtime/actor/lifecycle.hpp"
#include "runtime/sched/worker.hpp"
#include "runtime/system/system.hpp"

namespace courier {

runtime::runtime(config cfg) : system_(detail::make<internal::system>(*this, cfg)) {}

runtime::~runtime() {
  system_->teardown();
  system_->release();
}

bool runtime::shutdown_for(std::chrono::steady_clock::duration grace) {
  // Inside a handler: begin the shutdown, never wait for it (that would wait
  // for this very handler); a later call from outside finishes it.
  if (detail::refuse_blocking_call("runtime::shutdown")) return system_->shutdown(grace, false);
  return system_->shutdown(grace);
}

void runtime::set_error_hook(error_hook hook) { system_->set_error_hook(std::move(hook)); }

std::size_t runtime::workers() const noexcept { return system_->scheduler().size(); }

courier::stats runtime::stats() const noexcept { return system_->stats(); }

courier::metrics runtime::metrics() const { return system_->metrics(); }

}  // namespace courier

namespace courier::detail {

runtime& owner(internal::system* sys) noexcept { return sys->owner(); }

type_metrics_block* type_metrics_for(internal::system* sys, std::string_view type) {
  return sys->type_metrics(type);
}

std::size_t current_worker_index() noexcept {
  auto* w = internal::worker::current();
  return w ? w->index() : 0;  // handlers run only on their runtime's workers
}

void count_failed_reply(internal::system* sys, errc code) noexcept {
  using internal::counter_set;
  auto field = &counter_set::replies_failed_handler;
  switch (code) {
    case errc::actor_stopped: field = &counter_set::replies_failed_stopped; break;
    case errc::mailbox_full: field = &counter_set::replies_failed_full; break;
    case errc::timeout: field = &counter_set::replies_failed_timeout; break;
    case errc::handler_failed:
    case errc::would_block:       // never completes a reply
    case errc::invalid_argument:  // a handler's own error: counted as the handler's
    case errc::cancelled:         // the caller's side only, never a reply's outcome
      break;
  }
  internal::counters_here(*sys).add(field);
}

void count_discarded_replies(internal::system* sys, std::uint64_t n) noexcept {
  internal::counters_here(*sys).add(&internal::counter_set::replies_discarded, n);
}

bool timers_stopped(internal::system* sys) noexcept { return sys->timers().stopped(); }

void add_timer(internal::system* sys, std::chrono::steady_clock::time_point when, timer_job job) noexcept {
  sys->timers().add(when, job);
}

}  // namespace courier::detail
