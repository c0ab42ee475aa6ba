// A heartbeat: a monitor actor pings a worker every 20 ms with send_every,
// and gives up on it when three beats in a row go unanswered. The timer is a
// member: it is cancelled with the actor (RAII), and while it is active it
// keeps the actor running with no other address.
#include <courier/courier.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

using namespace std::chrono_literals;

struct beat {};
struct ping {
  int n;
};

class worker : public courier::actor<worker> {
 public:
  int on(ping p) { return p.n; }  // a healthy worker answers at once
};

class watchdog : public courier::actor<watchdog> {
 public:
  watchdog(courier::address<worker> w, std::atomic<int>* answered) : worker_(std::move(w)), answered_(answered) {}

  void on_start(courier::context<watchdog>& ctx) { beat_ = ctx.send_every(ctx.self(), beat{}, 20ms); }

  void on(beat, courier::context<watchdog>& ctx) {
    if (++missed_ > 3) {  // three beats without an answer
      std::printf("watchdog: the worker stopped answering; stopping\n");
      ctx.stop();
      return;
    }
    ctx.ask_for(worker_, ping{++sent_}, 15ms, [this](courier::result<int> r) {
      if (!r) return;
      missed_ = 0;
      answered_->fetch_add(1);
    });
  }

 private:
  courier::address<worker> worker_;
  std::atomic<int>* answered_;
  courier::timer beat_;  // cancelled when the watchdog ends
  int sent_ = 0;
  int missed_ = 0;
};

int main() {
  courier::runtime rt;
  std::atomic<int> answered{0};
  auto w = rt.spawn<worker>();
  auto dog = rt.spawn<watchdog>(w, &answered);
  while (answered.load() < 5) std::this_thread::yield();  // five healthy beats
  std::printf("watchdog: %d beats answered; stopping the worker\n", answered.load());
  w.stop();
  bool ended = dog.join_for(5s);  // it notices within a few beats
  auto s = rt.stats();
  std::printf("watchdog ended: %s; deadlines skipped: %llu\n", ended ? "yes" : "no",
              static_cast<unsigned long long>(s.ticks_skipped));
  return rt.shutdown() && ended ? 0 : 1;
}
