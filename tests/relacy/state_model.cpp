// Relacy model of the actor-state protocol, built from the runtime's own
// transition code: runtime/actor/state.hpp instantiated with Relacy's atomics
// (rl_atomics below) on a model cell. Only the turn around the transitions is
// written here, reduced from runtime/actor/turn.cpp and cell.cpp.
//
// Seven scenarios, each checked over every interleaving with at most five
// preemptions (a context-bound search, as the unreachable model):
//
//   push_release   the owner releases while two producers push: exactly one
//                  push per idle period becomes the owner, nothing is lost,
//                  never two owners (I1, I2).
//   last_address   the owner runs while another thread drops the last
//                  address and a producer (holding an address of its own)
//                  pushes and drops it: the actor finishes exactly once, the
//                  memory is freed exactly once and never read after (the
//                  use-after-free of the old "release, then re-read the
//                  count" is what the unreachable flag replaced), the
//                  message is handled.
//   suspend_wake   a coroutine handler suspends while its awaited event and a
//                  stop() both wake it: it is resumed or cancelled exactly
//                  once, by one owner, and a resumed frame sees the value.
//   stop_push      stop() races a push and the owner's last turn: the message
//                  is accepted and dropped, or refused to its sender and
//                  disposed of, exactly once; the done mailbox ends closed |
//                  idle and empty.
//   dormant_wake   a restart's owner goes dormant after arming its backoff
//                  timer, while the timer fires (wake) and a shutdown()
//                  rouses it: exactly one of them (or the owner itself) goes
//                  on, never two, never none.
//   teardown_suspend  a supervisor requests a teardown (the restart bit with
//                  its generation, then rouse(suspended)) while the child's
//                  coroutine handler suspends and nothing else will wake it:
//                  the frame is cancelled exactly once, never parked for good.
//   supervised_dormant  a supervised child goes dormant (only an end request
//                  interrupts it) and reports once parked, while its
//                  supervisor rouses it on that report and a stop() wakes
//                  it: exactly one goes on.
//
// Must-fail builds replace one key step with a broken version (each must make
// its scenario fail; tests/relacy/meson.build):
//   -DCOURIER_MODEL_BROKEN_RELEASE  release sets idle without checking the list
//   -DCOURIER_MODEL_BROKEN_DROP     the last dropper does not flag a running actor
//   -DCOURIER_MODEL_BROKEN_SUSPEND  suspend is a load and a store, not one RMW
//   -DCOURIER_MODEL_BROKEN_PUSH     a push ignores the `closed` it exchanged
//   -DCOURIER_MODEL_BROKEN_DORMANT  go_dormant sets `dormant` before it looks (a fetch_or, not a CAS)
//   -DCOURIER_MODEL_BROKEN_TEARDOWN suspend does not see a teardown requested before it
// state.hpp first: its <atomic> must be seen before Relacy's macros.
#include "runtime/actor/state.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>

#include "relacy.hpp"

namespace {

using courier::internal::actor_state;
using courier::internal::drop_result;
using courier::internal::push_result;
using courier::internal::release_result;
using courier::internal::resume_result;
using courier::internal::suspend_result;
namespace bits = courier::internal::bits;

struct rl_atomics {
  template <class T>
  using atomic = rl::atomic<T>;
  static constexpr rl::memory_order relaxed = rl::mo_relaxed;
  static constexpr rl::memory_order acquire = rl::mo_acquire;
  static constexpr rl::memory_order release = rl::mo_release;
  static constexpr rl::memory_order acq_rel = rl::mo_acq_rel;
  template <class T>
  static rl::atomic_proxy<T> at(rl::atomic<T>& a) {
    return a(RL_INFO);
  }
  template <class T>
  static rl::atomic_proxy_const<T> at(const rl::atomic<T>& a) {
    return a(RL_INFO);
  }
};

struct alignas(8) node {
  rl::atomic<node*> next;
  rl::var<int> refused;
};

struct model_cell {
  rl::atomic<std::uintptr_t> head;
  node* tail;  // owner only (the model's owner count checks that)
  node stub;
  rl::atomic<std::uint32_t> strong_count;
  rl::atomic<std::uint32_t> weak;
  rl::atomic<std::uint32_t>& strong() { return strong_count; }
  const rl::atomic<std::uint32_t>& strong() const { return strong_count; }
  rl::atomic<std::uint32_t> lifecycle_word;
};

using state = actor_state<rl_atomics, model_cell>;

struct no_chaos {
  void operator()(const char*) const {}
};

// -- the broken steps --------------------------------------------------------------------

struct checked_state : state {
#ifdef COURIER_MODEL_BROKEN_RELEASE
  static release_result release(model_cell& cell) {  // the bug: idle even with a message queued
    cell.head(RL_INFO).fetch_or(bits::idle, rl::mo_release);
    return release_result::released;
  }
#endif
#ifdef COURIER_MODEL_BROKEN_DROP
  template <class Chaos>
  static drop_result drop_address(model_cell& cell, Chaos&&) {  // the bug: a running owner is not told
    if (cell.strong_count(RL_INFO).fetch_sub(1, rl::mo_acq_rel) != 1) return drop_result::kept;
    auto word = cell.head(RL_INFO).load(rl::mo_acquire);
    for (;;) {
      if (word & bits::closed) return drop_result::closing;
      if (!(word & bits::idle)) return drop_result::flagged;
      if (cell.head(RL_INFO).compare_exchange_weak(word, word & ~bits::idle, rl::mo_acq_rel, rl::mo_acquire))
        return drop_result::claimed;
    }
  }
#endif
#ifdef COURIER_MODEL_BROKEN_SUSPEND
  static suspend_result suspend(model_cell& cell) {  // the bug: a wake between the two steps is lost
    auto old = cell.lifecycle_word(RL_INFO).load(rl::mo_acquire);
    cell.lifecycle_word(RL_INFO).store(old | bits::suspended, rl::mo_release);
    return (old & bits::woken) ? suspend_result::resume : suspend_result::parked;
  }
#endif
#ifdef COURIER_MODEL_BROKEN_DORMANT
  static suspend_result go_dormant(model_cell& cell) {  // the bug: sets `dormant` even when a waker came first
    auto old = cell.lifecycle_word(RL_INFO).fetch_or(bits::dormant, rl::mo_acq_rel);
    if (!(old & (bits::woken | bits::end_requested))) return suspend_result::parked;
    cell.lifecycle_word(RL_INFO).fetch_and(~(bits::dormant | bits::woken), rl::mo_acq_rel);
    return suspend_result::resume;
  }
#endif
#ifdef COURIER_MODEL_BROKEN_TEARDOWN
  static suspend_result suspend(model_cell& cell) {  // the bug: a teardown requested first is not seen
    auto old = cell.lifecycle_word(RL_INFO).load(rl::mo_acquire);
    for (;;) {
      if (old & bits::woken) return suspend_result::resume;
      if (cell.lifecycle_word(RL_INFO).compare_exchange_weak(old, old | bits::suspended, rl::mo_acq_rel,
                                                             rl::mo_acquire))
        return suspend_result::parked;
    }
  }
#endif
#ifdef COURIER_MODEL_BROKEN_PUSH
  template <class Refuse, class Chaos>
  static push_result push(model_cell& cell, node* n, Refuse&&, Chaos&&) {  // the bug: no refusal after the exchange
    if (cell.head(RL_INFO).load(rl::mo_relaxed) & bits::closed) return push_result::rejected;
    n->next(RL_INFO).store(nullptr, rl::mo_relaxed);
    auto old = cell.head(RL_INFO).exchange(word_of(n), rl::mo_acq_rel);
    pointer(old)->next(RL_INFO).store(n, rl::mo_release);
    return (old & bits::idle) ? push_result::accepted_idle : push_result::accepted;
  }
#endif
};
using S = checked_state;

// -- the turn, reduced -------------------------------------------------------------------

/// Shared by the scenarios: the cell, its owners and what became of messages.
struct actor_model {
  model_cell cell;
  rl::atomic<int> owners;
  rl::var<int> handled;      // owner only: accepted messages handled
  rl::var<int> dropped;      // owner only: accepted messages dropped by stop()
  rl::var<int> disposed;     // refused nodes consumed (by the owner or a settling pusher)
  rl::var<int> finished;
  rl::atomic<int> frees;
  rl::var<int> freed;        // written by the freer; read by every turn (a race = use after free)

  void init(int initial_owners, std::uint32_t strong, std::uint32_t weak) {
    cell.stub.next($).store(nullptr, rl::mo_relaxed);
    cell.head($).store(reinterpret_cast<std::uintptr_t>(&cell.stub), rl::mo_relaxed);  // running (owned)
    cell.tail = &cell.stub;
    cell.strong_count($).store(strong, rl::mo_relaxed);
    cell.weak($).store(weak, rl::mo_relaxed);
    cell.lifecycle_word($).store(0, rl::mo_relaxed);
    owners($).store(initial_owners, rl::mo_relaxed);
    frees($).store(0, rl::mo_relaxed);
    handled($) = 0;
    dropped($) = 0;
    disposed($) = 0;
    finished($) = 0;
    freed($) = 0;
  }

  void enter() { RL_ASSERT(owners($).fetch_add(1, rl::mo_relaxed) == 0); }
  void leave() { owners($).fetch_sub(1, rl::mo_relaxed); }

  bool empty() { return S::pointer(cell.head($).load(rl::mo_acquire)) == cell.tail; }

  node* pop() {
    node* next = cell.tail->next($).load(rl::mo_acquire);
    if (next) cell.tail = next;
    return next;
  }

  void consume(node* n, bool handle) {
    if (n->refused($))
      disposed($) = disposed($) + 1;
    else if (handle)
      handled($) = handled($) + 1;
    else
      dropped($) = dropped($) + 1;
  }

  /// The consumer side of a done actor (cell.cpp settle).
  void settle() {
    for (;;) {
      while (node* n = pop()) consume(n, false);
      if (S::final_release(cell)) return;
      rl::yield(1, $);
    }
  }

  void release_memory() {
    if (S::release_memory(cell)) {
      frees($).fetch_add(1, rl::mo_relaxed);
      freed($) = 1;
    }
  }

  /// The last turn (cell.cpp finish): close, drop the rest, done, settle, memory.
  void finish() {
    (void)S::close(cell, no_chaos{});
    for (;;) {
      while (node* n = pop()) consume(n, false);
      if (empty()) break;
      rl::yield(1, $);  // a producer is linking
    }
    RL_ASSERT(finished($) == 0);
    finished($) = 1;
    (void)S::mark_done(cell);
    settle();
    leave();
    release_memory();  // the "not yet done" reference
  }

  /// A turn (turn.cpp run_turn + end_turn), entered as the owner.
  void turn() {
    for (;;) {
      RL_ASSERT(freed($) == 0);
      while (node* n = pop()) consume(n, true);
      auto requested = S::end_requested(cell);
      if (requested & bits::stop_requested) return finish();
      if (!empty()) {  // a producer is linking: the real turn reschedules; here the same thread waits
        rl::yield(1, $);
        continue;
      }
      if ((requested & bits::shutdown_requested) || S::unreachable(cell)) {
        (void)S::close(cell, no_chaos{});
        if (!empty()) continue;
        return finish();
      }
      leave();  // before the CAS: once it succeeds another thread may own the actor
      switch (S::release(cell)) {
        case release_result::released:
          return;
        case release_result::unreachable:
          enter();
          if (!S::unreachable(cell)) S::clear_unreachable(cell);
          continue;
        case release_result::busy:  // a push raced in, or a close: the real turn reschedules or finishes
          enter();
          continue;
      }
    }
  }

  /// A producer's push: finding idle makes it the owner; finding a done
  /// mailbox idle makes it the settler.
  push_result push(node& n) {
    auto outcome = S::push(cell, &n, [&](node* x) { x->refused($) = 1; }, no_chaos{});
    if (outcome == push_result::accepted_idle) {
      enter();
      turn();
    } else if (outcome == push_result::refused_owner) {
      settle();
    }
    return outcome;
  }

  void drop_address() {
    auto outcome = S::drop_address(cell, no_chaos{});
    if (outcome == drop_result::kept) return;
    if (outcome == drop_result::claimed) {
      enter();
      turn();
    }
    release_memory();  // the "strong > 0" reference
  }

  void check_done_mailbox() {
    auto word = cell.head($).load(rl::mo_relaxed);
    RL_ASSERT(S::pointer(word) == cell.tail);  // nothing left queued
    RL_ASSERT(word & bits::idle);              // and nobody owns it
  }
};

void fresh_node(node& n) {
  n.next($).store(nullptr, rl::mo_relaxed);
  n.refused($) = 0;
}

// -- scenarios ---------------------------------------------------------------------------

struct push_release : rl::test_suite<push_release, 3> {
  actor_model m;
  node a, b;
  void before() {
    m.init(1, 1, 2);
    fresh_node(a);
    fresh_node(b);
  }
  void thread(unsigned index) {
    if (index == 0)
      m.turn();
    else
      RL_ASSERT(m.push(index == 1 ? a : b) != push_result::rejected);
  }
  void after() {
    RL_ASSERT(m.handled($) == 2);
    RL_ASSERT(m.owners($).load(rl::mo_relaxed) == 0);
    m.check_done_mailbox();
  }
};

struct last_address : rl::test_suite<last_address, 3> {
  actor_model m;
  node a;
  void before() {
    m.init(1, 2, 2);  // two addresses: the dropper's and the producer's
    fresh_node(a);
  }
  void thread(unsigned index) {
    if (index == 0) {
      m.turn();
    } else if (index == 1) {
      m.drop_address();
    } else {
      RL_ASSERT(m.push(a) != push_result::rejected);  // it holds an address: the actor cannot have closed
      m.drop_address();
    }
  }
  void after() {
    RL_ASSERT(m.handled($) == 1);
    RL_ASSERT(m.finished($) == 1);  // unreachable and empty: it finished, it did not go idle
    RL_ASSERT(m.frees($).load(rl::mo_relaxed) == 1);
  }
};

struct suspend_wake : rl::test_suite<suspend_wake, 3> {
  actor_model m;
  rl::var<int> value;      // the awaited result, written by the waker
  rl::var<int> resumed;    // the frame went on and read the value
  rl::var<int> cancelled;  // stop() destroyed the frame

  void before() {
    m.init(1, 1, 2);
    value($) = 0;
    resumed($) = 0;
    cancelled($) = 0;
  }

  /// The owner goes on with the frame after resume() (frame.cpp).
  void go_on() {
    if (S::resume(m.cell) == resume_result::cancel) {
      cancelled($) = cancelled($) + 1;
    } else {
      RL_ASSERT(value($) == 42);
      resumed($) = resumed($) + 1;
    }
    m.leave();
  }

  void thread(unsigned index) {
    if (index == 0) {  // the handler suspends (frame.cpp step)
      m.leave();       // before the RMW: once parked, a waker may own the actor
      if (S::suspend(m.cell) == suspend_result::resume) {
        m.enter();
        go_on();
      }
    } else if (index == 1) {  // the awaited event
      value($) = 42;
      if (S::wake(m.cell)) {
        m.enter();
        go_on();
      }
    } else {  // stop(): the request, then a wake that destroys a suspended frame
      (void)S::request_end(m.cell, bits::stop_requested, no_chaos{});
      if (S::wake(m.cell)) {
        m.enter();
        go_on();
      }
    }
  }

  void after() {
    RL_ASSERT(resumed($) + cancelled($) == 1);  // exactly once: never lost, never twice
    RL_ASSERT(m.owners($).load(rl::mo_relaxed) == 0);
  }
};

struct stop_push : rl::test_suite<stop_push, 3> {
  actor_model m;
  node a;
  rl::var<int> rejected;  // the sender kept its message
  void before() {
    m.init(1, 1, 2);
    fresh_node(a);
    rejected($) = 0;
  }
  void thread(unsigned index) {
    if (index == 0) {
      m.turn();
    } else if (index == 1) {
      if (m.push(a) == push_result::rejected) rejected($) = 1;
    } else {
      if (S::request_end(m.cell, bits::stop_requested, no_chaos{})) {  // it was idle: we own it
        m.enter();
        m.turn();
      }
    }
  }
  void after() {
    RL_ASSERT(m.finished($) == 1);
    RL_ASSERT(m.handled($) + m.dropped($) + m.disposed($) + rejected($) == 1);  // exactly one fate
    m.check_done_mailbox();
  }
};

struct dormant_wake : rl::test_suite<dormant_wake, 3> {
  actor_model m;
  rl::var<int> teardown;  // written by the owner before it goes dormant
  rl::var<int> resumed;   // the turn after the dormancy

  void before() {
    m.init(1, 1, 2);
    teardown($) = 0;
    resumed($) = 0;
  }

  /// Whoever owns the actor after the dormancy (turn.cpp run_turn).
  void go_on(bool scheduled) {
    m.enter();
    if (scheduled) S::end_dormancy(m.cell);
    RL_ASSERT(teardown($) == 1);  // the owner's writes are visible to the next turn
    resumed($) = resumed($) + 1;
    m.leave();
  }

  void thread(unsigned index) {
    if (index == 0) {  // restart.cpp: torn down, timer armed (thread 1), dormant
      teardown($) = 1;
      m.leave();  // before the RMW: once parked, a waker may own the actor
      if (S::go_dormant(m.cell) == suspend_result::resume) go_on(false);
    } else if (index == 1) {  // the backoff timer fires
      if (S::wake(m.cell)) go_on(true);
    } else {  // shutdown(): the request, then the rouse
      (void)S::request_end(m.cell, bits::shutdown_requested, no_chaos{});
      if (S::rouse(m.cell)) go_on(true);
    }
  }

  void after() {
    RL_ASSERT(resumed($) == 1);
    RL_ASSERT(m.owners($).load(rl::mo_relaxed) == 0);
  }
};

struct teardown_suspend : rl::test_suite<teardown_suspend, 2> {
  actor_model m;
  rl::var<int> generation;  // the supervisor's teardown generation, stored before its request
  rl::var<int> cancelled;

  void before() {
    m.init(1, 1, 2);
    generation($) = 0;
    cancelled($) = 0;
  }

  /// The owner after the suspension (frame.cpp): a teardown cancels the frame.
  void go_on() {
    m.enter();
    RL_ASSERT(S::resume(m.cell) == resume_result::cancel);  // nothing else woke it: the teardown did
    RL_ASSERT(generation($) == 1);                           // published with the restart bit
    cancelled($) = cancelled($) + 1;
    m.leave();
  }

  void thread(unsigned index) {
    if (index == 0) {  // a coroutine handler suspends; its awaited event never comes
      m.leave();
      if (S::suspend(m.cell) == suspend_result::resume) go_on();
    } else {  // the supervisor (supervisor.cpp teardown): generation, the bit, then rouse a suspension
      generation($) = 1;
      if (S::request_teardown(m.cell) && S::rouse(m.cell, bits::suspended)) go_on();
    }
  }

  void after() {
    RL_ASSERT(cancelled($) == 1);  // never parked for good, never cancelled twice
    RL_ASSERT(m.owners($).load(rl::mo_relaxed) == 0);
  }
};

struct supervised_dormant : rl::test_suite<supervised_dormant, 3> {
  actor_model m;
  rl::var<int> teardown;
  rl::var<int> resumed;
  rl::atomic<int> reported;  // the child's report, sent once it parked

  void before() {
    m.init(1, 1, 2);
    teardown($) = 0;
    resumed($) = 0;
    reported($).store(0, rl::mo_relaxed);
  }

  void go_on(bool scheduled) {
    m.enter();
    if (scheduled) S::end_dormancy(m.cell);
    RL_ASSERT(teardown($) == 1);
    resumed($) = resumed($) + 1;
    m.leave();
  }

  void thread(unsigned index) {
    if (index == 0) {  // restart.cpp, supervised: torn down, dormant until the supervisor decides
      teardown($) = 1;
      m.leave();
      if (state::go_dormant(m.cell, bits::end_requested) == suspend_result::resume) {
        go_on(false);
      } else {
        reported($).store(1, rl::mo_release);  // after parking: the cell is not ours any more
      }
    } else if (index == 1) {  // the supervisor handles the report: the rebuild rouses a dormant child
      if (reported($).load(rl::mo_acquire) == 1 && S::rouse(m.cell)) go_on(true);
    } else {  // stop() from outside: the request, then the wake
      (void)S::request_end(m.cell, bits::stop_requested, no_chaos{});
      if (S::wake(m.cell)) go_on(true);
    }
  }

  void after() {
    RL_ASSERT(resumed($) == 1);  // the stop (or the owner) always goes on; never two
    RL_ASSERT(m.owners($).load(rl::mo_relaxed) == 0);
  }
};

template <class Scenario>
bool run(const char* name, const char* only) {
  if (only && std::strcmp(only, name) != 0) return true;
  rl::test_params params;
  params.search_type = rl::fair_context_bound_scheduler_type;
  params.context_bound = 5;
  params.output_history = false;
  bool ok = rl::simulate<Scenario>(params);
  std::printf("%s: %s\n", name, ok ? "ok" : "FAILED");
  return ok;
}

}  // namespace

// With an argument, runs only the scenario of that name (the must-fail builds
// run the one their broken step belongs to).
int main(int argc, char** argv) {
  const char* only = argc > 1 ? argv[1] : nullptr;
  bool ok = run<push_release>("push_release", only);
  ok = run<last_address>("last_address", only) && ok;
  ok = run<suspend_wake>("suspend_wake", only) && ok;
  ok = run<stop_push>("stop_push", only) && ok;
  ok = run<dormant_wake>("dormant_wake", only) && ok;
  ok = run<teardown_suspend>("teardown_suspend", only) && ok;
  ok = run<supervised_dormant>("supervised_dormant", only) && ok;
  return ok ? 0 : 1;
}
