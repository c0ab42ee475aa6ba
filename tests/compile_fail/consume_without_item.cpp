// expect: courier: consume<T> delivers courier::stream_item<T>; add on(courier::stream_item<T>)
#include <courier/courier.hpp>

struct consumer : courier::actor<consumer> {
  // no on(courier::stream_item<int>)
  void on(courier::stream_end) {}
  void on(int, courier::context<consumer>& ctx) { (void)ctx.consume(courier::stream<int>{}); }
};

void f(courier::address<consumer> c) { (void)c.send(1); }
