// A calculator actor: typed requests, errors as values, a continuation
// running inside another actor's turn, and a clean shutdown.
#include <courier/courier.hpp>

#include <cstdio>
#include <stdexcept>

struct add {
  long a, b;
};
struct divide {
  long a, b;
};
struct compute {
  long a, b;
};

class calculator : public courier::actor<calculator> {
 public:
  explicit calculator(long bias) : bias_(bias) {}
  long on(add m) { return m.a + m.b + bias_; }
  courier::result<long> on(divide m) {
    if (m.b == 0) return courier::error{courier::errc::handler_failed, "division by zero"};
    return m.a / m.b;
  }

 private:
  long bias_;
};

// Asks the calculator from inside a handler without blocking a worker.
class client : public courier::actor<client> {
 public:
  explicit client(courier::address<calculator> calc) : calc_(std::move(calc)) {}
  long on(compute m, courier::context<client>& ctx) {
    ctx.ask(calc_, add{m.a, m.b}, [this](courier::result<long> r) { last_ = r ? *r : -1; });
    return last_;  // the answer to the previous compute
  }

 private:
  courier::address<calculator> calc_;
  long last_ = 0;
};

int main() {
  courier::runtime rt{{.workers = 2}};
  auto calc = rt.spawn<calculator>(courier::spawn_options{.name = "calc"}, 0L);
  std::printf("2 + 3 = %ld\n", *calc.ask(add{2, 3}).get());
  auto quotient = calc.ask(divide{1, 0}).get();
  std::printf("1 / 0 -> %s: %s\n", std::string(courier::to_string(quotient.error().code())).c_str(),
              quotient.error().message().c_str());
  auto c = rt.spawn<client>(calc);
  (void)c.send(compute{20, 22});
  auto previous = c.ask(compute{1, 1}).get();  // handled after the first continuation ran or is queued
  std::printf("client saw %ld\n", previous ? *previous : -1L);
  bool clean = rt.shutdown();
  auto s = rt.stats();
  std::printf("spawned %llu, handled %llu, clean %s\n", static_cast<unsigned long long>(s.spawned),
              static_cast<unsigned long long>(s.handled), clean ? "yes" : "no");
  return clean ? 0 : 1;
}
