// Back-pressure without polling: a fast producer, a slow consumer, and two
// ways to keep memory flat between them, against none:
//   bounded(64) + co_await send   the producer waits whenever the
//                                 consumer's 64 slots are taken;
//   stream, window 64             the producer pushes only with credit, which
//                                 comes back as the consumer handles items;
//   unbounded + plain send        everything the consumer has not reached
//                                 stays queued.
// Prints, for each run, the rate, the most samples queued at once, and the
// queue's size at every tenth of the transfer (the memory line).
#include <courier/courier.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

using namespace std::chrono_literals;

struct sample {
  long n;
  char data[256];  // a payload that makes a queue's memory show
};
enum class mode { bounded_wait, stream, unbounded };
struct run {
  long count;
  mode how;
};

/// Producing one sample takes 2 us; consuming it takes 20 us.
void busy(std::chrono::microseconds d) {
  auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
  }
}

struct counters {
  std::atomic<long> sent{0};
  std::atomic<long> got{0};
};

class consumer : public courier::actor<consumer> {
 public:
  explicit consumer(counters* c) : c_(c) {}
  void on(sample s) {
    busy(20us);  // the slow part: 10x the producer's pace
    if (s.n == next_) ++next_;
    c_->got.fetch_add(1, std::memory_order_release);  // release: the test thread's sampling reads it
  }
  // The same samples as a stream's items: at most 64 queued or in hand.
  void on(courier::stream<sample>&& s, courier::context<consumer>& ctx) {
    (void)ctx.consume(std::move(s), {.window = 64});
  }
  void on(courier::stream_item<sample> i) { on(std::move(i.value)); }
  void on(courier::stream_end) {}

 private:
  long next_ = 0;
  counters* c_;
};

class producer : public courier::actor<producer> {
 public:
  producer(courier::address<consumer> to, counters* c) : to_(std::move(to)), c_(c) {}

  courier::task<void> on(run r, courier::context<producer>& ctx) {
    count_ = r.count;
    if (r.how == mode::stream) {  // the consumer's credit drives on(stream_demand) below
      auto [s, w] = ctx.make_stream<sample>();
      writer_ = std::move(w);
      (void)to_.send(std::move(s));
      co_return;
    }
    for (; next_ < count_; ++next_) {
      busy(2us);  // producing one sample
      if (r.how == mode::bounded_wait) {
        auto sent = co_await ctx.send(to_, sample{next_, {}});  // waits while the 64 slots are taken
        if (!sent) break;
      } else {
        (void)to_.send(sample{next_, {}});  // never refused: the mailbox is unbounded
      }
      c_->sent.store(next_ + 1, std::memory_order_release);  // release: pairs with transfer()'s sampling acquire
    }
  }

  void on(courier::stream_demand) {
    while (next_ < count_ && writer_.credit() > 0) {
      busy(2us);
      (void)writer_.push(sample{next_, {}});  // with credit: never refused
      c_->sent.store(++next_, std::memory_order_release);  // release: as above
    }
    if (next_ == count_) writer_.close();
  }

 private:
  courier::address<consumer> to_;
  counters* c_;
  courier::stream_writer<sample> writer_;
  long count_ = 0;
  long next_ = 0;
};

/// Runs `count` samples; returns the most samples queued at once.
long transfer(courier::runtime& rt, long count, mode how) {
  counters c;
  auto con = rt.spawn<consumer>(courier::spawn_options{.capacity = how == mode::bounded_wait ? 64u : 0u}, &c);
  auto p = rt.spawn<producer>(con, &c);
  auto t0 = std::chrono::steady_clock::now();
  (void)p.send(run{count, how});
  long peak = 0;
  std::string line;
  long next_mark = count / 10;
  while (c.got.load(std::memory_order_acquire) < count) {  // acquire: pairs with the consumer's release add
    // sent first: a count of sent read before the count handled never
    // overstates what is queued (acquire: pairs with the stores' release)
    auto sent = c.sent.load(std::memory_order_acquire);
    auto got = c.got.load(std::memory_order_acquire);
    auto queued = std::max(0L, sent - got);
    peak = std::max(peak, queued);
    if (got >= next_mark) {
      line += " " + std::to_string(queued);
      next_mark += count / 10;
    }
    std::this_thread::sleep_for(1ms);  // the sampling period of this printout
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  p.shutdown();  // both touch this function's counters: let them end before it returns
  con.shutdown();
  p.join();
  con.join();
  const char* name = how == mode::bounded_wait ? "bounded(64) + co_await send:"
                     : how == mode::stream     ? "stream, window 64:"
                                               : "unbounded + plain send:";
  std::printf("%-28s %7.0f samples/s consumed, at most %6ld queued (%7.1f KB of samples)\n", name,
              static_cast<double>(count) / s, peak, static_cast<double>(peak) * sizeof(sample) / 1e3);
  std::printf("%-28s queued at each tenth:%s\n", "", line.c_str());
  return peak;
}

int main() {
  courier::runtime rt{{.workers = 2}};
  const long count = 20'000;
  long bounded = transfer(rt, count, mode::bounded_wait);
  long streamed = transfer(rt, count, mode::stream);
  long unbounded = transfer(rt, count, mode::unbounded);
  // The bounded run never queues more than its capacity plus the waiter's
  // message (and the one being handled); the stream never more than its
  // window; the unbounded one falls behind.
  bool ok = bounded <= 64 + 2 && streamed <= 64 && rt.shutdown();
  std::printf("%s\n", ok ? "memory stayed flat with back-pressure and with the stream" : "unexpected");
  (void)unbounded;
  return ok ? 0 : 1;
}
