#pragma once
// courier-kv: a Redis-protocol (RESP2) key-value server on courier and Asio.
//
//   I/O threads (Asio, --io-threads, default 1) own the sockets: they read,
//   parse, and write replies in request order, pipelining included.
//   Shard actors (courier, --shards, default one per worker) own the keys:
//   a key lives in shard hash(key) % shards. An I/O thread gathers the
//   operations of every connection it served in one round of its loop and
//   sends each shard one batch per round; the results come back through
//   courier::asio::ask, on the same I/O thread.
//
// The files: this header (the server, its connections, the gatherer);
// server.cpp (the I/O: reading, the rounds' batches, writing, closing);
// commands.cpp (what each command does: which shards, how their results
// make one reply); main.cpp (the command line); store.hpp (the shard
// actor); resp.hpp (the protocol). README.md beside them lists the
// commands and what is left out.
// A standard header before Asio, in every file: Asio picks its aligned
// allocation (operator new, or aligned_alloc and free) from a libstdc++
// macro it does not include itself, so a file that includes Asio first
// compiles the other pair, and the program frees with the wrong one
// (AddressSanitizer: alloc-dealloc-mismatch). docs/asio.md.
#include <cstddef>

#include <asio.hpp>
#include <courier/asio.hpp>
#include <courier/courier.hpp>

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "resp.hpp"
#include "store.hpp"

namespace kv {

using asio::ip::tcp;

struct settings {
  std::string bind = "127.0.0.1";
  unsigned short port = 6380;
  std::size_t workers = 0;  // 0: the cores left after the I/O threads (at least 1)
  std::size_t io_threads = 1;
  std::size_t shards = 0;   // 0: one per worker
  limits proto;
  std::size_t output_limit = 64ull * 1024 * 1024;  // pending reply bytes before a client is closed
  long spin_us = -1;  // courier's config::spin (-1: its default)
  std::size_t min_awake = 0;  // courier's config::min_awake
  long io_spin_us = 200;  // an I/O thread polls this long for ready work before it sleeps in epoll
};

class server;
class connection;

/// The operations one I/O thread gathered in the current round of its loop,
/// from all its connections, per shard. At the end of the round each shard
/// gets them as one batch (one message and one reply per shard and round,
/// however many connections and pipelined commands the round read).
class gatherer {
 public:
  explicit gatherer(std::size_t shards) : ops_(shards), round_(std::make_shared<round>(shards)) {}
  /// Adds `o` for `shard`; its result fills part `part` of slot `slot` of `c`.
  void add(std::size_t shard, op o, connection& c, std::uint64_t slot, std::uint32_t part);
  bool empty() const noexcept { return round_->conns.empty(); }
  /// Batches sent whose results have not come back yet.
  std::size_t outstanding() const noexcept { return outstanding_; }
  /// Sends each shard its batch; the replies run on `io`.
  void send(server& srv, asio::io_context& io);

 private:
  struct target {
    std::uint32_t conn;  // index into round::conns
    std::uint32_t part;
    std::uint64_t slot;
  };
  /// What the replies need: the connections (kept alive until every reply
  /// of the round is in) and, per shard, whose slot each result fills.
  struct round {
    explicit round(std::size_t shards) : targets(shards) {}
    std::vector<std::shared_ptr<connection>> conns;
    std::vector<std::vector<target>> targets;
  };
  std::vector<std::vector<op>> ops_;
  std::shared_ptr<round> round_;
  std::uint64_t round_id_ = 1;
  std::size_t outstanding_ = 0;
};

/// One command's reply: ready at once (local commands, errors) or made of
/// `parts` shard results combined by `how`.
struct pending {
  enum combine : std::uint8_t { local, single, mget, sum, all_ok, dbsize, info };
  combine how = local;
  std::uint32_t parts_left = 0;
  std::uint32_t part_count = 0;
  /// Part 0 inline (most commands have one: no allocation), the rest after.
  value first;
  std::vector<value> more;
  value& part(std::uint32_t i) { return i == 0 ? first : more[i - 1]; }
  template <class F>
  void each_part(F&& f) {
    for (std::uint32_t i = 0; i < part_count; ++i) f(part(i));
  }
  std::string encoded;  // local: the reply
  bool close_after = false;  // QUIT, a protocol error
};

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(tcp::socket s, server& srv, std::size_t io);
  void start();
  /// SIGTERM: stop reading, answer what was read, then close.
  void drain();

 private:
  void read();
  void on_read(std::size_t n);
  void handle(std::vector<std::string>& args);
  void add_local(std::string reply, bool close_after = false);
  pending& add_pending(pending::combine how, std::uint32_t parts);
  void add_op(std::size_t shard, op o, std::uint32_t part);
  void encode(pending& p, std::string& out);
  void flush();
  void write();
  void close();
  friend class gatherer;

  tcp::socket socket_;
  server& srv_;
  std::string in_;
  std::size_t in_pos_ = 0;
  std::size_t need_ = 0;
  std::vector<char> chunk_ = std::vector<char>(64 * 1024);
  std::vector<std::string> args_;

  /// Replies in request order; slot ids count from `first_id_`.
  std::deque<pending> slots_;
  std::uint64_t first_id_ = 0;
  /// This connection's I/O thread (the index of its context and gatherer).
  std::size_t io_;
  /// The gatherer's round this connection last added to, and its index there.
  std::uint64_t round_id_ = 0;
  std::uint32_t round_index_ = 0;

  std::string out_;      // replies not yet handed to the socket
  std::string writing_;  // the write in flight
  bool write_in_flight_ = false;
  bool reading_stopped_ = false;  // EOF, QUIT, a protocol error, or draining
  bool read_in_flight_ = false;
  /// Replies owed before this connection stops reading (a client that
  /// pipelines without reading cannot pile unbounded work onto the shards).
  static constexpr std::size_t max_owed = 16 * 1024;
  bool closed_ = false;
};

/// The CPUs this process may run on (taskset, cgroups), not the machine's.
inline std::size_t usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return static_cast<std::size_t>(CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

inline courier::config runtime_config(const settings& s) {
  auto cores = usable_cpus();
  auto io = std::max<std::size_t>(s.io_threads, 1);
  // By default the I/O threads and the workers share the cores without
  // oversubscribing them: a shard's worker and the I/O thread then hand a
  // batch to each other without waiting to be scheduled.
  courier::config c{.workers = s.workers ? s.workers : (cores > io ? cores - io : 1)};
  if (s.spin_us >= 0) c.spin = std::chrono::microseconds(s.spin_us);
  c.min_awake = s.min_awake;
  return c;
}

class server {
 public:
  explicit server(settings s)
      : cfg_(std::move(s)),
        ios_(),
        rt_(runtime_config(cfg_)),
        started_(std::chrono::steady_clock::now()) {
    // One thread runs each context: the hint lets Asio drop the locks that
    // only several threads running one context need.
    for (std::size_t i = 0; i < std::max<std::size_t>(cfg_.io_threads, 1); ++i) ios_.emplace_back(1);
    acceptor_ = std::make_unique<tcp::acceptor>(ios_[0]);
    signals_ = std::make_unique<asio::signal_set>(ios_[0], SIGINT, SIGTERM);
    auto n = cfg_.shards ? cfg_.shards : rt_.metrics().workers.size();
    for (std::size_t i = 0; i < n; ++i)
      shards_.push_back(rt_.spawn<shard>(courier::spawn_options{.name = "shard-" + std::to_string(i)}));
    for (auto& io : ios_) guards_.push_back(asio::make_work_guard(io));  // run() returns at release_io() only
    for (std::size_t i = 0; i < ios_.size(); ++i) gatherers_.emplace_back(shards_.size());
  }

  const settings& config() const { return cfg_; }
  std::size_t shard_count() const { return shards_.size(); }
  std::size_t shard_of(const std::string& key) const { return std::hash<std::string>{}(key) % shards_.size(); }
  const courier::address<shard>& shard_at(std::size_t i) const { return shards_[i]; }
  courier::runtime& runtime() { return rt_; }
  gatherer& gather(std::size_t io) { return gatherers_[io]; }

  int run() {
    asio::error_code ec;
    tcp::endpoint ep(asio::ip::make_address(cfg_.bind, ec), cfg_.port);
    if (ec) {
      std::fprintf(stderr, "courier-kv: bad --bind address '%s'\n", cfg_.bind.c_str());
      return 2;
    }
    acceptor_->open(ep.protocol());
    acceptor_->set_option(tcp::acceptor::reuse_address(true));
    acceptor_->bind(ep, ec);
    if (ec) {
      std::fprintf(stderr, "courier-kv: cannot bind %s:%u: %s\n", cfg_.bind.c_str(), cfg_.port, ec.message().c_str());
      return 1;
    }
    acceptor_->listen(asio::socket_base::max_listen_connections);
    signals_->async_wait([this](const asio::error_code& e, int) {
      if (!e) stop();
    });
    accept();
    std::fprintf(stderr, "courier-kv: listening on %s:%u (%zu shards, %zu I/O threads)\n", cfg_.bind.c_str(),
                 acceptor_->local_endpoint().port(), shards_.size(), ios_.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < ios_.size(); ++i) threads.emplace_back([this, i] { run_io(i); });
    run_io(0);
    for (auto& t : threads) t.join();
    for (auto& s : shards_) s.shutdown();
    rt_.shutdown();
    return 0;
  }

  // -- connections ------------------------------------------------------------------
  void joined(const std::shared_ptr<connection>& c) {
    std::lock_guard lock(mutex_);
    live_.insert(c);
    ++accepted_;
  }
  void left(const std::shared_ptr<connection>& c) {
    bool last = false;
    {
      std::lock_guard lock(mutex_);
      live_.erase(c);
      last = stopping_ && live_.empty();
    }
    if (last) release_io();
  }
  std::size_t clients() {
    std::lock_guard lock(mutex_);
    return live_.size();
  }
  std::uint64_t connections_received() {
    std::lock_guard lock(mutex_);
    return accepted_;
  }
  void counted(std::uint64_t commands) { commands_.fetch_add(commands, std::memory_order_relaxed); }  // relaxed: a statistic
  std::uint64_t commands() const { return commands_.load(std::memory_order_relaxed); }  // relaxed: a statistic
  std::chrono::steady_clock::duration uptime() const { return std::chrono::steady_clock::now() - started_; }

 private:
  /// Runs until release_io() (each context holds a work guard until then).
  /// A round: run every handler that is ready (reads, replies, writes), then
  /// send the shards what the round's reads gathered. With --io-spin-us, an
  /// I/O thread that waits for a shard's results polls for that long before
  /// it sleeps in epoll: results that come back within that time are picked
  /// up without a wake-up. Waiting for clients only, it sleeps at once: the
  /// core is theirs (on a machine shared with the clients, polling for
  /// their next request only slows them down).
  void run_io(std::size_t i) {
    auto& io = ios_[i];
    auto& gathered = gatherers_[i];
    const auto spin = std::chrono::microseconds(std::max(cfg_.io_spin_us, 0L));
    while (!io.stopped()) {
      auto ran = io.poll();
      if (!gathered.empty()) gathered.send(*this, io);
      if (ran > 0) continue;
      for (auto until = std::chrono::steady_clock::now() + spin;
           ran == 0 && gathered.outstanding() > 0 && std::chrono::steady_clock::now() < until;) {
        std::this_thread::yield();  // a client (or a worker) waiting for this core runs first
        ran = io.poll();
      }
      if (ran == 0) ran = io.run_one();  // sleeps until a handler is ready
      if (!gathered.empty()) gathered.send(*this, io);
    }
  }

  void accept() {
    auto io_index = next_io_++ % ios_.size();
    acceptor_->async_accept(ios_[io_index], [this, io_index](const asio::error_code& ec, tcp::socket s) {
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor_->is_open()) return;
      } else {
        s.set_option(tcp::no_delay(true));
        auto c = std::make_shared<connection>(std::move(s), *this, io_index);
        joined(c);
        c->start();
      }
      accept();
    });
  }

  /// SIGINT / SIGTERM: no new connections; every open one answers what it
  /// read, then closes; the last one lets the I/O threads go.
  void stop() {
    std::fprintf(stderr, "courier-kv: stopping\n");
    asio::error_code ignored;
    acceptor_->close(ignored);
    std::set<std::shared_ptr<connection>> open;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      open = live_;
    }
    if (open.empty()) {
      release_io();
      return;
    }
    for (auto& c : open) c->drain();
  }

  void release_io() {
    for (auto& io : ios_) io.stop();
  }

  settings cfg_;
  // The I/O contexts outlive the runtime: a reply still being completed on a
  // worker when the runtime goes posts into them (~runtime waits for it).
  std::deque<asio::io_context> ios_;
  courier::runtime rt_;
  std::vector<courier::address<shard>> shards_;
  std::deque<gatherer> gatherers_;  // one per I/O thread, used by that thread only
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::unique_ptr<asio::signal_set> signals_;
  std::size_t next_io_ = 0;
  std::mutex mutex_;
  std::set<std::shared_ptr<connection>> live_;
  std::uint64_t accepted_ = 0;
  bool stopping_ = false;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::atomic<std::uint64_t> commands_{0};
  std::chrono::steady_clock::time_point started_;
};

}  // namespace kv
