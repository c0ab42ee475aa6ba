// The only file that includes mimalloc: explicit mi_malloc / mi_free (never a
// global override), or the system allocator when built with -Dmimalloc=disabled.

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>

#include <courier/detail/allocator.hpp>

#include "runtime/support/assert.hpp"

#if COURIER_USE_MIMALLOC
#include <mimalloc.h>
#endif

namespace courier::detail {

#if COURIER_COUNT_OBJECTS
namespace {
std::atomic<std::int64_t> live{0};
std::atomic<std::int64_t> made{0};
}  // namespace
#endif

std::int64_t live_allocations() noexcept {
#if COURIER_COUNT_OBJECTS
  return live.load(std::memory_order_acquire);  // acquire: pairs with the release decrements in deallocate()
#else
  return -1;
#endif
}

std::int64_t allocations_made() noexcept {
#if COURIER_COUNT_OBJECTS
  return made.load(std::memory_order_relaxed);  // relaxed: a count; the caller orders it (a reply it waited for)
#else
  return -1;
#endif
}

void* allocate(std::size_t size) {
#if COURIER_USE_MIMALLOC
  void* p = mi_malloc(size);
#else
  void* p = std::malloc(size);
#endif
  if (!p) throw std::bad_alloc();
#if COURIER_COUNT_OBJECTS
  live.fetch_add(1, std::memory_order_relaxed);  // relaxed: a count; read after the teardown it checks
  made.fetch_add(1, std::memory_order_relaxed);  // relaxed: a count; read after a reply that follows it
#endif
  return p;
}

void deallocate(void* pointer) noexcept {
#if COURIER_COUNT_OBJECTS
  if (pointer) live.fetch_sub(1, std::memory_order_release);  // release: pairs with live_allocations()'s acquire
#endif
#if COURIER_USE_MIMALLOC
  mi_free(pointer);
#else
  std::free(pointer);
#endif
}

}  // namespace courier::detail

namespace courier::internal {

void fatal(const char* file, int line, const char* message) noexcept {
  std::fprintf(stderr, "courier: fatal: %s (%s:%d)\n", message, file, line);
  std::abort();
}

}  // namespace courier::internal
