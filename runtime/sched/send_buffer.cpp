#include "runtime/sched/send_buffer.hpp"

#include "runtime/actor/core.hpp"
#include "runtime/actor/lifecycle.hpp"
#include "runtime/sched/scheduler.hpp"
#include "runtime/sched/worker.hpp"
#include "runtime/support/cache_line.hpp"
#include "runtime/support/chaos.hpp"
#include "runtime/system/system.hpp"

namespace courier::internal {

thread_local constinit send_buffer* send_buffer::open_buffer = nullptr;

void send_buffer::push_now() noexcept {
  if (!may_hold_) return;
  may_hold_ = false;
  lock();
  auto* target = push_locked();
  unlock();
  give_back(target);
}

void send_buffer::take_locked(cell_base* target, envelope* e) noexcept {
  if (target_.load(std::memory_order_relaxed) != target) {  // relaxed: we hold the lock
    // Empty (a switch pushed the last run's chain; another thread may have
    // pushed ours): a new chain. Its address keeps the target reachable,
    // its count makes direct deliveries push it first.
    auto* other = push_locked();  // none, unless a run's switch was missed: never two chains
    detail::retain_address(target);
    // relaxed: whoever must see the count learns of this send through
    // something we do after it (its acquire pairs with our later release)
    core_of(*target).queued.fetch_add(1, std::memory_order_relaxed);
    first_ = last_ = e;
    count_ = 1;
    target_.store(target, std::memory_order_relaxed);  // relaxed: as the count
    may_hold_ = true;
    unlock();
    give_back(other);
    monitor_->wake();  // work only this worker holds now (see the header)
    return;
  }
  // The chain is full (take() appended the rest).
  last_->next.store(e, std::memory_order_relaxed);  // relaxed: published with the chain
  last_ = e;
  auto* full = push_locked();
  may_hold_ = false;
  unlock();
  give_back(full);
}

void send_buffer::push_if_for(cell_base* target) noexcept {
  // acquire: pairs with push_locked()'s release store of null: a chain we
  // do not find here was pushed before we go on.
  if (target_.load(std::memory_order_acquire) != target) return;
  lock();
  cell_base* pushed = nullptr;
  if (target_.load(std::memory_order_relaxed) == target) pushed = push_locked();  // relaxed: we hold the lock
  unlock();
  give_back(pushed);
}

void send_buffer::push_if_idle() noexcept {
  if (!target_.load(std::memory_order_relaxed)) return;  // relaxed: a hint; an empty buffer needs nothing
  if (!try_lock()) return;  // the owner is appending: it is not stuck, the next sample looks again
  auto* target = push_locked();  // an idle target is scheduled by the push (injection queue, notify)
  unlock();
  give_back(target);
}

cell_base* send_buffer::push_locked() noexcept {
  auto* target = target_.load(std::memory_order_relaxed);  // relaxed: we hold the lock
  if (!target) return nullptr;
  COURIER_CHAOS_POINT("send buffer: before pushing a chain");
  push_chain_to(target, first_, last_);
  first_ = last_ = nullptr;
  count_ = 0;
  // release: pairs with push_if_for()'s acquire load: a thread that finds
  // the chain gone finds it in the mailbox.
  target_.store(nullptr, std::memory_order_release);
  return target;
}

void send_buffer::give_back(cell_base* target) noexcept {
  if (!target) return;
  // release: pairs with push_buffered_to()'s acquire load: a deliverer that
  // sees the count drop sees the chain pushed.
  core_of(*target).queued.fetch_sub(1, std::memory_order_release);
  detail::release_address(target);
}

void send_buffer::lock_contended() noexcept {
  do {
    while (locked_.load(std::memory_order_relaxed)) cpu_relax();  // relaxed: only a wait; the exchange decides
  } while (locked_.exchange(true, std::memory_order_acquire));  // acquire: as in lock()
}

bool send_buffer::try_lock() noexcept {
  return !locked_.exchange(true, std::memory_order_acquire);  // acquire: as in lock()
}

void push_buffered_to(cell_base* target) noexcept {
  auto& core = core_of(*target);
  if (core.capacity() != 0) return;  // a bounded mailbox: never buffered
  // acquire: pairs with give_back()'s release decrement (a chain counted
  // out was pushed); a count still up sends us to look for the chain.
  if (core.queued.load(std::memory_order_acquire) == 0) return;
  auto& pool = system_of(*target).scheduler();
  for (std::size_t i = 0; i < pool.size(); ++i) pool.at(i).buffer().push_if_for(target);
}

}  // namespace courier::internal
