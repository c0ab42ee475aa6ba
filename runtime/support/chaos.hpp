#pragma once
// Chaos points (-Dchaos=true): seeded perturbations at the protocol steps
// where interleavings matter, to shake out lost wake-ups and ordering bugs
// that ThreadSanitizer cannot see. Each point may yield, spin or sleep
// 0-50 us, driven by a per-thread RNG seeded from COURIER_CHAOS_SEED.
// Compiled out entirely otherwise.

#include <courier/detail/chaos.hpp>

#define COURIER_CHAOS_POINT(name) COURIER_DETAIL_CHAOS_POINT(name)
