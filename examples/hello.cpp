// The smallest courier program: one actor, one message, one request.
#include <courier/courier.hpp>

#include <cstdio>
#include <string>

struct greet {
  std::string name;
};
struct sum {
  int a, b;
};

class greeter : public courier::actor<greeter> {
 public:
  void on(greet g, courier::context<greeter>&) { std::printf("Hello, %s!\n", g.name.c_str()); }
  int on(sum s) { return s.a + s.b; }
};

int main() {
  courier::runtime rt;
  auto g = rt.spawn<greeter>();
  (void)g.send(greet{"world"});
  auto total = g.ask(sum{16, 4}).get();
  std::printf("16 + 4 = %d\n", *total);
  return rt.shutdown() && *total == 20 ? 0 : 1;
}
