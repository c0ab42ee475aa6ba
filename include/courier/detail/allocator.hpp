#pragma once
// The allocator every envelope, cell and reply slot comes from (mimalloc by
// default, the system allocator with -Dmimalloc=disabled). Defined in
// runtime/support/allocator.cpp, the only file that includes mimalloc.h.

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

namespace courier::detail {

/// Never returns null: throws std::bad_alloc.
void* allocate(std::size_t size);
void deallocate(void* pointer) noexcept;

/// Blocks allocated and not yet freed (cells, envelopes, reply slots,
/// frames), or -1 when the library was built without
/// -Dobject_counts=true. Tests assert it is 0 after every runtime teardown.
std::int64_t live_allocations() noexcept;

/// Blocks allocated since the process started, or -1 without
/// -Dobject_counts=true (tests count what one operation allocates).
std::int64_t allocations_made() noexcept;

/// Allocates and constructs a T; the only `new` of the library.
template <class T, class... Args>
T* make(Args&&... args) {
  void* memory = allocate(sizeof(T));
  try {
    return ::new (memory) T(std::forward<Args>(args)...);
  } catch (...) {
    deallocate(memory);
    throw;
  }
}

/// Destroys and frees what make() returned.
template <class T>
void destroy(T* object) noexcept {
  object->~T();
  deallocate(object);
}

}  // namespace courier::detail
