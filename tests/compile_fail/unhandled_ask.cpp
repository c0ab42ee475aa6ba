// expect: courier: this actor has no handler for this message type
#include <courier/courier.hpp>

struct known { int n; };
struct a : courier::actor<a> {
  int on(known k) { return k.n; }
};

void f(courier::address<a> to) { auto r = to.ask(3.5); }
