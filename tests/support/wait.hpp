#pragma once
// wait_until(predicate, timeout): the replacement for sleep in tests. It
// waits for the event itself and fails the test when it does not come.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <thread>

namespace courier::test {

using namespace std::chrono_literals;

/// A generous limit: only a broken runtime (or a hang) reaches it.
inline constexpr auto patience = 30s;

template <class Predicate>
bool wait_until(Predicate&& done, std::chrono::steady_clock::duration timeout = patience) {
  auto until = std::chrono::steady_clock::now() + timeout;
  for (unsigned spins = 0; !done(); ++spins) {
    if (std::chrono::steady_clock::now() > until) return false;
    if (spins < 1000)
      std::this_thread::yield();
    else
      std::this_thread::sleep_for(50us);  // polling back-off, not synchronisation: the predicate decides
  }
  return true;
}

/// A one-shot gate a handler can block on until the test opens it.
class gate {
 public:
  void open() {
    open_.store(true, std::memory_order_release);
    open_.notify_all();
  }
  void wait() const {
    while (!open_.load(std::memory_order_acquire)) open_.wait(false, std::memory_order_acquire);
  }
  bool is_open() const { return open_.load(std::memory_order_acquire); }

 private:
  std::atomic<bool> open_{false};
};

/// Opens `g` when it goes: declared after a runtime whose handler waits on
/// `g`, it lets that handler out before ~runtime waits for it, also when a
/// check fails first.
struct open_at_exit {
  gate& g;
  ~open_at_exit() { g.open(); }
};

/// Sanitizer builds run the stress tests at a smaller scale.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr std::uint64_t sanitizer_divisor = 10;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
inline constexpr std::uint64_t sanitizer_divisor = 10;
#else
inline constexpr std::uint64_t sanitizer_divisor = 1;
#endif
#else
inline constexpr std::uint64_t sanitizer_divisor = 1;
#endif

inline std::uint64_t environment_number(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

/// Divides the stress tests' message counts: COURIER_STRESS_DIVISOR, else
/// 10 under sanitizers, else 1 (tools/torture sets it for its many runs).
inline std::uint64_t stress_divisor() {
  static const std::uint64_t d = environment_number("COURIER_STRESS_DIVISOR", sanitizer_divisor);
  return d == 0 ? 1 : d;
}

/// Workers of the stress tests' runtimes: COURIER_TEST_WORKERS, else 2
/// (tools/torture oversubscribes: 8 workers on 2 cores, 4 pinned to one).
inline std::size_t test_workers() {
  static const std::size_t w = static_cast<std::size_t>(environment_number("COURIER_TEST_WORKERS", 2));
  return w == 0 ? 2 : w;
}

}  // namespace courier::test
