#pragma once
// The only include of Google Benchmark (one adapter per third-party library).
#if __has_include(<benchmark/benchmark.h>)
#include <benchmark/benchmark.h>
#else
#error "Google Benchmark not found (Debian: libbenchmark-dev, or the google-benchmark wrap)"
#endif
