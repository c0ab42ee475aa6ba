#include "runtime/sched/worker.hpp"

#include <pthread.h>

#include <cstdio>
#include <string>

#include "runtime/actor/turn.hpp"
#include "runtime/sched/scheduler.hpp"
#include "runtime/support/chaos.hpp"
#include "runtime/support/probes.hpp"
#include "runtime/system/system.hpp"

namespace courier::internal {

namespace {
thread_local constinit bool inside_turn COURIER_TLS_FAST = false;
}  // namespace

worker::worker(scheduler& owner, std::size_t index)
    : owner_(owner), index_(index), random_state_(0x9e3779b97f4a7c15ULL * (index + 1)) {}

thread_local constinit worker* worker::this_worker_ = nullptr;

void worker::start() {
  thread_ = std::thread([this] {
    this_worker_ = this;
    char name[16];
    std::snprintf(name, sizeof name, "courier-w%zu", index_);
    pthread_setname_np(pthread_self(), name);  // so perf, top and gdb show it
    if (auto& cpus = owner_.pin(); !cpus.empty()) {
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpus[index_ % cpus.size()], &set);
      if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0)
        std::fprintf(stderr, "courier: could not pin %s to CPU %d\n", name, cpus[index_ % cpus.size()]);
    }
    buffer().attach(owner_.monitor_);
    loop();
    buffer().detach();
    this_worker_ = nullptr;
  });
}

void worker::join() {
  if (thread_.joinable()) thread_.join();
}

void worker::schedule_local(cell_base* cell) {
  // relaxed: only this thread puts cells in the slot, so a null seen here
  // stays null (a thief only ever empties it).
  auto* old = run_next_.load(std::memory_order_relaxed);
  // release: pairs with the acquire CAS in steal_next(); publishes the cell
  // (this thread won its idle bit, so it sees the last turn's writes).
  if (old)
    old = run_next_.exchange(cell, std::memory_order_release);  // a thief may be emptying it: exchange, not store
  else
    run_next_.store(cell, std::memory_order_release);
  if (old) {
    deque_.push(old);
    owner_.notify();
  }
  // Work that only this worker holds now: if the whole pool had parked, the
  // stall monitor sleeps and must watch again (a long turn could strand it).
  owner_.monitor_.wake();
}

inline cell_base* worker::take_next() noexcept {
  // relaxed (both): only this thread fills the slot, so its own writes are
  // ordered; the exchange (not a load and a store) is what keeps a thief's
  // CAS in steal_next() from taking the same actor.
  if (!run_next_.load(std::memory_order_relaxed)) return nullptr;
  return run_next_.exchange(nullptr, std::memory_order_relaxed);
}

bool worker::stalled() const noexcept {
  // seq_cst (both): the parking re-check's loads (see mark_stalled()).
  auto turn = turn_.load(std::memory_order_seq_cst);
  return (turn & 1) != 0 && stalled_turn_.load(std::memory_order_seq_cst) == turn;
}

bool worker::has_stealable_work() const noexcept {
  if (!deque_.empty()) return true;
  return stalled() && run_next_.load(std::memory_order_seq_cst) != nullptr;  // seq_cst: the parking re-check
}

cell_base* worker::steal_next(worker& victim) noexcept {
  if (!victim.stalled()) return nullptr;  // a short turn keeps its slot: the owner runs it next
  COURIER_CHAOS_POINT("steal: before taking a stalled run-next slot");
  auto* cell = victim.run_next_.load(std::memory_order_acquire);  // acquire: pairs with schedule_local()'s release
  // acquire: as above. A cell seen here and taken by the owner meanwhile makes
  // the CAS fail; if the same pointer was put back (the actor runnable again),
  // taking it is right all the same.
  if (!cell || !victim.run_next_.compare_exchange_strong(cell, nullptr, std::memory_order_acquire,
                                                          std::memory_order_relaxed))
    return nullptr;
  COURIER_METRIC(counter_sink(counters_), steals_succeeded);
  COURIER_PROBE2(steal, index_, victim.index_);
  return cell;
}

void worker::loop() {
  auto spin_until = std::chrono::steady_clock::time_point::min();
  bool spinning = false;
  unsigned spins = 0;
  for (;;) {
    if (auto* cell = find_work()) {
      end_searching();
      spinning = false;
      run(cell);
      continue;
    }
    // seq_cst: as in park(); set by scheduler::stop() once no actor is left
    if (owner_.stopping_.load(std::memory_order_seq_cst)) break;
    // Bounded spin before parking: a message that arrives within a few
    // microseconds is picked up without a futex round trip.
    auto now = std::chrono::steady_clock::now();
    if (!spinning) {
      spinning = true;
      spins = 0;
      spin_until = now + owner_.spin();
    }
    if (now < spin_until) {
      // Pause-spin first; then yield the core each round, so that a thread
      // that shares this core (a sender outside the pool, more workers than
      // cores) runs instead of waiting for our spin to end.
      if (++spins < yield_after_spins)
        for (int i = 0; i < 4; ++i) cpu_relax();
      else
        std::this_thread::yield();
      continue;
    }
    spinning = false;
    if (index_ < owner_.min_awake()) continue;  // config::min_awake: this worker never parks
    park();
  }
  end_searching();
}

cell_base* worker::find_work() {
  if (auto* next = take_next()) {
    if (run_next_streak_ < run_next_cap) {
      ++run_next_streak_;
      return next;
    }
    deque_.push(next);  // cap reached: to the back
  }
  run_next_streak_ = 0;
  if (++tick_ % 61 == 0)  // fairness: now and then injected work before local work
    if (auto* cell = owner_.injection_.try_pop()) return popped_from_injection(cell);
  if (auto* cell = deque_.steal()) return cell;
  if (auto* cell = owner_.injection_.try_pop()) return popped_from_injection(cell);
  return steal_from_others();
}

cell_base* worker::steal_from_others() {
  auto n = owner_.workers_.size();
  if (n < 2) return nullptr;
  begin_searching();
  auto start = static_cast<std::size_t>(next_random() % n);
  for (std::size_t i = 0; i < n; ++i) {
    auto& victim = *owner_.workers_[(start + i) % n];
    if (&victim == this) continue;
    if (auto* cell = steal_half(victim)) return cell;
    if (auto* cell = steal_next(victim)) return cell;
  }
  return nullptr;
}

cell_base* worker::steal_half(worker& victim) {
  COURIER_CHAOS_POINT("steal: before taking from the victim");
  COURIER_METRIC(counter_sink(counters_), steals_attempted);
  auto* first = victim.deque_.steal();
  if (!first) return nullptr;
  COURIER_METRIC(counter_sink(counters_), steals_succeeded);
  COURIER_PROBE2(steal, index_, victim.index_);
  auto more = victim.deque_.size() / 2;
  for (std::int64_t i = 0; i < more; ++i) {
    auto* cell = victim.deque_.steal();
    if (!cell) break;
    deque_.push(cell);
  }
  if (more > 0) owner_.monitor_.wake();  // as in schedule_local()
  return first;
}

void worker::run(cell_base* cell) {
  running_.store(cell, std::memory_order_relaxed);  // relaxed: diagnostics only (see running())
  // relaxed (single writer, a plain store): sampled by the stall monitor for
  // its policy only; a thief re-checks with seq_cst loads.
  turn_.store(++turns_, std::memory_order_relaxed);
  inside_turn = true;
  COURIER_PROBE2(turn_begin, cell, index_);
  COURIER_METRIC(counter_sink(counters_), turns);
  auto end = run_turn(*cell, *this);
  buffer().close();  // what on_stop or a restart's constructor buffered
  COURIER_PROBE2(turn_end, cell, static_cast<int>(end));  // the cell may be gone: only its address is recorded
  inside_turn = false;
  turn_.store(++turns_, std::memory_order_relaxed);  // relaxed: as above
  running_.store(nullptr, std::memory_order_relaxed);  // relaxed: diagnostics only
  // released: idle; finished: gone; suspended: owned by its suspension
  if (end == turn_end::reschedule) {
    // The back: everything already queued runs first (I5). Wake a helper
    // only when something else is queued: an actor alone in the deque comes
    // straight back to this worker, and a thief would only move its warm
    // state to another core every turn (a flooded actor bouncing between
    // workers). A long turn that strands it is the stall monitor's case.
    bool alone = deque_.empty();
    deque_.push(cell);
    if (!alone) owner_.notify();
  }
}

void worker::begin_searching() noexcept {
  if (searching_) return;
  searching_ = true;
  // seq_cst: read by notifiers after their work store (see parker.hpp)
  owner_.searching_.fetch_add(1, std::memory_order_seq_cst);
}

void worker::end_searching() noexcept {
  if (!searching_) return;
  searching_ = false;
  // seq_cst: the decrement is ordered before any re-check that follows (see parker.hpp)
  if (owner_.searching_.fetch_sub(1, std::memory_order_seq_cst) == 1 &&
      (!deque_.empty() || owner_.injection_.pending()))
    owner_.notify();  // the last searcher found work and more is waiting: let another worker look
}

void worker::park() {
  end_searching();
  COURIER_CHAOS_POINT("park: before announcing");
  owner_.parker_.prepare_wait(index_);
  COURIER_CHAOS_POINT("park: announced, before the re-check");
  // seq_cst fence: pairs with the fence in injection_queue::push(), whose
  // stores are not seq_cst (the deques' are, and need no fence).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  // seq_cst: the re-check after the announcement (see parker.hpp)
  if (owner_.stopping_.load(std::memory_order_seq_cst) || owner_.work_visible()) {
    if (owner_.parker_.cancel_wait(index_)) searching_ = true;  // a notifier counted us as searching
    return;
  }
  COURIER_PROBE1(park, index_);
  COURIER_METRIC(counter_sink(counters_), parks);
  owner_.parker_.commit_wait(index_);
  COURIER_PROBE1(wake, index_);
  COURIER_METRIC(counter_sink(counters_), wakeups);
  searching_ = true;  // the notifier counted us as searching
}

cell_base* worker::popped_from_injection(cell_base* cell) noexcept {
  COURIER_METRIC(counter_sink(counters_), injection_pops);
  return cell;
}

std::uint64_t worker::next_random() noexcept {
  auto x = random_state_;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return random_state_ = x;
}

}  // namespace courier::internal

namespace courier::detail {

bool running_here(const cell_base* cell) noexcept {
  return internal::inside_turn && internal::worker::current()->running() == cell;
}

bool refuse_blocking_call(std::string_view call) noexcept {
  if (!internal::inside_turn) return false;
  auto* w = internal::worker::current();  // inside_turn is only ever set on a worker
  auto* cell = w->running();
  w->owner().system().report(cell ? name_of(cell) : std::string_view("?"), call, "blocking call inside a handler");
  return true;
}

}  // namespace courier::detail
