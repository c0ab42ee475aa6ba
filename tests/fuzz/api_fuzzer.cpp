// libFuzzer target: input bytes decode into a sequence of spawn / send / ask /
// ctx.ask / co_await / stop / shutdown / join / drop / runtime shutdown on a
// runtime of 1-3 workers; at the end the invariants are checked: every reply
// completes (exactly once: a reply is a one-shot slot), accepted == handled +
// dropped, issued == completed, spawned == stopped, and nothing is leaked
// (payloads, and courier's own allocations when counted).
#include <courier/courier.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "tests/support/tracked.hpp"

using namespace courier;
using courier::test::tracked;
using namespace std::chrono_literals;

namespace {

struct payload {
  tracked t;
};
struct relay;
struct await_other;

class node : public actor<node> {
 public:
  void on(payload p) { sum_ += p.t.value; }
  std::uint64_t on(std::uint64_t n) { return n + 1; }
  void on(relay r, context<node>& ctx);
  task<std::uint64_t> on(await_other a, context<node>& ctx);
  void on(address<node> peer) { peer_ = std::move(peer); }  // may form cycles: stop() breaks them

 private:
  std::uint64_t sum_ = 0;
  address<node> peer_;
};

struct relay {
  address<node> to;
  std::uint64_t n;
};
struct await_other {
  address<node> to;
  std::uint64_t n;
};

void node::on(relay r, context<node>& ctx) {
  ctx.ask(r.to, r.n, [this](result<std::uint64_t> v) {
    if (v) sum_ += *v;
  });
}

task<std::uint64_t> node::on(await_other a, context<node>& ctx) {
  auto v = co_await ctx.ask_for(a.to, a.n, 50ms);
  co_return v ? *v : 0;
}

class input {
 public:
  input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool more() const { return pos_ < size_; }
  std::uint8_t next() { return pos_ < size_ ? data_[pos_++] : 0; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "courier fuzz: invariant violated: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  input in(data, size);
  auto payloads_before = tracked::live.load();
  auto allocations_before = detail::live_allocations();
  {
    std::vector<reply<std::uint64_t>> replies;
    stats final{};
    {
      runtime rt{{.workers = static_cast<std::size_t>(1 + in.next() % 3), .batch = static_cast<std::uint32_t>(1 + in.next() % 64)}};
      std::vector<address<node>> nodes;
      auto pick = [&]() -> address<node>& {
        static address<node> none;
        return nodes.empty() ? none : nodes[in.next() % nodes.size()];
      };
      for (int ops = 0; in.more() && ops < 200; ++ops) {
        switch (in.next() % 12) {
          case 0:
          case 1: {
            auto capacity = static_cast<std::uint32_t>(in.next() % 4);
            nodes.push_back(rt.spawn<node>(spawn_options{.capacity = capacity}));
            break;
          }
          case 2:
            (void)pick().send(payload{tracked(in.next())});
            break;
          case 3:
            replies.push_back(pick().ask(std::uint64_t{in.next()}));
            break;
          case 4: {
            auto& from = pick();
            (void)from.send(relay{pick(), in.next()});
            break;
          }
          case 5: {
            auto& from = pick();
            replies.push_back(from.ask(await_other{pick(), in.next()}));
            break;
          }
          case 6:
            pick().stop();
            break;
          case 7:
            pick().shutdown();
            break;
          case 8: {
            auto& a = pick();
            if (a.done()) a.join();  // returns at once
            (void)a.join_for(std::chrono::microseconds(in.next()));
            break;
          }
          case 9:
            if (!nodes.empty()) nodes.erase(nodes.begin() + in.next() % nodes.size());  // drop an address
            break;
          case 10: {
            auto& a = pick();
            (void)a.send(pick());  // may form a cycle of addresses
            break;
          }
          case 11:
            if (in.next() % 8 == 0) {
              if (!rt.shutdown(10s)) violated("runtime shutdown did not finish");
            }
            break;
        }
      }
      for (auto& n : nodes) n.stop();  // break cycles
      if (!rt.shutdown(10s)) violated("runtime shutdown did not finish");
      for (auto& r : replies) {
        auto v = r.get_for(10s);
        if (!v && v.error().code() == errc::timeout) violated("a reply never completed");
      }
      final = rt.stats();
      nodes.clear();
    }
    if (final.accepted != final.handled + final.dropped) violated("accepted != handled + dropped");
    if (final.replies_issued != final.replies_completed) violated("issued != completed");
    if (final.spawned != final.stopped) violated("spawned != stopped");
  }
  if (tracked::live.load() != payloads_before) violated("a payload leaked or was destroyed twice");
  if (allocations_before >= 0 && detail::live_allocations() != allocations_before) violated("an allocation leaked");
  return 0;
}
