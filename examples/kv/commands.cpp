// courier-kv's commands (server.hpp): what each command does, which
// shards it asks, and how their results make one reply.
#include <unistd.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "server.hpp"

namespace kv {

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

}  // namespace kv
