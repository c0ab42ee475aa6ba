#include "benches/harness/harness.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace bench {

std::uint64_t scaled(std::uint64_t n, const options& o, std::uint64_t floor) {
  auto v = static_cast<std::uint64_t>(static_cast<double>(n) * o.scale);
  return std::max(v, floor);
}

static std::uint64_t status_field(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return std::strtoull(line.c_str() + std::strlen(key), nullptr, 10) * 1024;
  return 0;
}

std::uint64_t rss_bytes() { return status_field("VmRSS:"); }
std::uint64_t peak_rss_bytes() { return status_field("VmHWM:"); }

bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  return static_cast<bool>(out);
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

outcome fail(std::string why) {
  outcome o;
  o.ok = false;
  o.check = std::move(why);
  return o;
}

void add_latency(outcome& o, const histogram& h, const std::string& prefix) {
  o.metrics.push_back({prefix + "p50", static_cast<double>(h.quantile(0.50)), "ns"});
  o.metrics.push_back({prefix + "p99", static_cast<double>(h.quantile(0.99)), "ns"});
  o.metrics.push_back({prefix + "p99.9", static_cast<double>(h.quantile(0.999)), "ns"});
  o.metrics.push_back({prefix + "max", static_cast<double>(h.max()), "ns"});
}

namespace {

void usage(const std::string& impl, const std::vector<workload>& workloads) {
  std::printf("usage: %s-bench [--workload NAME|all] [--scale S] [--runs N] [--workers W] [--json FILE] [--list]\n"
              "       [--no-warmup] [--spin-us US] [--min-awake N]   (the last two: courier's idle policy)\n",
              impl.c_str());
  std::printf("workloads:");
  for (auto& w : workloads) std::printf(" %s", w.name.c_str());
  std::printf("\n");
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

int run_main(int argc, char** argv, const std::string& impl, const std::string& allocator,
             std::vector<workload> workloads) {
  options opt;
  std::string selected = "all";
  std::string json_path;
  int runs = 5;
  bool warmup = true;
  if (const char* s = std::getenv("SCALE")) opt.scale = std::atof(s);
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--workload") selected = next();
    else if (a == "--scale") opt.scale = std::atof(next().c_str());
    else if (a == "--runs") runs = std::atoi(next().c_str());
    else if (a == "--workers") opt.workers = static_cast<std::size_t>(std::atoi(next().c_str()));
    else if (a == "--json") json_path = next();
    else if (a == "--no-warmup") warmup = false;
    else if (a == "--spin-us") opt.spin_us = std::atoi(next().c_str());
    else if (a == "--min-awake") opt.min_awake = static_cast<std::size_t>(std::atoi(next().c_str()));
    else if (a == "--list") {
      for (auto& w : workloads) std::printf("%s\n", w.name.c_str());
      return 0;
    } else {
      usage(impl, workloads);
      return a == "--help" ? 0 : 2;
    }
  }
  if (opt.workers == 0) opt.workers = std::max(1u, std::thread::hardware_concurrency());
  opt.allocator = allocator;

  std::FILE* json = json_path.empty() ? nullptr : std::fopen(json_path.c_str(), "a");
  bool all_ok = true;
  bool any = false;
  std::printf("%-6s %-12s %14s %-10s %s\n", "impl", "workload", "median", "unit", "min / max, other metrics (medians), check");
  // "ring" selects ring_a and ring_b; an exact name selects only itself.
  bool exact = std::any_of(workloads.begin(), workloads.end(), [&](const workload& w) { return w.name == selected; });
  for (auto& w : workloads) {
    if (selected != "all" && selected != w.name && (exact || w.name.rfind(selected + "_", 0) != 0)) continue;
    any = true;
    if (warmup) {
      options small = opt;
      small.scale = opt.scale / 10;
      auto o = w.run(small);
      if (!o.ok) {
        std::printf("%-6s %-12s %14s %-10s warm-up check FAILED: %s\n", impl.c_str(), w.name.c_str(), "-", "-",
                    o.check.c_str());
        all_ok = false;
        continue;
      }
    }
    std::vector<outcome> results;
    bool ok = true;
    std::string why;
    for (int r = 0; r < runs; ++r) {
      auto o = w.run(opt);
      if (!o.ok) {
        ok = false;
        why = o.check;
        break;
      }
      results.push_back(std::move(o));
    }
    if (!ok || results.empty()) {
      std::printf("%-6s %-12s %14s %-10s check FAILED: %s\n", impl.c_str(), w.name.c_str(), "-", "-", why.c_str());
      if (json)
        std::fprintf(json, "{\"impl\":\"%s\",\"workload\":\"%s\",\"check\":\"%s\"}\n", impl.c_str(), w.name.c_str(),
                     json_escape(why).c_str());
      all_ok = false;
      continue;
    }
    // medians of every metric across runs
    std::vector<metric> med = results[0].metrics;
    std::vector<double> mins(med.size()), maxs(med.size());
    for (std::size_t m = 0; m < med.size(); ++m) {
      std::vector<double> v;
      for (auto& o : results) v.push_back(o.metrics[m].value);
      std::sort(v.begin(), v.end());
      med[m].value = v[v.size() / 2];
      mins[m] = v.front();
      maxs[m] = v.back();
    }
    std::ostringstream other;
    other.precision(4);
    other << mins[0] << " / " << maxs[0];
    for (std::size_t m = 1; m < med.size(); ++m) other << ", " << med[m].name << " " << med[m].value << " " << med[m].unit;
    std::printf("%-6s %-12s %14.4g %-10s %s, check ok\n", impl.c_str(), w.name.c_str(), med[0].value,
                med[0].unit.c_str(), other.str().c_str());
    if (json) {
      std::fprintf(json,
                   "{\"impl\":\"%s\",\"workload\":\"%s\",\"value\":%.6g,\"unit\":\"%s\",\"min\":%.6g,\"max\":%.6g,"
                   "\"runs\":%zu,\"check\":\"ok\",\"workers\":%zu,\"batch\":%u,\"allocator\":\"%s\",\"scale\":%g",
                   impl.c_str(), w.name.c_str(), med[0].value, med[0].unit.c_str(), mins[0], maxs[0], results.size(),
                   opt.workers, opt.batch, opt.allocator.c_str(), opt.scale);
      for (std::size_t m = 1; m < med.size(); ++m)
        std::fprintf(json, ",\"%s\":%.6g", json_escape(med[m].name).c_str(), med[m].value);
      std::fprintf(json, "}\n");
    }
    std::fflush(stdout);
  }
  if (json) std::fclose(json);
  if (!any) {
    usage(impl, workloads);
    return 2;
  }
  return all_ok ? 0 : 1;
}

}  // namespace bench
