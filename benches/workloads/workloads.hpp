#pragma once
// The workloads of docs/performance.md on courier, through the public API only.

#include <vector>

#include "benches/harness/harness.hpp"

namespace courier_bench {

bench::outcome pingpong(const bench::options& o);
bench::outcome pingpong_recipient(const bench::options& o);  // each side holds a recipient<M>
bench::outcome pairs(const bench::options& o);
bench::outcome pairs_measured(const bench::options& o);  // pairs with per-type metrics on
bench::outcome fanin(const bench::options& o);
bench::outcome ring_a(const bench::options& o);
bench::outcome ring_b(const bench::options& o);
bench::outcome spawn_a(const bench::options& o);
bench::outcome spawn_b(const bench::options& o);
bench::outcome footprint(const bench::options& o);
bench::outcome ask_thread(const bench::options& o);
bench::outcome ask_actor(const bench::options& o);
bench::outcome ask_actor_await(const bench::options& o);
bench::outcome idle(const bench::options& o);
bench::outcome long_handler(const bench::options& o);  // guarantee 4: lag behind a long handler
bench::outcome timers(const bench::options& o);  // arm + cancel 1M timers with a handle
bench::outcome when_all_pair(const bench::options& o);  // when_all of 2 asks vs two sequential co_awaits
bench::outcome send_for_wake(const bench::options& o);  // send_for: from a freed slot to the waiter's return
bench::outcome stream_transfer(const bench::options& o);  // a stream vs plain sends: items/s, backlog, memory

/// Precomputed receive counts of the ring workload (shared with the CAF peer).
std::vector<std::uint64_t> ring_expected(std::size_t actors, std::size_t tokens, std::uint64_t hops_per_token);

}  // namespace courier_bench
