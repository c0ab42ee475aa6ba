// The idle policy and placement knobs of config (issue 7): spin, min_awake,
// pin, and the worker thread names.
#include <courier/courier.hpp>

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <string>
#include <thread>

#include "tests/support/doctest.hpp"
#include "tests/support/wait.hpp"

using namespace courier;
using namespace std::chrono_literals;
using courier::test::wait_until;

namespace {

struct where_am_i {
  int unused;
};
struct placement {
  std::string thread_name;
  int cpus = 0;
  bool on_cpu0 = false;
};
class reporter : public actor<reporter> {
 public:
  placement on(where_am_i) {
    placement p;
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof name);
    p.thread_name = name;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
      p.cpus = CPU_COUNT(&set);
      p.on_cpu0 = CPU_ISSET(0, &set);
    }
    return p;
  }
};

}  // namespace

TEST_CASE("worker threads are named courier-w<N>" * doctest::timeout(30)) {
  runtime rt{{.workers = 1}};
  auto p = rt.spawn<reporter>().ask(where_am_i{0}).get();
  REQUIRE(p.has_value());
  CHECK(p->thread_name == "courier-w0");
}

TEST_CASE("config::pin pins every worker to its CPU" * doctest::timeout(30)) {
  runtime rt{{.workers = 2, .pin = {0}}};
  for (int i = 0; i < 20; ++i) {
    auto p = rt.spawn<reporter>().ask(where_am_i{0}).get();
    REQUIRE(p.has_value());
    CHECK(p->cpus == 1);
    CHECK(p->on_cpu0);
  }
}

TEST_CASE("without pinning, workers keep the process's CPUs" * doctest::timeout(30)) {
  cpu_set_t mine;
  CPU_ZERO(&mine);
  REQUIRE(sched_getaffinity(0, sizeof mine, &mine) == 0);
  runtime rt{{.workers = 1}};
  auto p = rt.spawn<reporter>().ask(where_am_i{0}).get();
  REQUIRE(p.has_value());
  CHECK(p->cpus == CPU_COUNT(&mine));
}

namespace {
class stamp : public actor<stamp> {
 public:
  explicit stamp(std::atomic<int>* n) : n_(n) {}
  void on(int) { n_->fetch_add(1); }

 private:
  std::atomic<int>* n_;
};
}  // namespace

TEST_CASE("spin = 0 (park at once) and min_awake = all workers still handle every message" * doctest::timeout(60)) {
  for (auto cfg : {config{.workers = 2, .spin = 0us}, config{.workers = 2, .min_awake = 2},
                   config{.workers = 2, .spin = 500us, .min_awake = 1}}) {
    std::atomic<int> n{0};
    {
      runtime rt{cfg};
      auto s = rt.spawn<stamp>(&n);
      for (int i = 1; i <= 200; ++i) {
        REQUIRE(s.send(i).has_value());
        if (i % 20 == 0) REQUIRE(wait_until([&] { return n.load() == i; }));  // idle gaps between bursts
      }
      CHECK(rt.shutdown(30s));
    }
    CHECK(n.load() == 200);
  }
}
