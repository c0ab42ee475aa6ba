#pragma once
// The keyspace of courier-kv: one `shard` actor per slice of the key hash.
// An I/O thread sends each shard one `batch` per round of its loop (the
// operations of the commands its connections' reads parsed, in order) and
// gets one vector of results back, so a round costs one message per shard,
// however many connections and pipelined commands it served.
//
// Expiry: a key given a time to live gets a timer (ctx.send_after to the
// shard itself) that deletes it when due; a read also treats a key past its
// deadline as absent. No polling loop.

#include <courier/courier.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace kv {

/// One operation on one key (or on the whole shard), already checked by
/// the connection (arity, integers, options).
struct op {
  enum code : std::uint8_t { get, set, del, exists, incrby, expire, ttl, dbsize, flushall };
  static constexpr std::uint8_t nx = 1, xx = 2, with_expiry = 4, in_ms = 8;
  code c = get;
  std::uint8_t flags = 0;
  long long n = 0;  // incrby: the delta; set / expire: the time to live in ms
  std::string key;
  std::string value;
};

/// One operation's result, encoded by the connection.
struct value {
  enum kind : std::uint8_t { ok, nil, integer, bulk, error };
  kind k = ok;
  long long i = 0;
  std::string s;
};

struct batch {
  std::vector<op> ops;
};

/// Deletes `key` if it still is the version that was given this deadline.
struct expire_due {
  std::string key;
  std::uint64_t version;
};

class shard : public courier::actor<shard> {
 public:
  std::vector<value> on(batch b, courier::context<shard>& ctx);
  void on(expire_due e);

 private:
  using clock = std::chrono::steady_clock;
  struct entry {
    std::string data;
    clock::time_point deadline{};  // valid when expires
    bool expires = false;
    std::uint64_t version = 0;     // changes at every write: a stale expire_due is ignored
  };

  value run(op& o, courier::context<shard>& ctx);
  /// The live entry of `key`, or null (an expired one is erased first).
  entry* find(const std::string& key);
  void arm_expiry(const std::string& key, entry& e, long long ms, courier::context<shard>& ctx);

  std::unordered_map<std::string, entry> map_;
  std::uint64_t next_version_ = 0;
};

}  // namespace kv
