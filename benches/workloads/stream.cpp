// stream: one producer actor moves N items to one consumer actor.
//
//   throughput   a stream with a window of 256 and a consumer that does no
//                work: items per second (headline), against the same N items
//                sent as plain messages into an unbounded mailbox in the same
//                process (the reference: plain_Mitems/s, and the ratio).
//   memory       a consumer that spends 1 us per item (the producer is about
//                10x faster): the most items ever queued at the consumer,
//                and the process's peak RSS growth, for the stream (window
//                64) and for plain sends (unbounded: the backlog grows
//                with N).
#include <courier/courier.hpp>

#include <atomic>
#include <cstdint>

#include "benches/harness/done_flag.hpp"
#include "benches/workloads/make_config.hpp"
#include "benches/workloads/workloads.hpp"

using namespace courier;

namespace courier_bench {

namespace {

/// What the two sides share: the producer's count of items sent (before
/// each send: an upper bound), the consumer's count handled, the largest
/// difference the consumer saw, and the end.
struct tally {
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> handled{0};
  std::uint64_t max_queued = 0;  // the consumer's
  bool in_order = true;          // the consumer's
  bench::done_flag done;
};

struct open_stream {
  std::uint64_t n;
};

class source : public actor<source> {
 public:
  explicit source(tally* t) : t_(t) {}
  stream<std::uint64_t> on(open_stream o, context<source>& ctx) {
    auto [s, w] = ctx.make_stream<std::uint64_t>();
    w_ = std::move(w);
    n_ = o.n;
    return std::move(s);
  }
  void on(stream_demand) {
    while (next_ < n_ && w_.credit() > 0) {
      // relaxed: a sample for the consumer's backlog figure, nothing published through it
      t_->sent.fetch_add(1, std::memory_order_relaxed);
      (void)w_.push(next_++);
    }
    if (next_ == n_ && w_.open()) w_.close();
  }

 private:
  tally* t_;
  stream_writer<std::uint64_t> w_;
  std::uint64_t n_ = 0;
  std::uint64_t next_ = 0;
};

class drain : public actor<drain> {
 public:
  drain(tally* t, std::uint64_t work_ns) : t_(t), work_ns_(work_ns) {}

  void on(address<source> from, context<drain>& ctx) {
    ctx.ask(from, open_stream{n_}, [&ctx, this](result<stream<std::uint64_t>> s) {
      if (s) (void)ctx.consume(std::move(*s), {.window = window_});
    });
  }
  void on(std::pair<std::uint64_t, std::uint32_t> setup) {
    n_ = setup.first;
    window_ = setup.second;
  }
  void on(stream_item<std::uint64_t> i) { take(i.value); }
  void on(stream_end e) {
    if (!e.outcome || expected_ != n_) t_->in_order = false;
    t_->done.set();
  }
  void on(std::uint64_t plain) {
    take(plain);
    if (expected_ == n_) t_->done.set();
  }

 private:
  void take(std::uint64_t v) {
    // relaxed: a sample, as in source
    auto queued = t_->sent.load(std::memory_order_relaxed) - expected_;
    if (queued > t_->max_queued) t_->max_queued = queued;
    if (v != expected_) t_->in_order = false;
    ++expected_;
    if (work_ns_) {
      auto until = bench::now_ns() + work_ns_;
      while (bench::now_ns() < until) {
      }
    }
  }

  tally* t_;
  std::uint64_t work_ns_;
  std::uint64_t n_ = 0;
  std::uint32_t window_ = 32;
  std::uint64_t expected_ = 0;
};

/// Plain sends of 0..n-1 to `to`, from one handler (the fastest producer).
struct plain_burst {
  address<drain> to;
  std::uint64_t n;
};
class plain_source : public actor<plain_source> {
 public:
  explicit plain_source(tally* t) : t_(t) {}
  void on(plain_burst b) {
    for (std::uint64_t i = 0; i < b.n; ++i) {
      t_->sent.fetch_add(1, std::memory_order_relaxed);  // relaxed: as in source
      (void)b.to.send(i);
    }
  }

 private:
  tally* t_;
};

struct transfer {
  double seconds = 0;
  std::uint64_t max_queued = 0;
  double rss_growth_mb = 0;
  bool ok = false;
};

transfer run_transfer(const bench::options& o, bool use_stream, std::uint64_t n, std::uint32_t window,
                      std::uint64_t work_ns) {
  tally t;
  transfer out;
  runtime rt{make_config(o)};
  auto d = rt.spawn<drain>(&t, work_ns);
  (void)d.send(std::pair<std::uint64_t, std::uint32_t>{n, window});
  auto rss0 = bench::rss_bytes();
  bench::reset_peak_rss();
  auto t0 = bench::clock::now();
  address<source> s;  // held until the end: a stream does not keep its producer reachable
  if (use_stream) {
    s = rt.spawn<source>(&t);
    (void)d.send(s);
  } else {
    auto p = rt.spawn<plain_source>(&t);
    (void)p.send(plain_burst{d, n});
  }
  t.done.wait();
  out.seconds = bench::seconds_since(t0);
  auto peak = bench::peak_rss_bytes();
  out.rss_growth_mb = peak > rss0 ? static_cast<double>(peak - rss0) / 1e6 : 0.0;
  out.max_queued = t.max_queued;
  out.ok = t.in_order;
  d.shutdown();
  rt.shutdown();
  return out;
}

}  // namespace

bench::outcome stream_transfer(const bench::options& o) {
  const auto n = bench::scaled(2'000'000, o, 1'000);
  auto fast = run_transfer(o, true, n, 256, 0);
  auto plain = run_transfer(o, false, n, 0, 0);
  const auto slow_n = bench::scaled(500'000, o, 1'000);
  auto slow_stream = run_transfer(o, true, slow_n, 64, 1'000);
  auto slow_plain = run_transfer(o, false, slow_n, 0, 1'000);
  if (!fast.ok || !plain.ok || !slow_stream.ok || !slow_plain.ok) return bench::fail("items out of order");
  if (slow_stream.max_queued > 64) return bench::fail("more than the window queued");
  auto rate = static_cast<double>(n) / fast.seconds / 1e6;
  auto plain_rate = static_cast<double>(n) / plain.seconds / 1e6;
  return {true, "ok", {{"Mitems/s", rate, "Mitems/s"},
                       {"plain_Mitems/s", plain_rate, "Mitems/s"},
                       {"ratio", plain_rate > 0 ? rate / plain_rate : 0, "x"},
                       {"slow_max_queued", static_cast<double>(slow_stream.max_queued), "items"},
                       {"slow_plain_max_queued", static_cast<double>(slow_plain.max_queued), "items"},
                       {"slow_rss_MB", slow_stream.rss_growth_mb, "MB"},
                       {"slow_plain_rss_MB", slow_plain.rss_growth_mb, "MB"}}};
}

}  // namespace courier_bench
