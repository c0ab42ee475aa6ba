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
  /// Any thread. The caller then calls scheduler::notify(), which loads the
  /// searching count and the parked mask: a store->load pair with the parking
  /// worker's announce-then-re-check (see parker.hpp).
  void push(detail::cell_base* cell) {
    queue_.enqueue(cell);
    // seq_cst fence (a deliberate deviation from "no standalone fences"): the
    // enqueue's stores are moodycamel's own (release, not seq_cst), so only a
    // fence orders them before notify()'s loads. Pairs with the seq_cst fence
    // in worker::park() between prepare_wait() and the re-check. An earlier
    // version bumped a shared seq_cst counter here instead; that cost a
    // contended cache line per external send (see docs/performance.md).
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }

  detail::cell_base* try_pop() noexcept {
    detail::cell_base* cell = nullptr;
    return queue_.try_dequeue(cell) ? cell : nullptr;
  }

  /// Anything queued (approximate; exact once the pushes happen-before, or
  /// are fenced against, the caller's fence).
  bool pending() const noexcept { return queue_.size_approx() > 0; }

 private:
  moodycamel::ConcurrentQueue<detail::cell_base*> queue_;
};

}  // namespace courier::internal
