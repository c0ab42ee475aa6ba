// long_handler: how long a runnable actor waits while the worker that made
// it runnable is inside a long handler (guarantee 4). Three ways a handler
// makes an actor runnable and then runs long (busy, as a big computation
// would): it sends to an idle actor; it spawns an actor and mails it; it
// answers a request (the asker's continuation becomes runnable) and the next
// message of the same turn is the long one. Each for 2 and 4 workers.
// Lag: from the moment the actor became runnable to the start of its handler.
#include <courier/courier.hpp>

#include <algorithm>
#include <atomic>
#include <string>

#include "benches/harness/done_flag.hpp"
#include "benches/workloads/make_config.hpp"
#include "benches/workloads/workloads.hpp"

using namespace courier;

namespace courier_bench {

namespace {

/// What one case's actors report to the measuring thread.
struct lag_sink {
  bench::histogram* lags;
  bench::done_flag* arrived = nullptr;  // the measured handler ran
  bench::done_flag* finished = nullptr;  // the long handler returned
  std::atomic<bool> long_running{false};
  std::atomic<std::uint64_t> late{0};
  bool warm = false;  // set by the measuring thread between rounds
  void record(std::uint64_t since_ns) {
    if (warm) lags->record(bench::now_ns() - since_ns);
    // acquire: pairs with busy_for()'s release stores
    if (!long_running.load(std::memory_order_acquire))
      late.fetch_add(1, std::memory_order_relaxed);  // relaxed: read after the round's flags
    arrived->set();
  }
  void busy_for(std::chrono::nanoseconds d) {
    long_running.store(true, std::memory_order_release);  // release: pairs with record()'s acquire
    auto until = bench::clock::now() + d;
    while (bench::clock::now() < until) {
    }
    long_running.store(false, std::memory_order_release);  // release: as above
    finished->set();
  }
};

struct probe {
  std::uint64_t sent_ns;
};
class target : public actor<target> {
 public:
  explicit target(lag_sink* s) : sink_(s) {}
  void on(probe p) { sink_->record(p.sent_ns); }

 private:
  lag_sink* sink_;
};

/// Cases "send" and "spawn": make a target runnable, then run long.
struct kick {
  bool spawn;
};
class slow : public actor<slow> {
 public:
  slow(lag_sink* s, address<target> t, std::chrono::nanoseconds d) : sink_(s), target_(std::move(t)), busy_(d) {}
  void on(kick k, context<slow>& ctx) {
    auto to = k.spawn ? ctx.spawn<target>(sink_) : target_;
    (void)to.send(probe{bench::now_ns()});
    sink_->busy_for(busy_);
  }

 private:
  lag_sink* sink_;
  address<target> target_;
  std::chrono::nanoseconds busy_;
};

/// Case "reply": answers a question (stamping the moment), then handles the
/// long message queued right behind it in the same turn.
struct question {
  std::uint64_t n;
};
struct long_job {};
class answerer : public actor<answerer> {
 public:
  answerer(lag_sink* s, std::atomic<std::uint64_t>* stamp, std::chrono::nanoseconds d)
      : sink_(s), stamp_(stamp), busy_(d) {}
  std::uint64_t on(question q) {
    stamp_->store(bench::now_ns(), std::memory_order_release);  // release: pairs with the continuation's acquire
    return q.n + 1;
  }
  void on(long_job) { sink_->busy_for(busy_); }

 private:
  lag_sink* sink_;
  std::atomic<std::uint64_t>* stamp_;
  std::chrono::nanoseconds busy_;
};

struct go {};
class asker : public actor<asker> {
 public:
  asker(lag_sink* s, std::atomic<std::uint64_t>* stamp, address<answerer> a)
      : sink_(s), stamp_(stamp), answerer_(std::move(a)) {}
  void on(go, context<asker>& ctx) {
    ctx.ask(answerer_, question{1}, [this](result<std::uint64_t>) {
      sink_->record(stamp_->load(std::memory_order_acquire));  // acquire: pairs with the answerer's release
    });
    (void)answerer_.send(long_job{});
  }

 private:
  lag_sink* sink_;
  std::atomic<std::uint64_t>* stamp_;
  address<answerer> answerer_;
};

}  // namespace

bench::outcome long_handler(const bench::options& o) {
  // The lag does not depend on how long the handler runs once it is past the
  // stall monitor's two periods; 25 ms keeps 40 rounds of 6 cases near 6 s.
  const auto rounds = bench::scaled(40, o, 3);
  const auto busy = std::chrono::milliseconds(25);
  bench::histogram all;
  bench::outcome out;
  std::uint64_t late = 0, total = 0;
  for (std::size_t workers : {2, 4}) {
    for (std::string kind : {"send", "spawn", "reply"}) {
      bench::histogram h;
      lag_sink sink{&h};
      auto cfg = make_config(o);
      cfg.workers = workers;
      runtime rt{cfg};
      std::atomic<std::uint64_t> stamp{0};
      auto t = rt.spawn<target>(&sink);
      auto s = rt.spawn<slow>(&sink, t, busy);
      auto a = rt.spawn<answerer>(&sink, &stamp, busy);
      auto q = rt.spawn<asker>(&sink, &stamp, a);
      // The first rounds of a fresh runtime wait for the kernel to spread its
      // new threads over the cores (a woken thread queued behind the busy one
      // on the same CPU waits a scheduler slice, 2-5 ms): not measured.
      constexpr std::uint64_t cold_rounds = 5;
      for (std::uint64_t r = 0; r < cold_rounds + rounds; ++r) {
        sink.warm = r >= cold_rounds;
        bench::done_flag arrived, finished;
        sink.arrived = &arrived;  // read by the handlers this round's send starts
        sink.finished = &finished;
        auto sent = kind == "reply" ? q.send(go{}) : s.send(kick{kind == "spawn"});
        if (!sent) return bench::fail("send refused");
        arrived.wait();
        finished.wait();
        total += sink.warm;
      }
      late += sink.late.load(std::memory_order_relaxed);  // relaxed: every round has ended
      out.metrics.push_back({kind + "_w" + std::to_string(workers) + "_p99", static_cast<double>(h.quantile(0.99)) / 1000, "us"});
      all.merge(h);
    }
  }
  out.metrics.insert(out.metrics.begin(), {"p99", static_cast<double>(all.quantile(0.99)) / 1000, "us"});
  out.metrics.insert(out.metrics.begin() + 1, {"p50", static_cast<double>(all.quantile(0.50)) / 1000, "us"});
  out.metrics.insert(out.metrics.begin() + 2, {"max", static_cast<double>(all.max()) / 1000, "us"});
  out.ok = late == 0;
  out.check = out.ok ? "ok" : std::to_string(late) + " of " + std::to_string(total) + " ran only after the long handler";
  return out;
}

}  // namespace courier_bench
