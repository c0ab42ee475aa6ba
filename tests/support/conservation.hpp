#pragma once
// Conservation accounting: once a runtime is quiet (shut down), every
// accepted message was handled or dropped, and every request queued got its
// reply settled.

#include <courier/stats.hpp>

#include "tests/support/doctest.hpp"

namespace courier::test {

inline void check_conservation(const courier::stats& s) {
  CHECK(s.accepted == s.handled + s.dropped);
  CHECK(s.replies_issued == s.replies_completed);
  CHECK(s.spawned == s.stopped);
}

}  // namespace courier::test
