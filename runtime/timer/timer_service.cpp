#include "runtime/timer/timer_service.hpp"

#include <pthread.h>

#include <algorithm>
#include <functional>

namespace courier::internal {

namespace {

/// Below this many entries a heap is never compacted (it is small anyway).
constexpr std::size_t compaction_floor = 256;

void run_unfired(std::vector<detail::timer_job>& jobs) noexcept {
  for (auto& job : jobs) job.run(job.first, job.second, false);
  jobs.clear();
}

}  // namespace

void timer_service::push(entry e) {
  heap_.push_back(e);
  std::push_heap(heap_.begin(), heap_.end(), std::greater<entry>{});
  size_.store(heap_.size(), std::memory_order_relaxed);  // relaxed: a hint for note_revoked()
}

timer_service::entry timer_service::pop() {
  std::pop_heap(heap_.begin(), heap_.end(), std::greater<entry>{});
  auto e = heap_.back();
  heap_.pop_back();
  size_.store(heap_.size(), std::memory_order_relaxed);  // relaxed: as in push()
  return e;
}

bool timer_service::should_compact() const noexcept {
  return heap_.size() >= compaction_floor && revoked_.load(std::memory_order_relaxed) * 2 >= heap_.size();
}

void timer_service::compact(std::vector<detail::timer_job>& out) {
  auto live = std::partition(heap_.begin(), heap_.end(), [](const entry& e) {
    return !(e.job.revoked && e.job.revoked(e.job.first));
  });
  for (auto it = live; it != heap_.end(); ++it) out.push_back(it->job);
  heap_.erase(live, heap_.end());
  std::make_heap(heap_.begin(), heap_.end(), std::greater<entry>{});
  if (heap_.capacity() > 4 * compaction_floor && heap_.size() < heap_.capacity() / 4) heap_.shrink_to_fit();
  size_.store(heap_.size(), std::memory_order_relaxed);  // relaxed: as in push()
  revoked_.store(0, std::memory_order_relaxed);
}

void timer_service::add(clock::time_point when, detail::timer_job job) noexcept {
  std::vector<detail::timer_job> dropped;
  {
    std::unique_lock lock(mutex_);
    if (!stopped_) {
      try {
        if (should_compact()) compact(dropped);
        bool earliest = heap_.empty() || when < heap_.front().when;
        push({when, sequence_++, job});
        if (!thread_.joinable()) {
          thread_ = std::thread([this] { run(); });
        } else if (earliest) {
          wake_.notify_one();
        }
        lock.unlock();
        run_unfired(dropped);
        return;
      } catch (...) {
        // Out of memory (or no thread): the job cannot wait; it runs now, not
        // fired, like a job added after stop().
      }
    }
  }
  run_unfired(dropped);
  job.run(job.first, job.second, false);
}

void timer_service::note_revoked() noexcept {
  auto revoked = revoked_.fetch_add(1, std::memory_order_relaxed) + 1;  // relaxed: a heuristic (see revoked_)
  // relaxed: a hint; the lock below decides (most cancels never take it)
  auto size = size_.load(std::memory_order_relaxed);
  if (size < compaction_floor || revoked * 2 < size) return;
  std::vector<detail::timer_job> dropped;
  {
    std::lock_guard lock(mutex_);
    if (stopped_ || !should_compact()) return;
    try {
      compact(dropped);
    } catch (...) {
      return;  // out of memory: the entries stay until due
    }
  }
  run_unfired(dropped);
}

void timer_service::run() noexcept {
  pthread_setname_np(pthread_self(), "courier-timer");
  std::vector<detail::timer_job> due;
  std::unique_lock lock(mutex_);
  while (!stopped_) {
    if (heap_.empty()) {
      wake_.wait(lock);
      continue;
    }
    auto now = clock::now();
    if (auto deadline = heap_.front().when; deadline > now) {
      // A copy: wait_until reads its deadline after releasing the lock, when
      // an add() may have reallocated the heap (found by tools/fuzz, ASan).
      wake_.wait_until(lock, deadline);
      continue;
    }
    while (!heap_.empty() && heap_.front().when <= now) due.push_back(pop().job);
    lock.unlock();
    for (auto& job : due) job.run(job.first, job.second, true);
    due.clear();
    lock.lock();
  }
}

void timer_service::stop() noexcept {
  std::vector<detail::timer_job> pending;
  std::thread thread;
  {
    std::lock_guard lock(mutex_);
    if (stopped_ && !thread_.joinable() && heap_.empty()) return;
    stopped_ = true;
    // release: before the pending jobs run (their wake-ups), for stopped()
    closed_.store(true, std::memory_order_release);
    for (auto& e : heap_) pending.push_back(e.job);
    heap_.clear();
    size_.store(0, std::memory_order_relaxed);  // relaxed: as in push()
    thread = std::move(thread_);
  }
  wake_.notify_all();
  if (thread.joinable()) thread.join();
  run_unfired(pending);
}

std::size_t timer_service::pending() noexcept {
  std::lock_guard lock(mutex_);
  return heap_.size();
}

}  // namespace courier::internal
