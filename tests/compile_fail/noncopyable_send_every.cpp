// expect: courier: send_every delivers a copy of the message at every tick; it must be copy-constructible
#include <courier/courier.hpp>

#include <chrono>
#include <memory>

struct a : courier::actor<a> {
  void on(std::unique_ptr<int>) {}
};

courier::timer f(courier::runtime& rt, courier::address<a> to) {
  return rt.send_every(to, std::make_unique<int>(1), std::chrono::milliseconds(10));
}
