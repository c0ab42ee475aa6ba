// A small supervision tree:
//
//   root (rest_for_one, at most 2 restarts in 10 s)
//    +-- "db"       store        keeps a map; a `corrupt` message makes it throw
//    +-- "cache"    cache        finds "db" through which_child in on_start
//    +-- "workers"  supervisor   (one_for_one, at most 1 restart in 10 s)
//         +-- "w"   worker       throws on odd jobs
//
// The output shows a rest_for_one restart (db fails: db and cache are torn
// down and rebuilt, the cache picks up the store again), a worker restarted
// in place, the workers' supervisor escalating and being respawned by the
// root, and finally the root giving up: its watcher gets down{failed}.
#include <courier/courier.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;

struct put {
  std::string key;
  int value;
};
struct get {
  std::string key;
};
struct corrupt {};
struct job {
  int n;
};

void say(const char* who, const char* what, courier::exit_reason reason, bool restarting) {
  std::printf("  %-6s %s (%s%s)\n", who, what, std::string(courier::to_string(reason)).c_str(),
              restarting ? ", restarting" : "");
}

class store : public courier::actor<store> {
 public:
  void on_start(courier::context<store>&) { std::printf("  db     on_start: an empty map\n"); }
  void on_stop(courier::context<store>& ctx) { say("db", "on_stop", ctx.stop_reason(), ctx.restarting()); }
  void on(put p) { data_[p.key] = p.value; }
  int on(const get& g) const {
    auto it = data_.find(g.key);
    return it == data_.end() ? -1 : it->second;
  }
  void on(corrupt) { throw std::runtime_error("corrupted index"); }

 private:
  std::map<std::string, int> data_;
};

/// Reads through to the store it finds in on_start: a sibling is never
/// captured when the tree is defined, because it may be replaced.
class cache : public courier::actor<cache> {
 public:
  void on_start(courier::context<cache>& ctx) {
    db_ = courier::which_child<store>(ctx.supervisor(), "db").value();
    std::printf("  cache  on_start: found db (actor %llu)\n", static_cast<unsigned long long>(db_.id()));
  }
  void on_stop(courier::context<cache>& ctx) { say("cache", "on_stop", ctx.stop_reason(), ctx.restarting()); }
  courier::task<int> on(get g, courier::context<cache>& ctx) {
    // A handler never blocks: it awaits. (The awaitable is named first: GCC
    // 12 destroys a braced temporary inside a co_await expression twice.)
    auto request = ctx.ask(db_, get{g.key});
    auto v = co_await std::move(request);
    co_return v.has_value() ? v.value() : -2;
  }

 private:
  courier::address<store> db_;
};

class worker : public courier::actor<worker> {
 public:
  void on_start(courier::context<worker>&) { std::printf("  w      on_start\n"); }
  void on_stop(courier::context<worker>& ctx) { say("w", "on_stop", ctx.stop_reason(), ctx.restarting()); }
  int on(job j) {
    if (j.n % 2) throw std::runtime_error("odd job " + std::to_string(j.n));
    return j.n * 10;
  }
};

class watcher : public courier::actor<watcher> {
 public:
  courier::monitor_id on(courier::address<courier::supervisor> a, courier::context<watcher>& ctx) {
    return ctx.monitor(a);
  }
  void on(courier::down d) {
    std::printf("  watcher: down from actor %llu, reason %s: %s\n", static_cast<unsigned long long>(d.actor),
                std::string(courier::to_string(d.reason)).c_str(), d.what.c_str());
  }
};

/// Reads through the cache. A request that a restart cancels (the cache was
/// awaiting the store when it was torn down) completes with actor_stopped:
/// ask again, the address stays.
int read(const courier::address<cache>& c, const std::string& key) {
  for (;;) {
    auto r = c.ask(get{key}).get();
    if (r.has_value()) return r.value();
  }
}

int main() {
  courier::runtime rt{{.workers = 2}};
  rt.set_error_hook([](std::string_view actor, std::string_view message, std::string_view what) {
    std::printf("  [error hook] %.*s / %.*s: %.*s\n", static_cast<int>(actor.size()), actor.data(),
                static_cast<int>(message.size()), message.data(), static_cast<int>(what.size()), what.data());
  });

  std::printf("start the tree\n");
  auto root = rt.spawn<courier::supervisor>(
      courier::supervisor_flags{.strategy = courier::restart_strategy::rest_for_one, .intensity = 2, .period = 10s},
      courier::child<store>({.id = "db"}), courier::child<cache>({.id = "cache"}),
      courier::child<courier::supervisor>({.id = "workers", .shutdown = courier::infinite},
                                          courier::supervisor_flags{.intensity = 1, .period = 10s},
                                          courier::child<worker>({.id = "w"})));
  auto w = rt.spawn<watcher>();
  (void)w.ask(root).get();
  auto db = courier::which_child<store>(root, "db").value();
  auto c = courier::which_child<cache>(root, "cache").value();
  (void)db.send(put{"answer", 42});
  std::printf("  cache reads answer = %d\n", read(c, "answer"));

  std::printf("\nthe store fails: rest_for_one tears down workers, cache, db (reverse order),\n  then rebuilds db and cache in place and respawns the workers' supervisor\n");
  (void)db.ask(corrupt{}).get();
  std::printf("  cache reads answer = %d (the new store starts empty)\n", read(c, "answer"));

  auto workers = courier::which_child<courier::supervisor>(root, "workers").value();
  auto wk = courier::which_child<worker>(workers, "w").value();
  std::printf("\na worker fails once: its supervisor restarts it in place\n");
  std::printf("  job 2 -> %d\n", wk.ask(job{2}).get().value());
  auto r = wk.ask(job{3}).get();
  std::printf("  job 3 -> %s\n", r.has_value() ? "ok" : r.error().message().c_str());
  std::printf("  job 4 -> %d (same address, a new object)\n", wk.ask(job{4}).get().value());

  std::printf("\nit fails again: torn down, then its supervisor gives up (intensity 1);\n"
              "  the root respawns the workers' supervisor: a new cell, a new w\n");
  (void)wk.ask(job{5}).get();
  workers.join();
  courier::address<courier::supervisor> fresh;
  for (;;) {
    auto now = courier::which_child<courier::supervisor>(root, "workers");
    if (now.has_value() && now.value() != workers) {
      fresh = now.value();
      break;
    }
    if (root.done()) break;
  }

  std::printf("\ntwice more: w restarts once, then its supervisor gives up again; the root has\n"
              "  used its 2 restarts, so it stops cache and db and gives up too\n");
  if (fresh) {
    auto wk2 = courier::which_child<worker>(fresh, "w").value();
    (void)wk2.ask(job{7}).get();
    (void)wk2.ask(job{9}).get();
  }
  root.join();
  rt.shutdown();
  std::printf("\nrestarted in place: %llu\n", static_cast<unsigned long long>(rt.stats().restarted));
  return 0;
}
