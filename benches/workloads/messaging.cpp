// pingpong, pairs, fanin and ring on courier.
#include <courier/courier.hpp>

#include <atomic>
#include <memory>
#include <type_traits>
#include <vector>

#include "benches/harness/done_flag.hpp"
#include "benches/workloads/make_config.hpp"
#include "benches/workloads/workloads.hpp"

using namespace courier;

namespace courier_bench {

namespace {

using bench::done_flag;

// -- pingpong ------------------------------------------------------------------

struct ping {
  std::uint64_t seq;
};
struct pong {
  std::uint64_t seq;
};
// Through = true: each side holds the other as a recipient<M> instead of an
// address (pingpong_recipient: the cost of the one indirect call).
template <bool Through>
class pinger;
template <bool Through>
class ponger : public actor<ponger<Through>> {
 public:
  using peer_type = std::conditional_t<Through, recipient<pong>, address<pinger<Through>>>;
  void on(address<pinger<Through>> p) { peer_ = std::move(p); }
  void on(ping p) { (void)peer_.send(pong{p.seq}); }

 private:
  peer_type peer_;
};
template <bool Through>
class pinger : public actor<pinger<Through>> {
 public:
  using peer_type = std::conditional_t<Through, recipient<ping>, address<ponger<Through>>>;
  pinger(std::uint64_t n, bench::histogram* h, done_flag* d, std::uint64_t* errors)
      : n_(n), h_(h), done_(d), errors_(errors) {}
  void on(address<ponger<Through>> p) { peer_ = std::move(p); }
  void on(pong p) {
    auto t = bench::now_ns();
    h_->record(t - sent_at_);
    if (p.seq != next_) ++*errors_;
    ++received_;
    if (++next_ == n_) {
      done_->set();
      return;
    }
    sent_at_ = bench::now_ns();
    (void)peer_.send(ping{next_});
  }
  void on(ping start) {
    next_ = start.seq;
    sent_at_ = bench::now_ns();
    (void)peer_.send(ping{next_});
  }
  std::uint64_t received_ = 0;

 private:
  std::uint64_t n_;
  bench::histogram* h_;
  done_flag* done_;
  std::uint64_t* errors_;
  peer_type peer_;
  std::uint64_t next_ = 0;
  std::uint64_t sent_at_ = 0;
};

template <bool Through>
bench::outcome pingpong_with(const bench::options& o) {
  const auto n = bench::scaled(1'000'000, o);
  bench::histogram h;
  done_flag done;
  std::uint64_t errors = 0;
  runtime rt{make_config(o)};
  auto b = rt.spawn<ponger<Through>>();
  auto a = rt.spawn<pinger<Through>>(n, &h, &done, &errors);
  (void)a.send(b);
  (void)b.send(a);
  auto t0 = bench::clock::now();
  (void)a.send(ping{0});
  done.wait();
  auto elapsed = bench::seconds_since(t0);
  a.stop();
  b.stop();
  rt.shutdown();
  if (errors != 0) return bench::fail("echo != sent");
  if (h.count() != n) return bench::fail("count != N");
  bench::outcome out{true, "ok", {{"ns/roundtrip", elapsed * 1e9 / static_cast<double>(n), "ns"}}};
  bench::add_latency(out, h, "");
  return out;
}

}  // namespace

bench::outcome pingpong(const bench::options& o) { return pingpong_with<false>(o); }
bench::outcome pingpong_recipient(const bench::options& o) { return pingpong_with<true>(o); }

// -- pairs -------------------------------------------------------------------------

namespace {
struct request_msg {
  std::uint32_t client;
  std::uint64_t seq;
};
struct echo_msg {
  std::uint32_t client;
  std::uint64_t seq;
};
// Measured: the same actors with per-type metrics on (pairs_measured).
template <bool Measured>
class pair_client;
template <bool Measured>
class pair_server : public actor<pair_server<Measured>> {
 public:
  static constexpr bool courier_metrics = Measured;
  void on(address<pair_client<Measured>> c) { client_ = std::move(c); }
  void on(request_msg r) { (void)client_.send(echo_msg{r.client, r.seq}); }

 private:
  address<pair_client<Measured>> client_;
};
template <bool Measured>
class pair_client : public actor<pair_client<Measured>> {
 public:
  static constexpr bool courier_metrics = Measured;
  pair_client(std::uint32_t id, std::uint64_t total, std::uint64_t window, std::atomic<int>* remaining,
              done_flag* d, std::atomic<std::uint64_t>* errors)
      : id_(id), total_(total), window_(window), remaining_(remaining), done_(d), errors_(errors) {}
  void on(address<pair_server<Measured>> s) { server_ = std::move(s); }
  void on(std::uint64_t /*start*/) {
    for (std::uint64_t i = 0; i < window_ && sent_ < total_; ++i) (void)server_.send(request_msg{id_, sent_++});
  }
  void on(echo_msg e) {
    if (e.client != id_ || e.seq + window_ < sent_ || e.seq >= sent_) errors_->fetch_add(1, std::memory_order_relaxed);
    ++received_;
    if (sent_ < total_) (void)server_.send(request_msg{id_, sent_++});
    if (received_ == total_ && remaining_->fetch_sub(1, std::memory_order_acq_rel) == 1) done_->set();
  }

 private:
  std::uint32_t id_;
  std::uint64_t total_, window_;
  std::atomic<int>* remaining_;
  done_flag* done_;
  std::atomic<std::uint64_t>* errors_;
  address<pair_server<Measured>> server_;
  std::uint64_t sent_ = 0, received_ = 0;
};

template <bool Measured>
bench::outcome run_pairs(const bench::options& o) {
  const auto per_pair = bench::scaled(2'000'000, o, 256);
  const auto pair_count = static_cast<std::uint32_t>(2 * o.workers);
  done_flag done;
  std::atomic<int> remaining{static_cast<int>(pair_count)};
  std::atomic<std::uint64_t> errors{0};
  runtime rt{make_config(o)};
  std::vector<address<pair_client<Measured>>> clients;
  std::vector<address<pair_server<Measured>>> servers;
  for (std::uint32_t i = 0; i < pair_count; ++i) {
    auto c = rt.spawn<pair_client<Measured>>(i, per_pair, 256, &remaining, &done, &errors);
    auto s = rt.spawn<pair_server<Measured>>();
    (void)c.send(s);
    (void)s.send(c);
    clients.push_back(c);
    servers.push_back(s);
  }
  auto t0 = bench::clock::now();
  for (auto& c : clients) (void)c.send(std::uint64_t{0});
  done.wait();
  auto elapsed = bench::seconds_since(t0);
  auto handled = rt.metrics().actor_types;
  for (auto& c : clients) c.stop();
  for (auto& s : servers) s.stop();
  rt.shutdown();
  if (errors.load() != 0) return bench::fail("a reply outside its own window");
  auto messages = static_cast<double>(2 * per_pair * pair_count);  // requests and echoes
  if constexpr (Measured) {
    std::uint64_t counted = 0;
    for (auto& t : handled) counted += t.handled;
    // the address exchange and start messages are measured too
    if (handled.size() != 2 || counted < 2 * per_pair * pair_count) return bench::fail("per-type count too low");
  }
  return {true, "ok", {{"Mmsg/s", messages / elapsed / 1e6, "Mmsg/s"}}};
}
}  // namespace

bench::outcome pairs(const bench::options& o) { return run_pairs<false>(o); }
bench::outcome pairs_measured(const bench::options& o) { return run_pairs<true>(o); }

// -- fanin -----------------------------------------------------------------------

namespace {
struct fan_item {
  std::uint32_t sender;
  std::uint64_t seq;
};
struct fan_totals {  // written by the sink's handler, read after done.wait()
  std::uint64_t count = 0, sum = 0, order_errors = 0;
};
class fan_sink : public actor<fan_sink> {
 public:
  fan_sink(std::uint32_t senders, std::uint64_t total, fan_totals* out, done_flag* d)
      : next_(senders, 0), total_(total), out_(out), done_(d) {}
  void on(fan_item m) {
    if (next_[m.sender] != m.seq) ++out_->order_errors;
    next_[m.sender] = m.seq + 1;
    out_->sum += m.seq;
    if (++out_->count == total_) done_->set();
  }

 private:
  std::vector<std::uint64_t> next_;
  std::uint64_t total_;
  fan_totals* out_;
  done_flag* done_;
};
class fan_sender : public actor<fan_sender> {
 public:
  fan_sender(std::uint32_t id, std::uint64_t n, address<fan_sink> to) : id_(id), n_(n), to_(std::move(to)) {}
  void on(std::uint64_t) {
    for (std::uint64_t i = 0; i < n_; ++i) (void)to_.send(fan_item{id_, i});  // one burst
  }

 private:
  std::uint32_t id_;
  std::uint64_t n_;
  address<fan_sink> to_;
};
}  // namespace

bench::outcome fanin(const bench::options& o) {
  constexpr std::uint32_t senders = 16;
  const auto each = bench::scaled(250'000, o);
  const auto total = senders * each;
  done_flag done;
  fan_totals totals;
  runtime rt{make_config(o)};
  auto sink = rt.spawn<fan_sink>(senders, total, &totals, &done);
  std::vector<address<fan_sender>> all;
  for (std::uint32_t i = 0; i < senders; ++i) all.push_back(rt.spawn<fan_sender>(i, each, sink));
  auto rss0 = bench::rss_bytes();
  bench::reset_peak_rss();
  auto t0 = bench::clock::now();
  for (auto& s : all) (void)s.send(std::uint64_t{0});
  done.wait();
  auto elapsed = bench::seconds_since(t0);
  auto peak = bench::peak_rss_bytes();
  all.clear();
  sink.stop();
  rt.shutdown();
  if (totals.count != total) return bench::fail("count");
  if (totals.sum != senders * (each * (each - 1) / 2)) return bench::fail("payload sum");
  if (totals.order_errors != 0) return bench::fail("per-sender FIFO");
  auto bytes = peak > rss0 ? static_cast<double>(peak - rss0) / static_cast<double>(total) : 0.0;
  return {true, "ok", {{"Mmsg/s", static_cast<double>(total) / elapsed / 1e6, "Mmsg/s"}, {"bytes/msg", bytes, "B"}}};
}

// -- ring ----------------------------------------------------------------------------

namespace {
struct token {
  std::uint64_t left;
};
class ring_node : public actor<ring_node> {
 public:
  ring_node(std::uint64_t* received, std::atomic<std::uint64_t>* finished, std::uint64_t tokens, done_flag* d)
      : received_(received), finished_(finished), tokens_(tokens), done_(d) {}
  void on(address<ring_node> next) { next_ = std::move(next); }
  void on(token t) {
    ++*received_;
    if (t.left == 0) {
      if (finished_->fetch_add(1, std::memory_order_acq_rel) + 1 == tokens_) done_->set();
      return;
    }
    (void)next_.send(token{t.left - 1});
  }

 private:
  std::uint64_t* received_;
  std::atomic<std::uint64_t>* finished_;
  std::uint64_t tokens_;
  done_flag* done_;
  address<ring_node> next_;
};

bench::outcome ring(const bench::options& o, std::size_t tokens, std::uint64_t total_hops, bool per_hop) {
  constexpr std::size_t actors = 1000;
  const auto hops = std::max<std::uint64_t>(bench::scaled(total_hops, o) / tokens, 1);
  std::vector<std::uint64_t> received(actors, 0);
  std::atomic<std::uint64_t> finished{0};
  done_flag done;
  runtime rt{make_config(o)};
  std::vector<address<ring_node>> nodes;
  for (std::size_t i = 0; i < actors; ++i) nodes.push_back(rt.spawn<ring_node>(&received[i], &finished, tokens, &done));
  for (std::size_t i = 0; i < actors; ++i) (void)nodes[i].send(nodes[(i + 1) % actors]);
  auto t0 = bench::clock::now();
  for (std::size_t t = 0; t < tokens; ++t) (void)nodes[t * actors / tokens].send(token{hops});
  done.wait();
  auto elapsed = bench::seconds_since(t0);
  for (auto& n : nodes) n.stop();
  rt.shutdown();
  if (received != ring_expected(actors, tokens, hops)) return bench::fail("receive counts differ from the precomputed ones");
  auto all_hops = static_cast<double>(hops * tokens);
  if (per_hop) return {true, "ok", {{"ns/hop", elapsed * 1e9 / all_hops, "ns"}}};
  return {true, "ok", {{"Mhops/s", all_hops / elapsed / 1e6, "Mhops/s"}}};
}
}  // namespace

bench::outcome ring_a(const bench::options& o) { return ring(o, 1, 10'000'000, true); }
bench::outcome ring_b(const bench::options& o) { return ring(o, 64, 20'000'000, false); }

}  // namespace courier_bench
