#pragma once
// Cache-line size and a padded wrapper that keeps a value on its own line.

#include <cstddef>

namespace courier::internal {

inline constexpr std::size_t cache_line_size = 64;

template <class T>
struct alignas(cache_line_size) padded {
  T value;
};

/// One pause of a spin loop.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

}  // namespace courier::internal
