#pragma once
// ref_count: the owners of a shared, heap-allocated runtime object (a reply
// slot, a ctx.ask continuation, an awaited request). Whoever drops the last
// reference frees the object.

#include <atomic>
#include <cstdint>

namespace courier::detail {

class ref_count {
 public:
  explicit ref_count(std::uint32_t owners) noexcept : count_(owners) {}
  ref_count(const ref_count&) = delete;
  ref_count& operator=(const ref_count&) = delete;

  /// One more owner. The caller is an owner already, so the count is not 0.
  void retain() noexcept {
    count_.fetch_add(1, std::memory_order_relaxed);  // relaxed: no 0 -> 1 transition; publication is the caller's (e.g. a mailbox push)
  }

  /// One owner fewer; true for the last one, which must free the object.
  [[nodiscard]] bool release() noexcept {
    // acq_rel: release publishes this owner's writes; the last owner's
    // acquire sees every other owner's writes before it frees the object.
    return count_.fetch_sub(1, std::memory_order_acq_rel) == 1;
  }

 private:
  std::atomic<std::uint32_t> count_;
};

}  // namespace courier::detail
