#pragma once
// Blocking waits on a 32-bit atomic word (Linux futex), with an optional
// deadline; used by reply::get/get_for and address::join/join_for.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace courier::detail {

using deadline = std::chrono::steady_clock::time_point;

/// Blocks while `word == expected`, until woken, or until `until` passes
/// (when `timed`). May return spuriously: callers re-check their condition.
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected, bool timed,
                deadline until) noexcept;
void futex_wake_all(std::atomic<std::uint32_t>& word) noexcept;

/// The check every blocking call makes first, in every build: inside a
/// handler, a hook or a continuation (of any runtime) it reports `call` through the error hook of the
/// runtime whose handler is running (what = "blocking call inside a
/// handler") and returns true; the caller must then not wait. Elsewhere it
/// returns false.
bool refuse_blocking_call(std::string_view call) noexcept;

}  // namespace courier::detail
