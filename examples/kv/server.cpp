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
// README.md beside this file lists the commands and what is left out.
#include <asio.hpp>
#include <courier/asio.hpp>
#include <courier/courier.hpp>

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
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

using asio::ip::tcp;

namespace kv {

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

// -- connection ----------------------------------------------------------------------

connection::connection(tcp::socket s, server& srv, std::size_t io) : socket_(std::move(s)), srv_(srv), io_(io) {}

void connection::start() { read(); }

void connection::drain() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (self->closed_) return;
    self->reading_stopped_ = true;
    asio::error_code ignored;
    self->socket_.shutdown(tcp::socket::shutdown_receive, ignored);  // the pending read ends
    self->flush();
  });
}

void connection::read() {
  if (reading_stopped_ || closed_ || read_in_flight_ || slots_.size() >= max_owed) return;  // flush() resumes
  read_in_flight_ = true;
  socket_.async_read_some(asio::buffer(chunk_), [self = shared_from_this()](const asio::error_code& ec, std::size_t n) {
    self->read_in_flight_ = false;
    if (ec) {  // EOF, reset, or our own shutdown: answer what was read, then close
      self->reading_stopped_ = true;
      self->flush();
      return;
    }
    self->on_read(n);
  });
}

void connection::on_read(std::size_t n) {
  if (in_pos_ > 0 && in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  } else if (in_pos_ > 64 * 1024) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  in_.append(chunk_.data(), n);
  std::uint64_t parsed = 0;
  while (!reading_stopped_ && in_.size() - in_pos_ >= need_) {
    std::string error;
    auto r = parse_command(in_, in_pos_, srv_.config().proto, args_, error);
    if (r.status == parse_status::need_more) {
      need_ = r.need;
      break;
    }
    need_ = 0;
    if (r.status == parse_status::error) {  // unrecoverable: answer it, then close this connection only
      std::string reply;
      put_error(reply, "ERR " + error);
      add_local(std::move(reply), true);
      break;
    }
    if (args_.empty()) continue;  // an empty line or *0
    ++parsed;
    handle(args_);
  }
  srv_.counted(parsed);
  flush();
  read();
}

pending& connection::add_pending(pending::combine how, std::uint32_t parts) {
  slots_.emplace_back();
  auto& p = slots_.back();
  p.how = how;
  p.parts_left = parts;
  p.part_count = parts;
  if (parts > 1) p.more.resize(parts - 1);
  return p;
}

void connection::add_local(std::string reply, bool close_after) {
  auto& p = add_pending(pending::local, 0);
  p.encoded = std::move(reply);
  p.close_after = close_after;
  if (close_after) reading_stopped_ = true;
}

void connection::add_op(std::size_t shard, op o, std::uint32_t part) {
  srv_.gather(io_).add(shard, std::move(o), *this, first_id_ + slots_.size() - 1, part);
}

// -- gatherer ------------------------------------------------------------------------

void gatherer::add(std::size_t shard, op o, connection& c, std::uint64_t slot, std::uint32_t part) {
  auto& r = *round_;
  if (c.round_id_ != round_id_) {  // the connection's first operation in this round
    c.round_id_ = round_id_;
    c.round_index_ = static_cast<std::uint32_t>(r.conns.size());
    r.conns.push_back(c.shared_from_this());
  }
  ops_[shard].push_back(std::move(o));
  r.targets[shard].push_back({c.round_index_, part, slot});
}

void gatherer::send(server& srv, asio::io_context& io) {
  auto r = std::move(round_);
  round_ = std::make_shared<round>(ops_.size());
  ++round_id_;
  for (std::size_t s = 0; s < ops_.size(); ++s) {
    if (ops_[s].empty()) continue;
    batch b{std::move(ops_[s])};
    ops_[s] = {};
    ops_[s].reserve(b.ops.size());  // the next round is likely as deep as this one
    round_->targets[s].reserve(b.ops.size());
    ++outstanding_;
    // The results come back on this I/O thread (the context's executor).
    courier::asio::ask(srv.shard_at(s), std::move(b),
                       asio::bind_executor(io.get_executor(), [this, r, s](courier::result<std::vector<value>> res) {
                         --outstanding_;
                         auto& targets = r->targets[s];
                         connection* last = nullptr;
                         for (std::size_t i = 0; i < targets.size(); ++i) {
                           auto [ci, part, slot] = targets[i];
                           auto* c = r->conns[ci].get();
                           // One connection's operations are next to each other: flush it once they are in.
                           if (last && last != c) last->flush();
                           last = c;
                           if (c->closed_) continue;  // the client went: dropped
                           // (a slot after a QUIT was never answered: gone)
                           if (slot < c->first_id_ || slot - c->first_id_ >= c->slots_.size()) continue;
                           auto& p = c->slots_[slot - c->first_id_];
                           p.part(part) = res ? std::move((*res)[i])
                                              : value{value::error, 0, "ERR " + res.error().message()};
                           --p.parts_left;
                         }
                         if (last) last->flush();
                       }));
  }
}

namespace {

std::string error_reply(std::string_view text) {
  std::string out;
  put_error(out, text);
  return out;
}

}  // namespace

void connection::handle(std::vector<std::string>& a) {
  auto name = ascii_upper(a[0]);
  const auto argc = a.size();
  auto arity_error = [&] { add_local(error_reply(wrong_arity(a[0]))); };
  auto not_integer = [&] { add_local(error_reply("ERR value is not an integer or out of range")); };
  auto one_key = [&](op o) {
    add_pending(pending::single, 1);
    auto s = srv_.shard_of(o.key);
    add_op(s, std::move(o), 0);
  };
  auto every_shard = [&](pending::combine how, op::code c) {
    auto n = static_cast<std::uint32_t>(srv_.shard_count());
    add_pending(how, n);
    for (std::uint32_t i = 0; i < n; ++i) add_op(i, op{c, 0, 0, {}, {}}, i);
  };

  if (name == "GET") {
    if (argc != 2) return arity_error();
    return one_key(op{op::get, 0, 0, std::move(a[1]), {}});
  }
  if (name == "SET") {
    if (argc < 3) return arity_error();
    op o{op::set, 0, 0, std::move(a[1]), std::move(a[2])};
    for (std::size_t i = 3; i < argc; ++i) {
      auto opt = ascii_upper(a[i]);
      if (opt == "NX" && !(o.flags & op::xx)) {
        o.flags |= op::nx;
      } else if (opt == "XX" && !(o.flags & op::nx)) {
        o.flags |= op::xx;
      } else if ((opt == "EX" || opt == "PX") && !(o.flags & op::with_expiry) && i + 1 < argc) {
        long long t = 0;
        if (!parse_integer(a[i + 1], t)) return not_integer();
        if (t <= 0 || (opt == "EX" && t > 9'000'000'000'000LL))
          return add_local(error_reply("ERR invalid expire time in 'set' command"));
        o.n = opt == "EX" ? t * 1000 : t;
        o.flags |= op::with_expiry;
        ++i;
      } else {
        return add_local(error_reply("ERR syntax error"));
      }
    }
    return one_key(std::move(o));
  }
  if (name == "INCR" || name == "DECR") {
    if (argc != 2) return arity_error();
    return one_key(op{op::incrby, 0, name == "INCR" ? 1 : -1, std::move(a[1]), {}});
  }
  if (name == "INCRBY" || name == "DECRBY") {
    if (argc != 3) return arity_error();
    long long d = 0;
    if (!parse_integer(a[2], d)) return not_integer();
    if (name == "DECRBY") {
      if (d == std::numeric_limits<long long>::min())
        return add_local(error_reply("ERR decrement would overflow"));
      d = -d;
    }
    return one_key(op{op::incrby, 0, d, std::move(a[1]), {}});
  }
  if (name == "EXPIRE" || name == "PEXPIRE") {
    if (argc != 3) return arity_error();
    long long t = 0;
    if (!parse_integer(a[2], t)) return not_integer();
    if (name == "EXPIRE") {
      if (t > 9'000'000'000'000LL || t < -9'000'000'000'000LL)
        return add_local(error_reply("ERR invalid expire time in 'expire' command"));
      t *= 1000;
    }
    return one_key(op{op::expire, 0, t, std::move(a[1]), {}});
  }
  if (name == "TTL" || name == "PTTL") {
    if (argc != 2) return arity_error();
    return one_key(op{op::ttl, name == "PTTL" ? op::in_ms : std::uint8_t{0}, 0, std::move(a[1]), {}});
  }
  if (name == "DEL" || name == "EXISTS") {
    if (argc < 2) return arity_error();
    auto n = static_cast<std::uint32_t>(argc - 1);
    add_pending(pending::sum, n);
    for (std::uint32_t i = 0; i < n; ++i) {
      auto s = srv_.shard_of(a[i + 1]);
      add_op(s, op{name == "DEL" ? op::del : op::exists, 0, 0, std::move(a[i + 1]), {}}, i);
    }
    return;
  }
  if (name == "MGET") {
    if (argc < 2) return arity_error();
    auto n = static_cast<std::uint32_t>(argc - 1);
    add_pending(pending::mget, n);
    for (std::uint32_t i = 0; i < n; ++i) {
      auto s = srv_.shard_of(a[i + 1]);
      add_op(s, op{op::get, 0, 0, std::move(a[i + 1]), {}}, i);
    }
    return;
  }
  if (name == "MSET") {
    if (argc < 3 || argc % 2 == 0) return arity_error();
    auto n = static_cast<std::uint32_t>((argc - 1) / 2);
    add_pending(pending::all_ok, n);
    for (std::uint32_t i = 0; i < n; ++i) {
      auto s = srv_.shard_of(a[1 + 2 * i]);
      add_op(s, op{op::set, 0, 0, std::move(a[1 + 2 * i]), std::move(a[2 + 2 * i])}, i);
    }
    return;
  }
  if (name == "DBSIZE") {
    if (argc != 1) return arity_error();
    return every_shard(pending::dbsize, op::dbsize);
  }
  if (name == "FLUSHALL" || name == "FLUSHDB") {
    if (argc > 2) return arity_error();  // ASYNC / SYNC accepted and ignored
    return every_shard(pending::all_ok, op::flushall);
  }
  if (name == "INFO") return every_shard(pending::info, op::dbsize);
  if (name == "PING") {
    if (argc > 2) return arity_error();
    std::string out;
    if (argc == 2) put_bulk(out, a[1]);
    else put_simple(out, "PONG");
    return add_local(std::move(out));
  }
  if (name == "ECHO") {
    if (argc != 2) return arity_error();
    std::string out;
    put_bulk(out, a[1]);
    return add_local(std::move(out));
  }
  if (name == "QUIT") {
    std::string out;
    put_simple(out, "OK");
    return add_local(std::move(out), true);
  }
  if (name == "COMMAND") {  // enough for redis-cli's start: no command docs
    std::string out;
    if (argc >= 2 && ascii_upper(a[1]) == "COUNT") put_integer(out, 22);
    else put_array_header(out, 0);
    return add_local(std::move(out));
  }
  if (name == "CONFIG" && argc == 3 && ascii_upper(a[1]) == "GET") {  // redis-benchmark asks for these two at start
    std::string out;
    auto param = ascii_lower(a[2]);
    if (param == "save" || param == "appendonly") {
      put_array_header(out, 2);
      put_bulk(out, param);
      put_bulk(out, param == "save" ? "" : "no");  // nothing is ever persisted
    } else {
      put_array_header(out, 0);
    }
    return add_local(std::move(out));
  }
  add_local(error_reply(unknown_command(a)));
}

void connection::encode(pending& p, std::string& out) {
  auto first_error = [&]() -> const value* {
    for (std::uint32_t i = 0; i < p.part_count; ++i)
      if (p.part(i).k == value::error) return &p.part(i);
    return nullptr;
  };
  auto sum = [&] {
    long long total = 0;
    p.each_part([&](value& v) { total += v.i; });
    return total;
  };
  switch (p.how) {
    case pending::local:
      out += p.encoded;
      return;
    case pending::single: {
      auto& v = p.first;
      switch (v.k) {
        case value::ok: put_simple(out, "OK"); break;
        case value::nil: put_nil(out); break;
        case value::integer: put_integer(out, v.i); break;
        case value::bulk: put_bulk(out, v.s); break;
        case value::error: put_error(out, v.s); break;
      }
      return;
    }
    case pending::mget:
      put_array_header(out, p.part_count);
      p.each_part([&](value& v) {
        if (v.k == value::bulk) put_bulk(out, v.s);
        else put_nil(out);
      });
      return;
    case pending::sum:
    case pending::dbsize:
      if (auto* e = first_error()) return put_error(out, e->s);
      return put_integer(out, sum());
    case pending::all_ok:
      if (auto* e = first_error()) return put_error(out, e->s);
      return put_simple(out, "OK");
    case pending::info: {
      long long keys = sum();
      auto m = srv_.runtime().metrics();
      std::uint64_t handled = 0;
      for (auto& w : m.workers) handled += w.handled;
      std::string text;
      text += "# Server\r\nredis_version:7.0.0\r\nserver_name:courier-kv\r\nprocess_id:" + std::to_string(getpid()) +
              "\r\ntcp_port:" + std::to_string(srv_.config().port) + "\r\nuptime_in_seconds:" +
              std::to_string(std::chrono::duration_cast<std::chrono::seconds>(srv_.uptime()).count()) + "\r\n";
      text += "\r\n# Clients\r\nconnected_clients:" + std::to_string(srv_.clients()) + "\r\n";
      text += "\r\n# Stats\r\ntotal_connections_received:" + std::to_string(srv_.connections_received()) +
              "\r\ntotal_commands_processed:" + std::to_string(srv_.commands()) + "\r\n";
      text += "\r\n# Metrics\r\nworkers:" + std::to_string(m.workers.size()) +
              "\r\nlive_actors:" + std::to_string(m.live_actors) +
              "\r\nqueued_messages:" + std::to_string(m.queued_messages) +
              "\r\nhandled_messages:" + std::to_string(handled) +
              "\r\ndropped_messages:" + std::to_string(m.dropped_messages) +
              "\r\nreplies_dropped:" + std::to_string(m.replies_dropped) +
              "\r\nsenders_waiting:" + std::to_string(m.senders_waiting) +
              "\r\nrestarts:" + std::to_string(m.restarts) + "\r\n";
      for (auto& w : m.workers)
        text += "worker" + std::to_string(w.index) + ":handled=" + std::to_string(w.handled) +
                ",turns=" + std::to_string(w.turns) + ",steals=" + std::to_string(w.steals_succeeded) +
                ",parks=" + std::to_string(w.parks) + "\r\n";
      text += "\r\n# Keyspace\r\n";
      if (keys > 0) text += "db0:keys=" + std::to_string(keys) + ",expires=0,avg_ttl=0\r\n";
      return put_bulk(out, text);
    }
  }
}

void connection::flush() {
  if (closed_) return;
  bool close_now = false;
  while (!slots_.empty() && slots_.front().parts_left == 0) {
    auto& p = slots_.front();
    encode(p, out_);
    close_now = close_now || p.close_after;
    slots_.pop_front();
    ++first_id_;
    if (close_now) {
      slots_.clear();  // nothing after a QUIT or a protocol error is answered
      break;
    }
  }
  if (out_.size() + writing_.size() > srv_.config().output_limit) {  // a client that does not read
    std::fprintf(stderr, "courier-kv: closing a client whose pending output passed %zu bytes\n",
                 srv_.config().output_limit);
    return close();
  }
  if (close_now) reading_stopped_ = true;
  write();
  if (slots_.size() < max_owed / 2) read();  // resumes a paused reader (no-op otherwise)
}

void connection::write() {
  if (write_in_flight_ || closed_) return;
  if (out_.empty()) {
    // Nothing to write: a connection that stopped reading closes once
    // every reply is out.
    if (reading_stopped_ && slots_.empty()) close();
    return;
  }
  writing_.swap(out_);
  out_.clear();
  write_in_flight_ = true;
  asio::async_write(socket_, asio::buffer(writing_), [self = shared_from_this()](const asio::error_code& ec, std::size_t) {
    self->write_in_flight_ = false;
    self->writing_.clear();
    if (ec) return self->close();
    self->write();
  });
}

void connection::close() {
  if (closed_) return;
  closed_ = true;
  asio::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  srv_.left(shared_from_this());  // replies still in flight find closed_ and are dropped
}

}  // namespace kv

namespace {

void usage(FILE* to) {
  std::fprintf(to,
               "usage: courier-kv [options]\n"
               "  --bind ADDR          address to listen on (default 127.0.0.1)\n"
               "  --port N             TCP port (default 6380)\n"
               "  --workers N          courier worker threads (default: the usable CPUs left after the I/O threads, at least 1)\n"
               "  --io-threads N       Asio I/O threads (default 1)\n"
               "  --shards N           keyspace shards, one actor each (default: one per worker)\n"
               "  --max-bulk BYTES     longest bulk string accepted (default 536870912, as Redis)\n"
               "  --output-limit BYTES pending reply bytes after which a client is closed (default 67108864)\n"
               "  --spin-us N          how long an idle courier worker spins before it sleeps (default 20)\n"
               "  --min-awake N        courier workers that never sleep (default 0)\n"
               "  --io-spin-us N       how long an I/O thread waiting for shard results polls (yielding) before it\n"
               "                       sleeps in epoll (default 200; 0: never)\n"
               "  --help               this text\n"
               "A Redis-protocol (RESP2) in-memory key-value server; no persistence, replication or cluster.\n");
}

bool number(const char* s, unsigned long long& v) {
  auto len = std::char_traits<char>::length(s);
  auto [p, ec] = std::from_chars(s, s + len, v);
  return ec == std::errc{} && p == s + len;
}

}  // namespace

int main(int argc, char** argv) {
  kv::settings s;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      usage(stdout);
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "courier-kv: %s needs a value\n", a.c_str());
      usage(stderr);
      return 2;
    }
    const char* v = argv[++i];
    unsigned long long n = 0;
    if (a == "--bind") {
      s.bind = v;
      continue;
    }
    if (!number(v, n)) {
      std::fprintf(stderr, "courier-kv: %s wants a number, not '%s'\n", a.c_str(), v);
      return 2;
    }
    if (a == "--port" && n > 0 && n < 65536) s.port = static_cast<unsigned short>(n);
    else if (a == "--workers") s.workers = n;
    else if (a == "--io-threads" && n > 0 && n <= 256) s.io_threads = n;
    else if (a == "--shards" && n <= 4096) s.shards = n;
    else if (a == "--max-bulk" && n > 0) s.proto.max_bulk = n;
    else if (a == "--output-limit" && n > 0) s.output_limit = n;
    else if (a == "--spin-us" && n <= 1'000'000) s.spin_us = static_cast<long>(n);
    else if (a == "--min-awake" && n <= 256) s.min_awake = n;
    else if (a == "--io-spin-us" && n <= 1'000'000) s.io_spin_us = static_cast<long>(n);
    else {
      std::fprintf(stderr, "courier-kv: bad option or value: %s %s\n", a.c_str(), v);
      usage(stderr);
      return 2;
    }
  }
  kv::server srv(s);
  return srv.run();
}
