#pragma once
// tracked: a payload that counts its constructions and destructions, so a
// test can prove a queue neither leaks nor destroys twice.

#include <atomic>
#include <cstdint>

namespace courier::test {

struct tracked {
  static inline std::atomic<std::int64_t> live{0};

  explicit tracked(std::uint64_t v = 0) noexcept : value(v) { live.fetch_add(1, std::memory_order_relaxed); }
  tracked(const tracked& other) noexcept : value(other.value) { live.fetch_add(1, std::memory_order_relaxed); }
  tracked(tracked&& other) noexcept : value(other.value) { live.fetch_add(1, std::memory_order_relaxed); }
  tracked& operator=(const tracked&) = default;
  tracked& operator=(tracked&&) = default;
  ~tracked() { live.fetch_sub(1, std::memory_order_relaxed); }

  std::uint64_t value;
};

/// Proves exclusivity: a handler enters, and no other handler of the same
/// actor may be inside at the same time (I1).
class exclusive {
 public:
  class scope {
   public:
    explicit scope(exclusive& e) : e_(e) {
      if (e_.inside_.exchange(true, std::memory_order_acq_rel)) e_.violations_.fetch_add(1);
    }
    ~scope() { e_.inside_.store(false, std::memory_order_release); }

   private:
    exclusive& e_;
  };
  std::uint64_t violations() const { return violations_.load(); }

 private:
  std::atomic<bool> inside_{false};
  std::atomic<std::uint64_t> violations_{0};
};

}  // namespace courier::test
