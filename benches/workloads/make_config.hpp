#pragma once
// The runtime configuration every courier workload uses: worker count and
// batch from the runner, and the idle policy when given (--spin-us, --min-awake).

#include <courier/config.hpp>

#include <chrono>

#include "benches/harness/harness.hpp"

namespace courier_bench {

inline courier::config make_config(const bench::options& o) {
  courier::config c{.workers = o.workers, .batch = o.batch};
  if (o.spin_us >= 0) c.spin = std::chrono::microseconds(o.spin_us);
  c.min_awake = o.min_awake;
  return c;
}

}  // namespace courier_bench
