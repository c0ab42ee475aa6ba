// expect: ignoring return value
// flags: -Werror=unused-result
#include <courier/courier.hpp>

struct ping { int n; };
struct a : courier::actor<a> {
  void on(ping) {}
};

void f(courier::address<a> to) { to.send(ping{1}); }
