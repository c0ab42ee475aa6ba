// Fault tolerance with what courier has today: a store that restarts in
// place when it fails (its queue survives), a flaky worker linked to it, and
// a monitor that reports how each one ended. The output shows two restarts,
// the restart limit that finally stops the store, the link that takes the
// worker down with it, and the `down`s the monitor receives.
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

/// Keeps a map; a `corrupt` message makes it throw. Its policy rebuilds it
/// in place from the spawn arguments (the map starts over from `seed`).
class store : public courier::actor<store> {
 public:
  explicit store(int seed) : seed_(seed) {}
  void on_start(courier::context<store>&) { data_["seed"] = seed_; }
  void on_stop(courier::context<store>& ctx) {
    std::printf("store: on_stop, reason %s%s\n", std::string(courier::to_string(ctx.stop_reason())).c_str(),
                ctx.restarting() ? " (a new incarnation follows)" : "");
  }
  void on(put p) { data_[p.key] = p.value; }
  int on(const get& g) const {
    auto it = data_.find(g.key);
    return it == data_.end() ? -1 : it->second;
  }
  void on(corrupt) { throw std::runtime_error("corrupted index"); }

 private:
  int seed_;
  std::map<std::string, int> data_;
};

/// Linked to the store: when the store fails for good, the worker stops too.
class worker : public courier::actor<worker> {
 public:
  explicit worker(courier::address<store> s) : store_(std::move(s)) {}
  void on_start(courier::context<worker>& ctx) { ctx.link(store_); }
  int on(int n) { return n * 2; }

 private:
  courier::address<store> store_;
};

struct watch_store {
  courier::address<store> who;
};
struct watch_worker {
  courier::address<worker> who;
};

/// Prints every `down` it gets.
class reporter : public courier::actor<reporter> {
 public:
  void on(watch_store w, courier::context<reporter>& ctx) { ctx.monitor(w.who); }
  void on(watch_worker w, courier::context<reporter>& ctx) { ctx.monitor(w.who); }
  void on(courier::down d) {
    std::printf("reporter: actor %llu ended, %s: %s\n", static_cast<unsigned long long>(d.actor),
                std::string(courier::to_string(d.reason)).c_str(), d.what.c_str());
    ++downs;
  }
  int on(int) const { return downs; }

 private:
  int downs = 0;
};

int main() {
  courier::runtime rt{{.workers = 2}};
  rt.set_error_hook([](std::string_view actor, std::string_view message, std::string_view what) {
    std::printf("error hook: %.*s failed on %.*s: %.*s\n", static_cast<int>(actor.size()), actor.data(),
                static_cast<int>(message.size()), message.data(), static_cast<int>(what.size()), what.data());
  });
  auto s = rt.spawn<store>(courier::spawn_options{.name = "store",
                                                  .failure = {.action = courier::on_failure::restart,
                                                              .intensity = 2, .period = 10s,
                                                              .backoff_min = 10ms, .backoff_max = 100ms}},
                           42);
  auto w = rt.spawn<worker>(s);
  auto r = rt.spawn<reporter>();
  (void)r.send(watch_store{s});
  (void)r.send(watch_worker{w});
  (void)r.ask(0).get();  // the monitors are in place

  (void)s.send(put{"answer", 42});
  (void)s.send(corrupt{});              // restart 1: the map starts over from the seed
  (void)s.send(put{"after", 1});        // queued while it waits out its backoff: kept
  std::printf("main: after the first restart, answer = %d, after = %d, seed = %d\n", s.ask(get{"answer"}).get().value(),
              s.ask(get{"after"}).get().value(), s.ask(get{"seed"}).get().value());
  (void)s.send(corrupt{});  // restart 2
  std::printf("main: worker still answers %d\n", w.ask(21).get().value());
  (void)s.send(corrupt{});  // the third failure within 10 s: past the intensity, the store stops
  s.join();
  w.join();  // linked: it stopped with the store
  while (r.ask(0).get().value() < 2) {
  }
  auto st = rt.stats();
  std::printf("main: restarted %llu time(s), store done %d, worker done %d\n",
              static_cast<unsigned long long>(st.restarted), s.done(), w.done());
  return rt.shutdown() && st.restarted == 2 ? 0 : 1;
}
