// caf-bench: the workloads of docs/performance.md on CAF 0.17.6, with the
// same messages (a uint64 payload plus an atom tag), parameters and checks as
// courier-bench, written the way CAF's manual teaches: event-based actors
// returning behaviors, the default work-stealing scheduler (its thread count
// set to the benchmark's worker count), and scoped_actor + request(...).receive(...)
// for the thread-side ask.
#include <caf/all.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "benches/harness/done_flag.hpp"
#include "benches/harness/harness.hpp"
#include "benches/workloads/workloads.hpp"

using namespace caf;
using namespace std::chrono_literals;

namespace {

using ping_atom = atom_constant<atom("ping")>;
using pong_atom = atom_constant<atom("pong")>;
using peer_atom = atom_constant<atom("peer")>;
using start_atom = atom_constant<atom("start")>;
using req_atom = atom_constant<atom("req")>;
using echo_atom = atom_constant<atom("echo")>;
using item_atom = atom_constant<atom("item")>;
using token_atom = atom_constant<atom("token")>;
using hello_atom = atom_constant<atom("hello")>;
using fib_atom = atom_constant<atom("fib")>;
using res_atom = atom_constant<atom("res")>;
using get_atom = atom_constant<atom("get")>;

using bench::done_flag;

actor_system_config make_config(const bench::options& o) {
  actor_system_config cfg;
  cfg.set("scheduler.max-threads", o.workers);
  return cfg;
}

// -- pingpong ---------------------------------------------------------------------

bench::outcome pingpong(const bench::options& o) {
  const auto n = bench::scaled(1'000'000, o);
  bench::histogram h;
  done_flag done;
  std::uint64_t errors = 0;
  auto cfg = make_config(o);
  actor_system sys{cfg};
  auto ponger = sys.spawn([](event_based_actor* self) -> behavior {
    return {[=](ping_atom, std::uint64_t seq) { return make_message(pong_atom::value, seq); }};
  });
  struct state {
    std::uint64_t next = 0, sent_at = 0;
  };
  auto pinger = sys.spawn([&, n, ponger](stateful_actor<state>* self) -> behavior {
    return {[=, &h, &done, &errors](start_atom) {
              self->state.sent_at = bench::now_ns();
              self->send(ponger, ping_atom::value, std::uint64_t{0});
            },
            [=, &h, &done, &errors](pong_atom, std::uint64_t seq) {
              h.record(bench::now_ns() - self->state.sent_at);
              if (seq != self->state.next) ++errors;
              if (++self->state.next == n) {
                done.set();
                self->quit();
                return;
              }
              self->state.sent_at = bench::now_ns();
              self->send(ponger, ping_atom::value, self->state.next);
            }};
  });
  auto t0 = bench::clock::now();
  anon_send(pinger, start_atom::value);
  done.wait();
  auto elapsed = bench::seconds_since(t0);
  anon_send_exit(ponger, exit_reason::user_shutdown);
  if (errors) return bench::fail("echo != sent");
  if (h.count() != n) return bench::fail("count != N");
  bench::outcome out{true, "ok", {{"ns/roundtrip", elapsed * 1e9 / static_cast<double>(n), "ns"}}};
  bench::add_latency(out, h, "");
  return out;
}

// -- pairs -------------------------------------------------------------------------

bench::outcome pairs(const bench::options& o) {
  const auto per_pair = bench::scaled(2'000'000, o, 256);
  const auto pair_count = static_cast<std::uint32_t>(2 * o.workers);
  const std::uint64_t window = 256;
  done_flag done;
  std::atomic<int> remaining{static_cast<int>(pair_count)};
  std::atomic<std::uint64_t> errors{0};
  auto cfg = make_config(o);
  actor_system sys{cfg};
  struct client_state {
    std::uint64_t sent = 0, received = 0;
  };
  std::vector<actor> clients, servers;
  for (std::uint32_t id = 0; id < pair_count; ++id) {
    auto server = sys.spawn([](event_based_actor* self) -> behavior {
      return {[=](req_atom, std::uint32_t client, std::uint64_t seq) {
        return make_message(echo_atom::value, client, seq);
      }};
    });
    auto client = sys.spawn([&, id, server](stateful_actor<client_state>* self) -> behavior {
      return {[=](start_atom) {
                auto& s = self->state;
                for (std::uint64_t i = 0; i < window && s.sent < per_pair; ++i)
                  self->send(server, req_atom::value, id, s.sent++);
              },
              [=, &errors, &remaining, &done](echo_atom, std::uint32_t client, std::uint64_t seq) {
                auto& s = self->state;
                if (client != id || seq + window < s.sent || seq >= s.sent) errors.fetch_add(1);
                ++s.received;
                if (s.sent < per_pair) self->send(server, req_atom::value, id, s.sent++);
                if (s.received == per_pair) {
                  if (remaining.fetch_sub(1) == 1) done.set();
                  self->quit();
                }
              }};
    });
    clients.push_back(client);
    servers.push_back(server);
  }
  auto t0 = bench::clock::now();
  for (auto& c : clients) anon_send(c, start_atom::value);
  done.wait();
  auto elapsed = bench::seconds_since(t0);
  for (auto& s : servers) anon_send_exit(s, exit_reason::user_shutdown);
  if (errors.load()) return bench::fail("a reply outside its own window");
  return {true, "ok", {{"Mmsg/s", static_cast<double>(2 * per_pair * pair_count) / elapsed / 1e6, "Mmsg/s"}}};
}

// -- fanin ---------------------------------------------------------------------------

bench::outcome fanin(const bench::options& o) {
  constexpr std::uint32_t senders = 16;
  const auto each = bench::scaled(250'000, o);
  const auto total = senders * each;
  done_flag done;
  struct sink_state {
    std::vector<std::uint64_t> next = std::vector<std::uint64_t>(senders, 0);
    std::uint64_t count = 0, sum = 0, order_errors = 0;
  };
  std::uint64_t count = 0, sum = 0, order_errors = 0;
  auto cfg = make_config(o);
  actor_system sys{cfg};
  auto sink = sys.spawn([&, total](stateful_actor<sink_state>* self) -> behavior {
    return {[=, &done, &count, &sum, &order_errors](item_atom, std::uint32_t sender, std::uint64_t seq) {
      auto& s = self->state;
      if (s.next[sender] != seq) ++s.order_errors;
      s.next[sender] = seq + 1;
      s.sum += seq;
      if (++s.count == total) {
        count = s.count;
        sum = s.sum;
        order_errors = s.order_errors;
        done.set();
        self->quit();
      }
    }};
  });
  std::vector<actor> all;
  for (std::uint32_t id = 0; id < senders; ++id)
    all.push_back(sys.spawn([id, each, sink](event_based_actor* self) -> behavior {
      return {[=](start_atom) {
        for (std::uint64_t i = 0; i < each; ++i) self->send(sink, item_atom::value, id, i);
        self->quit();
      }};
    }));
  auto rss0 = bench::rss_bytes();
  bench::reset_peak_rss();
  auto t0 = bench::clock::now();
  for (auto& s : all) anon_send(s, start_atom::value);
  done.wait();
  auto elapsed = bench::seconds_since(t0);
  auto peak = bench::peak_rss_bytes();
  if (count != total) return bench::fail("count");
  if (sum != senders * (each * (each - 1) / 2)) return bench::fail("payload sum");
  if (order_errors) return bench::fail("per-sender FIFO");
  auto bytes = peak > rss0 ? static_cast<double>(peak - rss0) / static_cast<double>(total) : 0.0;
  return {true, "ok", {{"Mmsg/s", static_cast<double>(total) / elapsed / 1e6, "Mmsg/s"}, {"bytes/msg", bytes, "B"}}};
}

// -- ring ---------------------------------------------------------------------------------

bench::outcome ring(const bench::options& o, std::size_t tokens, std::uint64_t total_hops, bool per_hop) {
  constexpr std::size_t actors = 1000;
  const auto hops = std::max<std::uint64_t>(bench::scaled(total_hops, o) / tokens, 1);
  std::vector<std::uint64_t> received(actors, 0);
  std::atomic<std::uint64_t> finished{0};
  done_flag done;
  auto cfg = make_config(o);
  actor_system sys{cfg};
  struct node_state {
    actor next;
  };
  std::vector<actor> nodes;
  for (std::size_t i = 0; i < actors; ++i)
    nodes.push_back(sys.spawn([&, i, tokens](stateful_actor<node_state>* self) -> behavior {
      return {[=](peer_atom, const actor& next) { self->state.next = next; },
              [=, &received, &finished, &done](token_atom, std::uint64_t left) {
                ++received[i];
                if (left == 0) {
                  if (finished.fetch_add(1) + 1 == tokens) done.set();
                  return;
                }
                self->send(self->state.next, token_atom::value, left - 1);
              }};
    }));
  // sent from this thread before the tokens: each node learns its successor first
  for (std::size_t i = 0; i < actors; ++i) anon_send(nodes[i], peer_atom::value, nodes[(i + 1) % actors]);
  auto t0 = bench::clock::now();
  for (std::size_t t = 0; t < tokens; ++t) anon_send(nodes[t * actors / tokens], token_atom::value, hops);
  done.wait();
  auto elapsed = bench::seconds_since(t0);
  for (auto& n : nodes) anon_send_exit(n, exit_reason::user_shutdown);
  if (received != courier_bench::ring_expected(actors, tokens, hops))
    return bench::fail("receive counts differ from the precomputed ones");
  auto all_hops = static_cast<double>(hops * tokens);
  if (per_hop) return {true, "ok", {{"ns/hop", elapsed * 1e9 / all_hops, "ns"}}};
  return {true, "ok", {{"Mhops/s", all_hops / elapsed / 1e6, "Mhops/s"}}};
}

bench::outcome ring_a(const bench::options& o) { return ring(o, 1, 10'000'000, true); }
bench::outcome ring_b(const bench::options& o) { return ring(o, 64, 20'000'000, false); }

// -- spawn --------------------------------------------------------------------------------

bench::outcome spawn_a(const bench::options& o) {
  const auto n = bench::scaled(1'000'000, o);
  std::uint64_t count = 0, sum = 0;
  done_flag done;
  auto cfg = make_config(o);
  actor_system sys{cfg};
  auto collector = sys.spawn([&, n](event_based_actor* self) -> behavior {
    return {[=, &count, &sum, &done](hello_atom, std::uint64_t id) {
      sum += id;
      if (++count == n) {
        done.set();
        self->quit();
      }
    }};
  });
  auto rss0 = bench::rss_bytes();
  bench::reset_peak_rss();
  auto t0 = bench::clock::now();
  for (std::uint64_t i = 0; i < n; ++i) {
    auto a = sys.spawn([collector](event_based_actor* self) -> behavior {
      return {[=](hello_atom, std::uint64_t id) {
        self->send(collector, hello_atom::value, id);
        self->quit();
      }};
    });
    anon_send(a, hello_atom::value, i);
  }
  done.wait();
  auto elapsed = bench::seconds_since(t0);
  auto peak = bench::peak_rss_bytes();
  sys.await_all_actors_done();
  if (count != n || sum != n * (n - 1) / 2) return bench::fail("collector count");
  if (sys.registry().running() != 0) return bench::fail("live actors after the run");
  return {true, "ok", {{"ns/actor", elapsed * 1e9 / static_cast<double>(n), "ns"},
                       {"peak_rss_MB", static_cast<double>(peak) / 1e6, "MB"},
                       {"rss_growth_MB", static_cast<double>(peak > rss0 ? peak - rss0 : 0) / 1e6, "MB"}}};
}

std::uint64_t fib_calls(std::uint32_t n) { return n < 2 ? 1 : 1 + fib_calls(n - 1) + fib_calls(n - 2); }
std::uint64_t fib(std::uint32_t n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

struct fib_state {
  std::uint64_t sum = 0;
  int replies = 0;
};
behavior fib_node(stateful_actor<fib_state>* self, actor parent, std::uint64_t* out, done_flag* done,
                  std::atomic<std::uint64_t>* spawned) {
  auto finish = [=](std::uint64_t value) {
    if (parent)
      self->send(parent, res_atom::value, value);
    else {
      *out = value;
      done->set();
    }
    self->quit();
  };
  return {[=](fib_atom, std::uint32_t n) {
            if (n < 2) return finish(n);
            spawned->fetch_add(2, std::memory_order_relaxed);
            self->send(self->spawn(fib_node, actor_cast<actor>(self), nullptr, nullptr, spawned), fib_atom::value, n - 1);
            self->send(self->spawn(fib_node, actor_cast<actor>(self), nullptr, nullptr, spawned), fib_atom::value, n - 2);
          },
          [=](res_atom, std::uint64_t v) {
            self->state.sum += v;
            if (++self->state.replies == 2) finish(self->state.sum);
          }};
}

bench::outcome spawn_b(const bench::options& o) {
  std::uint32_t n = 25;
  while (n > 10 && static_cast<double>(fib_calls(n)) > 242785.0 * o.scale) --n;
  std::uint64_t result = 0;
  std::atomic<std::uint64_t> spawned{1};
  done_flag done;
  auto cfg = make_config(o);
  actor_system sys{cfg};
  bench::reset_peak_rss();
  auto t0 = bench::clock::now();
  anon_send(sys.spawn(fib_node, actor{}, &result, &done, &spawned), fib_atom::value, n);
  done.wait();
  auto elapsed = bench::seconds_since(t0);
  auto peak = bench::peak_rss_bytes();
  sys.await_all_actors_done();
  if (result != fib(n)) return bench::fail("fib result");
  if (spawned.load() != fib_calls(n) || sys.registry().running() != 0) return bench::fail("actor count / live actors");
  return {true, "ok", {{"ns/actor", elapsed * 1e9 / static_cast<double>(fib_calls(n)), "ns"},
                       {"peak_rss_MB", static_cast<double>(peak) / 1e6, "MB"}}};
}

// -- footprint -------------------------------------------------------------------------------

bench::outcome footprint(const bench::options& o) {
  const auto n = bench::scaled(1'000'000, o);
  auto cfg = make_config(o);
  actor_system sys{cfg};
  std::vector<actor> all;
  all.reserve(n);
  auto rss0 = bench::rss_bytes();
  for (std::uint64_t i = 0; i < n; ++i)
    all.push_back(sys.spawn([v = static_cast<int>(i)](event_based_actor*) -> behavior {
      return {[=](get_atom) { return v; }};
    }));
  auto rss1 = bench::rss_bytes();
  auto per_actor = (static_cast<double>(rss1) - static_cast<double>(rss0) - static_cast<double>(n * sizeof(actor))) /
                   static_cast<double>(n);
  int answer = -1;
  {
    scoped_actor self{sys};
    self->request(all[n / 2], infinite, get_atom::value).receive([&](int v) { answer = v; }, [](error&) {});
  }
  if (answer != static_cast<int>(n / 2)) return bench::fail("an actor does not answer");
  if (sys.registry().running() < n) return bench::fail("not all alive");
  for (auto& a : all) anon_send_exit(a, exit_reason::user_shutdown);
  all.clear();
  sys.await_all_actors_done();
  if (sys.registry().running() != 0) return bench::fail("not all stopped and freed");
  return {true, "ok", {{"bytes/actor", per_actor, "B"}}};
}

// -- ask ---------------------------------------------------------------------------------------

behavior echo_actor(event_based_actor*) {
  return {[](echo_atom, std::uint64_t n) { return n + 1; }};
}

bench::outcome ask_thread(const bench::options& o) {
  const auto n = bench::scaled(200'000, o);
  auto cfg = make_config(o);
  actor_system sys{cfg};
  auto e = sys.spawn(echo_actor);
  bench::histogram h;
  std::uint64_t errors = 0;
  scoped_actor self{sys};
  auto t0 = bench::clock::now();
  for (std::uint64_t i = 0; i < n; ++i) {
    auto s = bench::now_ns();
    self->request(e, infinite, echo_atom::value, i)
        .receive([&](std::uint64_t r) { errors += r != i + 1; }, [&](error&) { ++errors; });
    h.record(bench::now_ns() - s);
  }
  auto elapsed = bench::seconds_since(t0);
  anon_send_exit(e, exit_reason::user_shutdown);
  if (errors) return bench::fail("reply != request + 1");
  bench::outcome out{true, "ok", {{"p50", static_cast<double>(h.quantile(0.5)), "ns"}}};
  out.metrics.push_back({"p99", static_cast<double>(h.quantile(0.99)), "ns"});
  out.metrics.push_back({"p99.9", static_cast<double>(h.quantile(0.999)), "ns"});
  out.metrics.push_back({"max", static_cast<double>(h.max()), "ns"});
  out.metrics.push_back({"mean", elapsed * 1e9 / static_cast<double>(n), "ns"});
  return out;
}

struct requester_state {
  std::uint64_t sent = 0;
};
void ask_next(stateful_actor<requester_state>* self, actor e, std::uint64_t total, std::uint64_t* errors,
              done_flag* done) {
  auto i = self->state.sent++;
  self->request(e, infinite, echo_atom::value, i).then([=](std::uint64_t r) {
    if (r != i + 1) ++*errors;
    if (self->state.sent == total) {
      done->set();
      self->quit();
    } else {
      ask_next(self, e, total, errors, done);
    }
  });
}

bench::outcome ask_actor(const bench::options& o) {
  const auto n = bench::scaled(1'000'000, o);
  std::uint64_t errors = 0;
  done_flag done;
  auto cfg = make_config(o);
  actor_system sys{cfg};
  auto e = sys.spawn(echo_actor);
  auto r = sys.spawn([&, n, e](stateful_actor<requester_state>* self) -> behavior {
    return {[=, &errors, &done](start_atom) { ask_next(self, e, n, &errors, &done); }};
  });
  auto t0 = bench::clock::now();
  anon_send(r, start_atom::value);
  done.wait();
  auto elapsed = bench::seconds_since(t0);
  anon_send_exit(e, exit_reason::user_shutdown);
  if (errors) return bench::fail("reply != request + 1");
  return {true, "ok", {{"Mask/s", static_cast<double>(n) / elapsed / 1e6, "M/s"}}};
}

// -- idle ------------------------------------------------------------------------------------

bench::outcome idle(const bench::options& o) {
  const auto sit = std::chrono::duration<double>(2.0 * std::min(1.0, o.scale * 10));
  const auto wakeups = bench::scaled(1000, o, 10);
  std::atomic<std::uint64_t> at{0};
  auto cfg = make_config(o);
  actor_system sys{cfg};
  std::vector<actor> actors;
  for (int i = 0; i < 100; ++i)
    actors.push_back(sys.spawn([&at](event_based_actor*) -> behavior {
      return {[&at](ping_atom, std::uint64_t) {
        at.store(bench::now_ns(), std::memory_order_release);
        at.notify_one();
      }};
    }));
  std::this_thread::sleep_for(50ms);
  auto cpu0 = bench::cpu_seconds();
  auto t0 = bench::clock::now();
  std::this_thread::sleep_for(sit);
  auto cpu_per_s = (bench::cpu_seconds() - cpu0) / bench::seconds_since(t0);
  bench::histogram h;
  for (std::uint64_t i = 0; i < wakeups; ++i) {
    std::this_thread::sleep_for(1ms);
    at.store(0, std::memory_order_relaxed);
    auto sent = bench::now_ns();
    anon_send(actors[i % actors.size()], ping_atom::value, i);
    std::uint64_t handled;
    while ((handled = at.load(std::memory_order_acquire)) == 0) at.wait(0, std::memory_order_acquire);
    h.record(handled - sent);
  }
  for (auto& a : actors) anon_send_exit(a, exit_reason::user_shutdown);
  if (h.count() != wakeups) return bench::fail("a wake-up was not handled");
  return {true, "ok", {{"cpu_s/s", cpu_per_s, "s/s"},
                       {"wake_p50", static_cast<double>(h.quantile(0.5)), "ns"},
                       {"wake_p99", static_cast<double>(h.quantile(0.99)), "ns"}}};
}

}  // namespace

int main(int argc, char** argv) {
  return bench::run_main(argc, argv, "caf", "system",
                         {{"pingpong", pingpong, true},
                          {"pairs", pairs, false},
                          {"fanin", fanin, false},
                          {"ring_a", ring_a, true},
                          {"ring_b", ring_b, false},
                          {"spawn_a", spawn_a, true},
                          {"spawn_b", spawn_b, true},
                          {"footprint", footprint, true},
                          {"ask_thread", ask_thread, true},
                          {"ask_actor", ask_actor, false},
                          {"idle", idle, true}});
}
