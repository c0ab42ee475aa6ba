// expect: courier: this actor has no handler for this message type
#include <courier/courier.hpp>

#include <chrono>

struct known { int n; };
struct unknown { int n; };
struct a : courier::actor<a> {
  void on(known) {}
};

courier::timer f(courier::runtime& rt, courier::address<a> to) {
  return rt.send_every(to, unknown{1}, std::chrono::milliseconds(10));
}
