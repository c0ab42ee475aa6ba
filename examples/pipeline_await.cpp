// A three-stage pipeline written with coroutine handlers: each stage awaits
// the next stage's answer in the middle of its handler, without blocking a
// worker and without splitting its logic into continuations.
#include <courier/courier.hpp>

#include <chrono>
#include <cstdio>
#include <string>

struct order {
  std::string item;
  int quantity;
};

// Stage 3: prices an item.
class pricer : public courier::actor<pricer> {
 public:
  courier::result<int> on(const order& o) {
    if (o.item == "unobtainium") return courier::error{courier::errc::handler_failed, "not for sale"};
    return static_cast<int>(o.item.size()) * 100 * o.quantity;  // cents
  }
};

// Stage 2: applies a discount to the price it awaits from the pricer.
class discounter : public courier::actor<discounter> {
 public:
  explicit discounter(courier::address<pricer> p) : pricer_(std::move(p)) {}
  courier::task<int> on(order o, courier::context<discounter>& ctx) {
    auto price = co_await ctx.ask(pricer_, o);  // suspends this handler only
    if (!price) co_return price.error();         // errors pass through unchanged
    co_await ctx.sleep_for(std::chrono::milliseconds(1));  // e.g. a rate limit; the worker runs others
    co_return *price * 9 / 10;
  }

 private:
  courier::address<pricer> pricer_;
};

// Stage 1: the front door, awaiting stage 2 and formatting the answer.
class front : public courier::actor<front> {
 public:
  explicit front(courier::address<discounter> d) : discounter_(std::move(d)) {}
  courier::task<std::string> on(order o, courier::context<front>& ctx) {
    auto total = co_await ctx.ask_for(discounter_, o, std::chrono::seconds(1));
    if (!total) co_return "error: " + total.error().message();
    co_return o.item + " x" + std::to_string(o.quantity) + " = " + std::to_string(*total) + " cents";
  }

 private:
  courier::address<discounter> discounter_;
};

int main() {
  courier::runtime rt{{.workers = 2}};
  auto p = rt.spawn<pricer>();
  auto d = rt.spawn<discounter>(p);
  auto f = rt.spawn<front>(d);
  auto a = f.ask(order{"widget", 3}).get();
  auto b = f.ask(order{"unobtainium", 1}).get();
  std::printf("%s\n%s\n", a->c_str(), b->c_str());
  bool ok = a && *a == "widget x3 = 1620 cents" && b && *b == "error: not for sale";
  return rt.shutdown() && ok ? 0 : 1;
}
