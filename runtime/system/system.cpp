#include "runtime/system/system.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <courier/detail/allocator.hpp>
#include <courier/detail/futex.hpp>

#include "runtime/actor/lifecycle.hpp"
#include "runtime/mailbox/mailbox.hpp"

namespace courier::internal {

namespace {

std::size_t worker_count(const config& cfg) {
  if (cfg.workers != 0) return cfg.workers;
  auto n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

void default_hook(std::string_view actor, std::string_view message, std::string_view what) {
  std::fprintf(stderr, "courier: actor '%.*s' failed handling '%.*s': %.*s\n", static_cast<int>(actor.size()),
               actor.data(), static_cast<int>(message.size()), message.data(), static_cast<int>(what.size()),
               what.data());
}

std::atomic<std::uint64_t> next_system_id{1};

}  // namespace

system::system(courier::runtime& owner, const config& cfg)
    : owner_(owner),
      id_(next_system_id.fetch_add(1, std::memory_order_relaxed)),  // relaxed: only uniqueness matters
      scheduler_(*this, worker_count(cfg), cfg),
      stuck_after_(cfg.stuck_after),
      hook_(std::make_shared<const error_hook>(default_hook)) {
  scheduler_.start();
}

void system::release() noexcept {
  // acq_rel: the last releaser must see every other holder's writes before destroying
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) detail::destroy(this);
}

void system::actor_finished() noexcept {
  // seq_cst: the load after the caller's seq_cst `stopped` increment; with
  // wait_for_actors()'s store of awaiting_ then loads of the counters, one of
  // the two sides sees the other (store->load).
  if (!awaiting_.load(std::memory_order_seq_cst)) return;
  finish_epoch_.fetch_add(1, std::memory_order_release);  // release: pairs with the waiter's acquire load of the epoch
  detail::futex_wake_all(finish_epoch_);
}

template <class F>
void system::for_each_counter_set(F&& f) {
  for (std::size_t i = 0; i < scheduler_.size(); ++i) f(scheduler_.at(i).counters());
  std::lock_guard lock(outside_mutex_);
  for (auto& set : outside_counters_) f(*set);
}

counter_set& system::outside_counters() {
  struct slot {
    std::uint64_t system_id = 0;
    counter_set* set = nullptr;
  };
  thread_local slot cache[4];
  thread_local unsigned next_victim = 0;
  for (auto& s : cache)
    if (s.system_id == id_) return *s.set;
  auto owned = std::make_unique<counter_set>();
  auto* set = owned.get();
  {
    std::lock_guard lock(outside_mutex_);
    outside_counters_.push_back(std::move(owned));
  }
  cache[next_victim++ % 4] = {id_, set};
  return *set;
}

std::uint64_t system::live_actors() noexcept {
  std::uint64_t spawned = 0, stopped = 0;
  for_each_counter_set([&](const counter_set& set) {
    // seq_cst: the waiter's half of the store->load pair (see actor_finished())
    spawned += set.spawned.load(std::memory_order_seq_cst);
    stopped += set.stopped.load(std::memory_order_seq_cst);
  });
  return spawned - stopped;
}

void system::set_error_hook(error_hook hook) {
  auto next = std::make_shared<const error_hook>(std::move(hook));
  std::lock_guard lock(hook_mutex_);
  hook_ = std::move(next);
}

void system::report(std::string_view actor, std::string_view message, std::string_view what) noexcept {
  std::shared_ptr<const error_hook> hook;
  {
    std::lock_guard lock(hook_mutex_);
    hook = hook_;
  }
  try {
    if (hook && *hook) (*hook)(actor, message, what);
  } catch (...) {
    default_hook(actor, message, "the error hook threw");
  }
}

bool system::wait_for_actors(bool timed, std::chrono::steady_clock::time_point until) noexcept {
  awaiting_.store(true, std::memory_order_seq_cst);  // seq_cst: see actor_finished()
  for (;;) {
    auto epoch = finish_epoch_.load(std::memory_order_acquire);  // acquire: pairs with actor_finished()'s release
    // No spawn can start any more (the registry is closed), and every spawn
    // that got in counted itself under the registry lock, which close() took
    // after it: `spawned` is final here.
    if (live_actors() == 0) return true;
    if (timed && std::chrono::steady_clock::now() >= until) return false;
    detail::futex_wait(finish_epoch_, epoch, timed, until);
  }
}

void system::begin_shutdown() {
  shutdown_begun_.store(true, std::memory_order_relaxed);  // relaxed: see shutdown_begun()
  timers_.stop();  // pending timers are dropped (and counted)
  registry_.close([](detail::cell_base* cell) { request_end(cell, bits::shutdown_requested, exit_reason::shutdown); });
  observe(stuck_after_);  // the first sighting of every actor inside a handler: timed from here
}

bool system::shutdown(std::chrono::steady_clock::duration grace, bool may_wait) {
  std::unique_lock lock(shutdown_mutex_);
  if (!may_wait) {  // inside a handler: begin, never wait
    if (phase_ == phase::running) {
      begin_shutdown();  // under the lock, so a waiter that takes over sees it complete
      phase_ = phase::begun;
    }
    return false;
  }
  if (phase_ == phase::shutting_down || phase_ == phase::shut_down) {
    shutdown_done_.wait(lock, [&] { return phase_ == phase::shut_down; });
    return clean_;
  }
  if (phase_ == phase::running) begin_shutdown();
  phase_ = phase::shutting_down;  // from running, or taking over one a handler began
  lock.unlock();

  auto until = std::chrono::steady_clock::now() + grace;
  bool clean = wait_for_actors(true, until);
  if (clean) {
    scheduler_.stop();
  } else {
    auto stuck = observe(std::chrono::nanoseconds{0});  // every actor still inside a handler
    registry_.for_each([](detail::cell_base* cell) {
      request_end(cell, bits::stop_requested, exit_reason::shutdown);  // what is still queued is dropped as soon as a worker gets to it
    });
    for (auto& a : stuck) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(a.inside).count();
      auto about = a.type + " #" + std::to_string(a.id) + (a.suspended ? ", suspended" : "") +
                   ", inside one handler for >= " + std::to_string(ms) + " ms";
      report(a.name, about, "stuck in a handler at shutdown");
    }
  }

  lock.lock();
  phase_ = phase::shut_down;
  clean_ = clean;
  shutdown_done_.notify_all();
  return clean;
}

std::vector<courier::inside_actor> system::observe(std::chrono::nanoseconds at_least) {
  using clock = std::chrono::steady_clock;
  std::lock_guard lock(observe_mutex_);
  std::vector<const detail::cell_base*> running;
  for (std::size_t i = 0; i < scheduler_.size(); ++i) running.push_back(scheduler_.at(i).running());
  // `before` bounds how long a handler seen again has been inside (it was
  // still inside when we looked, after `before`); `after` is the first
  // sighting of a new one (it started before we looked, before `after`).
  auto before = clock::now();
  std::vector<courier::inside_actor> found;
  std::unordered_map<const detail::cell_base*, sighting> seen;
  std::vector<const detail::cell_base*> fresh;
  registry_.for_each([&](detail::cell_base* cell) {
    auto& core = core_of(*cell);
    bool suspended = state::is_suspended(core);
    bool inside = suspended;
    for (auto* r : running) inside |= r == cell;
    if (!inside) return;
    auto epoch = core.handler_epoch.load(std::memory_order_relaxed);  // relaxed: which handler, diagnostics only
    auto previous = sightings_.find(cell);
    if (previous != sightings_.end() && previous->second.epoch == epoch) {
      seen.emplace(cell, previous->second);
      auto inside_for = std::chrono::duration_cast<std::chrono::nanoseconds>(before - previous->second.first_seen);
      if (inside_for < at_least) return;
      found.push_back({std::string(detail::name_of(cell)), std::string(cell->ops->type_name), core.id,
                       std::max(inside_for, std::chrono::nanoseconds{0}), suspended});
    } else {
      seen.emplace(cell, sighting{epoch, {}});
      fresh.push_back(cell);
      if (at_least.count() == 0)
        found.push_back({std::string(detail::name_of(cell)), std::string(cell->ops->type_name), core.id,
                         std::chrono::nanoseconds{0}, suspended});
    }
  });
  auto after = clock::now();
  for (auto* cell : fresh) seen[cell].first_seen = after;
  sightings_ = std::move(seen);  // handlers no longer inside are forgotten
  return found;
}

courier::metrics system::metrics() {
  courier::metrics m;
  auto load = [](const std::atomic<std::uint64_t>& c) {
    return c.load(std::memory_order_relaxed);  // relaxed: a snapshot of monotonic counters
  };
  for (std::size_t i = 0; i < scheduler_.size(); ++i) {
    auto& c = scheduler_.at(i).counters();
    m.workers.push_back({i, load(c.handled), load(c.turns), load(c.batch_limit_hits), load(c.steals_attempted),
                         load(c.steals_succeeded), load(c.parks), load(c.wakeups), load(c.injection_pops)});
  }
  auto sum = totals();
  m.dropped_messages = sum.dropped;
  m.replies_dropped = sum.replies_dropped;
  m.downs = sum.downs;
  m.restarts = sum.restarted;
  m.ticks_skipped = sum.ticks_skipped;
  m.replies_discarded = sum.replies_discarded;
  m.replies_failed = {.actor_stopped = sum.replies_failed_stopped, .mailbox_full = sum.replies_failed_full,
                      .timeout = sum.replies_failed_timeout, .handler_failed = sum.replies_failed_handler};
  m.live_actors = sum.spawned >= sum.stopped ? sum.spawned - sum.stopped : 0;
  auto waiting = senders_waiting_.load(std::memory_order_relaxed);  // relaxed: a gauge
  m.senders_waiting = waiting > 0 ? static_cast<std::uint64_t>(waiting) : 0;
  auto settled = sum.handled + sum.dropped;
  m.queued_messages = sum.accepted >= settled ? sum.accepted - settled : 0;  // counters read one after another: clamp
  m.stuck = observe(stuck_after_);
  std::lock_guard lock(type_metrics_mutex_);
  for (auto& block : type_metrics_) {
    auto& t = m.actor_types.emplace_back();
    t.type = block->type;
    auto add = [&](const detail::type_metrics_shard::histogram& from, courier::histogram& to) {
      for (std::size_t i = 0; i < to.buckets.size(); ++i) {
        auto n = load(from.buckets[i]);
        to.buckets[i] += n;
        to.count += n;
      }
      to.sum_ns += load(from.sum_ns);
    };
    for (auto& shard : block->shards) {
      t.handled += load(shard.handled);
      t.mailbox_high_water = std::max(t.mailbox_high_water, load(shard.high_water));
      add(shard.handler_time, t.handler_time);
      add(shard.mailbox_wait, t.mailbox_wait);
    }
  }
  return m;
}

static_assert(courier::histogram::bucket_count == detail::histogram_buckets);
static_assert(courier::histogram::upper_bound_ns(0) == 256 && detail::bucket_of(255) == 0 && detail::bucket_of(256) == 1);

detail::type_metrics_block* system::type_metrics(std::string_view type) {
  std::lock_guard lock(type_metrics_mutex_);
  for (auto& block : type_metrics_)
    if (block->type == type) return block.get();
  return type_metrics_.emplace_back(std::make_unique<detail::type_metrics_block>(type, scheduler_.size())).get();
}

void system::teardown() {
  shutdown(std::chrono::seconds(5));
  wait_for_actors(false, {});
  clear_names();  // stale entries a racing registration left: their memory goes
  scheduler_.stop();
  timers_.stop();
}

counter_totals system::totals() {
  counter_totals sum;
  for_each_counter_set([&](const counter_set& set) { sum.add(set); });
  return sum;
}

courier::stats system::stats() noexcept {
  auto t = totals();
  return {.spawned = t.spawned, .stopped = t.stopped, .handled = t.handled, .dropped = t.dropped,
          .accepted = t.accepted, .replies_issued = t.replies_issued, .replies_completed = t.replies_completed,
          .restarted = t.restarted, .ticks_skipped = t.ticks_skipped};
}

}  // namespace courier::internal
