// A price feed fanning out to subscribers of different actor types through
// courier::recipient<price_update>: the publisher names no subscriber type.
// Subscribers that stop are noticed by a monitor and dropped from the list.
#include <courier/courier.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <string>
#include <vector>

struct price_update {
  std::string symbol;
  double price;
};
struct subscribe {
  courier::recipient<price_update> who;
};
struct publish {
  price_update u;
};
struct subscribers_left {};

class feed : public courier::actor<feed> {
 public:
  void on(subscribe s, courier::context<feed>& ctx) {
    ctx.monitor(s.who);  // a `down` tells us when it is gone
    subs_.push_back(std::move(s.who));
  }
  void on(publish p) {
    for (auto& s : subs_) (void)s.send(p.u);  // one copy each
  }
  void on(courier::down d) {
    std::erase_if(subs_, [&](const auto& s) { return s.id() == d.actor; });
  }
  std::size_t on(subscribers_left) const { return subs_.size(); }

 private:
  std::vector<courier::recipient<price_update>> subs_;
};

class trader : public courier::actor<trader> {
 public:
  explicit trader(std::atomic<int>* seen) : seen_(seen) {}
  void on(price_update u) {
    if (u.price < 100) seen_->fetch_add(1);  // buys below 100
  }

 private:
  std::atomic<int>* seen_;
};

class ticker_log : public courier::actor<ticker_log> {
 public:
  explicit ticker_log(std::atomic<int>* seen) : seen_(seen) {}
  void on(price_update u, courier::context<ticker_log>&) {
    seen_->fetch_add(1);
    if (seen_->load() <= 3) std::printf("log: %s %.2f\n", u.symbol.c_str(), u.price);
  }

 private:
  std::atomic<int>* seen_;
};

int main() {
  courier::runtime rt;
  std::atomic<int> traded{0}, logged{0};
  auto f = rt.spawn<feed>();
  auto t = rt.spawn<trader>(&traded);
  auto l = rt.spawn<ticker_log>(&logged);
  (void)f.send(subscribe{t});  // address<trader> -> recipient<price_update>
  (void)f.send(subscribe{l});
  for (int i = 0; i < 10; ++i) (void)f.send(publish{{"ACME", 95.0 + i}});
  while (logged.load() < 10) std::this_thread::yield();
  l.stop();  // the feed's monitor drops it
  while (f.ask(subscribers_left{}).get().value() != 1) std::this_thread::yield();
  (void)f.send(publish{{"ACME", 90.0}});
  while (traded.load() < 6) std::this_thread::yield();
  std::printf("trader bought %d times; the log saw %d updates before it stopped\n", traded.load(), logged.load());
  return rt.shutdown() && traded.load() == 6 && logged.load() == 10 ? 0 : 1;
}
