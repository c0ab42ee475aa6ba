// The only file that includes mimalloc: explicit mi_malloc / mi_free (never a
// global override), or the system allocator when built with -Dmimalloc=disabled.

#include <cstdio>
#include <cstdlib>
#include <new>

#include <courier/detail/allocator.hpp>

#include "runtime/support/assert.hpp"

#if COURIER_USE_MIMALLOC
#include <mimalloc.h>
#endif

namespace courier::detail {

void* allocate(std::size_t size) {
#if COURIER_USE_MIMALLOC
  void* p = mi_malloc(size);
#else
  void* p = std::malloc(size);
#endif
  if (!p) throw std::bad_alloc();
  return p;
}

void deallocate(void* pointer) noexcept {
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
