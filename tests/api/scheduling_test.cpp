// Guarantee 4: a runnable actor never waits behind a long handler while
// another worker is idle. The long handler below runs until the actor it made
// runnable has been handled (or a generous limit passes, which fails the
// test): without the hand-off, that actor would sit in the busy worker's
// run-next slot or deque until the long handler returned, and every round
// would end at the limit.
#include <courier/courier.hpp>

#include <atomic>
#include <string>

#include "tests/support/doctest.hpp"
#include "tests/support/wait.hpp"

using namespace courier;
using courier::test::wait_until;

namespace {

struct round_state {
  std::atomic<int> handled{0};  // bumped by the actor made runnable
  std::atomic<int> early{0};    // long handlers that saw it handled before they returned
  std::atomic<int> finished{0};  // long handlers that returned
  /// The long handler: until the expected count is reached, or 10 s (a failure).
  void run_long(int expect) {
    if (wait_until([&] { return handled.load() >= expect; }, std::chrono::seconds(10))) ++early;
    ++finished;
  }
};

struct probe {};
struct ping {};
class target : public actor<target> {
 public:
  explicit target(round_state* s) : s_(s) {}
  void on(probe) { ++s_->handled; }
  int on(ping) { return 1; }

 private:
  round_state* s_;
};

struct kick {
  bool spawn;
  int expect;
  address<target> to = {};  // if set: this round's target instead of the long-lived one
};
class slow : public actor<slow> {
 public:
  slow(round_state* s, address<target> t) : s_(s), target_(std::move(t)) {}
  void on(kick k, context<slow>& ctx) {
    auto to = k.spawn ? ctx.spawn<target>(s_) : k.to ? k.to : target_;
    (void)to.send(probe{});  // a refusal shows as a round never handled
    s_->run_long(k.expect);
  }

 private:
  round_state* s_;
  address<target> target_;
};

struct question {
  int n;
};
struct long_job {
  int expect;
};
class answerer : public actor<answerer> {
 public:
  explicit answerer(round_state* s) : s_(s) {}
  int on(question q) { return q.n + 1; }
  void on(long_job j) { s_->run_long(j.expect); }

 private:
  round_state* s_;
};

struct go {
  int expect;
};
class asker : public actor<asker> {
 public:
  asker(round_state* s, address<answerer> a) : s_(s), answerer_(std::move(a)) {}
  void on(go g, context<asker>& ctx) {
    // The answer makes this actor runnable on the answerer's worker, whose
    // turn goes on with the long job queued right behind the question.
    ctx.ask(answerer_, question{1}, [s = s_](result<int> r) {
      if (r && *r == 2) ++s->handled;
    });
    (void)answerer_.send(long_job{g.expect});  // as above
  }

 private:
  round_state* s_;
  address<answerer> answerer_;
};

void run_rounds(std::size_t workers, const std::string& kind) {
  CAPTURE(workers);
  CAPTURE(kind);
  constexpr int rounds = 20;
  runtime rt{{.workers = workers}};
  round_state s;
  auto t = rt.spawn<target>(&s);
  auto sl = rt.spawn<slow>(&s, t);
  auto q = rt.spawn<asker>(&s, rt.spawn<answerer>(&s));
  for (int r = 1; r <= rounds; ++r) {
    address<target> fresh;
    if (kind == "fresh") {
      // A new target that has just run on some worker and gone idle: the
      // main thread waits for its answer (its turn may still be ending).
      fresh = rt.spawn<target>(&s);
      REQUIRE(fresh.ask(ping{}).get());
    }
    auto sent = kind == "reply" ? q.send(go{r}) : sl.send(kick{kind == "spawn", r, fresh});
    REQUIRE(sent);
    REQUIRE(wait_until([&] { return s.finished.load() == r; }));
  }
  CHECK(s.early == rounds);
  CHECK(s.handled == rounds);
  CHECK(rt.shutdown());
}

}  // namespace

TEST_CASE("a message a long handler sends to an idle actor is handled by another worker meanwhile" *
          doctest::timeout(300)) {
  for (std::size_t workers : {2, 4}) run_rounds(workers, "send");
}

TEST_CASE("a message a long handler sends to an actor that has just run elsewhere is handled meanwhile" *
          doctest::timeout(300)) {
  for (std::size_t workers : {2, 4}) run_rounds(workers, "fresh");
}

TEST_CASE("an actor a long handler spawns and mails is run by another worker meanwhile" * doctest::timeout(300)) {
  for (std::size_t workers : {2, 4}) run_rounds(workers, "spawn");
}

TEST_CASE("an asker made runnable by a reply is run by another worker while the answerer's turn goes on" *
          doctest::timeout(300)) {
  for (std::size_t workers : {2, 4}) run_rounds(workers, "reply");
}
