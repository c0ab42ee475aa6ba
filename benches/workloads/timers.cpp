// timers: arming and cancelling one million timers with a handle
// (send_after(..., cancellable)), the pattern of a per-request timeout that
// the reply cancels. Two shapes:
//   batch        arm n (all pending at once, an hour away), then cancel all:
//                time per arm, per cancel, and the peak memory per armed timer;
//   interleaved  arm one, cancel it, n times (a timeout per request): time
//                per pair; the cancelled entries never pile up.
// No tick may be delivered (they are an hour away and all cancelled).
#include <courier/courier.hpp>

#include <atomic>
#include <vector>

#include "benches/workloads/make_config.hpp"
#include "benches/workloads/workloads.hpp"

using namespace courier;
using namespace std::chrono_literals;

namespace courier_bench {

namespace {

struct deadline {
  std::uint64_t id;
};

class sink : public actor<sink> {
 public:
  explicit sink(std::atomic<std::uint64_t>* got) : got_(got) {}
  void on(deadline) { got_->fetch_add(1, std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t>* got_;
};

}  // namespace

bench::outcome timers(const bench::options& o) {
  const auto n = bench::scaled(1'000'000, o, 1000);
  std::atomic<std::uint64_t> delivered{0};
  runtime rt{make_config(o)};
  auto s = rt.spawn<sink>(&delivered);
  std::vector<timer> handles;
  handles.reserve(n);

  auto rss0 = bench::rss_bytes();
  bench::reset_peak_rss();
  auto t0 = bench::clock::now();
  for (std::uint64_t i = 0; i < n; ++i) handles.push_back(rt.send_after(s, deadline{i}, 1h, cancellable));
  auto arm_s = bench::seconds_since(t0);
  auto peak = bench::peak_rss_bytes();
  std::uint64_t active = 0;
  for (auto& h : handles) active += h.active() ? 1 : 0;
  auto t1 = bench::clock::now();
  for (auto& h : handles) h.cancel();
  auto cancel_s = bench::seconds_since(t1);
  handles.clear();
  auto rss_after = bench::rss_bytes();

  auto t2 = bench::clock::now();
  for (std::uint64_t i = 0; i < n; ++i) {
    auto h = rt.send_after(s, deadline{i}, 1h, cancellable);
    h.cancel();
  }
  auto pair_s = bench::seconds_since(t2);

  s.stop();
  rt.shutdown();
  if (active != n) return bench::fail("a freshly armed timer was not active");
  if (delivered.load() != 0) return bench::fail("a cancelled timer delivered");
  auto st = rt.stats();
  if (st.accepted != 0 || st.dropped != 0) return bench::fail("cancelled timers were counted as messages");
  auto dn = static_cast<double>(n);
  return {true, "ok", {{"ns/timer", (arm_s + cancel_s) * 1e9 / dn, "ns"},
                       {"arm_ns", arm_s * 1e9 / dn, "ns"},
                       {"cancel_ns", cancel_s * 1e9 / dn, "ns"},
                       {"interleaved_ns", pair_s * 1e9 / dn, "ns"},
                       {"bytes/timer", static_cast<double>(peak > rss0 ? peak - rss0 : 0) / dn, "B"},
                       {"rss_after_cancel_MB", static_cast<double>(rss_after) / 1e6, "MB"}}};
}

}  // namespace courier_bench
