// expect: courier: this actor has no handler for this message type
// A handler taking M& does not handle M (matching is exact: M, const M&, M&&).
#include <courier/courier.hpp>

struct msg { int n; };
struct a : courier::actor<a> {
  void on(msg&) {}
};

void f(courier::address<a> to) { to.send(msg{1}); }
