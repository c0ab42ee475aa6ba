// when_all: a coroutine handler that needs two replies, awaited with
// courier::when_all (both asks sent at once) against two sequential
// co_await ctx.ask (the second sent only after the first reply). Two shapes
// of the answering handlers: empty (the combinator's own cost: it makes
// parallel work, so another worker is woken) and with ~20 us of work each
// (what overlapping the two buys on 2 workers). Both
// forms run in the same process, alternately; the row gives the ratio.
#include <courier/courier.hpp>

#include <algorithm>
#include <chrono>
#include <vector>

#include "benches/harness/done_flag.hpp"
#include "benches/workloads/make_config.hpp"
#include "benches/workloads/workloads.hpp"

using namespace courier;

namespace courier_bench {

namespace {

struct work {
  std::uint64_t n;
  std::uint64_t spin_ns;
};

class server : public actor<server> {
 public:
  std::uint64_t on(work w) {
    if (w.spin_ns) {
      auto until = bench::now_ns() + w.spin_ns;
      while (bench::now_ns() < until) {
      }
    }
    return w.n + 1;
  }
};

struct round {
  std::uint64_t count;
  std::uint64_t spin_ns;
  bool together;
  bench::done_flag* done;
  std::uint64_t* checksum;
};

class gatherer : public actor<gatherer> {
 public:
  gatherer(address<server> a, address<server> b) : a_(std::move(a)), b_(std::move(b)) {}
  task<void> on(round r, context<gatherer>& ctx) {
    std::uint64_t sum = 0;
    for (std::uint64_t i = 0; i < r.count; ++i) {
      if (r.together) {
        auto [x, y] = co_await when_all(ctx.ask(a_, work{i, r.spin_ns}), ctx.ask(b_, work{i, r.spin_ns}));
        sum += *x + *y;
      } else {
        auto x = co_await ctx.ask(a_, work{i, r.spin_ns});
        auto y = co_await ctx.ask(b_, work{i, r.spin_ns});
        sum += *x + *y;
      }
    }
    *r.checksum = sum;
    r.done->set();
  }

 private:
  address<server> a_, b_;
};

double run_round(address<gatherer>& g, std::uint64_t n, std::uint64_t spin_ns, bool together, bool& ok) {
  bench::done_flag done;
  std::uint64_t checksum = 0;
  auto t0 = bench::clock::now();
  (void)g.send(round{n, spin_ns, together, &done, &checksum});
  done.wait();
  auto s = bench::seconds_since(t0);
  ok = ok && checksum == n * (n - 1) + 2 * n;  // sum of 2 * (i + 1)
  return s * 1e9 / static_cast<double>(n);
}

}  // namespace

bench::outcome when_all_pair(const bench::options& o) {
  const auto n = bench::scaled(200'000, o, 200);
  const auto n_work = bench::scaled(10'000, o, 20);
  runtime rt{make_config(o)};
  auto g = rt.spawn<gatherer>(rt.spawn<server>(), rt.spawn<server>());
  bool ok = true;
  // Alternate the two forms (three rounds each) and keep the medians.
  std::vector<double> together, sequential, together_work, sequential_work;
  for (int round = 0; round < 3; ++round) {
    together.push_back(run_round(g, n, 0, true, ok));
    sequential.push_back(run_round(g, n, 0, false, ok));
    together_work.push_back(run_round(g, n_work, 20000, true, ok));
    sequential_work.push_back(run_round(g, n_work, 20000, false, ok));
  }
  g.stop();
  rt.shutdown();
  if (!ok) return bench::fail("a reply was wrong");
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  auto t = median(together), s = median(sequential), tw = median(together_work), sw = median(sequential_work);
  return {true, "ok", {{"ns/pair", t, "ns"},
                       {"sequential_ns", s, "ns"},
                       {"ratio", t / s, "x"},
                       {"work20us_ns", tw, "ns"},
                       {"work20us_sequential_ns", sw, "ns"},
                       {"work20us_ratio", tw / sw, "x"}}};
}

}  // namespace courier_bench
