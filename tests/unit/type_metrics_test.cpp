// Per-actor-type metrics (include/courier/detail/type_metrics.hpp): bucket
// boundaries, the high-water mark, and that a type that did not opt in pays
// nothing in its cell or its envelopes.
#include <courier/courier.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "tests/support/doctest.hpp"

using namespace courier;

namespace {
struct note {
  int n;
};
class plain : public actor<plain> {
 public:
  void on(note) {}
  int value = 0;
};
class measured : public actor<measured> {
 public:
  static constexpr bool courier_metrics = true;
  void on(note) {}
  int value = 0;
};
/// The layout without the per-type member, for comparison.
struct bare_envelope : detail::envelope {
  note message;
};
}  // namespace

static_assert(!measure_actor_type<plain> && measure_actor_type<measured>);
static_assert(sizeof(detail::cell<plain>) == sizeof(detail::cell_base) + 8, "no per-type member when not opted in");
static_assert(sizeof(detail::message_envelope<plain, note>) == sizeof(bare_envelope), "no timestamp when not opted in");
static_assert(sizeof(detail::message_envelope<measured, note>) > sizeof(bare_envelope), "a timestamp when opted in");

TEST_CASE("histogram buckets are log2 from 256 ns, the last one unbounded") {
  using detail::bucket_of;
  CHECK(bucket_of(0) == 0);
  CHECK(bucket_of(255) == 0);
  CHECK(bucket_of(256) == 1);
  CHECK(bucket_of(511) == 1);
  CHECK(bucket_of(512) == 2);
  for (std::size_t i = 0; i + 1 < histogram::bucket_count; ++i) {
    auto bound = histogram::upper_bound_ns(i);
    CHECK(bucket_of(bound - 1) == i);
    CHECK(bucket_of(bound) == i + 1);
  }
  CHECK(bucket_of(UINT64_MAX) == histogram::bucket_count - 1);
  CHECK(histogram::upper_bound_ns(histogram::bucket_count - 1) == 0);
}

TEST_CASE("the high-water mark keeps the largest depth under concurrent updates") {
  detail::type_metrics_block block("t");
  std::vector<std::thread> threads;
  for (std::uint64_t t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (std::uint64_t d = 0; d < 10000; ++d) block.note_depth(d * 4 + t);
    });
  for (auto& th : threads) th.join();
  CHECK(block.high_water.load() == 9999 * 4 + 3);
  block.note_depth(5);
  CHECK(block.high_water.load() == 9999 * 4 + 3);
}
