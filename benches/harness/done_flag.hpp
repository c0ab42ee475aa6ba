#pragma once
// The end of a workload, as seen by the measuring thread: the last handler
// sets it, the thread waits on it (a futex wait, no polling).

#include <atomic>

namespace bench {

struct done_flag {
  std::atomic<bool> done{false};
  void set() {
    done.store(true, std::memory_order_release);  // release: publishes the workload's results to wait()
    done.notify_all();
  }
  void wait() {
    while (!done.load(std::memory_order_acquire)) done.wait(false, std::memory_order_acquire);  // acquire: pairs with set()
  }
};

}  // namespace bench
