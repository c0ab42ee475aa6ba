// expect: or the one that does is private or protected (handlers must be public members)
#include <courier/courier.hpp>

struct secret { int n; };
class a : public courier::actor<a> {
 private:
  void on(secret) {}
};

void f(courier::address<a> to) { (void)to.send(secret{1}); }
