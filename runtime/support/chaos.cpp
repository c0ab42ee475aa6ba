// The chaos points' perturbations (-Dchaos=true only).

#include <courier/detail/chaos.hpp>

#if defined(COURIER_CHAOS) && COURIER_CHAOS

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <thread>

#include "runtime/support/cache_line.hpp"

namespace courier::detail {

namespace {

std::uint64_t seed_from_environment() {
  const char* s = std::getenv("COURIER_CHAOS_SEED");
  return s ? std::strtoull(s, nullptr, 10) : 1;
}

std::atomic<std::uint64_t> next_thread{0};

struct rng {
  std::uint64_t state;
  rng() {
    static const std::uint64_t seed = seed_from_environment();
    // relaxed: only distinct values matter
    state = (seed + 1) * 0x9e3779b97f4a7c15ULL ^ (next_thread.fetch_add(1, std::memory_order_relaxed) + 1) * 0xbf58476d1ce4e5b9ULL;
    if (state == 0) state = 1;
  }
  std::uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
};

}  // namespace

void chaos_point(const char*) noexcept {
  thread_local rng r;
  auto x = r.next();
  switch (x % 64) {
    case 0:
    case 1:
    case 2:
      std::this_thread::yield();
      break;
    case 3: {
      auto spins = (x >> 8) % 2000;
      for (std::uint64_t i = 0; i < spins; ++i) internal::cpu_relax();
      break;
    }
    case 4:
      std::this_thread::sleep_for(std::chrono::microseconds((x >> 8) % 51));
      break;
    default:
      break;  // most passes go straight through
  }
}

}  // namespace courier::detail

#endif
