// expect: courier: this actor has no handler for this message type
#include <courier/courier.hpp>

struct known { int n; };
struct unknown { int n; };
struct b : courier::actor<b> {
  int on(known k) { return k.n; }
};
struct a : courier::actor<a> {
  courier::address<b> peer;
  void on(known, courier::context<a>& ctx) { ctx.ask(peer, unknown{1}, [](courier::result<int>) {}); }
};
