// Stress with exact accounting: millions of messages, exact counts,
// per-sender FIFO, an exclusivity check in every handler (I1-I7).
// Sanitizer builds divide the message counts by test::stress_divisor().
#include <courier/courier.hpp>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "tests/support/conservation.hpp"
#include "tests/support/doctest.hpp"
#include "tests/support/tracked.hpp"
#include "tests/support/wait.hpp"

using namespace courier;
using namespace std::chrono_literals;
using courier::test::check_conservation;
using courier::test::exclusive;
using courier::test::stress_divisor;
using courier::test::tracked;
using courier::test::wait_until;

namespace {

struct item {
  std::uint32_t sender;
  std::uint64_t seq;
};

struct sink_state {
  exclusive guard;
  std::vector<std::uint64_t> next;  // per sender: the next expected seq (owner: the sink's turns)
  std::atomic<std::uint64_t> count{0};
  std::atomic<std::uint64_t> sum{0};
  std::atomic<std::uint64_t> order_errors{0};
  explicit sink_state(std::size_t senders) : next(senders, 0) {}
};

class sink : public actor<sink> {
 public:
  explicit sink(std::shared_ptr<sink_state> s) : s_(std::move(s)) {}
  void on(item m) {
    exclusive::scope in(s_->guard);
    if (s_->next[m.sender] != m.seq) s_->order_errors.fetch_add(1, std::memory_order_relaxed);
    s_->next[m.sender] = m.seq + 1;
    sum_ += m.seq;
    ++count_;
    s_->sum.store(sum_, std::memory_order_relaxed);
    s_->count.store(count_, std::memory_order_release);
  }

 private:
  std::shared_ptr<sink_state> s_;
  std::uint64_t sum_ = 0;
  std::uint64_t count_ = 0;
};

}  // namespace

TEST_CASE("8 threads x 250k messages to one actor: exact count, sum and per-sender order" *
          doctest::timeout(300)) {
  constexpr std::uint32_t threads = 8;
  const std::uint64_t per_thread = 250'000 / stress_divisor();
  auto s = std::make_shared<sink_state>(threads);
  runtime rt{{.workers = courier::test::test_workers()}};
  auto target = rt.spawn<sink>(s);
  std::vector<std::thread> senders;
  for (std::uint32_t t = 0; t < threads; ++t)
    senders.emplace_back([&, t] {
      for (std::uint64_t i = 0; i < per_thread; ++i) REQUIRE(target.send(item{t, i}).has_value());
    });
  for (auto& t : senders) t.join();
  const auto total = threads * per_thread;
  REQUIRE(wait_until([&] { return s->count.load(std::memory_order_acquire) == total; }, 120s));
  CHECK(s->sum.load() == threads * (per_thread * (per_thread - 1) / 2));
  CHECK(s->order_errors.load() == 0);
  CHECK(s->guard.violations() == 0);
  CHECK(rt.shutdown(30s));
  CHECK(rt.stats().handled == total);
  check_conservation(rt.stats());
}

namespace {

struct next_one {
  int unused;
};

// Sends one message per turn and re-triggers itself, so it migrates between
// workers while its messages to the sink must stay in order (I4).
class migrating_sender : public actor<migrating_sender> {
 public:
  migrating_sender(std::uint32_t id, std::uint64_t total, address<sink> to, exclusive* guard)
      : id_(id), total_(total), to_(std::move(to)), guard_(guard) {}
  void on(next_one, context<migrating_sender>& ctx) {
    exclusive::scope in(*guard_);
    (void)to_.send(item{id_, seq_++});
    if (seq_ < total_) (void)ctx.self().send(next_one{0});
  }

 private:
  std::uint32_t id_;
  std::uint64_t total_;
  std::uint64_t seq_ = 0;
  address<sink> to_;
  exclusive* guard_;
};

}  // namespace

TEST_CASE("64 migrating sender actors keep per-sender order at the receiver" * doctest::timeout(300)) {
  constexpr std::uint32_t senders = 64;
  const std::uint64_t each = 20'000 / stress_divisor();
  auto s = std::make_shared<sink_state>(senders);
  std::vector<std::unique_ptr<exclusive>> guards;
  runtime rt{{.workers = courier::test::test_workers()}};
  auto target = rt.spawn<sink>(s);
  for (std::uint32_t i = 0; i < senders; ++i) {
    guards.push_back(std::make_unique<exclusive>());
    (void)rt.spawn<migrating_sender>(i, each, target, guards.back().get()).send(next_one{0});
  }
  REQUIRE(wait_until([&] { return s->count.load(std::memory_order_acquire) == senders * each; }, 120s));
  CHECK(s->order_errors.load() == 0);
  CHECK(s->guard.violations() == 0);
  for (auto& g : guards) CHECK(g->violations() == 0);
  CHECK(rt.shutdown(30s));
  check_conservation(rt.stats());
}

namespace {

struct ball {
  std::uint64_t n;
};
class player : public actor<player> {
 public:
  player(std::atomic<std::uint64_t>* progress, std::uint64_t limit, exclusive* guard)
      : progress_(progress), limit_(limit), guard_(guard) {}
  void on(address<player> peer) { peer_ = std::move(peer); }
  void on(ball b) {
    exclusive::scope in(*guard_);
    progress_->fetch_add(1, std::memory_order_relaxed);
    if (b.n < limit_) (void)peer_.send(ball{b.n + 1});
  }

 private:
  std::atomic<std::uint64_t>* progress_;
  std::uint64_t limit_;
  address<player> peer_;
  exclusive* guard_;
};

}  // namespace

TEST_CASE("16 ping-pong pairs go idle between every message and never stall" * doctest::timeout(300)) {
  constexpr int pairs = 16;
  const std::uint64_t bounces = 200'000 / stress_divisor();
  std::atomic<std::uint64_t> progress{0};
  std::vector<std::unique_ptr<exclusive>> guards;
  runtime rt{{.workers = courier::test::test_workers()}};
  std::vector<address<player>> all;
  for (int p = 0; p < pairs; ++p) {
    guards.push_back(std::make_unique<exclusive>());
    guards.push_back(std::make_unique<exclusive>());
    auto a = rt.spawn<player>(&progress, bounces, guards[guards.size() - 2].get());
    auto b = rt.spawn<player>(&progress, bounces, guards.back().get());
    (void)a.send(b);
    (void)b.send(a);
    all.push_back(a);
    all.push_back(b);
  }
  for (std::size_t p = 0; p < all.size(); p += 2) (void)all[p].send(ball{0});
  const auto expected = pairs * (bounces + 1);
  // watchdog: fails as soon as no message moves for 10 s (a lost wake-up)
  auto last = progress.load();
  auto last_change = std::chrono::steady_clock::now();
  while (progress.load() != expected) {
    auto now_value = progress.load();
    if (now_value != last) {
      last = now_value;
      last_change = std::chrono::steady_clock::now();
    }
    REQUIRE(std::chrono::steady_clock::now() - last_change < 10s);
    std::this_thread::yield();
  }
  for (auto& g : guards) CHECK(g->violations() == 0);
  for (auto& a : all) a.stop();  // pairs hold each other's addresses
  CHECK(rt.shutdown(30s));
  check_conservation(rt.stats());
}

namespace {
class stamp : public actor<stamp> {
 public:
  explicit stamp(std::atomic<std::uint64_t>* handled) : handled_(handled) {}
  void on(std::uint64_t n) { handled_->store(n, std::memory_order_release); }

 private:
  std::atomic<std::uint64_t>* handled_;
};
}  // namespace

TEST_CASE("2,000 times: once every worker has parked, one message from outside is handled within 100 ms" *
          doctest::timeout(300)) {
  std::atomic<std::uint64_t> handled{0};
  runtime rt{{.workers = courier::test::test_workers()}};
  auto s = rt.spawn<stamp>(&handled);
  const std::uint64_t cycles = 2000 / (stress_divisor() > 1 ? 4 : 1);
  // A worker is asleep on its futex when it has parked once more than it
  // was woken (metrics count both).
  auto all_parked = [&] {
    for (auto& w : rt.metrics().workers)
      if (w.parks <= w.wakeups) return false;
    return true;
  };
  for (std::uint64_t i = 1; i <= cycles; ++i) {
    // The message below has to wake a worker from its futex.
    REQUIRE(wait_until(all_parked));
    REQUIRE(s.send(i).has_value());
    REQUIRE(wait_until([&] { return handled.load(std::memory_order_acquire) == i; }, 100ms));
  }
}

namespace {
struct flood_state {
  std::atomic<std::uint64_t> handled{0};
};
class counter_actor : public actor<counter_actor> {
 public:
  explicit counter_actor(flood_state* s) : s_(s) {}
  void on(tracked) { s_->handled.fetch_add(1, std::memory_order_relaxed); }

 private:
  flood_state* s_;
};
struct spray {
  std::uint64_t n;
};
class sprayer : public actor<sprayer> {
 public:
  sprayer(std::vector<address<counter_actor>> targets, std::atomic<std::uint64_t>* accepted,
          std::atomic<std::uint64_t>* refused, std::atomic<std::uint64_t>* own)
      : targets_(std::move(targets)), accepted_(accepted), refused_(refused), own_(own) {}
  void on(spray s, context<sprayer>& ctx) {
    own_[1].fetch_add(1, std::memory_order_relaxed);  // handled
    for (auto& t : targets_) (t.send(tracked(s.n)) ? *accepted_ : *refused_).fetch_add(1, std::memory_order_relaxed);
    if (s.n > 0 && ctx.self().send(spray{s.n - 1})) own_[0].fetch_add(1, std::memory_order_relaxed);  // accepted
  }

 private:
  std::vector<address<counter_actor>> targets_;
  std::atomic<std::uint64_t>* accepted_;
  std::atomic<std::uint64_t>* refused_;
  std::atomic<std::uint64_t>* own_;
};
}  // namespace

TEST_CASE("stop and shutdown while 8 threads and 32 actors keep sending: every message is accounted for" *
          doctest::timeout(300)) {
  auto before = tracked::live.load();
  flood_state state;
  std::atomic<std::uint64_t> accepted{0}, refused{0};
  std::atomic<std::uint64_t> own[2] = {0, 0};  // sprayers' own messages: accepted, handled
  {
    runtime rt{{.workers = courier::test::test_workers()}};
    std::vector<address<counter_actor>> targets;
    for (int i = 0; i < 8; ++i) targets.push_back(rt.spawn<counter_actor>(&state));
    std::vector<address<sprayer>> sprayers;
    for (int i = 0; i < 32; ++i) sprayers.push_back(rt.spawn<sprayer>(targets, &accepted, &refused, own));
    for (auto& s : sprayers)
      if (s.send(spray{2000 / stress_divisor()})) own[0].fetch_add(1);
    std::atomic<bool> go_on{true};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&, t] {
        std::uint64_t i = 0;
        for (; go_on.load(std::memory_order_relaxed) || i < 1000; ++i)
          (targets[(t + i) % targets.size()].send(tracked(i)) ? accepted : refused)
              .fetch_add(1, std::memory_order_relaxed);
      });
    REQUIRE(wait_until([&] { return accepted.load() > 20'000 / stress_divisor(); }));
    for (std::size_t i = 0; i < targets.size(); ++i) (i % 2 ? targets[i].stop() : targets[i].shutdown());
    for (auto& t : targets) t.join();
    go_on.store(false);
    for (auto& t : threads) t.join();
    for (auto& s : sprayers) s.stop();
    CHECK(rt.shutdown(60s));
    auto st = rt.stats();
    // Every send either succeeded and was handled or dropped-and-counted, or returned an error.
    CHECK(st.handled == state.handled.load() + own[1].load());
    CHECK(st.handled + st.dropped == accepted.load() + own[0].load());
    CHECK(st.accepted == accepted.load() + own[0].load());  // the runtime's count agrees with the senders'
    CHECK(refused.load() > 0);
    check_conservation(st);
  }
  CHECK(tracked::live.load() == before);
}

namespace {
struct question {
  std::uint64_t n;
};
class answerer : public actor<answerer> {
 public:
  std::uint64_t on(question q) { return q.n; }
};
}  // namespace

TEST_CASE("requests racing an actor's stop all complete" * doctest::timeout(300)) {
  const int rounds = 200 / static_cast<int>(stress_divisor() > 1 ? 4 : 1);
  runtime rt{{.workers = courier::test::test_workers()}};
  for (int round = 0; round < rounds; ++round) {
    auto a = rt.spawn<answerer>();
    std::vector<std::thread> threads;
    std::atomic<std::uint64_t> ok{0}, stopped{0}, other{0};
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        std::vector<reply<std::uint64_t>> pending;
        for (std::uint64_t i = 0; i < 200; ++i) pending.push_back(a.ask(question{i + t}));
        for (auto& p : pending) {
          auto r = p.get_for(30s);
          if (r)
            ok.fetch_add(1);
          else if (r.error().code() == errc::actor_stopped)
            stopped.fetch_add(1);
          else
            other.fetch_add(1);
        }
      });
    a.stop();
    for (auto& t : threads) t.join();
    CHECK(other.load() == 0);
    CHECK(ok.load() + stopped.load() == 800);
  }
  CHECK(rt.shutdown(30s));
  check_conservation(rt.stats());
}
