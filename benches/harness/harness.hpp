#pragma once
// The benchmark runner shared by courier-bench and caf-bench: workload
// registry, options, timing helpers, process measurements (RSS, CPU time),
// the table and the JSON lines (docs/performance.md, "What each workload stresses").

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "benches/harness/histogram.hpp"

namespace bench {

struct options {
  double scale = 1.0;          // multiplies message counts (SCALE)
  std::size_t workers = 0;     // 0 = number of cores
  std::uint32_t batch = 64;
  std::string allocator;       // shown on every result line
  int spin_us = -1;            // courier's config::spin (-1 = the default)
  std::size_t min_awake = 0;   // courier's config::min_awake
};

/// One metric of one run.
struct metric {
  std::string name;   // e.g. "ns/roundtrip", "p99"
  double value;
  std::string unit;
};

struct outcome {
  bool ok = false;
  std::string check;           // "ok" or what failed
  std::vector<metric> metrics; // the first is the headline value
};

struct workload {
  std::string name;
  std::function<outcome(const options&)> run;
  bool lower_is_better;
};

/// Counts scaled by SCALE, never below `floor`.
std::uint64_t scaled(std::uint64_t n, const options& o, std::uint64_t floor = 1);

using clock = std::chrono::steady_clock;
inline double seconds_since(clock::time_point t0) {
  return std::chrono::duration<double>(clock::now() - t0).count();
}
inline std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch()).count());
}

/// Resident set size now, and its peak (VmHWM), in bytes.
std::uint64_t rss_bytes();
std::uint64_t peak_rss_bytes();
/// Resets the peak to the current RSS (Linux >= 4.0, /proc/self/clear_refs); false if not permitted.
bool reset_peak_rss();
/// User + system CPU seconds of this process.
double cpu_seconds();

outcome fail(std::string why);
void add_latency(outcome& o, const histogram& h, const std::string& prefix);

/// The runner: parses the command line, runs the selected workloads
/// (a warm-up at 1/10 scale, then --runs measured runs), prints the table
/// and appends JSON lines. Returns the process exit code.
int run_main(int argc, char** argv, const std::string& impl, const std::string& allocator,
             std::vector<workload> workloads);

}  // namespace bench
