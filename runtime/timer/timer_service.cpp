#include "runtime/timer/timer_service.hpp"

#include <pthread.h>

namespace courier::internal {

void timer_service::add(clock::time_point when, detail::timer_job job) noexcept {
  {
    std::unique_lock lock(mutex_);
    if (!stopped_) {
      bool earliest = heap_.empty() || when < heap_.top().when;
      heap_.push({when, sequence_++, job});
      if (!thread_.joinable()) {
        thread_ = std::thread([this] { run(); });
        return;
      }
      if (earliest) wake_.notify_one();
      return;
    }
  }
  job.run(job.first, job.second, false);
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
    if (auto deadline = heap_.top().when; deadline > now) {
      // A copy: wait_until reads its deadline after releasing the lock, when
      // an add() may have reallocated the heap (found by tools/fuzz, ASan).
      wake_.wait_until(lock, deadline);
      continue;
    }
    while (!heap_.empty() && heap_.top().when <= now) {
      due.push_back(heap_.top().job);
      heap_.pop();
    }
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
    while (!heap_.empty()) {
      pending.push_back(heap_.top().job);
      heap_.pop();
    }
    thread = std::move(thread_);
  }
  wake_.notify_all();
  if (thread.joinable()) thread.join();
  for (auto& job : pending) job.run(job.first, job.second, false);
}

std::size_t timer_service::pending() noexcept {
  std::lock_guard lock(mutex_);
  return heap_.size();
}

}  // namespace courier::internal
