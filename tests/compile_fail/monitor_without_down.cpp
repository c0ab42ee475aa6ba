// expect: courier: monitor(addr) delivers courier::down; add on(courier::down) or pass a continuation
#include <courier/courier.hpp>

struct target : courier::actor<target> {
  void on(int) {}
};
struct start {
  courier::address<target> who;
};
struct watcher : courier::actor<watcher> {
  void on(start s, courier::context<watcher>& ctx) { ctx.monitor(s.who); }  // no on(courier::down)
};

void f(courier::address<watcher> w, courier::address<target> t) { (void)w.send(start{t}); }
