#pragma once
// A sink that fails every 997th message of each sender, and the ledger that
// checks guarantee 7 under a flood: every message handled exactly once,
// per-sender FIFO across restarts. One incarnation runs at a time, so the
// ledger needs no lock.

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include <courier/courier.hpp>

namespace courier::test {

struct seq {
  std::uint32_t sender;
  std::uint64_t n;
};

struct ledger {
  std::vector<std::uint64_t> next;  // per sender: the next number expected
  std::atomic<std::uint64_t> handled{0};
  std::atomic<std::uint64_t> out_of_order{0};
};

class flaky_sink : public courier::actor<flaky_sink> {
 public:
  explicit flaky_sink(ledger* l) : l_(l) {}
  void on(seq s) {
    if (s.n < l_->next[s.sender]) l_->out_of_order.fetch_add(1);  // a duplicate or a reordering
    l_->next[s.sender] = s.n + 1;
    l_->handled.fetch_add(1);
    if (s.n % 997 == 13) throw std::runtime_error("flaky");  // handled once, never redelivered
  }

 private:
  ledger* l_;
};

}  // namespace courier::test
