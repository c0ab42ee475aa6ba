// Streams with demand (docs/flow.md): credit and its return in batches,
// push refused beyond the credit with the item left with the caller,
// exactly one stream_end, at most one stream_cancelled, cancel racing
// close, either end stopping or restarting mid-stream, reachability, bad
// input.
#include <courier/courier.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/collected.hpp"
#include "tests/support/doctest.hpp"
#include "tests/support/wait.hpp"

using namespace courier;
using namespace std::chrono_literals;
using courier::test::collected;
using courier::test::gate;
using courier::test::open_at_exit;
using courier::test::wait_until;

namespace {

/// What the producer and the consumer of a test saw, for the test thread.
struct seen {
  std::mutex mutex;
  std::vector<long> items;                  // consumer: values, in handling order
  std::vector<result<void>> ends;           // consumer: stream_end outcomes
  std::vector<std::uint32_t> demands;       // producer: stream_demand credits
  std::atomic<int> cancelled{0};            // producer: stream_cancelled handled
  std::atomic<long> pushed{0};              // producer: items pushed (counted before each push)
  std::atomic<long> handled{0};             // consumer: item handlers entered
  std::atomic<long> max_in_flight{0};       // consumer: pushed - handled before, at each item
  std::atomic<int> end_count{0};
  std::atomic<int> demand_count{0};
  std::atomic<bool> consumed{false};
  std::atomic<stream_id> id{0};
  result<stream_id> consume_result{stream_id{0}};
  std::vector<std::string> push_errors;     // producer: refusals seen by a `pump`
};

/// The producer's side: a reply with the stream, then pushes `total`
/// items as credit allows (from its stream_demand handler), then closes.
struct subscribe {
  long total = 0;
  bool close_at_end = true;
};
struct pump {};              // push what the credit allows now
struct close_now {};
struct fail_now {};
struct crash {};             // throws: the producer's failure policy applies
/// The outcome of one push made in the producer's turn, for the test thread.
struct push_outcome {
  std::mutex mutex;
  std::optional<result<void>> value;
  std::atomic<bool> ready{false};
  void set(result<void> r) {
    {
      std::lock_guard lock(mutex);
      value = std::move(r);
    }
    ready.store(true);
  }
  result<void> get() {
    std::lock_guard lock(mutex);
    return *value;
  }
};
struct push_one_more {
  std::shared_ptr<push_outcome> out;
};

class feed : public actor<feed> {
 public:
  explicit feed(std::shared_ptr<seen> s) : seen_(std::move(s)) {}

  stream<long> on(subscribe s, context<feed>& ctx) {
    auto [token, w] = ctx.make_stream<long>();
    CHECK(w.credit() == 0);  // until consumed
    CHECK(w.open());
    total_ = s.total;
    close_at_end_ = s.close_at_end;
    writer_ = std::move(w);
    return std::move(token);
  }
  void on(stream_demand d, context<feed>&) {
    CHECK(d.stream == writer_.id());
    CHECK(d.credit == writer_.credit());
    {
      std::lock_guard lock(seen_->mutex);
      seen_->demands.push_back(d.credit);
    }
    seen_->demand_count.fetch_add(1);
    push_all();
  }
  void on(stream_cancelled c, context<feed>&) {
    CHECK(c.stream == writer_.id());
    CHECK(!writer_.open());
    auto r = writer_.push(long{-1});
    CHECK(r.error().code() == errc::actor_stopped);
    seen_->cancelled.fetch_add(1);
  }
  void on(pump) { push_all(); }
  void on(close_now) { writer_.close(); }
  void on(fail_now) { writer_.fail(error{errc::handler_failed, "source broke"}); }
  void on(crash) { throw std::runtime_error("producer crash"); }
  void on(push_one_more m) { m.out->set(writer_.push(next_++)); }

 private:
  void push_all() {
    while (next_ < total_ && writer_.credit() > 0) {
      seen_->pushed.fetch_add(1);  // before the push: an upper bound of what is in flight
      auto before = writer_.credit();
      auto r = writer_.push(next_);
      if (!r) {  // the consumer stopped: its mailbox refuses (the stream_cancelled follows)
        seen_->pushed.fetch_sub(1);
        CHECK(r.error().code() == errc::actor_stopped);
        CHECK(!writer_.open());
        return;
      }
      CHECK(writer_.credit() == before - 1);  // owner-only: changes by our own pushes only
      ++next_;
    }
    if (next_ == total_ && close_at_end_ && writer_.open()) writer_.close();
  }

  std::shared_ptr<seen> seen_;
  stream_writer<long> writer_;
  long total_ = 0;
  long next_ = 0;
  bool close_at_end_ = true;
};

struct read_from {
  address<feed> source;
  subscribe what;
  std::uint32_t window = 32;
};
struct cancel_it {
  std::shared_ptr<std::atomic<int>> outcome;  // 1: true, 2: false
};

/// The consumer's side: asks for a stream and consumes it; each item's
/// handler may spin for `work` (a slow consumer).
class reader : public actor<reader> {
 public:
  reader(std::shared_ptr<seen> s, std::chrono::nanoseconds work = {}) : seen_(std::move(s)), work_(work) {}

  void on(read_from r, context<reader>& ctx) {
    ctx.ask(r.source, r.what, [this, &ctx, w = r.window](result<stream<long>> s) {
      REQUIRE(s);
      auto id = s->id();
      auto bound = ctx.consume(std::move(*s), {.window = w});
      {
        std::lock_guard lock(seen_->mutex);
        seen_->consume_result = bound;
      }
      seen_->id = id;
      seen_->consumed = true;
    });
  }
  void on(stream_item<long> i, context<reader>&) {
    auto in_flight = seen_->pushed.load() - seen_->handled.load();
    auto max = seen_->max_in_flight.load();
    while (in_flight > max && !seen_->max_in_flight.compare_exchange_weak(max, in_flight)) {
    }
    seen_->handled.fetch_add(1);
    CHECK(i.stream == seen_->id.load());
    {
      std::lock_guard lock(seen_->mutex);
      seen_->items.push_back(i.value);
    }
    if (work_.count() > 0) {  // simulated work: the consumer is slower than the producer
      auto until = std::chrono::steady_clock::now() + work_;
      while (std::chrono::steady_clock::now() < until) {
      }
    }
  }
  void on(stream_end e, context<reader>&) {
    CHECK(e.stream == seen_->id.load());
    {
      std::lock_guard lock(seen_->mutex);
      seen_->ends.push_back(e.outcome);
    }
    seen_->end_count.fetch_add(1);
  }
  void on(cancel_it c, context<reader>& ctx) { c.outcome->store(ctx.cancel(seen_->id.load()) ? 1 : 2); }
  void on(gate* g) { g->wait(); }

 private:
  std::shared_ptr<seen> seen_;
  std::chrono::nanoseconds work_;
};

}  // namespace

TEST_CASE("a stream delivers every item in order, then exactly one stream_end") {
  runtime rt{{.workers = 2}};
  auto s = std::make_shared<seen>();
  auto f = rt.spawn<feed>(s);
  auto r = rt.spawn<reader>(s);
  constexpr long total = 10'000;
  REQUIRE(r.send(read_from{f, {total}, 32}));
  REQUIRE(wait_until([&] { return s->end_count.load() == 1; }));
  f.shutdown();
  r.shutdown();
  REQUIRE(f.join_for(30s));
  REQUIRE(r.join_for(30s));
  std::lock_guard lock(s->mutex);
  REQUIRE(s->consume_result);
  CHECK(*s->consume_result == s->id.load());
  REQUIRE(s->items.size() == static_cast<std::size_t>(total));
  for (long i = 0; i < total; ++i) REQUIRE(s->items[i] == i);
  REQUIRE(s->ends.size() == 1);
  CHECK(s->ends[0].has_value());
  CHECK(s->cancelled.load() == 0);
  CHECK(s->max_in_flight.load() <= 32);
}

TEST_CASE("credit: the window first, then batches of half the window, each as one stream_demand") {
  runtime rt{{.workers = 2}};
  auto s = std::make_shared<seen>();
  auto f = rt.spawn<feed>(s);
  auto r = rt.spawn<reader>(s);
  constexpr long total = 1'000;
  REQUIRE(r.send(read_from{f, {total}, 7}));  // ceil(7/2) = 4
  REQUIRE(wait_until([&] { return s->end_count.load() == 1; }));
  f.shutdown();
  r.shutdown();
  REQUIRE(f.join_for(30s));
  REQUIRE(r.join_for(30s));
  std::lock_guard lock(s->mutex);
  REQUIRE(!s->demands.empty());
  CHECK(s->demands[0] == 7);  // the first grant: the window
  // Every later demand returned one batch of 4: the writer's credit after it
  // is at least 4 and never above the window.
  for (std::size_t i = 1; i < s->demands.size(); ++i) {
    CHECK(s->demands[i] >= 4);
    CHECK(s->demands[i] <= 7);
  }
  // One control message per 4 items: 1,000 items need 1 + (1,000 - 7 + 3) / 4
  // batches at most (none comes once the writer closed).
  CHECK(s->demands.size() <= 1 + (total - 7 + 3) / 4);
  CHECK(s->demands.size() >= (total - 7) / 4);
}

TEST_CASE("push beyond the credit is refused with mailbox_full and the item stays with the caller") {
  struct text_feed : actor<text_feed> {
    stream_writer<std::string> w;
    std::shared_ptr<std::vector<std::string>> log = std::make_shared<std::vector<std::string>>();
    stream<std::string> on(int, context<text_feed>& ctx) {
      auto [token, writer] = ctx.make_stream<std::string>();
      w = std::move(writer);
      std::string payload = "kept by the caller";
      auto r = w.push(std::move(payload));  // no credit before consume
      CHECK(r.error().code() == errc::mailbox_full);
      CHECK(payload == "kept by the caller");
      return std::move(token);
    }
    void on(stream_demand d, context<text_feed>&) {
      CHECK(d.credit == 2);
      std::string a = "a", b = "b", c = "c";
      CHECK(w.push(std::move(a)));
      CHECK(w.push(b));  // a copy: b untouched either way
      CHECK(b == "b");
      auto r = w.push(std::move(c));  // the third: beyond the window
      CHECK(r.error().code() == errc::mailbox_full);
      CHECK(c == "c");
      w.close();
      auto after = w.push(std::move(c));
      CHECK(after.error().code() == errc::actor_stopped);
      CHECK(c == "c");
      CHECK(!w.open());
      w.close();  // no-ops once closed
      w.fail(error{errc::handler_failed});
    }
  };
  struct text_reader : actor<text_reader> {
    std::shared_ptr<collected<std::string>> got;
    std::shared_ptr<std::atomic<int>> ends;
    text_reader(std::shared_ptr<collected<std::string>> g, std::shared_ptr<std::atomic<int>> e)
        : got(std::move(g)), ends(std::move(e)) {}
    void on(address<text_feed> f, context<text_reader>& ctx) {
      ctx.ask(f, 0, [&ctx](result<stream<std::string>> s) {
        REQUIRE(s);
        REQUIRE(ctx.consume(std::move(*s), {.window = 2}));
      });
    }
    void on(stream_item<std::string> i) { got->add(i.value); }
    void on(stream_end e) {
      CHECK(e.outcome.has_value());
      ends->fetch_add(1);
    }
  };
  runtime rt{{.workers = 2}};
  auto got = std::make_shared<courier::test::collected<std::string>>();
  auto ends = std::make_shared<std::atomic<int>>(0);
  auto f = rt.spawn<text_feed>();
  auto r = rt.spawn<text_reader>(got, ends);
  REQUIRE(r.send(f));
  REQUIRE(wait_until([&] { return ends->load() == 1; }));
  CHECK(got->snapshot() == std::vector<std::string>{"a", "b"});
}

TEST_CASE("a consumer 10x slower than its producer never has more than the window in flight") {
  runtime rt{{.workers = 2}};
  auto s = std::make_shared<seen>();
  auto f = rt.spawn<feed>(s);
  // The producer pushes an item in well under 5 µs; the consumer spends 50 µs on each.
  auto r = rt.spawn<reader>(s, std::chrono::microseconds(50));
  const long total = static_cast<long>(20'000 / courier::test::stress_divisor());
  REQUIRE(r.send(read_from{f, {total}, 16}));
  REQUIRE(wait_until([&] { return s->end_count.load() == 1; }));
  CHECK(s->max_in_flight.load() <= 16);
  CHECK(s->max_in_flight.load() >= 8);  // the producer did run ahead as far as the credit let it
  std::lock_guard lock(s->mutex);
  CHECK(s->items.size() == static_cast<std::size_t>(total));
}

namespace {

struct new_stream {};
struct close_id {
  stream_id id;
};
struct cancel_id {
  stream_id id;
  std::shared_ptr<std::map<stream_id, int>> results;  // written by the reader only, read after its end
};

/// Many streams at once, each closed on request; records cancels.
class race_feed : public actor<race_feed> {
 public:
  explicit race_feed(std::shared_ptr<collected<stream_id>> c) : cancels_(std::move(c)) {}
  stream<int> on(new_stream, context<race_feed>& ctx) {
    auto [token, w] = ctx.make_stream<int>();
    auto id = w.id();
    writers_.emplace(id, std::move(w));
    return std::move(token);
  }
  void on(stream_demand d) {
    auto it = writers_.find(d.stream);
    REQUIRE(it != writers_.end());
    (void)it->second.push(1);  // an item in flight when the race comes
  }
  void on(close_id c) {
    auto it = writers_.find(c.id);
    if (it == writers_.end()) return;  // cancelled already, and learned
    it->second.close();
    writers_.erase(it);
  }
  void on(stream_cancelled c) {
    cancels_->add(c.stream);
    writers_.erase(c.stream);
  }

 private:
  std::shared_ptr<collected<stream_id>> cancels_;
  std::map<stream_id, stream_writer<int>> writers_;
};

class race_reader : public actor<race_reader> {
 public:
  race_reader(std::shared_ptr<collected<stream_id>> ends, std::shared_ptr<std::atomic<stream_id>> last)
      : ends_(std::move(ends)), last_(std::move(last)) {}
  void on(address<race_feed> f, context<race_reader>& ctx) {
    ctx.ask(f, new_stream{}, [this, &ctx](result<stream<int>> s) {
      REQUIRE(s);
      auto id = ctx.consume(std::move(*s), {.window = 4});
      REQUIRE(id);
      last_->store(*id);
    });
  }
  void on(stream_item<int>) {}
  void on(stream_end e) {
    CHECK(e.outcome.has_value());
    ends_->add(e.stream);
  }
  void on(cancel_id c, context<race_reader>& ctx) { (*c.results)[c.id] = ctx.cancel(c.id) ? 1 : 2; }

 private:
  std::shared_ptr<collected<stream_id>> ends_;
  std::shared_ptr<std::atomic<stream_id>> last_;
};

}  // namespace

TEST_CASE("cancel racing close: exactly one of stream_end and stream_cancelled, 10,000 times") {
  runtime rt{{.workers = 2}};
  auto ends = std::make_shared<collected<stream_id>>();
  auto cancels = std::make_shared<collected<stream_id>>();
  auto last = std::make_shared<std::atomic<stream_id>>(0);
  auto results = std::make_shared<std::map<stream_id, int>>();
  auto f = rt.spawn<race_feed>(cancels);
  auto r = rt.spawn<race_reader>(ends, last);
  const int rounds = static_cast<int>(10'000 / courier::test::stress_divisor());
  std::vector<stream_id> ids;
  for (int k = 0; k < rounds; ++k) {
    auto before = last->load();
    REQUIRE(r.send(f));
    REQUIRE(wait_until([&] { return last->load() != before; }));
    auto id = last->load();
    ids.push_back(id);
    REQUIRE(f.send(close_id{id}));
    REQUIRE(r.send(cancel_id{id, results}));
  }
  REQUIRE(wait_until([&] { return ends->count.load() + cancels->count.load() >= rounds; }));
  f.shutdown();
  r.shutdown();
  REQUIRE(f.join_for(30s));
  REQUIRE(r.join_for(30s));
  std::map<stream_id, int> end_of, cancel_of;
  for (auto id : ends->snapshot()) ++end_of[id];
  for (auto id : cancels->snapshot()) ++cancel_of[id];
  int both = 0, neither = 0, cancel_won = 0, mismatch = 0;
  for (auto id : ids) {
    int e = end_of[id], c = cancel_of[id];
    if (e + c == 0) ++neither;
    if (e + c > 1) ++both;
    if (c == 1) ++cancel_won;
    // cancel() returned true exactly when the cancel won
    if (((*results)[id] == 1) != (c == 1)) ++mismatch;
  }
  CHECK(both == 0);
  CHECK(neither == 0);
  CHECK(mismatch == 0);
  MESSAGE("cancel won " << cancel_won << " of " << rounds);
}

TEST_CASE("the producer stopped mid-stream: the items it pushed, then stream_end{actor_stopped}") {
  runtime rt{{.workers = 2}};
  auto s = std::make_shared<seen>();
  auto f = rt.spawn<feed>(s);
  auto r = rt.spawn<reader>(s, std::chrono::microseconds(200));
  REQUIRE(r.send(read_from{f, {1'000'000}, 8}));
  REQUIRE(wait_until([&] { return s->handled.load() >= 5; }));
  f.stop();
  REQUIRE(f.join_for(30s));
  REQUIRE(wait_until([&] { return s->end_count.load() == 1; }));
  r.shutdown();
  REQUIRE(r.join_for(30s));
  std::lock_guard lock(s->mutex);
  REQUIRE(s->ends.size() == 1);
  REQUIRE(!s->ends[0].has_value());
  CHECK(s->ends[0].error().code() == errc::actor_stopped);
  CHECK(s->items.size() == static_cast<std::size_t>(s->pushed.load()));  // every pushed item came first
  for (std::size_t i = 0; i < s->items.size(); ++i) REQUIRE(s->items[i] == static_cast<long>(i));
}

TEST_CASE("the producer restarted in place: its writer is abandoned, the new incarnation sees no old demand") {
  runtime rt{{.workers = 2}};
  auto s = std::make_shared<seen>();
  auto f = rt.spawn<feed>(spawn_options{.failure = {.action = on_failure::restart, .intensity = 10, .period = 60s}}, s);
  auto r = rt.spawn<reader>(s, std::chrono::microseconds(200));
  REQUIRE(r.send(read_from{f, {1'000'000}, 8}));
  REQUIRE(wait_until([&] { return s->handled.load() >= 5; }));
  REQUIRE(f.send(crash{}));
  REQUIRE(wait_until([&] { return s->end_count.load() == 1; }));
  // The old stream's credit keeps coming back while its last items are
  // handled: the new incarnation (whose feed has no writer) must not see
  // it (its on(stream_demand) checks the stream id). Let them all drain.
  r.shutdown();
  REQUIRE(r.join_for(30s));
  f.shutdown();
  REQUIRE(f.join_for(30s));
  std::lock_guard lock(s->mutex);
  REQUIRE(!s->ends[0].has_value());
  CHECK(s->ends[0].error().code() == errc::actor_stopped);
  CHECK(s->items.size() == static_cast<std::size_t>(s->pushed.load()));
}

TEST_CASE("the consumer stopped mid-stream: queued items dropped and counted, the producer gets stream_cancelled") {
  runtime rt{{.workers = 2}};
  auto s = std::make_shared<seen>();
  auto f = rt.spawn<feed>(s);
  auto r = rt.spawn<reader>(s, std::chrono::microseconds(500));
  auto dropped_before = rt.stats().dropped;
  REQUIRE(r.send(read_from{f, {1'000'000}, 16}));
  REQUIRE(wait_until([&] { return s->handled.load() >= 3; }));
  r.stop();
  REQUIRE(r.join_for(30s));
  REQUIRE(wait_until([&] { return s->cancelled.load() == 1; }));
  f.shutdown();
  REQUIRE(f.join_for(30s));
  CHECK(s->cancelled.load() == 1);
  CHECK(s->end_count.load() == 0);
  auto handled = s->handled.load();
  CHECK(rt.stats().dropped - dropped_before == static_cast<std::uint64_t>(s->pushed.load() - handled));
}

TEST_CASE("ctx.cancel: no item handled after it returns, the producer told once, both actors go on") {
  runtime rt{{.workers = 2}};
  auto s = std::make_shared<seen>();
  auto f = rt.spawn<feed>(s);
  auto r = rt.spawn<reader>(s, std::chrono::microseconds(300));
  REQUIRE(r.send(read_from{f, {1'000'000}, 16}));
  REQUIRE(wait_until([&] { return s->handled.load() >= 3; }));
  auto outcome = std::make_shared<std::atomic<int>>(0);
  auto dropped_before = rt.stats().dropped;
  REQUIRE(r.send(cancel_it{outcome}));
  REQUIRE(wait_until([&] { return outcome->load() != 0; }));
  CHECK(outcome->load() == 1);
  REQUIRE(wait_until([&] { return s->cancelled.load() == 1; }));
  auto handled_at_cancel = s->handled.load();
  // Both still run: a stream's end stops neither actor.
  gate g;
  open_at_exit opener{g};
  REQUIRE(r.send(&g));
  auto again = std::make_shared<std::atomic<int>>(0);
  g.open();
  REQUIRE(r.send(cancel_it{again}));
  REQUIRE(wait_until([&] { return again->load() != 0; }));
  CHECK(again->load() == 2);  // unknown now
  auto pushed = std::make_shared<push_outcome>();
  REQUIRE(f.send(push_one_more{pushed}));
  REQUIRE(wait_until([&] { return pushed->ready.load(); }));
  CHECK(pushed->get().error().code() == errc::actor_stopped);
  f.shutdown();
  r.shutdown();
  REQUIRE(f.join_for(30s));
  REQUIRE(r.join_for(30s));
  CHECK(s->handled.load() == handled_at_cancel);  // none after the cancel
  CHECK(s->end_count.load() == 0);
  CHECK(s->cancelled.load() == 1);
  CHECK(rt.stats().dropped - dropped_before == static_cast<std::uint64_t>(s->pushed.load() - handled_at_cancel));
}

TEST_CASE("fail(e) ends the stream with e; close after the last item gives success") {
  runtime rt{{.workers = 2}};
  auto s = std::make_shared<seen>();
  auto f = rt.spawn<feed>(s);
  auto r = rt.spawn<reader>(s);
  REQUIRE(r.send(read_from{f, {5, false}, 8}));
  REQUIRE(wait_until([&] { return s->handled.load() == 5; }));
  REQUIRE(f.send(fail_now{}));
  REQUIRE(wait_until([&] { return s->end_count.load() == 1; }));
  std::lock_guard lock(s->mutex);
  REQUIRE(!s->ends[0].has_value());
  CHECK(s->ends[0].error().code() == errc::handler_failed);
  CHECK(s->ends[0].error().message() == "source broke");
}

namespace {

struct consume_with {
  std::uint32_t window;
  bool drop_token = false;
  bool twice = false;
  std::shared_ptr<std::vector<result<stream_id>>> out;
};

class picky_reader : public actor<picky_reader> {
 public:
  explicit picky_reader(address<feed> f) : feed_(std::move(f)) {}
  void on(consume_with c, context<picky_reader>& ctx) {
    ctx.ask(feed_, subscribe{10}, [&ctx, c](result<stream<long>> s) {
      REQUIRE(s);
      if (c.drop_token) return;  // destroyed unconsumed
      stream<long> token = std::move(*s);
      c.out->push_back(ctx.consume(std::move(token), {.window = c.window}));
      if (c.twice) c.out->push_back(ctx.consume(std::move(token), {.window = c.window}));  // moved-from: empty
      c.out->push_back(ctx.consume(stream<long>{}, {.window = 4}));
      done.store(true);
    });
  }
  void on(stream_item<long>) {}
  void on(stream_end) {}
  static inline std::atomic<bool> done{false};

 private:
  address<feed> feed_;
};

}  // namespace

TEST_CASE("bad input: window 0, an empty or already consumed stream give invalid_argument") {
  // Run once per SUBCASE (doctest): a fresh producer and consumer each time.
  runtime rt{{.workers = 2}};
  auto s = std::make_shared<seen>();
  auto f = rt.spawn<feed>(s);
  auto r = rt.spawn<picky_reader>(f);
  auto out = std::make_shared<std::vector<result<stream_id>>>();
  picky_reader::done = false;
  SUBCASE("window 0 releases the stream: the producer gets stream_cancelled") {
    REQUIRE(r.send(consume_with{0, false, false, out}));
    REQUIRE(wait_until([&] { return picky_reader::done.load(); }));
    REQUIRE(wait_until([&] { return s->cancelled.load() == 1; }));
    r.shutdown();
    REQUIRE(r.join_for(30s));
    REQUIRE(out->size() == 2);
    CHECK((*out)[0].error().code() == errc::invalid_argument);
    CHECK((*out)[1].error().code() == errc::invalid_argument);  // an empty token
    CHECK(s->demand_count.load() == 0);  // nothing was bound
  }
  SUBCASE("a consumed token is empty: consuming it again is refused, the first binding stands") {
    REQUIRE(r.send(consume_with{4, false, true, out}));
    REQUIRE(wait_until([&] { return picky_reader::done.load(); }));
    REQUIRE(wait_until([&] { return s->demand_count.load() >= 1; }));
    r.shutdown();
    REQUIRE(r.join_for(30s));
    REQUIRE(out->size() == 3);
    CHECK((*out)[0].has_value());
    CHECK((*out)[1].error().code() == errc::invalid_argument);
    CHECK((*out)[2].error().code() == errc::invalid_argument);
  }
  SUBCASE("a token destroyed unconsumed: the producer gets stream_cancelled, once") {
    REQUIRE(r.send(consume_with{4, true, false, out}));
    REQUIRE(wait_until([&] { return s->cancelled.load() == 1; }));
    f.shutdown();
    REQUIRE(f.join_for(30s));
    CHECK(s->cancelled.load() == 1);
  }
}

TEST_CASE("an open consumed stream keeps its consumer reachable; it stops by itself after stream_end") {
  runtime rt{{.workers = 2}};
  auto s = std::make_shared<seen>();
  auto f = rt.spawn<feed>(s);
  auto r = rt.spawn<reader>(s);
  REQUIRE(r.send(read_from{f, {3, false}, 8}));
  REQUIRE(wait_until([&] { return s->handled.load() == 3; }));
  bool stopped_early = false;
  {
    auto watcher = r;  // the test's last addresses go: the stream is the consumer's only one
    r = {};
    watcher = {};
  }
  // If the stream held no address, the idle reader would stop now and the
  // items below would be dropped.
  for (int i = 0; i < 3; ++i) {
    auto more = std::make_shared<push_outcome>();
    REQUIRE(f.send(push_one_more{more}));
    REQUIRE(wait_until([&] { return more->ready.load(); }));
    if (!more->get()) stopped_early = true;
  }
  CHECK(!stopped_early);
  REQUIRE(wait_until([&] { return s->handled.load() == 6; }));
  REQUIRE(f.send(close_now{}));
  REQUIRE(wait_until([&] { return s->end_count.load() == 1; }));
  // After its stream_end the reader has no address left: it stops by itself.
  REQUIRE(wait_until([&] { return rt.stats().stopped >= 1; }));
}

TEST_CASE("a stream never keeps its producer reachable: an unreachable producer ends it with actor_stopped") {
  runtime rt{{.workers = 2}};
  auto s = std::make_shared<seen>();
  auto f = rt.spawn<feed>(s);
  auto r = rt.spawn<reader>(s);
  REQUIRE(r.send(read_from{f, {3, false}, 8}));
  REQUIRE(wait_until([&] { return s->handled.load() == 3; }));
  f = {};  // the producer's last address
  REQUIRE(wait_until([&] { return s->end_count.load() == 1; }));
  std::lock_guard lock(s->mutex);
  CHECK(s->ends[0].error().code() == errc::actor_stopped);
}

TEST_CASE("items and the stream_end bypass the consumer's bounded capacity") {
  runtime rt{{.workers = 2}};
  auto s = std::make_shared<seen>();
  auto f = rt.spawn<feed>(s);
  auto r = rt.spawn<reader>(spawn_options{.capacity = 1}, s, std::chrono::microseconds(20));
  const long total = 2'000;
  REQUIRE(r.send(read_from{f, {total}, 64}));
  REQUIRE(wait_until([&] { return s->end_count.load() == 1; }));
  std::lock_guard lock(s->mutex);
  CHECK(s->items.size() == static_cast<std::size_t>(total));
  CHECK(s->ends[0].has_value());
}

namespace {

/// A producer without stream_demand / stream_cancelled handlers: it polls
/// credit() and open() when poked.
class polled_feed : public actor<polled_feed> {
 public:
  explicit polled_feed(std::shared_ptr<std::atomic<int>> open_seen) : open_seen_(std::move(open_seen)) {}
  stream<long> on(subscribe, context<polled_feed>& ctx) {
    auto [token, w] = ctx.make_stream<long>();
    w_ = std::move(w);
    return std::move(token);
  }
  void on(pump) {
    while (next_ < 100 && w_.credit() > 0) REQUIRE(w_.push(next_++));
    if (next_ == 100 && w_.open()) w_.close();
    open_seen_->store(w_.open() ? 1 : 2);
  }

 private:
  std::shared_ptr<std::atomic<int>> open_seen_;
  stream_writer<long> w_;
  long next_ = 0;
};

}  // namespace

TEST_CASE("a producer without the optional handlers still gets its credit, and can poll it") {
  runtime rt{{.workers = 2}};
  auto s = std::make_shared<seen>();
  auto open_seen = std::make_shared<std::atomic<int>>(0);
  auto f = rt.spawn<polled_feed>(open_seen);
  struct polled_reader : actor<polled_reader> {
    std::shared_ptr<seen> s;
    explicit polled_reader(std::shared_ptr<seen> x) : s(std::move(x)) {}
    void on(address<polled_feed> p, context<polled_reader>& ctx) {
      ctx.ask(p, subscribe{}, [&ctx](result<stream<long>> t) {
        REQUIRE(t);
        REQUIRE(ctx.consume(std::move(*t), {.window = 4}));
      });
    }
    void on(stream_item<long> i) {
      std::lock_guard lock(s->mutex);
      s->items.push_back(i.value);
    }
    void on(stream_end e) {
      CHECK(e.outcome.has_value());
      s->end_count.fetch_add(1);
    }
  };
  auto pr = rt.spawn<polled_reader>(s);
  REQUIRE(pr.send(f));
  REQUIRE(wait_until([&] {
    (void)f.send(pump{});
    return s->end_count.load() == 1;
  }));
  std::lock_guard lock(s->mutex);
  REQUIRE(s->items.size() == 100);
  for (long i = 0; i < 100; ++i) REQUIRE(s->items[i] == i);
  CHECK(open_seen->load() == 2);
}
