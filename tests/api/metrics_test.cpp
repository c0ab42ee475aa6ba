// runtime::metrics() and metrics::to_prometheus() (issue 7).
#include <courier/courier.hpp>

#include <atomic>
#include <cctype>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include "tests/support/doctest.hpp"
#include "tests/support/wait.hpp"

using namespace courier;
using namespace std::chrono_literals;
using courier::test::gate;
using courier::test::wait_until;

namespace {

struct work {
  int n;
};
struct block {
  gate* g;
  std::atomic<bool>* started;
};
struct fail {};
class busy : public actor<busy> {
 public:
  int on(work w) { return w.n; }
  int on(fail) { throw std::runtime_error("no"); }
  void on(block b) {
    b.started->store(true);
    b.g->wait();
  }
};

// A small parser for the Prometheus text format (0.0.4): every sample's
// metric has a TYPE line before it, names and label syntax are valid, values
// are numbers. Returns the samples by "name{labels}".
std::map<std::string, double> parse_prometheus(const std::string& text) {
  std::map<std::string, double> samples;
  std::set<std::string> typed;
  std::istringstream in(text);
  std::string line;
  auto valid_name = [](const std::string& n) {
    if (n.empty() || std::isdigit(static_cast<unsigned char>(n[0]))) return false;
    for (char c : n)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':')) return false;
    return true;
  };
  while (std::getline(in, line)) {
    REQUIRE_FALSE(line.empty());
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream t(line.substr(7));
      std::string name, type;
      t >> name >> type;
      CHECK(valid_name(name));
      CHECK((type == "counter" || type == "gauge" || type == "histogram"));
      typed.insert(name);
      continue;
    }
    REQUIRE(line[0] != '#');
    auto space = line.rfind(' ');
    REQUIRE(space != std::string::npos);
    auto key = line.substr(0, space);
    auto name = key.substr(0, key.find('{'));
    CHECK(valid_name(name));
    auto family = name;  // a histogram's samples: <family>_bucket, _sum, _count
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      std::string sfx = suffix;
      if (!typed.count(family) && family.size() > sfx.size() &&
          family.compare(family.size() - sfx.size(), sfx.size(), sfx) == 0)
        family.resize(family.size() - sfx.size());
    }
    CHECK(typed.count(family) == 1);
    if (auto brace = key.find('{'); brace != std::string::npos) {
      CHECK(key.back() == '}');
      auto labels = key.substr(brace + 1, key.size() - brace - 2);
      CHECK(labels.find("=\"") != std::string::npos);
    }
    std::size_t used = 0;
    double value = std::stod(line.substr(space + 1), &used);
    CHECK(used == line.size() - space - 1);
    samples[key] = value;
  }
  return samples;
}

}  // namespace

TEST_CASE("metrics count the workers' activity and agree with stats()" * doctest::timeout(30)) {
  runtime rt{{.workers = 2}};
  auto b = rt.spawn<busy>(spawn_options{.name = "busy"});
  for (int i = 0; i < 1000; ++i) (void)b.send(work{i});
  CHECK(*b.ask(work{7}).get() == 7);
  // The worker counts a message after its handler returned, so the last one
  // may still be uncounted when the reply arrives: wait for it.
  auto total = [&] {
    std::uint64_t n = 0;
    for (auto& w : rt.metrics().workers) n += w.handled;
    return n;
  };
  REQUIRE(wait_until([&] { return total() == 1001; }));
  auto m = rt.metrics();
  REQUIRE(m.workers.size() == 2);
  std::uint64_t handled = 0, turns = 0, injected = 0;
  for (auto& w : m.workers) {
    handled += w.handled;
    turns += w.turns;
    injected += w.injection_pops;
  }
  CHECK(handled == rt.stats().handled);
  CHECK(handled == 1001);
  CHECK(turns >= 1);
  CHECK(injected >= 1);  // the first send from this thread made the actor runnable
  CHECK(m.live_actors == 1);
  CHECK(m.queued_messages == 0);
  CHECK(m.dropped_messages == 0);
}

namespace {
struct relay_to {
  address<busy> target;
};
// Suspends in co_await on a request that `target` answers late.
class waiter : public actor<waiter> {
 public:
  task<int> on(relay_to r, context<waiter>& ctx) {
    auto v = co_await ctx.ask(r.target, work{5});
    co_return v ? *v : -1;
  }
};
struct spin {
  std::atomic<bool>* stop;
  std::atomic<std::uint64_t>* turns;
};
// Always busy with short handlers: inside a handler at most snapshots, never
// inside the same one for long.
class spinner : public actor<spinner> {
 public:
  void on(spin s, context<spinner>& ctx) {
    s.turns->fetch_add(1);
    if (!s.stop->load()) (void)ctx.self().send(s);
  }
};
const inside_actor* find(const std::vector<inside_actor>& v, const std::string& name) {
  for (auto& a : v)
    if (a.name == name) return &a;
  return nullptr;
}
}  // namespace

TEST_CASE("metrics name the actors inside one handler longer than config::stuck_after" * doctest::timeout(60)) {
  runtime rt{{.workers = 2, .stuck_after = 50ms}};
  auto b = rt.spawn<busy>(spawn_options{.name = "slowpoke"});
  auto w = rt.spawn<waiter>(spawn_options{.name = "patient"});
  auto s = rt.spawn<spinner>(spawn_options{.name = "spinner"});
  gate g;
  std::atomic<bool> started{false}, stop{false};
  std::atomic<std::uint64_t> spins{0};
  (void)b.send(block{&g, &started});
  REQUIRE(wait_until([&] { return started.load(); }));
  auto answer = w.ask(relay_to{b});  // suspends until b is free
  (void)s.send(spin{&stop, &spins});

  auto t0 = std::chrono::steady_clock::now();
  CHECK(find(rt.metrics().stuck, "slowpoke") == nullptr);  // first sighting: not yet 50 ms
  REQUIRE(wait_until([&] {
    auto m = rt.metrics();
    return find(m.stuck, "slowpoke") && find(m.stuck, "patient");
  }));
  // Keep sampling past several thresholds: the spinner, inside a handler at
  // many snapshots but never the same one for long, is never named.
  auto until = std::chrono::steady_clock::now() + 200ms;
  courier::metrics m;
  int snapshots = 0, spinner_named = 0;
  do {
    m = rt.metrics();
    ++snapshots;
    if (find(m.stuck, "spinner")) ++spinner_named;
  } while (std::chrono::steady_clock::now() < until);
  CHECK(snapshots > 1);
  CHECK(spinner_named == 0);
  CHECK(spins.load() > 10);
  auto* slow = find(m.stuck, "slowpoke");
  auto* pat = find(m.stuck, "patient");
  REQUIRE(slow);
  REQUIRE(pat);
  CHECK(slow->type.find("busy") != std::string::npos);
  CHECK(pat->type.find("waiter") != std::string::npos);
  CHECK(slow->id != 0);
  CHECK(slow->id != pat->id);
  CHECK_FALSE(slow->suspended);
  CHECK(pat->suspended);
  CHECK(slow->inside >= 200ms);
  CHECK(slow->inside <= std::chrono::steady_clock::now() - t0);  // a lower bound, never more than the truth

  auto samples = parse_prometheus(m.to_prometheus());
  auto key = "courier_actor_stuck_seconds{name=\"slowpoke\",type=\"" + slow->type + "\",id=\"" +
             std::to_string(slow->id) + "\",suspended=\"false\"}";
  REQUIRE(samples.count(key) == 1);
  CHECK(samples[key] >= 0.2);

  stop.store(true);
  g.open();
  CHECK(*answer.get() == 5);
  REQUIRE(wait_until([&] { return rt.metrics().stuck.empty(); }));
}

TEST_CASE("with stuck_after = 0, metrics name every actor inside a handler at once" * doctest::timeout(30)) {
  runtime rt{{.workers = 2, .stuck_after = 0ms}};
  auto b = rt.spawn<busy>(spawn_options{.name = "slowpoke"});
  gate g;
  std::atomic<bool> started{false};
  (void)b.send(block{&g, &started});
  REQUIRE(wait_until([&] { return started.load(); }));
  auto m = rt.metrics();
  REQUIRE(m.stuck.size() == 1);
  CHECK(m.stuck[0].name == "slowpoke");
  g.open();
  REQUIRE(wait_until([&] { return rt.metrics().stuck.empty(); }));
}

TEST_CASE("to_prometheus renders a valid text exposition with the snapshot's values" * doctest::timeout(30)) {
  runtime rt{{.workers = 2}};
  auto b = rt.spawn<busy>(spawn_options{.name = "quote\"d"});
  for (int i = 0; i < 100; ++i) (void)b.send(work{i});
  CHECK(*b.ask(work{1}).get() == 1);
  REQUIRE(wait_until([&] { return rt.stats().handled == 101; }));  // counted after the handler returned
  auto m = rt.metrics();
  auto samples = parse_prometheus(m.to_prometheus());
  double handled = samples["courier_worker_messages_handled_total{worker=\"0\"}"] +
                   samples["courier_worker_messages_handled_total{worker=\"1\"}"];
  CHECK(handled == 101);
  CHECK(samples.at("courier_live_actors") == 1);
  CHECK(samples.count("courier_queued_messages") == 1);
  CHECK(samples.count("courier_worker_parks_total{worker=\"1\"}") == 1);
}

namespace {
struct ask_late {
  address<busy> target;
};
class impatient : public actor<impatient> {
 public:
  task<int> on(ask_late a, context<impatient>& ctx) {
    auto r = co_await ctx.ask_for(a.target, work{1}, 1ms);
    co_return r ? 0 : static_cast<int>(r.error().code());
  }
};
}  // namespace

TEST_CASE("metrics count failed replies by kind" * doctest::timeout(30)) {
  runtime rt{{.workers = 3}};  // two of them held in handlers below
  auto failed = [&] { return rt.metrics().replies_failed; };
  CHECK(failed().handler_failed == 0);

  auto b = rt.spawn<busy>(spawn_options{.name = "bounded", .capacity = 1});
  CHECK(b.ask(fail{}).get().error() == errc::handler_failed);
  CHECK(failed().handler_failed == 1);

  // Held in a handler, one message queued: the next request finds it full.
  gate g;
  std::atomic<bool> started{false};
  (void)b.send(block{&g, &started});
  REQUIRE(wait_until([&] { return started.load(); }));
  REQUIRE(b.send(work{0}).has_value());
  CHECK(b.ask(work{1}).get().error() == errc::mailbox_full);
  CHECK(failed().mailbox_full == 1);

  // An ask_for that a held actor cannot answer in time.
  auto h = rt.spawn<busy>(spawn_options{.name = "held"});
  gate g2;
  std::atomic<bool> started2{false};
  (void)h.send(block{&g2, &started2});
  REQUIRE(wait_until([&] { return started2.load(); }));
  auto i = rt.spawn<impatient>();
  CHECK(*i.ask(ask_late{h}).get() == static_cast<int>(errc::timeout));
  CHECK(failed().timeout == 1);
  // The timed-out request is still queued when h stops: its reply is already
  // complete, so the drop completes and counts nothing.
  h.stop();
  g2.open();
  g.open();
  h.join();

  b.stop();
  b.join();
  CHECK(b.ask(work{2}).get().error() == errc::actor_stopped);
  REQUIRE(wait_until([&] { return failed().actor_stopped >= 1; }));
  auto f = failed();
  CHECK(f.actor_stopped == 1);
  CHECK(f.mailbox_full == 1);
  CHECK(f.timeout == 1);
  CHECK(f.handler_failed == 1);
  auto samples = parse_prometheus(rt.metrics().to_prometheus());
  CHECK(samples.at("courier_replies_failed_total{kind=\"timeout\"}") == 1);
  CHECK(samples.at("courier_replies_failed_total{kind=\"actor_stopped\"}") == 1);
}

namespace {
// Opts in to per-type metrics.
class meter : public actor<meter> {
 public:
  static constexpr bool courier_metrics = true;
  int on(work w) { return w.n; }
  void on(block b) {
    b.started->store(true);
    b.g->wait();
  }
  task<int> on(relay_to r, context<meter>& ctx) {
    auto v = co_await ctx.ask(r.target, work{3});
    co_return v ? *v : -1;
  }
};
static_assert(measure_actor_type<meter>);
static_assert(!measure_actor_type<busy>);

std::uint64_t largest_bound_ns(const histogram& h) {
  for (std::size_t i = histogram::bucket_count; i-- > 0;)
    if (h.buckets[i] != 0) return i + 1 < histogram::bucket_count ? histogram::upper_bound_ns(i) : UINT64_MAX;
  return 0;
}
}  // namespace

TEST_CASE("per-actor-type metrics: handled, mailbox high-water, handler time and mailbox wait" *
          doctest::timeout(30)) {
  runtime rt{{.workers = 2}};
  auto m1 = rt.spawn<meter>();
  auto m2 = rt.spawn<meter>(spawn_options{.name = "second"});
  auto plain = rt.spawn<busy>();
  CHECK(*plain.ask(work{1}).get() == 1);

  gate g;
  std::atomic<bool> started{false};
  (void)m1.send(block{&g, &started});
  REQUIRE(wait_until([&] { return started.load(); }));
  auto held_from = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) REQUIRE(m1.send(work{i}).has_value());
  auto last = m1.ask(work{100});  // 101 waiting behind the held handler
  auto held_for = std::chrono::steady_clock::now() - held_from;
  g.open();
  CHECK(*last.get() == 100);
  CHECK(*m2.ask(relay_to{plain}).get() == 3);  // a coroutine handler

  // A message is counted once its handler returned: wait for the last one.
  REQUIRE(wait_until([&] {
    auto m = rt.metrics();
    return m.actor_types.size() == 1 && m.actor_types[0].handled == 103;
  }));
  auto t = rt.metrics().actor_types.at(0);  // busy did not opt in: absent
  CHECK(t.type.find("meter") != std::string::npos);
  CHECK(t.handled == 103);  // block, 100 sends, 1 ask, 1 coroutine request
  CHECK(t.mailbox_high_water == 101);
  CHECK(t.handler_time.count == 103);
  CHECK(t.mailbox_wait.count == 103);
  // The held handler lasted at least as long as the test held it, and the
  // message sent first waited at least that long too.
  auto held_ns = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(held_for).count());
  CHECK(largest_bound_ns(t.handler_time) > held_ns);
  CHECK(largest_bound_ns(t.mailbox_wait) > held_ns);
  CHECK(t.handler_time.sum_ns >= held_ns);

  auto samples = parse_prometheus(rt.metrics().to_prometheus());
  auto label = "type=\"" + t.type + "\"";
  CHECK(samples.at("courier_actor_type_handled_total{" + label + "}") == 103);
  CHECK(samples.at("courier_actor_type_mailbox_high_water{" + label + "}") == 101);
  CHECK(samples.at("courier_actor_type_handler_seconds_count{" + label + "}") == 103);
  CHECK(samples.at("courier_actor_type_handler_seconds_bucket{" + label + ",le=\"+Inf\"}") == 103);
  CHECK(samples.at("courier_actor_type_mailbox_wait_seconds_bucket{" + label + ",le=\"2.56e-07\"}") <= 103);
}
