#pragma once
// collected<T>: what a test's actors hand to the test thread (downs,
// exit_signals), under a lock, with a count the test can wait on.

#include <atomic>
#include <mutex>
#include <utility>
#include <vector>

namespace courier::test {

template <class T>
struct collected {
  std::mutex mutex;
  std::vector<T> got;
  std::atomic<int> count{0};

  void add(T value) {
    std::lock_guard lock(mutex);
    got.push_back(std::move(value));
    count.fetch_add(1);
  }
  std::vector<T> snapshot() {
    std::lock_guard lock(mutex);
    return got;
  }
};

}  // namespace courier::test
