// The one-shot reply slot (include/courier/detail/completion.hpp): completed
// exactly once, by whichever of the racing completers comes first.
#include <courier/reply.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "tests/support/doctest.hpp"

using namespace courier;
using detail::reply_state;

TEST_CASE("only the first completion counts") {
  auto* state = reply_state<int>::create();
  CHECK(state->try_complete(1));
  CHECK_FALSE(state->try_complete(error{errc::timeout}));
  state->release();  // the request's reference
  reply<int> r(state);
  auto v = r.get();
  REQUIRE(v.has_value());
  CHECK(*v == 1);
}

TEST_CASE("racing completers (value, timeout, actor death) complete a reply exactly once") {
  for (int round = 0; round < 2000; ++round) {
    auto* state = reply_state<int>::create();
    std::atomic<int> winners{0};
    std::vector<std::thread> racers;
    for (int i = 0; i < 3; ++i)
      racers.emplace_back([&, i] {
        result<int> value = i == 0 ? result<int>(42)
                          : i == 1 ? result<int>(error{errc::timeout})
                                   : result<int>(error{errc::actor_stopped});
        if (state->try_complete(std::move(value))) winners.fetch_add(1);
      });
    std::atomic<int> callbacks{0};
    reply<int> r(state);
    std::move(r).then([&](result<int>) { callbacks.fetch_add(1); });
    for (auto& t : racers) t.join();
    state->release();  // the request's reference
    CHECK(winners.load() == 1);
    CHECK(callbacks.load() == 1);
  }
}

TEST_CASE("a waiter blocked in get is woken by the completion") {
  auto* state = reply_state<int>::create();
  reply<int> r(state);
  std::thread completer([&] {
    state->try_complete(5);
    state->release();
  });
  auto v = r.get();
  completer.join();
  REQUIRE(v.has_value());
  CHECK(*v == 5);
}

TEST_CASE("the live-allocation count sees a block until it is freed (test builds count)") {
  auto before = courier::detail::live_allocations();
  if (before < 0) return;  // a build without -Dobject_counts
  void* p = courier::detail::allocate(16);
  CHECK(courier::detail::live_allocations() == before + 1);
  courier::detail::deallocate(p);
  CHECK(courier::detail::live_allocations() == before);
}
