// Timers with a handle (docs/api.md, "Timers"): send_every on a fixed grid
// with at most one tick outstanding, send_after(..., cancellable), the RAII
// courier::timer whose cancel() holds even for a queued tick, ownership by
// the context that made it, and reachability. No test here times speed:
// the grid is checked with generous bands, and "nothing more arrives" is
// shown by a second, probe timer's ticks, never by sleeping.
#include <courier/courier.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <courier/detail/allocator.hpp>

#include "tests/support/doctest.hpp"
#include "tests/support/wait.hpp"

using namespace courier;
using namespace std::chrono_literals;
using courier::test::gate;
using courier::test::wait_until;
using clock_type = std::chrono::steady_clock;

namespace {

struct tick {
  int id = 0;
};
struct probe {};
struct stall {
  std::chrono::milliseconds d;
};
struct quit {};
struct boom {};

/// Counts ticks per id and probes; records when each tick of id 0 came.
struct board {
  std::atomic<int> ticks[8]{};
  std::atomic<int> probes{0};
  std::mutex mutex;
  std::vector<clock_type::time_point> times;
  std::atomic<bool> destroyed{false};
};

class counter : public actor<counter> {
 public:
  explicit counter(std::shared_ptr<board> b) : b_(std::move(b)) {}
  ~counter() { b_->destroyed.store(true); }
  void on(tick t) {
    if (t.id == 0) {
      std::lock_guard lock(b_->mutex);
      b_->times.push_back(clock_type::now());
    }
    b_->ticks[t.id].fetch_add(1);
  }
  void on(probe) { b_->probes.fetch_add(1); }
  void on(stall s) { std::this_thread::sleep_for(s.d); }  // a long handler: the thing under test, not a wait
  void on(gate* g) { g->wait(); }

 private:
  std::shared_ptr<board> b_;
};

/// Waits for `n` more probe ticks (a second timer on the same actor): the
/// event that shows time passed for the timer under test too.
void wait_probes(runtime& rt, const address<counter>& c, board& b, int n) {
  int start = b.probes.load();
  auto p = rt.send_every(c, probe{}, 2ms);
  REQUIRE(wait_until([&] { return b.probes.load() >= start + n; }));
}

}  // namespace

TEST_CASE("send_every ticks on the grid: never early, at most one per grid point, no drift over 1 s") {
  runtime rt{{.workers = 2}};
  auto b = std::make_shared<board>();
  auto c = rt.spawn<counter>(b);
  constexpr auto period = 20ms;
  auto t0 = clock_type::now();
  auto t = rt.send_every(c, tick{}, period);
  REQUIRE(t.active());
  REQUIRE(wait_until([&] { return clock_type::now() - t0 >= 1s && b->ticks[0].load() > 0; }));
  t.cancel();
  CHECK_FALSE(t.active());
  std::vector<clock_type::time_point> times;
  {
    std::lock_guard lock(b->mutex);
    times = b->times;
  }
  // 50 grid points in 1 s; a generous band for a loaded machine.
  CHECK(times.size() >= 20);
  CHECK(times.size() <= 51 + 5);  // the wait may overrun 1 s a little; never a burst
  long previous = 0;
  for (std::size_t i = 0; i < times.size(); ++i) {
    // Grid point k of tick i: the latest one not after its handling time.
    long k = static_cast<long>((times[i] - t0) / period);
    CHECK(k >= static_cast<long>(i) + 1 - 0);  // no tick before its deadline (t0 + (i+1) * period at the earliest)
    CHECK(k > previous - (i == 0 ? 1 : 0));    // at most one tick per grid point
    previous = k;
  }
  // No drift: the last tick's grid index tracks elapsed time, not the count
  // of ticks (a drifting timer falls behind by its lateness every period).
  if (!times.empty()) {
    long last = static_cast<long>((times.back() - t0) / period);
    CHECK(last >= 40);
  }
}

TEST_CASE("send_every with a first delay: tick 0 after `first`, then every period") {
  runtime rt{{.workers = 2}};
  auto b = std::make_shared<board>();
  auto c = rt.spawn<counter>(b);
  auto t0 = clock_type::now();
  auto t = rt.send_every(c, tick{}, 10ms, 100ms);
  REQUIRE(wait_until([&] { return b->ticks[0].load() >= 3; }));
  std::lock_guard lock(b->mutex);
  CHECK(b->times[0] - t0 >= 100ms);
  CHECK(b->times[1] - t0 >= 110ms);
  CHECK(b->times[2] - t0 >= 120ms);
}

TEST_CASE("no burst after a 200 ms stall of a 10 ms timer: the missed deadlines are skipped and counted") {
  runtime rt{{.workers = 2}};
  auto b = std::make_shared<board>();
  auto c = rt.spawn<counter>(b);
  auto t = rt.send_every(c, tick{}, 10ms);
  REQUIRE(wait_until([&] { return b->ticks[0].load() >= 3; }));
  auto skipped_before = rt.stats().ticks_skipped;
  REQUIRE(c.send(stall{200ms}));
  // Once the stall's handler returned, at most the one outstanding tick is
  // handled "late"; the rest follow the grid. A catch-up would handle ~20 at once.
  REQUIRE(wait_until([&] { return b->ticks[0].load() >= 3 + 4; }));
  t.cancel();
  std::vector<clock_type::time_point> times;
  {
    std::lock_guard lock(b->mutex);
    times = b->times;
  }
  // Find the gap of the stall, then look at the ticks right after it.
  std::size_t after = 0;
  for (std::size_t i = 1; i < times.size(); ++i)
    if (times[i] - times[i - 1] >= 150ms) after = i;
  REQUIRE(after > 0);
  int burst = 0;
  for (std::size_t i = after; i < times.size(); ++i)
    if (times[i] - times[after] < 5ms) ++burst;
  CHECK(burst <= 2);  // the late one, and at most the grid point right behind it
  CHECK(rt.stats().ticks_skipped >= skipped_before + 10);
}

TEST_CASE("a 50 ms handler on a 10 ms timer runs about every 50-60 ms, aligned to the grid") {
  struct slow : actor<slow> {
    std::shared_ptr<board> b;
    explicit slow(std::shared_ptr<board> bb) : b(std::move(bb)) {}
    void on(tick) {
      {
        std::lock_guard lock(b->mutex);
        b->times.push_back(clock_type::now());
      }
      b->ticks[0].fetch_add(1);
      std::this_thread::sleep_for(50ms);  // the long handler under test
    }
  };
  runtime rt{{.workers = 2}};
  auto b = std::make_shared<board>();
  auto s = rt.spawn<slow>(b);
  auto t = rt.send_every(s, tick{}, 10ms);
  REQUIRE(wait_until([&] { return b->ticks[0].load() >= 6; }));
  t.cancel();
  std::lock_guard lock(b->mutex);
  for (std::size_t i = 1; i < b->times.size(); ++i) CHECK(b->times[i] - b->times[i - 1] >= 49ms);
  CHECK(rt.stats().ticks_skipped >= 4 * 4);  // about 4 deadlines skipped per tick handled
}

TEST_CASE("cancel racing a tick 10,000 times: no tick is handled after cancel returned") {
  struct watcher : actor<watcher> {
    std::atomic<int>* cancelled_upto;
    std::atomic<int>* late;
    std::atomic<int>* handled;
    watcher(std::atomic<int>* c, std::atomic<int>* l, std::atomic<int>* h) : cancelled_upto(c), late(l), handled(h) {}
    void on(tick t) {
      if (t.id <= cancelled_upto->load(std::memory_order_seq_cst)) late->fetch_add(1);
      handled->fetch_add(1);
    }
  };
  std::atomic<int> cancelled_upto{-1}, late{0}, handled{0};
  runtime rt{{.workers = 2}};
  auto w = rt.spawn<watcher>(&cancelled_upto, &late, &handled);
  int rounds = static_cast<int>(10'000 / courier::test::stress_divisor());
  for (int i = 0; i < rounds; ++i) {
    // A one-shot and a periodic timer, cancelled around their first deadline.
    auto one = rt.send_after(w, tick{i}, std::chrono::microseconds(i % 50), courier::cancellable);
    auto every = rt.send_every(w, tick{i}, std::chrono::microseconds(1 + i % 20));
    for (int spin = 0; spin < i % 200; ++spin) std::this_thread::yield();
    one.cancel();
    every.cancel();
    cancelled_upto.store(i, std::memory_order_seq_cst);
  }
  auto total = rt.stats();
  CHECK(late.load() == 0);
  MESSAGE("ticks handled before their cancel: " << handled.load() << " of " << rounds << " rounds");
  rt.shutdown();
  auto s = rt.stats();
  CHECK(s.accepted == s.handled + s.dropped);  // every tick that was queued was handled or dropped
  (void)total;
}

TEST_CASE("dropping the handle cancels the timer (RAII); move-assignment cancels the one it replaced") {
  runtime rt{{.workers = 2}};
  auto b = std::make_shared<board>();
  auto c = rt.spawn<counter>(b);
  {
    auto t = rt.send_every(c, tick{0}, 1ms);
    REQUIRE(wait_until([&] { return b->ticks[0].load() >= 3; }));
  }
  int after_drop = b->ticks[0].load();
  timer kept = rt.send_every(c, tick{1}, 1ms);
  REQUIRE(wait_until([&] { return b->ticks[1].load() >= 2; }));
  kept = rt.send_every(c, tick{2}, 1ms);  // cancels tick{1}'s timer
  int after_replace = b->ticks[1].load();
  REQUIRE(wait_until([&] { return b->ticks[2].load() >= 3; }));
  wait_probes(rt, c, *b, 5);
  CHECK(b->ticks[0].load() == after_drop);
  CHECK(b->ticks[1].load() == after_replace);
  CHECK(kept.active());
  timer moved = std::move(kept);
  CHECK_FALSE(kept.active());  // NOLINT(bugprone-use-after-move): a moved-from handle is inactive
  CHECK(moved.active());
}

TEST_CASE("cancel() in the target's own turn: no further tick is ever handled, even one queued") {
  struct hold_then_cancel {
    gate* g;
    std::atomic<bool>* entered;
  };
  struct self_ticker : actor<self_ticker> {
    std::shared_ptr<board> b;
    timer t;
    explicit self_ticker(std::shared_ptr<board> bb) : b(std::move(bb)) {}
    void on_start(context<self_ticker>& ctx) { t = ctx.send_every(ctx.self(), tick{}, 1ms); }
    void on(tick) { b->ticks[0].fetch_add(1); }
    void on(hold_then_cancel h) {
      h.entered->store(true);
      h.g->wait();  // meanwhile a tick is queued behind this turn
      t.cancel();
    }
    void on(probe) { b->probes.fetch_add(1); }
  };
  runtime rt{{.workers = 2}};
  auto b = std::make_shared<board>();
  auto s = rt.spawn<self_ticker>(b);
  REQUIRE(wait_until([&] { return b->ticks[0].load() >= 1; }));
  gate g;
  courier::test::open_at_exit release{g};  // after the runtime: a failed check still lets its handler out
  std::atomic<bool> entered{false};
  REQUIRE(s.send(hold_then_cancel{&g, &entered}));
  REQUIRE(wait_until([&] { return entered.load(); }));
  // A deadline skipped while this turn runs: a tick is outstanding, so
  // queued behind it (the actor handles nothing else meanwhile).
  auto skipped = rt.stats().ticks_skipped;
  REQUIRE(wait_until([&] { return rt.stats().ticks_skipped > skipped; }));
  int handled = b->ticks[0].load();
  auto dropped = rt.stats().dropped;
  g.open();
  auto p = rt.send_every(s, probe{}, 2ms);
  REQUIRE(wait_until([&] { return b->probes.load() >= 5; }));
  CHECK(b->ticks[0].load() == handled);
  CHECK(rt.stats().dropped == dropped + 1);
}

TEST_CASE("the owner's stop cancels the timers it made, detached ones too") {
  struct owner : actor<owner> {
    address<counter> to;
    timer kept;
    explicit owner(address<counter> a) : to(std::move(a)) {}
    void on_start(context<owner>& ctx) {
      kept = ctx.send_every(to, tick{0}, 1ms);
      ctx.send_every(to, tick{1}, 1ms).detach();
    }
    void on(quit, context<owner>& ctx) { ctx.stop(); }
  };
  runtime rt{{.workers = 2}};
  auto b = std::make_shared<board>();
  auto c = rt.spawn<counter>(b);
  auto o = rt.spawn<owner>(c);
  REQUIRE(wait_until([&] { return b->ticks[0].load() >= 2 && b->ticks[1].load() >= 2; }));
  REQUIRE(o.send(quit{}));
  REQUIRE(o.join_for(30s));
  int t0 = b->ticks[0].load(), t1 = b->ticks[1].load();
  wait_probes(rt, c, *b, 5);
  CHECK(b->ticks[0].load() == t0);
  CHECK(b->ticks[1].load() == t1);
}

TEST_CASE("an in-place restart revokes the timers of the old incarnation: the new one sees none of its ticks") {
  struct phoenix : actor<phoenix> {
    std::shared_ptr<board> b;
    std::shared_ptr<std::atomic<int>> incarnations;
    int me = 0;
    timer t;
    phoenix(std::shared_ptr<board> bb, std::shared_ptr<std::atomic<int>> n) : b(std::move(bb)), incarnations(std::move(n)) {}
    void on_start(context<phoenix>& ctx) {
      me = incarnations->fetch_add(1);
      t = ctx.send_every(ctx.self(), tick{me}, 1ms);
      ctx.send_every(ctx.self(), tick{me + 4}, 1ms).detach();
    }
    void on(tick x) {
      if (x.id % 4 != me) b->ticks[7].fetch_add(1);  // an old incarnation's tick: must never happen
      b->ticks[x.id % 4].fetch_add(1);
    }
    void on(boom) {
      std::this_thread::sleep_for(3ms);  // ticks queue behind this turn
      throw std::runtime_error("boom");
    }
  };
  runtime rt{{.workers = 2}};
  rt.set_error_hook([](auto, auto, auto) {});
  auto b = std::make_shared<board>();
  auto n = std::make_shared<std::atomic<int>>(0);
  auto p = rt.spawn<phoenix>(spawn_options{.failure = {.action = on_failure::restart, .intensity = 10}}, b, n);
  for (int round = 0; round < 3; ++round) {
    REQUIRE(wait_until([&] { return n->load() == round + 1 && b->ticks[round].load() >= 2; }));
    REQUIRE(p.send(boom{}));
  }
  REQUIRE(wait_until([&] { return n->load() == 4 && b->ticks[3].load() >= 2; }));
  CHECK(b->ticks[7].load() == 0);
  CHECK(rt.stats().dropped > 0);  // the old incarnations' queued ticks were dropped, counted
}

TEST_CASE("reachability: an active self-timer keeps its actor running with no address; cancelling lets it end") {
  struct daemon : actor<daemon> {
    std::shared_ptr<board> b;
    timer t;
    explicit daemon(std::shared_ptr<board> bb) : b(std::move(bb)) {}
    ~daemon() { b->destroyed.store(true); }
    void on_start(context<daemon>& ctx) { t = ctx.send_every(ctx.self(), tick{}, 1ms); }
    void on(tick) {
      if (b->ticks[0].fetch_add(1) + 1 == 20) t.cancel();  // then nothing keeps it
    }
  };
  runtime rt{{.workers = 2}};
  auto b = std::make_shared<board>();
  (void)rt.spawn<daemon>(b);  // the address is dropped at once
  REQUIRE(wait_until([&] { return b->destroyed.load(); }));
  CHECK(b->ticks[0].load() == 20);
}

TEST_CASE("reachability: a runtime timer keeps its target reachable until the handle is cancelled") {
  runtime rt{{.workers = 2}};
  auto b = std::make_shared<board>();
  auto c = rt.spawn<counter>(b);
  auto t = rt.send_every(c, tick{}, 1ms);
  c = {};  // the timer is the only address now
  REQUIRE(wait_until([&] { return b->ticks[0].load() >= 10; }));
  CHECK_FALSE(b->destroyed.load());
  CHECK(t.active());
  t.cancel();
  REQUIRE(wait_until([&] { return b->destroyed.load(); }));
  CHECK_FALSE(t.active());
}

TEST_CASE("a detached self-timer ticks until ctx.stop()") {
  struct beacon : actor<beacon> {
    std::shared_ptr<board> b;
    explicit beacon(std::shared_ptr<board> bb) : b(std::move(bb)) {}
    ~beacon() { b->destroyed.store(true); }
    void on_start(context<beacon>& ctx) { ctx.send_every(ctx.self(), tick{}, 1ms).detach(); }
    void on(tick, context<beacon>& ctx) {
      if (b->ticks[0].fetch_add(1) + 1 == 10) ctx.stop();
    }
  };
  runtime rt{{.workers = 2}};
  auto b = std::make_shared<board>();
  (void)rt.spawn<beacon>(b);
  REQUIRE(wait_until([&] { return b->destroyed.load(); }));
  CHECK(b->ticks[0].load() == 10);
}

TEST_CASE("the target stops: the timer becomes inactive and the runtime goes quiet") {
  runtime rt{{.workers = 2}};
  auto b = std::make_shared<board>();
  auto c = rt.spawn<counter>(b);
  auto t = rt.send_every(c, tick{}, 1ms);
  REQUIRE(wait_until([&] { return b->ticks[0].load() >= 2; }));
  c.stop();
  REQUIRE(c.join_for(30s));
  CHECK_FALSE(t.active());
  auto s0 = rt.stats();
  CHECK(s0.accepted >= s0.handled);
}

TEST_CASE("send_after(..., cancellable): revoked before it fires, nothing is counted; while queued, dropped and counted") {
  runtime rt{{.workers = 2}};
  auto b = std::make_shared<board>();
  auto c = rt.spawn<counter>(b);
  SUBCASE("cancelled before the deadline") {
    auto before = rt.stats();
    auto t = rt.send_after(c, tick{}, 1h, courier::cancellable);
    CHECK(t.active());
    t.cancel();
    CHECK_FALSE(t.active());
    auto after = rt.stats();
    CHECK(after.accepted == before.accepted);
    CHECK(after.dropped == before.dropped);
  }
  SUBCASE("cancelled while queued") {
    gate g;
    REQUIRE(c.send(&g));  // the actor is busy: the tick waits in its mailbox
    auto before = rt.stats();
    auto t = rt.send_after(c, tick{}, 1ms, courier::cancellable);
    REQUIRE(wait_until([&] { return rt.stats().accepted == before.accepted + 1; }));  // fired: queued
    CHECK_FALSE(t.active());
    t.cancel();
    g.open();
    REQUIRE(wait_until([&] { return rt.stats().dropped == before.dropped + 1; }));
    wait_probes(rt, c, *b, 3);
    CHECK(b->ticks[0].load() == 0);
  }
  SUBCASE("delivered once, then inactive") {
    auto t = rt.send_after(c, tick{}, 1ms, courier::cancellable);
    REQUIRE(wait_until([&] { return b->ticks[0].load() == 1; }));
    CHECK_FALSE(t.active());
    wait_probes(rt, c, *b, 3);
    CHECK(b->ticks[0].load() == 1);
  }
  SUBCASE("a message that is only movable") {
    struct holder : actor<holder> {
      std::shared_ptr<board> b;
      explicit holder(std::shared_ptr<board> bb) : b(std::move(bb)) {}
      void on(std::unique_ptr<int> p) { b->ticks[0].fetch_add(*p); }
    };
    auto h = rt.spawn<holder>(b);
    auto t = rt.send_after(h, std::make_unique<int>(5), 1ms, courier::cancellable);
    REQUIRE(wait_until([&] { return b->ticks[0].load() == 5; }));
  }
}

TEST_CASE("bad input: period <= 0 or an empty target gives an inactive timer and schedules nothing") {
  runtime rt{{.workers = 2}};
  auto b = std::make_shared<board>();
  auto c = rt.spawn<counter>(b);
  CHECK_FALSE(rt.send_every(c, tick{}, 0ms).active());
  CHECK_FALSE(rt.send_every(c, tick{}, -5ms).active());
  CHECK_FALSE(rt.send_every(address<counter>{}, tick{}, 1ms).active());
  CHECK_FALSE(rt.send_after(address<counter>{}, tick{}, 1ms, courier::cancellable).active());
  CHECK_FALSE(timer{}.active());
  timer empty;
  empty.cancel();
  empty.detach();
  // A negative first delay is 0: the first tick comes at once.
  auto t = rt.send_every(c, tick{}, 1h, -5s);
  REQUIRE(wait_until([&] { return b->ticks[0].load() == 1; }));
  wait_probes(rt, c, *b, 3);
  CHECK(b->ticks[0].load() == 1);
  CHECK(rt.stats().accepted == rt.stats().handled + 0);  // nothing else was queued
}

TEST_CASE("ticks bypass a bounded mailbox's capacity and take none of its slots") {
  runtime rt{{.workers = 2}};
  auto b = std::make_shared<board>();
  auto c = rt.spawn<counter>(spawn_options{.capacity = 1}, b);
  gate g;
  REQUIRE(c.send(&g));
  REQUIRE(wait_until([&] { return c.send(probe{}).has_value(); }));  // the one slot is taken
  CHECK(c.send(probe{}).error().code() == errc::mailbox_full);
  auto t = rt.send_after(c, tick{}, 1ms, courier::cancellable);
  REQUIRE(wait_until([&] { return !t.active(); }));  // queued in a full mailbox
  CHECK(c.send(probe{}).error().code() == errc::mailbox_full);  // and took no slot of its own... nor freed one
  g.open();
  REQUIRE(wait_until([&] { return b->ticks[0].load() == 1; }));
}

TEST_CASE("runtime shutdown cancels every timer; queued ticks follow the drain rules") {
  auto b = std::make_shared<board>();
  timer t;
  {
    runtime rt{{.workers = 2}};
    auto c = rt.spawn<counter>(b);
    t = rt.send_every(c, tick{}, 1ms);
    REQUIRE(wait_until([&] { return b->ticks[0].load() >= 2; }));
    rt.shutdown();
    CHECK_FALSE(t.active());
    auto s = rt.stats();
    CHECK(s.accepted == s.handled + s.dropped);
  }
  t.cancel();  // after the runtime is gone: still safe
  CHECK_FALSE(t.active());
}

TEST_CASE("timers through a recipient<M>: send_every and send_after(cancellable)") {
  runtime rt{{.workers = 2}};
  auto b = std::make_shared<board>();
  auto c = rt.spawn<counter>(b);
  recipient<tick> r = c;
  auto every = rt.send_every(r, tick{0}, 1ms);
  auto once = rt.send_after(r, tick{1}, 1ms, courier::cancellable);
  REQUIRE(wait_until([&] { return b->ticks[0].load() >= 3 && b->ticks[1].load() == 1; }));
  every.cancel();
  int n = b->ticks[0].load();
  wait_probes(rt, c, *b, 5);
  CHECK(b->ticks[0].load() == n);
  CHECK_FALSE(rt.send_every(recipient<tick>{}, tick{}, 1ms).active());
}

TEST_CASE("cancelling 100,000 armed timers frees their service entries without waiting for the deadlines") {
  runtime rt{{.workers = 2}};
  auto b = std::make_shared<board>();
  auto c = rt.spawn<counter>(b);
  std::vector<timer> timers;
  int n = static_cast<int>(100'000 / courier::test::stress_divisor());
  timers.reserve(static_cast<std::size_t>(n));
  auto base = courier::detail::live_allocations();  // < 0: the library does not count
  for (int i = 0; i < n; ++i) timers.push_back(rt.send_after(c, tick{}, 1h, courier::cancellable));
  if (base >= 0) CHECK(courier::detail::live_allocations() >= base + n);
  for (auto& t : timers) t.cancel();
  for (auto& t : timers) CHECK_FALSE(t.active());
  timers.clear();
  // Compaction freed the cancelled entries (and with them the blocks) long
  // before their deadline: what is left is below the compaction floor.
  if (base >= 0) CHECK(courier::detail::live_allocations() <= base + 1024);
  // The target is no longer held by any timer: it ends once its address goes.
  c = {};
  REQUIRE(wait_until([&] { return b->destroyed.load(); }));
}

TEST_CASE("cancel() from another thread waits for a tick handler that is running: after it returns, none runs") {
  struct slow_tick : actor<slow_tick> {
    gate* g;
    std::atomic<bool>* inside;
    std::atomic<bool>* finished;
    slow_tick(gate* gg, std::atomic<bool>* i, std::atomic<bool>* f) : g(gg), inside(i), finished(f) {}
    void on(tick) {
      inside->store(true);
      g->wait();
      finished->store(true);
    }
  };
  runtime rt{{.workers = 2}};
  gate g;
  std::atomic<bool> inside{false}, finished{false}, calling{false}, finished_at_return{false};
  auto s = rt.spawn<slow_tick>(&g, &inside, &finished);
  auto t = rt.send_every(s, tick{}, 1ms);
  REQUIRE(wait_until([&] { return inside.load(); }));
  std::thread canceller([&] {
    calling.store(true);
    t.cancel();
    finished_at_return.store(finished.load());
  });
  REQUIRE(wait_until([&] { return calling.load(); }));
  for (int i = 0; i < 1000; ++i) std::this_thread::yield();  // let it reach the wait (either way the check holds)
  g.open();
  canceller.join();
  CHECK(finished_at_return.load());
}

TEST_CASE("tick handlers cancelling each other's timers at the same time do not wait for each other") {
  struct crosser : actor<crosser> {
    timer* other;
    gate* armed;
    std::atomic<int>* arrived;
    std::atomic<int>* done;
    crosser(timer* o, gate* g, std::atomic<int>* a, std::atomic<int>* d) : other(o), armed(g), arrived(a), done(d) {}
    void on(tick) {
      armed->wait();  // both handles are assigned
      arrived->fetch_add(1);
      (void)wait_until([&] { return arrived->load() >= 2; }, 5s);  // both handlers running
      other->cancel();
      done->fetch_add(1);
    }
  };
  runtime rt{{.workers = 2}};
  std::atomic<int> arrived{0}, done{0};
  timer ta, tb;
  gate armed;
  auto a = rt.spawn<crosser>(&tb, &armed, &arrived, &done);
  auto b = rt.spawn<crosser>(&ta, &armed, &arrived, &done);
  ta = rt.send_after(a, tick{}, 1ms, courier::cancellable);
  tb = rt.send_after(b, tick{}, 1ms, courier::cancellable);
  armed.open();
  REQUIRE(wait_until([&] { return done.load() == 2; }));
}
