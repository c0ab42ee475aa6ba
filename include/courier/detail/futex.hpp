#pragma once
// Blocking waits on a 32-bit atomic word (Linux futex), with an optional
// deadline; used by reply::get/get_for and address::join/join_for.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace courier::detail {

using deadline = std::chrono::steady_clock::time_point;

/// Blocks while `word == expected`, until woken, or until `until` passes
/// (when `timed`). May return spuriously: callers re-check their condition.
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected, bool timed,
                deadline until) noexcept;
void futex_wake_all(std::atomic<std::uint32_t>& word) noexcept;

/// True while the calling thread runs a handler, a hook or a continuation;
/// the blocking calls assert it is false in debug builds.
bool in_handler() noexcept;

}  // namespace courier::detail

#ifndef NDEBUG
#include <cstdio>
#include <cstdlib>
#define COURIER_ASSERT_NOT_IN_HANDLER(call)                                            \
  do {                                                                                 \
    if (::courier::detail::in_handler()) {                                             \
      std::fprintf(stderr, "courier: %s called inside a handler (it would block a "    \
                           "worker); use ctx.ask with a continuation instead\n", call); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (false)
#else
#define COURIER_ASSERT_NOT_IN_HANDLER(call) ((void)0)
#endif
