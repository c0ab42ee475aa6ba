// runtime::metrics() and metrics::to_prometheus() (issue 7).
#include <courier/courier.hpp>

#include <atomic>
#include <cctype>
#include <map>
#include <set>
#include <sstream>
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
class busy : public actor<busy> {
 public:
  int on(work w) { return w.n; }
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
      CHECK((type == "counter" || type == "gauge"));
      typed.insert(name);
      continue;
    }
    REQUIRE(line[0] != '#');
    auto space = line.rfind(' ');
    REQUIRE(space != std::string::npos);
    auto key = line.substr(0, space);
    auto name = key.substr(0, key.find('{'));
    CHECK(valid_name(name));
    CHECK(typed.count(name) == 1);
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
  for (int i = 0; i < 1000; ++i) b.send(work{i});
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

TEST_CASE("metrics name the actors inside a handler" * doctest::timeout(30)) {
  runtime rt{{.workers = 2}};
  auto b = rt.spawn<busy>(spawn_options{.name = "slowpoke"});
  gate g;
  std::atomic<bool> started{false};
  b.send(block{&g, &started});
  REQUIRE(wait_until([&] { return started.load(); }));
  auto m = rt.metrics();
  REQUIRE(m.in_handler.size() == 1);
  CHECK(m.in_handler[0] == "slowpoke");
  g.open();
  REQUIRE(wait_until([&] { return rt.metrics().in_handler.empty(); }));
}

TEST_CASE("to_prometheus renders a valid text exposition with the snapshot's values" * doctest::timeout(30)) {
  runtime rt{{.workers = 2}};
  auto b = rt.spawn<busy>(spawn_options{.name = "quote\"d"});
  for (int i = 0; i < 100; ++i) b.send(work{i});
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
