// spawn, footprint, ask and idle on courier.
#include <courier/courier.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "benches/harness/done_flag.hpp"
#include "benches/workloads/make_config.hpp"
#include "benches/workloads/workloads.hpp"

using namespace courier;
using namespace std::chrono_literals;

namespace courier_bench {

namespace {

using bench::done_flag;

// -- spawn (a) --------------------------------------------------------------------

struct hello {
  std::uint64_t id;
};
class collector : public actor<collector> {
 public:
  collector(std::uint64_t n, std::uint64_t* count, std::uint64_t* sum, done_flag* d) : n_(n), count_(count), sum_(sum), done_(d) {}
  void on(hello h) {
    *sum_ += h.id;
    if (++*count_ == n_) done_->set();
  }

 private:
  std::uint64_t n_;
  std::uint64_t* count_;
  std::uint64_t* sum_;
  done_flag* done_;
};
class short_lived : public actor<short_lived> {
 public:
  explicit short_lived(address<collector> c) : collector_(std::move(c)) {}
  void on(hello h, context<short_lived>& ctx) {
    (void)collector_.send(h);
    ctx.stop();
  }

 private:
  address<collector> collector_;
};

}  // namespace

bench::outcome spawn_a(const bench::options& o) {
  const auto n = bench::scaled(1'000'000, o);
  std::uint64_t count = 0, sum = 0;
  done_flag done;
  runtime rt{make_config(o)};
  auto c = rt.spawn<collector>(n, &count, &sum, &done);
  auto rss0 = bench::rss_bytes();
  bench::reset_peak_rss();
  auto t0 = bench::clock::now();
  for (std::uint64_t i = 0; i < n; ++i) (void)rt.spawn<short_lived>(c).send(hello{i});
  done.wait();
  auto elapsed = bench::seconds_since(t0);
  auto peak = bench::peak_rss_bytes();
  c.stop();
  rt.shutdown();
  auto s = rt.stats();
  if (count != n || sum != n * (n - 1) / 2) return bench::fail("collector count");
  if (s.spawned != s.stopped) return bench::fail("live actors after the run");
  return {true, "ok", {{"ns/actor", elapsed * 1e9 / static_cast<double>(n), "ns"},
                       {"peak_rss_MB", static_cast<double>(peak) / 1e6, "MB"},
                       {"rss_growth_MB", static_cast<double>(peak > rss0 ? peak - rss0 : 0) / 1e6, "MB"}}};
}

// -- spawn (b): Fibonacci tree -------------------------------------------------------

namespace {
struct fib_request {
  std::uint32_t n;
};
struct fib_result {
  std::uint64_t value;
};
class fib_node : public actor<fib_node> {
 public:
  explicit fib_node(address<fib_node> parent, std::uint64_t* out, done_flag* d) : parent_(std::move(parent)), out_(out), done_(d) {}
  void on(fib_request r, context<fib_node>& ctx) {
    if (r.n < 2) return finish(r.n, ctx);
    (void)ctx.spawn<fib_node>(ctx.self(), nullptr, nullptr).send(fib_request{r.n - 1});
    (void)ctx.spawn<fib_node>(ctx.self(), nullptr, nullptr).send(fib_request{r.n - 2});
  }
  void on(fib_result r, context<fib_node>& ctx) {
    sum_ += r.value;
    if (++replies_ == 2) finish(sum_, ctx);
  }

 private:
  void finish(std::uint64_t value, context<fib_node>& ctx) {
    if (parent_)
      (void)parent_.send(fib_result{value});
    else {
      *out_ = value;
      done_->set();
    }
    parent_ = {};
    ctx.stop();
  }
  address<fib_node> parent_;
  std::uint64_t* out_;
  done_flag* done_;
  std::uint64_t sum_ = 0;
  int replies_ = 0;
};
std::uint64_t fib_calls(std::uint32_t n) { return n < 2 ? 1 : 1 + fib_calls(n - 1) + fib_calls(n - 2); }
std::uint64_t fib(std::uint32_t n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
}  // namespace

bench::outcome spawn_b(const bench::options& o) {
  std::uint32_t n = 25;
  while (n > 10 && static_cast<double>(fib_calls(n)) > 242785.0 * o.scale) --n;
  std::uint64_t result = 0;
  done_flag done;
  runtime rt{make_config(o)};
  bench::reset_peak_rss();
  auto t0 = bench::clock::now();
  (void)rt.spawn<fib_node>(address<fib_node>{}, &result, &done).send(fib_request{n});
  done.wait();
  auto elapsed = bench::seconds_since(t0);
  auto peak = bench::peak_rss_bytes();
  rt.shutdown();
  auto s = rt.stats();
  if (result != fib(n)) return bench::fail("fib result");
  if (s.spawned != fib_calls(n) || s.spawned != s.stopped) return bench::fail("actor count / live actors");
  return {true, "ok", {{"ns/actor", elapsed * 1e9 / static_cast<double>(fib_calls(n)), "ns"},
                       {"peak_rss_MB", static_cast<double>(peak) / 1e6, "MB"}}};
}

// -- footprint ------------------------------------------------------------------------------

namespace {
class idle_actor : public actor<idle_actor> {
 public:
  explicit idle_actor(int v) : value_(v) {}
  int on(int) { return value_; }

 private:
  int value_;
};
}  // namespace

bench::outcome footprint(const bench::options& o) {
  const auto n = bench::scaled(1'000'000, o);
  runtime rt{make_config(o)};
  std::vector<address<idle_actor>> all;
  all.reserve(n);
  auto rss0 = bench::rss_bytes();
  for (std::uint64_t i = 0; i < n; ++i) all.push_back(rt.spawn<idle_actor>(static_cast<int>(i)));
  auto rss1 = bench::rss_bytes();
  // the address vector itself is not the actors' footprint
  auto per_actor = (static_cast<double>(rss1) - static_cast<double>(rss0) - static_cast<double>(n * sizeof(void*))) /
                   static_cast<double>(n);
  auto alive = rt.stats();
  if (*all[n / 2].ask(0).get() != static_cast<int>(n / 2)) return bench::fail("an actor does not answer");
  all.clear();  // unreachable: they stop on their own
  rt.shutdown();
  auto s = rt.stats();
  if (alive.spawned != n || alive.stopped != 0) return bench::fail("not all alive");
  if (s.stopped != n) return bench::fail("not all stopped and freed");
  return {true, "ok", {{"bytes/actor", per_actor, "B"}}};
}

// -- ask -------------------------------------------------------------------------------------

namespace {
struct echo_request {
  std::uint64_t n;
};
class echo : public actor<echo> {
 public:
  std::uint64_t on(echo_request r) { return r.n + 1; }
};
}  // namespace

bench::outcome ask_thread(const bench::options& o) {
  const auto n = bench::scaled(200'000, o);
  runtime rt{make_config(o)};
  auto e = rt.spawn<echo>();
  bench::histogram h;
  std::uint64_t errors = 0;
  auto t0 = bench::clock::now();
  for (std::uint64_t i = 0; i < n; ++i) {
    auto s = bench::now_ns();
    auto r = e.ask(echo_request{i}).get();
    h.record(bench::now_ns() - s);
    if (!r || *r != i + 1) ++errors;
  }
  auto elapsed = bench::seconds_since(t0);
  rt.shutdown();
  if (errors) return bench::fail("reply != request + 1");
  bench::outcome out{true, "ok", {{"p50", static_cast<double>(h.quantile(0.5)), "ns"}}};
  out.metrics.push_back({"p99", static_cast<double>(h.quantile(0.99)), "ns"});
  out.metrics.push_back({"p99.9", static_cast<double>(h.quantile(0.999)), "ns"});
  out.metrics.push_back({"max", static_cast<double>(h.max()), "ns"});
  out.metrics.push_back({"mean", elapsed * 1e9 / static_cast<double>(n), "ns"});
  return out;
}

namespace {
struct start_asking {
  std::uint64_t n;
};
class requester : public actor<requester> {
 public:
  requester(address<echo> e, std::uint64_t* errors, done_flag* d) : echo_(std::move(e)), errors_(errors), done_(d) {}
  void on(start_asking s, context<requester>& ctx) {
    total_ = s.n;
    next(ctx);
  }

 private:
  void next(context<requester>& ctx) {
    auto i = sent_++;
    ctx.ask(echo_, echo_request{i}, [this, i, &ctx](result<std::uint64_t> r) {
      if (!r || *r != i + 1) ++*errors_;
      if (sent_ == total_)
        done_->set();
      else
        next(ctx);
    });
  }
  address<echo> echo_;
  std::uint64_t* errors_;
  done_flag* done_;
  std::uint64_t total_ = 0, sent_ = 0;
};
}  // namespace

// Runs n round trips from a requester actor R (continuation or co_await form).
template <class R>
bench::outcome ask_between_actors(const bench::options& o) {
  const auto n = bench::scaled(1'000'000, o);
  std::uint64_t errors = 0;
  done_flag done;
  runtime rt{make_config(o)};
  auto e = rt.spawn<echo>();
  auto r = rt.spawn<R>(e, &errors, &done);
  auto t0 = bench::clock::now();
  (void)r.send(start_asking{n});
  done.wait();
  auto elapsed = bench::seconds_since(t0);
  rt.shutdown();
  if (errors) return bench::fail("reply != request + 1");
  return {true, "ok", {{"Mask/s", static_cast<double>(n) / elapsed / 1e6, "M/s"}}};
}

// ask (actor) with co_await: the same round trips from a coroutine handler.
namespace {
class await_requester : public actor<await_requester> {
 public:
  await_requester(address<echo> e, std::uint64_t* errors, done_flag* d) : echo_(std::move(e)), errors_(errors), done_(d) {}
  task<void> on(start_asking s, context<await_requester>& ctx) {
    for (std::uint64_t i = 0; i < s.n; ++i) {
      auto r = co_await ctx.ask(echo_, echo_request{i});
      if (!r || *r != i + 1) ++*errors_;
    }
    done_->set();
  }

 private:
  address<echo> echo_;
  std::uint64_t* errors_;
  done_flag* done_;
};
}  // namespace

bench::outcome ask_actor(const bench::options& o) { return ask_between_actors<requester>(o); }
bench::outcome ask_actor_await(const bench::options& o) { return ask_between_actors<await_requester>(o); }

// -- idle -----------------------------------------------------------------------------------

namespace {
class waker : public actor<waker> {
 public:
  explicit waker(std::atomic<std::uint64_t>* at) : at_(at) {}
  void on(std::uint64_t) {
    at_->store(bench::now_ns(), std::memory_order_release);
    at_->notify_one();
  }
  void on(int) {}

 private:
  std::atomic<std::uint64_t>* at_;
};
}  // namespace

bench::outcome idle(const bench::options& o) {
  const auto sit = std::chrono::duration<double>(2.0 * std::min(1.0, o.scale * 10));
  const auto wakeups = bench::scaled(1000, o, 10);
  std::atomic<std::uint64_t> at{0};
  runtime rt{make_config(o)};
  std::vector<address<waker>> actors;
  for (int i = 0; i < 100; ++i) actors.push_back(rt.spawn<waker>(&at));
  for (auto& a : actors) (void)a.send(0);  // every actor has run once
  std::this_thread::sleep_for(50ms);  // the benchmark's own pause: let start-up settle
  auto cpu0 = bench::cpu_seconds();
  auto t0 = bench::clock::now();
  std::this_thread::sleep_for(sit);
  auto cpu_per_s = (bench::cpu_seconds() - cpu0) / bench::seconds_since(t0);
  bench::histogram h;
  auto cpu1 = bench::cpu_seconds();
  for (std::uint64_t i = 0; i < wakeups; ++i) {
    std::this_thread::sleep_for(1ms);  // let the workers finish spinning and park
    at.store(0, std::memory_order_relaxed);
    auto sent = bench::now_ns();
    (void)actors[i % actors.size()].send(std::uint64_t{i});
    std::uint64_t handled;
    while ((handled = at.load(std::memory_order_acquire)) == 0) at.wait(0, std::memory_order_acquire);
    h.record(handled - sent);
  }
  // CPU per wake-up: what handling one message after an idle period costs,
  // spin included (the sender's sleep costs almost nothing).
  auto cpu_per_wake_us = (bench::cpu_seconds() - cpu1) / static_cast<double>(wakeups) * 1e6;
  rt.shutdown();
  if (h.count() != wakeups) return bench::fail("a wake-up was not handled");
  return {true, "ok", {{"cpu_s/s", cpu_per_s, "s/s"},
                       {"wake_p50", static_cast<double>(h.quantile(0.5)), "ns"},
                       {"wake_p99", static_cast<double>(h.quantile(0.99)), "ns"},
                       {"cpu_us/wake", cpu_per_wake_us, "us"}}};
}

}  // namespace courier_bench
