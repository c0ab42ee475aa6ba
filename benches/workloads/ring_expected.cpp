#include "benches/workloads/workloads.hpp"

namespace courier_bench {

std::vector<std::uint64_t> ring_expected(std::size_t actors, std::size_t tokens, std::uint64_t hops_per_token) {
  // Token t starts at actor t * actors / tokens with `hops_per_token` hops
  // left; each receipt forwards it to the next actor until it reaches 0.
  // Receipts per token = hops_per_token + 1 (the first delivery included).
  std::vector<std::uint64_t> counts(actors, 0);
  for (std::size_t t = 0; t < tokens; ++t) {
    auto start = t * actors / tokens;
    auto receipts = hops_per_token + 1;
    auto full = receipts / actors;
    auto rest = receipts % actors;
    for (std::size_t i = 0; i < actors; ++i) counts[i] += full;
    for (std::size_t i = 0; i < rest; ++i) counts[(start + i) % actors] += 1;
  }
  return counts;
}

}  // namespace courier_bench
