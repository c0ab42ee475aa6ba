#pragma once
// The injection queue: actors made runnable by threads outside the pool.
// The only file that includes moodycamel's ConcurrentQueue (its include
// spelling differs between Debian and the meson wrap).
//
// It is NOT a mailbox: ConcurrentQueue keeps FIFO per producer only, which is
// all a queue of runnable actors needs (each actor is in it at most once).

#include <atomic>
#include <cstdint>

#if __has_include(<concurrentqueue/concurrentqueue.h>)
#include <concurrentqueue/concurrentqueue.h>
#else
#include <concurrentqueue.h>
#endif

#include <courier/detail/cell.hpp>

namespace courier::internal {

class injection_queue {
 public:
  /// Any thread. seq_cst on the count: the parking worker's re-check reads it
  /// after announcing itself (a store->load pair, see parker.hpp).
  void push(detail::cell_base* cell) {
    queue_.enqueue(cell);
    // seq_cst: pairs with the seq_cst load in pending(); the enqueue happens-before
    // any worker that reads the incremented count.
    pending_.fetch_add(1, std::memory_order_seq_cst);
  }

  detail::cell_base* try_pop() noexcept {
    detail::cell_base* cell = nullptr;
    if (!queue_.try_dequeue(cell)) return nullptr;
    pending_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: an upper bound is all readers need
    return cell;
  }

  /// Items pushed and not yet popped (may briefly overcount).
  bool pending() const noexcept { return pending_.load(std::memory_order_seq_cst) > 0; }  // seq_cst: see push()

 private:
  moodycamel::ConcurrentQueue<detail::cell_base*> queue_;
  std::atomic<std::int64_t> pending_{0};
};

}  // namespace courier::internal
