// Futex waits with a deadline, for reply::get_for and address::join_for
// (std::atomic::wait has no timeout). Linux only.

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include <courier/detail/futex.hpp>

namespace courier::detail {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t),
              "the futex word is the atomic's storage");

void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected, bool timed,
                deadline until) noexcept {
  timespec relative{};
  timespec* timeout = nullptr;
  if (timed) {
    auto left = until - std::chrono::steady_clock::now();
    if (left <= deadline::duration::zero()) return;
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    relative.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    relative.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    timeout = &relative;
  }
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, timeout,
          nullptr, 0);
}

void futex_wake_all(std::atomic<std::uint32_t>& word) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 0x7fffffff, nullptr,
          nullptr, 0);
}

}  // namespace courier::detail
