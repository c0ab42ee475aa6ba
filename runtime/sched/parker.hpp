#pragma once
// parker: how idle workers sleep and how a new runnable actor wakes exactly
// one of them, without a lost wake-up (I3) and without timed polling (I6).
//
// Guarantee: a waiter and a notifier cannot both miss each other.
//
// The two-phase exchange, as a worker runs it:
//
//     parker.prepare_wait(id);              // announce: my bit in the parked mask
//     if (work_visible()) {                 // re-check every queue
//       parker.cancel_wait(id);             // retract (consumes a token if one was sent)
//     } else {
//       parker.commit_wait(id);             // sleep on my futex word until a token arrives
//     }
//
// and a notifier (after it made work visible with a seq_cst store):
//
//     if (searching == 0) parker.notify_one(on_claim);
//
// Why it holds: prepare_wait's bit set and the re-check's loads are seq_cst,
// and so are the notifier's work store and its loads of the counts and of
// the mask. In the single total order of those operations either the
// worker's re-check comes after the work store (it sees the work) or the
// notifier's mask load comes after the bit was set (it wakes the worker).
// A notifier claims a parked worker by clearing its bit with a CAS, so two
// notifiers never wake the same worker, and sends it a token through its own
// futex word (std::atomic::wait / notify_one).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/support/cache_line.hpp"

namespace courier::internal {

class parker {
 public:
  explicit parker(std::size_t workers);

  void prepare_wait(std::size_t id) noexcept;
  /// Retracts the announcement; true if a notifier had already claimed this
  /// worker (its token is consumed: the worker counts as woken).
  bool cancel_wait(std::size_t id) noexcept;
  /// Sleeps until a notifier's token arrives.
  void commit_wait(std::size_t id) noexcept;

  /// Claims one announced worker, calls `on_claim()` (before the worker
  /// can run), and wakes it. False if none was parked.
  template <class OnClaim>
  bool notify_one(OnClaim&& on_claim) noexcept {
    for (std::size_t w = 0; w < masks_.size(); ++w) {
      auto& mask = masks_[w].value;
      auto bits = mask.load(std::memory_order_seq_cst);  // seq_cst: pairs with prepare_wait's fetch_or (see the header)
      while (bits != 0) {
        auto bit = bits & (~bits + 1);
        // seq_cst: one notifier claims the worker; ordered with prepare/cancel on the same word
        if (mask.compare_exchange_weak(bits, bits & ~bit, std::memory_order_seq_cst, std::memory_order_seq_cst)) {
          on_claim();
          give_token(w * 64 + static_cast<std::size_t>(__builtin_ctzll(bit)));
          return true;
        }
      }
    }
    return false;
  }

  /// Wakes every parked worker (shutdown).
  void notify_all() noexcept;

  bool anyone_parked() const noexcept;
  /// All `workers` have announced (seq_cst loads, like anyone_parked()).
  bool all_parked(std::size_t workers) const noexcept;

 private:
  void give_token(std::size_t id) noexcept;

  std::vector<padded<std::atomic<std::uint64_t>>> masks_;
  std::unique_ptr<padded<std::atomic<std::uint32_t>>[]> tokens_;
};

}  // namespace courier::internal
