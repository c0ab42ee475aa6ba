// expect: courier: this actor has no handler for this message type
#include <courier/courier.hpp>

struct known { int n; };
struct unknown { int n; };
struct a : courier::actor<a> {
  void on(known) {}
};

void f(courier::address<a> to) { to.send(unknown{1}); }
