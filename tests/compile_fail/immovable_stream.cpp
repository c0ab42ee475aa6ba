// expect: courier: make_stream<T> needs a move-constructible T
#include <courier/courier.hpp>

struct pinned {
  pinned() = default;
  pinned(pinned&&) = delete;
};
struct producer : courier::actor<producer> {
  void on(int, courier::context<producer>& ctx) { (void)ctx.make_stream<pinned>(); }
};

void f(courier::address<producer> p) { (void)p.send(1); }
