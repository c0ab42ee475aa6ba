#pragma once
// A counter with a single writer (a worker's own statistics): the writer
// increments with a relaxed load and store, no lock prefix; readers (a
// snapshot) load it relaxed and may see it a little late.

#include <atomic>
#include <cstdint>

namespace courier::detail {

inline void bump(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);  // relaxed: single writer; a snapshot's relaxed load reads it
}

}  // namespace courier::detail
