// expect: courier: consume<T> delivers courier::stream_end; add on(courier::stream_end)
#include <courier/courier.hpp>

struct consumer : courier::actor<consumer> {
  void on(courier::stream_item<int>) {}
  // no on(courier::stream_end)
  void on(int, courier::context<consumer>& ctx) { (void)ctx.consume(courier::stream<int>{}); }
};

void f(courier::address<consumer> c) { (void)c.send(1); }
