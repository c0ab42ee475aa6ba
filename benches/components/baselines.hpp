#pragma once
// Reference queues for the component benchmarks' ratios: a mutex + deque
// (what a hand-rolled queue looks like) and moodycamel's ConcurrentQueue
// (the lower bound of a queue operation).

#include <deque>
#include <mutex>

namespace bench {

template <class T>
class mutex_deque {
 public:
  void push(T value) {
    std::lock_guard lock(mutex_);
    items_.push_back(value);
  }
  bool pop(T& out) {
    std::lock_guard lock(mutex_);
    if (items_.empty()) return false;
    out = items_.front();
    items_.pop_front();
    return true;
  }

 private:
  std::mutex mutex_;
  std::deque<T> items_;
};

}  // namespace bench
