#include "runtime/sched/parker.hpp"

#include <algorithm>

namespace courier::internal {

parker::parker(std::size_t workers)
    : masks_((workers + 63) / 64), tokens_(new padded<std::atomic<std::uint32_t>>[workers]) {
  for (auto& m : masks_) m.value.store(0, std::memory_order_relaxed);  // relaxed: not yet shared
  for (std::size_t i = 0; i < workers; ++i) tokens_[i].value.store(0, std::memory_order_relaxed);  // relaxed: not yet shared
}

void parker::prepare_wait(std::size_t id) noexcept {
  // seq_cst: the announcement must be ordered before the re-check loads that
  // follow (store->load), against the notifier's work store and mask load.
  masks_[id / 64].value.fetch_or(std::uint64_t{1} << (id % 64), std::memory_order_seq_cst);
}

bool parker::cancel_wait(std::size_t id) noexcept {
  auto bit = std::uint64_t{1} << (id % 64);
  // seq_cst: same word as notify_one's claiming CAS
  auto old = masks_[id / 64].value.fetch_and(~bit, std::memory_order_seq_cst);
  if (old & bit) return false;
  // A notifier claimed us between prepare and cancel: its token is on its
  // way (it sets it right after the claim); consume it so the next wait sleeps.
  auto& token = tokens_[id].value;
  while (token.load(std::memory_order_acquire) == 0) cpu_relax();  // acquire: pairs with give_token's release store
  token.store(0, std::memory_order_relaxed);  // relaxed: only this worker waits on its token
  return true;
}

void parker::commit_wait(std::size_t id) noexcept {
  auto& token = tokens_[id].value;
  for (;;) {
    token.wait(0, std::memory_order_acquire);  // acquire: pairs with give_token's release store (the notifier's on_claim is visible)
    if (token.load(std::memory_order_acquire) != 0) break;  // acquire: as above
  }
  token.store(0, std::memory_order_relaxed);  // relaxed: only this worker waits on its token
}

void parker::notify_all() noexcept {
  while (notify_one([] {})) {
  }
}

bool parker::anyone_parked() const noexcept {
  for (auto& m : masks_)
    if (m.value.load(std::memory_order_seq_cst) != 0) return true;  // seq_cst: see the header
  return false;
}

bool parker::all_parked(std::size_t workers) const noexcept {
  for (std::size_t w = 0; w < masks_.size(); ++w) {
    auto here = std::min<std::size_t>(64, workers - w * 64);
    auto full = here == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << here) - 1;
    if (masks_[w].value.load(std::memory_order_seq_cst) != full) return false;  // seq_cst: see stall_monitor.hpp
  }
  return true;
}

void parker::give_token(std::size_t id) noexcept {
  auto& token = tokens_[id].value;
  token.store(1, std::memory_order_release);  // release: pairs with commit_wait/cancel_wait's acquire load
  token.notify_one();
}

}  // namespace courier::internal
