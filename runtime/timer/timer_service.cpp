#include "runtime/timer/timer_service.hpp"

#include <pthread.h>

namespace courier::internal {

void timer_service::add(clock::time_point when, detail::timer_task* task) noexcept {
  {
    std::unique_lock lock(mutex_);
    if (!stopped_) {
      bool earliest = heap_.empty() || when < heap_.top().when;
      heap_.push({when, sequence_++, task});
      if (!thread_.joinable()) {
        thread_ = std::thread([this] { run(); });
        return;
      }
      if (earliest) wake_.notify_one();
      return;
    }
  }
  task->cancel();
}

void timer_service::run() noexcept {
  pthread_setname_np(pthread_self(), "courier-timer");
  std::vector<detail::timer_task*> due;
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
      due.push_back(heap_.top().task);
      heap_.pop();
    }
    lock.unlock();
    for (auto* task : due) task->fire();
    due.clear();
    lock.lock();
  }
}

void timer_service::stop() noexcept {
  std::vector<detail::timer_task*> pending;
  std::thread thread;
  {
    std::lock_guard lock(mutex_);
    if (stopped_ && !thread_.joinable() && heap_.empty()) return;
    stopped_ = true;
    while (!heap_.empty()) {
      pending.push_back(heap_.top().task);
      heap_.pop();
    }
    thread = std::move(thread_);
  }
  wake_.notify_all();
  if (thread.joinable()) thread.join();
  for (auto* task : pending) task->cancel();
}

std::size_t timer_service::pending() noexcept {
  std::lock_guard lock(mutex_);
  return heap_.size();
}

}  // namespace courier::internal
