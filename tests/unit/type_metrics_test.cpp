// Per-actor-type metrics (include/courier/detail/type_metrics.hpp): bucket
// boundaries, the high-water mark, and that a type that did not opt in pays
// nothing in its cell or its envelopes.
#include <courier/courier.hpp>

#include <cstdint>

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

TEST_CASE("a shard keeps the largest depth and counts what it records") {
  detail::type_metrics_block block("t", 2);
  auto& shard = block.shards[1];
  for (std::uint64_t d : {3, 9, 4, 9, 1}) shard.note_depth(d);
  CHECK(shard.high_water.load() == 9);
  CHECK(block.shards[0].high_water.load() == 0);
  shard.handler_time.record(100);
  shard.handler_time.record(300);
  shard.handler_time.record(310);
  CHECK(shard.handler_time.buckets[0].load() == 1);
  CHECK(shard.handler_time.buckets[1].load() == 2);
  CHECK(shard.handler_time.sum_ns.load() == 710);
  CHECK(reinterpret_cast<std::uintptr_t>(&block.shards[1]) % 64 == 0);  // each worker's on its own lines
}
