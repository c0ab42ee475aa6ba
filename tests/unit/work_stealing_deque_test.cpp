// The Chase-Lev deque (runtime/sched/work_stealing_deque.hpp).
#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "runtime/sched/work_stealing_deque.hpp"
#include "tests/support/doctest.hpp"

using courier::internal::work_stealing_deque;

TEST_CASE("the owner pops LIFO and thieves steal FIFO") {
  work_stealing_deque<int*> d(4);
  int v[3] = {0, 1, 2};
  for (auto& x : v) d.push(&x);
  CHECK(d.size() == 3);
  CHECK(d.steal() == &v[0]);
  CHECK(d.pop() == &v[2]);
  CHECK(d.pop() == &v[1]);
  CHECK(d.pop() == nullptr);
  CHECK(d.steal() == nullptr);
  CHECK(d.empty());
}

TEST_CASE("the deque grows past its initial capacity without losing items") {
  work_stealing_deque<std::intptr_t*> d(2);
  std::vector<std::intptr_t> items(1000);
  for (auto& x : items) d.push(&x);
  CHECK(d.size() == 1000);
  for (std::size_t i = 0; i < items.size(); ++i) REQUIRE(d.steal() == &items[i]);
}

TEST_CASE("concurrent thieves and the owner take every item exactly once") {
  constexpr int items_count = 200'000;
  constexpr int thieves = 3;
  work_stealing_deque<int*> d(8);
  std::vector<int> items(items_count);
  std::vector<std::atomic<int>> taken(items_count);
  std::atomic<bool> done{false};
  std::atomic<int> total{0};
  auto take = [&](int* p) {
    taken[static_cast<std::size_t>(p - items.data())].fetch_add(1);
    total.fetch_add(1);
  };
  std::vector<std::thread> ts;
  for (int t = 0; t < thieves; ++t)
    ts.emplace_back([&] {
      while (!done.load() || !d.empty())
        if (auto* p = d.steal()) take(p);
    });
  for (int i = 0; i < items_count; ++i) {
    d.push(&items[static_cast<std::size_t>(i)]);
    if (i % 3 == 0)
      if (auto* p = d.pop()) take(p);
  }
  while (auto* p = d.pop()) take(p);
  done.store(true);
  for (auto& t : ts) t.join();
  CHECK(total.load() == items_count);
  int duplicates = 0;
  for (auto& t : taken) duplicates += t.load() != 1;
  CHECK(duplicates == 0);
}
