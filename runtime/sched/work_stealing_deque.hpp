#pragma once
// work_stealing_deque<T*>: the Chase-Lev deque, with the memory orders of
//   N. M. Lê, A. Pop, A. Cohen, F. Zappa Nardelli, "Correct and Efficient
//   Work-Stealing for Weak Memory Models", PPoPP 2013 (figure 1).
// The owner pushes and pops at the bottom; thieves steal at the top.
//
// Deviations from the paper (each one also marked where it happens):
//  - The paper's standalone fences are folded into seq_cst accesses
//    (ThreadSanitizer does not model fences): push's bottom store and
//    pop's bottom store, and the top/bottom loads of pop and steal.
//    push's store must be seq_cst anyway: the scheduler's wake-up check
//    (scheduler::notify) reads the searching/parked counts after it, a
//    store->load pair (see parker.hpp).
//  - Slots are atomics (relaxed) so a stale read by a losing thief is not a
//    data race; the paper's buffer is plain memory.
//  - Growth keeps old buffers until the deque dies (a thief may still read
//    one); the paper leaves reclamation open.
//  - courier's workers take their own work from the top with steal() (FIFO),
//    so that a rescheduled actor runs after everything already queued (I5);
//    locality comes from the worker's run-next slot instead. pop() (LIFO) is
//    the paper's; the runtime does not call it (the unit tests and the
//    component benchmark exercise it, so the deque stays the paper's whole).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/support/cache_line.hpp"
#include "runtime/support/chaos.hpp"

namespace courier::internal {

template <class T>
class work_stealing_deque {
  static_assert(std::is_pointer_v<T>, "the deque holds pointers (null means empty)");

  struct buffer {
    explicit buffer(std::int64_t cap) : capacity(cap), mask(cap - 1), slots(new std::atomic<T>[cap]) {}
    T get(std::int64_t i) const noexcept {
      return slots[i & mask].load(std::memory_order_relaxed);  // relaxed: ordered by the bottom/top accesses around it
    }
    void put(std::int64_t i, T value) noexcept {
      slots[i & mask].store(value, std::memory_order_relaxed);  // relaxed: published by push's bottom store
    }
    std::int64_t capacity;
    std::int64_t mask;
    std::unique_ptr<std::atomic<T>[]> slots;
  };

 public:
  explicit work_stealing_deque(std::int64_t capacity = 256) {
    auto first = std::make_unique<buffer>(capacity);
    buffer_.store(first.get(), std::memory_order_relaxed);  // relaxed: not yet shared
    buffers_.push_back(std::move(first));
  }

  /// Owner only. Step 1: read bottom and top; 2: grow if full; 3: write the
  /// slot; 4: publish with the bottom store.
  void push(T value) {
    auto b = bottom_.load(std::memory_order_relaxed);  // relaxed: only the owner writes bottom
    auto t = top_.load(std::memory_order_acquire);     // acquire: pairs with the steal CAS, so the slot we reuse was read
    auto* a = buffer_.load(std::memory_order_relaxed);  // relaxed: only the owner writes buffer_
    if (b - t > a->capacity - 1) a = grow(a, b, t);
    a->put(b, value);
    // paper: fence(release); store relaxed. seq_cst here: release publishes the
    // slot to thieves' acquire of bottom; seq_cst orders it before the
    // scheduler's load of the searching/parked counts that follows.
    bottom_.store(b + 1, std::memory_order_seq_cst);
  }

  /// Owner only (LIFO). Step 1: reserve the bottom slot; 2: read top;
  /// 3: if it was the last element, race the thieves for it with a CAS.
  T pop() noexcept {
    auto b = bottom_.load(std::memory_order_relaxed) - 1;  // relaxed: only the owner writes bottom
    auto* a = buffer_.load(std::memory_order_relaxed);     // relaxed: only the owner writes buffer_
    // paper: store relaxed; fence(seq_cst); load top relaxed. Both seq_cst
    // here: the store must be ordered before the load of top (store->load).
    bottom_.store(b, std::memory_order_seq_cst);
    auto t = top_.load(std::memory_order_seq_cst);
    T value = nullptr;
    if (t <= b) {
      value = a->get(b);
      if (t == b) {
        // seq_cst: the single-element race with steal's CAS, as in the paper
        if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed))
          value = nullptr;
        bottom_.store(b + 1, std::memory_order_relaxed);  // relaxed: only the owner reads it without the CAS
      }
    } else {
      bottom_.store(b + 1, std::memory_order_relaxed);  // relaxed: restores the owner's own reservation
    }
    return value;
  }

  /// Any thread (FIFO). Step 1: read top, then bottom; 2: read the slot;
  /// 3: claim it with a CAS on top. Null when empty or when the CAS lost.
  T steal() noexcept {
    // paper: load top acquire; fence(seq_cst); load bottom acquire
    auto t = top_.load(std::memory_order_seq_cst);
    auto b = bottom_.load(std::memory_order_seq_cst);  // pairs with push's seq_cst store: the slot is visible
    if (t >= b) return nullptr;
    auto* a = buffer_.load(std::memory_order_acquire);  // acquire: pairs with grow's release store
    T value = a->get(t);
    COURIER_CHAOS_POINT("steal: slot read, before the CAS");
    // seq_cst: the CAS that elects one taker of slot t (paper: seq_cst)
    if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed))
      return nullptr;
    return value;
  }

  /// Approximate size (any thread); seq_cst loads for the parking re-check.
  std::int64_t size() const noexcept {
    auto b = bottom_.load(std::memory_order_seq_cst);
    auto t = top_.load(std::memory_order_seq_cst);
    return b > t ? b - t : 0;
  }

  bool empty() const noexcept { return size() == 0; }

 private:
  buffer* grow(buffer* old, std::int64_t b, std::int64_t t) {
    auto bigger = std::make_unique<buffer>(old->capacity * 2);
    for (auto i = t; i < b; ++i) bigger->put(i, old->get(i));
    auto* raw = bigger.get();
    buffers_.push_back(std::move(bigger));  // owner only; old buffers stay readable by thieves
    buffer_.store(raw, std::memory_order_release);  // release: pairs with steal's acquire; publishes the copied slots
    return raw;
  }

  alignas(cache_line_size) std::atomic<std::int64_t> top_{0};
  alignas(cache_line_size) std::atomic<std::int64_t> bottom_{0};
  std::atomic<buffer*> buffer_{nullptr};
  std::vector<std::unique_ptr<buffer>> buffers_;  // owner only
};

}  // namespace courier::internal
