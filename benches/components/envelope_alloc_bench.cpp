// Envelope allocation: courier's allocator (mimalloc unless built with
// -Dmimalloc=disabled) vs the system malloc, same binary.
#include "benches/components/benchmark.hpp"

#include <cstdlib>
#include <thread>
#include <vector>

#include <courier/detail/allocator.hpp>

namespace {

constexpr std::size_t envelope_size = 32;  // header (24 B) + an 8-byte message

void BM_alloc_free_courier(benchmark::State& state) {
  for (auto _ : state) {
    void* p = courier::detail::allocate(envelope_size);
    benchmark::DoNotOptimize(p);
    courier::detail::deallocate(p);
  }
}
BENCHMARK(BM_alloc_free_courier);

void BM_alloc_free_system(benchmark::State& state) {
  for (auto _ : state) {
    void* p = std::malloc(envelope_size);
    benchmark::DoNotOptimize(p);
    std::free(p);
  }
}
BENCHMARK(BM_alloc_free_system);

// The mailbox pattern: one thread allocates, another frees.
template <bool Courier>
void BM_cross_thread_free(benchmark::State& state) {
  constexpr std::size_t batch = 4096;
  std::vector<void*> blocks(batch);
  for (auto _ : state) {
    for (auto& b : blocks) b = Courier ? courier::detail::allocate(envelope_size) : std::malloc(envelope_size);
    std::thread freer([&] {
      for (auto* b : blocks) Courier ? courier::detail::deallocate(b) : std::free(b);
    });
    freer.join();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
}
BENCHMARK(BM_cross_thread_free<true>)->Name("BM_cross_thread_free_courier");
BENCHMARK(BM_cross_thread_free<false>)->Name("BM_cross_thread_free_system");

}  // namespace

BENCHMARK_MAIN();
