#include "store.hpp"

#include "resp.hpp"

#include <limits>

namespace kv {

namespace {

value integer(long long i) { return {value::integer, i, {}}; }
value error(std::string s) { return {value::error, 0, std::move(s)}; }

}  // namespace

std::vector<value> shard::on(batch b, courier::context<shard>& ctx) {
  std::vector<value> out;
  out.reserve(b.ops.size());
  for (auto& o : b.ops) out.push_back(run(o, ctx));
  return out;
}

void shard::on(expire_due e) {
  auto it = map_.find(e.key);
  if (it != map_.end() && it->second.version == e.version && it->second.expires &&
      it->second.deadline <= clock::now())
    map_.erase(it);
}

shard::entry* shard::find(const std::string& key) {
  auto it = map_.find(key);
  if (it == map_.end()) return nullptr;
  if (it->second.expires && it->second.deadline <= clock::now()) {
    map_.erase(it);
    return nullptr;
  }
  return &it->second;
}

void shard::arm_expiry(const std::string& key, entry& e, long long ms, courier::context<shard>& ctx) {
  e.expires = true;
  e.deadline = clock::now() + std::chrono::milliseconds(ms);
  ctx.send_after(ctx.self(), expire_due{key, e.version}, std::chrono::milliseconds(ms));
}

value shard::run(op& o, courier::context<shard>& ctx) {
  switch (o.c) {
    case op::get: {
      auto* e = find(o.key);
      if (!e) return {value::nil, 0, {}};
      return {value::bulk, 0, e->data};
    }
    case op::set: {
      auto* e = find(o.key);
      if ((o.flags & op::nx) && e) return {value::nil, 0, {}};
      if ((o.flags & op::xx) && !e) return {value::nil, 0, {}};
      auto& slot = map_[o.key];
      slot.data = std::move(o.value);
      slot.version = ++next_version_;
      slot.expires = false;
      if (o.flags & op::with_expiry) arm_expiry(o.key, slot, o.n, ctx);
      return {value::ok, 0, {}};
    }
    case op::del: {
      auto* e = find(o.key);
      if (!e) return integer(0);
      map_.erase(o.key);
      return integer(1);
    }
    case op::exists:
      return integer(find(o.key) ? 1 : 0);
    case op::incrby: {
      auto* e = find(o.key);
      long long current = 0;
      if (e && !parse_integer(e->data, current)) return error("ERR value is not an integer or out of range");
      if ((o.n > 0 && current > std::numeric_limits<long long>::max() - o.n) ||
          (o.n < 0 && current < std::numeric_limits<long long>::min() - o.n))
        return error("ERR increment or decrement would overflow");
      current += o.n;
      if (!e) {
        e = &map_[o.key];
        e->version = ++next_version_;
      }
      e->data = std::to_string(current);  // keeps its time to live, as Redis does
      return integer(current);
    }
    case op::expire: {
      auto* e = find(o.key);
      if (!e) return integer(0);
      e->version = ++next_version_;
      if (o.n <= 0) {
        map_.erase(o.key);
        return integer(1);
      }
      arm_expiry(o.key, *e, o.n, ctx);
      return integer(1);
    }
    case op::ttl: {
      auto* e = find(o.key);
      if (!e) return integer(-2);
      if (!e->expires) return integer(-1);
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(e->deadline - clock::now()).count();
      if (left < 0) left = 0;
      return integer((o.flags & op::in_ms) ? left : (left + 500) / 1000);
    }
    case op::dbsize:
      return integer(static_cast<long long>(map_.size()));
    case op::flushall:
      map_.clear();
      return {value::ok, 0, {}};
  }
  return error("ERR internal");
}

}  // namespace kv
