// courier::supervisor (docs/supervision.md): a child table, and the events
// that change it.
//
// Children report to their supervisor's state (`supervisor_state`) on
// their own threads: "I am dormant after my failure", "I am dormant after
// the teardown you asked for", "I finished". A report is queued under a
// small lock (`event_mutex`) and the supervisor is made to run: a message
// (a `kick`, one at a time) while its mailbox is open, a wake() once it is
// ending. The supervisor handles the queued events in its own turns, one at
// a time, under the child-table lock (`table_mutex`, also taken by
// start_child / terminate_child / which_child for a table update).
//
// A group restart is two phases. Teardown: one affected sibling after the
// other, in reverse start order, gets a teardown request (the restart bit
// of its lifecycle word, with the generation it is meant for;
// runtime/actor/state.hpp), and the supervisor waits until it reported
// itself dormant before it asks the next. Rebuild: in start order, a
// dormant child is roused (it builds a new object from its copies and runs
// on_start), a finished one is respawned from its definition (a new cell).
// Events of children outside the group wait until it is rebuilt.
//
// A supervisor's end is held (hold_end(), called by its last turn instead
// of finishing): its mailbox closes, its children are stopped or shut down
// in reverse start order, each waited for up to its shutdown time, and
// only then does it finish. While it waits it is dormant (state.hpp), woken
// by each event.

#include "runtime/supervision/supervisor.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <courier/detail/allocator.hpp>
#include <courier/detail/failure.hpp>
#include <courier/detail/frame.hpp>
#include <courier/detail/timers.hpp>
#include <courier/supervisor.hpp>

#include "runtime/actor/core.hpp"
#include "runtime/actor/extras.hpp"
#include "runtime/actor/lifecycle.hpp"
#include "runtime/actor/restart.hpp"
#include "runtime/actor/state.hpp"
#include "runtime/mailbox/mailbox.hpp"
#include "runtime/sched/scheduler.hpp"
#include "runtime/support/chaos.hpp"
#include "runtime/system/system.hpp"

namespace courier::detail {

class child_def_access {
 public:
  static child_factory* factory(const courier::child_def& d) noexcept { return d.factory_; }
};

namespace {

using clock = std::chrono::steady_clock;
namespace bits = internal::bits;
using internal::core_of;
using internal::request_end;
using internal::extras_if_any;
using internal::state;

enum class phase : std::uint8_t {
  running,  // an incarnation runs (or is being built)
  tearing,  // a teardown was requested; waiting for its report
  dormant,  // torn down, waiting for the supervisor
  dead,     // finished; a respawn is pending
};

struct child_record {
  explicit child_record(courier::child_def d) : def(std::move(d)) {}
  courier::child_def def;
  /// One address of the current cell; null while a respawn is pending.
  cell_base* cell = nullptr;
  std::uint32_t gen = 1;
  phase ph = phase::running;
  /// Affected by the group restart under way.
  bool in_group = false;
  /// The supervisor is ending: this child's stop or shutdown was requested.
  bool end_requested = false;
  /// The wait armed for it (a timeout of another round is stale).
  std::uint64_t round = 0;
  /// A child supervisor shut down by a group restart: respawned when it ended.
  bool respawn_after_end = false;

  const child_spec& spec() const noexcept { return def.spec(); }
};

struct event {
  enum class kind : std::uint8_t { dormant, exited, timeout, respawn_failed, recheck };
  kind what;
  cell_base* cell = nullptr;
  std::uint32_t gen = 0;
  exit_reason reason = exit_reason::normal;
  bool by_self = false;
  std::uint64_t round = 0;
  child_record* record = nullptr;  // respawn_failed
};

/// The message that makes a supervisor with an open mailbox handle its
/// events (state == null: a teardown's nudge to a child, which does nothing).
struct kick_envelope final : envelope {
  explicit kick_envelope(supervisor_state* s) : envelope(&run_fn, 0), target(s) {}
  static ran run_fn(envelope* e, cell_base* base, action what) noexcept;
  supervisor_state* target;
};

thread_local const supervisor_state* table_held_here = nullptr;

}  // namespace

struct supervisor_state {
  explicit supervisor_state(const supervisor_flags& f) : flags(f) {}

  std::atomic<std::uint32_t> refs{1};
  supervisor_flags flags;
  /// The static children's definitions (copies), started by start().
  std::vector<courier::child_def> statics;
  internal::system* sys = nullptr;
  /// The supervisor's cell: valid while !finished (its last turn has not run).
  cell_base* self = nullptr;

  // -- the child table: table_mutex --------------------------------------------------
  std::mutex table_mutex;
  /// Start order: the static children, then start_child's, in the order
  /// they took the lock. A respawned child keeps its slot.
  std::vector<std::unique_ptr<child_record>> children;
  /// Removed (terminate_child, a temporary sibling of a group restart):
  /// still holding an address until they finish.
  std::vector<std::unique_ptr<child_record>> leaving;
  /// A group restart waits for teardowns.
  bool restarting = false;
  /// Escalating or ending: no restart starts; start_child is refused.
  bool ending_mode = false;
  bool finished_mode = false;
  std::deque<clock::time_point> restarts;
  std::vector<event> deferred;
  std::deque<event> work;
  bool end_begun = false;
  bool end_by_stop = false;
  child_record* waiting_for = nullptr;
  std::uint64_t rounds = 0;

  // -- reports: event_mutex ------------------------------------------------------------
  std::mutex event_mutex;
  std::vector<event> pending;
  bool kicked = false;
  bool ending = false;
  bool finished = false;

  // -- the supervisor's turns ------------------------------------------------------------
  void post(const event& ev) noexcept;
  void drain_open() noexcept;
  bool hold(cell_base& cell) noexcept;

  std::vector<event> take_pending() noexcept;
  void handle(const event& ev) noexcept;
  void handle_ending(const event& ev) noexcept;
  void apply_strategy(child_record& c) noexcept;
  void teardown(child_record& r) noexcept;
  void check_group() noexcept;
  void rebuild(child_record& r) noexcept;
  void respawn(child_record& r) noexcept;
  void escalate() noexcept;
  void advance_end() noexcept;
  void arm_wait(child_record& r) noexcept;
  void remove(child_record& r) noexcept;
  void report(const child_record& r, std::string_view what) noexcept;
  child_record* find(cell_base* cell) noexcept;
  child_record* find_leaving(cell_base* cell) noexcept;
  child_record* find_round(std::uint64_t round) noexcept;
  bool in_table(const child_record* r) const noexcept;
};

namespace {

ran kick_envelope::run_fn(envelope* e, cell_base*, action what) noexcept {
  auto* self = static_cast<kick_envelope*>(e);
  if (what == action::handle && self->target) self->target->drain_open();
  if (what == action::release) {
    if (self->target) internal::release_sup(self->target);
    detail::destroy(self);
  }
  return ran::done;
}

/// Mails a kick (`target` null: a teardown's nudge, which does nothing):
/// false when it could not be queued (the mailbox is closed, or no memory).
bool mail_kick(cell_base* cell, supervisor_state* target) noexcept {
  kick_envelope* e = nullptr;
  try {
    e = make<kick_envelope>(target);
  } catch (...) {
    return false;
  }
  if (target) internal::retain_sup(target);  // the envelope's
  switch (deliver(cell, e, true)) {
    case delivery::accepted:
      return true;
    case delivery::rejected_closed:
    case delivery::rejected_full:
      dispose(cell, e);
      return false;
    case delivery::refused_queued:
      return false;  // queued but refused: the mailbox owns it
  }
  return false;
}

/// Makes the supervisor handle its events: a message while its mailbox is
/// open, else a wake() of its ending (under event_mutex, so `self` is valid;
/// a wake of a live supervisor is harmless: its ending loop, or a stale bit).
void kick(supervisor_state& s) noexcept {
  if (!mail_kick(s.self, &s)) wake(s.self);
}

/// A nudge: makes an idle child run (its next turn sees the teardown bit).
/// Not queued: the child is ending, or sees the bit at its next message.
void nudge(cell_base* cell) noexcept { (void)mail_kick(cell, nullptr); }

void timeout_job(void* first, void* second, bool fired) noexcept {
  auto* s = static_cast<supervisor_state*>(first);
  if (fired) {
    event ev{event::kind::timeout};
    ev.round = reinterpret_cast<std::uintptr_t>(second);
    s->post(ev);
  }
  internal::release_sup(s);
}

bool abnormal(exit_reason r) noexcept { return r == exit_reason::failed || r == exit_reason::linked; }

}  // namespace

// -- reports --------------------------------------------------------------------------

void supervisor_state::post(const event& ev) noexcept {
  std::lock_guard lock(event_mutex);
  if (finished) return;
  try {
    pending.push_back(ev);
  } catch (...) {
    sys->report("supervisor", "event", "out of memory: a child's report was lost");
    return;
  }
  if (ending) {
    wake(self);  // its last turn loops until the children finished
    return;
  }
  if (kicked) return;
  kicked = true;
  kick(*this);
}

std::vector<event> supervisor_state::take_pending() noexcept {
  std::vector<event> batch;
  std::lock_guard lock(event_mutex);
  kicked = false;
  batch.swap(pending);
  return batch;
}

void supervisor_state::drain_open() noexcept {
  // Ending already: its last turn handles the events (hold()).
  if (state::end_requested(core_of(*self)) & bits::end_requested) return;
  for (;;) {
    auto batch = take_pending();
    if (batch.empty()) return;
    std::lock_guard lock(table_mutex);
    table_held_here = this;
    for (auto& ev : batch) {
      work.push_back(ev);
      while (!work.empty()) {
        auto next = work.front();
        work.pop_front();
        if (ending_mode)
          handle_ending(next);
        else
          handle(next);
      }
    }
    table_held_here = nullptr;
  }
}

// -- lookups ---------------------------------------------------------------------------

child_record* supervisor_state::find(cell_base* cell) noexcept {
  for (auto& r : children)
    if (r->cell == cell && cell) return r.get();
  return nullptr;
}

child_record* supervisor_state::find_leaving(cell_base* cell) noexcept {
  for (auto& r : leaving)
    if (r->cell == cell && cell) return r.get();
  return nullptr;
}

child_record* supervisor_state::find_round(std::uint64_t round) noexcept {
  for (auto& r : children)
    if (r->round == round) return r.get();
  for (auto& r : leaving)
    if (r->round == round) return r.get();
  return nullptr;
}

bool supervisor_state::in_table(const child_record* r) const noexcept {
  return std::any_of(children.begin(), children.end(), [&](auto& c) { return c.get() == r; });
}

void supervisor_state::report(const child_record& r, std::string_view what) noexcept {
  sys->report(r.cell ? name_of(r.cell) : std::string_view(r.spec().id), "supervisor", what);
}

/// Drops a record (from the table or the leaving list) and its address.
void supervisor_state::remove(child_record& r) noexcept {
  if (waiting_for == &r) waiting_for = nullptr;
  auto* cell = std::exchange(r.cell, nullptr);
  auto drop = [&](auto& list) {
    auto it = std::find_if(list.begin(), list.end(), [&](auto& c) { return c.get() == &r; });
    if (it == list.end()) return false;
    list.erase(it);
    return true;
  };
  if (!drop(children)) drop(leaving);
  if (cell) release_address(cell);
}

void supervisor_state::arm_wait(child_record& r) noexcept {
  auto wait = r.spec().shutdown;
  r.round = ++rounds;
  if (wait == courier::infinite || wait.count() <= 0) return;
  internal::retain_sup(this);  // the timer's
  add_timer(sys, clock::now() + wait,
            timer_job{&timeout_job, this, reinterpret_cast<void*>(static_cast<std::uintptr_t>(r.round))});
}

// -- events while the supervisor runs ----------------------------------------------------------

void supervisor_state::handle(const event& ev) noexcept {
  switch (ev.what) {
    case event::kind::exited: {
      if (auto* gone = find_leaving(ev.cell)) {
        remove(*gone);
        return;
      }
      auto* r = find(ev.cell);
      if (!r) return;
      if (std::exchange(r->respawn_after_end, false) && restarting && r->in_group) {
        release_address(std::exchange(r->cell, nullptr));  // its subtree ended: a new cell at the rebuild
        r->ph = phase::dead;
        check_group();
        return;
      }
      auto type = r->spec().restart;
      // "From outside": a stop or shutdown of someone else (the actor did
      // not ask for its own end, and it did not fail).
      bool outside = !ev.by_self && !abnormal(ev.reason);
      bool respawn = type != restart_type::temporary && !outside &&
                     (type == restart_type::permanent || abnormal(ev.reason));
      if (restarting && !r->in_group) {
        deferred.push_back(ev);
        return;
      }
      if (!respawn || sys->shutdown_begun()) {
        r->in_group = false;
        remove(*r);
        check_group();
        return;
      }
      release_address(std::exchange(r->cell, nullptr));
      r->ph = phase::dead;
      if (restarting) {
        check_group();  // a member of the group ended: rebuilt by a respawn
        return;
      }
      apply_strategy(*r);
      return;
    }
    case event::kind::dormant: {
      auto* r = find(ev.cell);
      if (!r || ev.gen != r->gen) return;  // removed, or a superseded incarnation
      if (restarting) {
        if (!r->in_group) {
          deferred.push_back(ev);
        } else if (r->ph == phase::tearing || r->ph == phase::running) {
          r->ph = phase::dormant;
          check_group();
        }
        return;
      }
      if (r->ph != phase::running) return;
      r->ph = phase::dormant;
      if (sys->shutdown_begun()) return;  // the runtime's shutdown rebuilds it to drain
      apply_strategy(*r);
      return;
    }
    case event::kind::timeout: {
      auto* r = find_round(ev.round);
      if (!r) return;
      if (r->ph == phase::tearing && in_table(r))
        report(*r, "stuck in a handler during a restart");
      else if (!in_table(r))
        report(*r, "did not finish within its shutdown time");
      return;
    }
    case event::kind::respawn_failed: {
      if (!in_table(ev.record) || ev.record->ph != phase::dead) return;
      apply_strategy(*ev.record);
      return;
    }
    case event::kind::recheck:
      check_group();
      return;
  }
}

void supervisor_state::apply_strategy(child_record& c) noexcept {
  auto now = clock::now();
  while (!restarts.empty() && now - restarts.front() >= flags.period) restarts.pop_front();
  if (restarts.size() >= flags.intensity) {
    escalate();
    return;
  }
  try {
    restarts.push_back(now);
  } catch (...) {  // out of memory: restart uncounted rather than not at all
  }
  auto at = std::find_if(children.begin(), children.end(), [&](auto& r) { return r.get() == &c; });
  auto first = static_cast<std::size_t>(at - children.begin());
  auto last = first + 1;  // one_for_one
  if (flags.strategy == restart_strategy::one_for_all) first = 0;
  if (flags.strategy != restart_strategy::one_for_one) last = children.size();
  // Teardown, in reverse start order.
  std::vector<child_record*> group;
  try {
    for (auto i = first; i < last; ++i) group.push_back(children[i].get());
  } catch (...) {  // out of memory: only the child itself
    group.assign(1, &c);
  }
  for (auto it = group.rbegin(); it != group.rend(); ++it) {
    auto& r = **it;
    if (&r == &c) {
      r.in_group = true;
      continue;
    }
    if (r.spec().restart == restart_type::temporary) {  // stopped and removed instead
      if (r.cell) request_end(r.cell, bits::stop_requested, exit_reason::shutdown);
      auto slot = std::find_if(children.begin(), children.end(), [&](auto& p) { return p.get() == &r; });
      try {
        leaving.push_back(std::move(*slot));
        children.erase(slot);
      } catch (...) {
        remove(r);
      }
      continue;
    }
    r.in_group = true;  // torn down one at a time by check_group(), in reverse start order
  }
  restarting = true;
  check_group();
}

void supervisor_state::teardown(child_record& r) noexcept {
  r.ph = phase::tearing;
  auto& core = core_of(*r.cell);
  auto* x = extras_if_any(core);
  if (x->sup_self) {
    // A child supervisor is not rebuilt in place: it is shut down (its
    // subtree with it, in order) and respawned from its definition.
    r.respawn_after_end = true;
    request_end(r.cell, bits::shutdown_requested, exit_reason::shutdown);
    arm_wait(r);
    return;
  }
  // release: read by the child's turn after it acquired the restart bit (end_requested())
  x->teardown_gen.store(r.gen, std::memory_order_release);
  if (!state::request_teardown(core)) return;  // done already: its exit report comes
  COURIER_CHAOS_POINT("supervisor: teardown bit set, before the rouse");
  if (state::rouse(core, bits::suspended))
    internal::system_of(*r.cell).scheduler().schedule(r.cell);  // a suspended handler: cancelled by its next turn
  else
    nudge(r.cell);  // idle: a message makes it run; running: it sees the bit before its next message
  arm_wait(r);
}

void supervisor_state::check_group() noexcept {
  if (!restarting) return;
  for (auto& r : children)
    if (r->in_group && r->ph == phase::tearing) return;  // waiting for its report
  // Teardown: the next sibling that still runs, in reverse start order.
  for (auto it = children.rbegin(); it != children.rend(); ++it) {
    if ((*it)->in_group && (*it)->ph == phase::running) {
      teardown(**it);
      return;
    }
  }
  restarting = false;
  // Rebuild, in start order (a snapshot: a failed respawn may remove records).
  std::vector<child_record*> group;
  for (auto& r : children)
    if (r->in_group) group.push_back(r.get());
  for (auto* r : group) {
    r->in_group = false;
    if (in_table(r)) rebuild(*r);
  }
  // Events that waited for the group, in their order.
  auto later = std::move(deferred);
  deferred.clear();
  for (auto& ev : later) work.push_back(ev);
}

void supervisor_state::rebuild(child_record& r) noexcept {
  if (sys->shutdown_begun()) {  // no restart starts: the runtime drains what is left
    if (r.ph == phase::dead) remove(r);
    return;
  }
  ++r.gen;
  if (r.ph == phase::dormant) {
    auto& core = core_of(*r.cell);
    // relaxed: published to the child's turn by rouse()'s acq_rel
    extras_if_any(core)->sup_gen.store(r.gen, std::memory_order_relaxed);
    r.ph = phase::running;
    if (state::rouse(core)) {
      internal::counters_here(*sys).add(&internal::counter_set::restarted);
      internal::system_of(*r.cell).scheduler().schedule(r.cell);
    }
    // else: a stop or a shutdown woke it first; its exit report comes
  } else if (r.ph == phase::dead) {
    respawn(r);
  }
}

void supervisor_state::respawn(child_record& r) noexcept {
  internal::child_binding binding{this, r.gen, r.spec().restart};
  auto* factory = child_def_access::factory(r.def);
  cell_base* cell = nullptr;
  try {
    cell = factory->spawn(factory, sys, r.spec().options, &binding);
  } catch (...) {
    report(r, current_exception_text());
    event ev{event::kind::respawn_failed};
    ev.record = &r;
    try {
      work.push_back(ev);  // one more failure event: counted, the strategy again
    } catch (...) {
      remove(r);
    }
    return;
  }
  if (!cell) {  // the runtime no longer accepts actors
    remove(r);
    return;
  }
  r.cell = cell;
  r.ph = phase::running;
}

void supervisor_state::escalate() noexcept {
  ending_mode = true;
  restarting = false;
  for (auto& r : children) r->in_group = false;
  deferred.clear();
  internal::stop_failed(*self, &internal::extras_of(core_of(*self)), "restart intensity exceeded");
}

// -- the end --------------------------------------------------------------------------------

void supervisor_state::handle_ending(const event& ev) noexcept {
  switch (ev.what) {
    case event::kind::exited:
      if (auto* r = find(ev.cell)) {
        remove(*r);
      } else if (auto* gone = find_leaving(ev.cell)) {
        remove(*gone);
      }
      return;
    case event::kind::dormant:
      // A child that failed (or finished a teardown) while we end: no new
      // incarnation. Its stop is requested in order; one already requested
      // (a shutdown) rebuilt it to drain.
      if (auto* r = find(ev.cell)) r->ph = phase::dormant;
      return;
    case event::kind::timeout:
      if (waiting_for && waiting_for->round == ev.round) {
        report(*waiting_for, "did not finish within its shutdown time");
        waiting_for = nullptr;
      } else if (auto* r = find_round(ev.round); r && !in_table(r)) {
        report(*r, "did not finish within its shutdown time");
      }
      return;
    case event::kind::respawn_failed:
      if (in_table(ev.record)) remove(*ev.record);
      return;
    case event::kind::recheck:
      return;
  }
}

/// Requests the next child's end, in reverse start order, once the one
/// waited for finished (or its wait expired).
void supervisor_state::advance_end() noexcept {
  while (!waiting_for) {
    child_record* next = nullptr;
    for (auto it = children.rbegin(); it != children.rend(); ++it)
      if (!(*it)->end_requested) {
        next = it->get();
        break;
      }
    if (!next) return;
    next->end_requested = true;
    if (!next->cell) {
      remove(*next);
      continue;
    }
    // A dormant or tearing child gets no new incarnation (stop wins),
    // except in the runtime's shutdown, which drains every mailbox.
    bool stop = end_by_stop || (next->ph != phase::running && !sys->shutdown_begun());
    request_end(next->cell, stop ? bits::stop_requested : bits::shutdown_requested, exit_reason::shutdown);
    if (next->spec().shutdown.count() <= 0) continue;  // 0: not waited for
    waiting_for = next;
    arm_wait(*next);
  }
}

bool supervisor_state::hold(cell_base& cell) noexcept {
  auto& core = core_of(cell);
  (void)state::close(core, internal::chaos_hook{});  // the owner closes: nothing to schedule
  {
    std::lock_guard lock(event_mutex);
    ending = true;
  }
  for (;;) {
    state::end_dormancy(core);
    auto batch = take_pending();
    bool done = false;
    {
      std::lock_guard lock(table_mutex);
      table_held_here = this;
      if (!end_begun) {
        end_begun = true;
        ending_mode = true;
        restarting = false;
        for (auto& r : children) r->in_group = false;
        deferred.clear();
        end_by_stop = (state::end_requested(core) & bits::stop_requested) != 0;
      }
      for (auto& ev : batch) handle_ending(ev);
      work.clear();
      advance_end();
      done = !waiting_for && std::all_of(children.begin(), children.end(), [](auto& r) { return r->end_requested; });
      if (done) {
        finished_mode = true;
        // Children not waited for (shutdown 0, or stuck) and leaving ones:
        // our addresses go; they finish when their handlers return.
        while (!children.empty()) remove(*children.back());
        while (!leaving.empty()) remove(*leaving.back());
      }
      table_held_here = nullptr;
    }
    if (done) {
      std::lock_guard lock(event_mutex);
      finished = true;  // later reports are ignored; `self` is not touched again
      pending.clear();
      return false;
    }
    if (state::go_dormant(core, bits::woken) == internal::suspend_result::parked) return true;
  }
}

// -- calls from the public templates --------------------------------------------------------

supervisor_state* make_supervisor(const supervisor_flags& flags, const courier::child_def* defs, std::size_t count) {
  auto* s = new supervisor_state(flags);
  try {
    s->statics.assign(defs, defs + count);
  } catch (...) {
    delete s;
    throw;
  }
  return s;
}

void release_supervisor(supervisor_state* s) noexcept { internal::release_sup(s); }

std::string_view check_spawned_supervisor(courier::supervisor& sup) noexcept {
  auto* s = sup.state_;
  if (s->flags.period.count() <= 0) return "invalid_argument: a supervisor needs a period above 0";
  for (std::size_t i = 0; i < s->statics.size(); ++i) {
    const auto& id = s->statics[i].spec().id;
    if (id.empty()) return "invalid_argument: a child's id is empty";
    for (std::size_t j = 0; j < i; ++j)
      if (s->statics[j].spec().id == id) return "invalid_argument: two children have the same id";
  }
  return {};
}

void start_spawned_supervisor(courier::supervisor& sup, cell_base* self) {
  auto* s = sup.state_;
  s->sys = self->sys;
  s->self = self;
  auto& x = internal::extras_of(core_of(*self));
  internal::retain_sup(s);
  x.sup_self = s;  // the supervisor's last turn holds its end (turn.cpp)
  std::lock_guard lock(s->table_mutex);
  table_held_here = s;
  try {
    s->children.reserve(s->statics.size());
    for (auto& def : s->statics) {
      auto record = std::make_unique<child_record>(def);
      internal::child_binding binding{s, 1, def.spec().restart};
      auto* factory = child_def_access::factory(def);
      record->cell = factory->spawn(factory, s->sys, def.spec().options, &binding);
      if (!record->cell) break;  // the runtime shuts down: it stops what started
      s->children.push_back(std::move(record));
    }
  } catch (...) {
    table_held_here = nullptr;
    stop(self);  // the children started so far are stopped with it
    throw;
  }
  table_held_here = nullptr;
  s->statics.clear();  // a respawned supervisor is built from its own copies
}

cell_base* start_child(cell_base* sup, const courier::child_def& def, errc& code) {
  auto* x = extras_if_any(core_of(*sup));
  auto* s = x ? x->sup_self : nullptr;
  code = errc::actor_stopped;
  if (!s) return nullptr;
  if (table_held_here == s) {  // a child's constructor, while this supervisor builds it
    code = errc::would_block;
    return nullptr;
  }
  std::lock_guard lock(s->table_mutex);
  if (s->ending_mode || s->finished_mode || s->sys->shutdown_begun() ||
      (state::end_requested(core_of(*sup)) & bits::end_requested))
    return nullptr;
  const auto& id = def.spec().id;
  code = errc::invalid_argument;
  if (id.empty()) return nullptr;
  for (auto& r : s->children)
    if (r->spec().id == id) return nullptr;
  code = errc::actor_stopped;
  s->children.reserve(s->children.size() + 1);
  auto record = std::make_unique<child_record>(def);
  internal::child_binding binding{s, 1, def.spec().restart};
  auto* factory = child_def_access::factory(def);
  table_held_here = s;
  struct unmark {
    ~unmark() { table_held_here = nullptr; }
  } guard;
  record->cell = factory->spawn(factory, s->sys, def.spec().options, &binding);
  if (!record->cell) return nullptr;
  auto* cell = record->cell;
  s->children.push_back(std::move(record));  // reserved: cannot throw
  retain_address(cell);                      // the caller's
  return cell;
}

errc terminate_child(cell_base* sup, std::string_view id) noexcept {
  auto* x = extras_if_any(core_of(*sup));
  auto* s = x ? x->sup_self : nullptr;
  if (!s || table_held_here == s) return s ? errc::would_block : errc::actor_stopped;
  bool recheck = false;
  {
    std::lock_guard lock(s->table_mutex);
    if (s->finished_mode) return errc::actor_stopped;
    auto it = std::find_if(s->children.begin(), s->children.end(), [&](auto& r) { return r->spec().id == id; });
    if (it == s->children.end()) return errc::invalid_argument;
    auto& r = **it;
    recheck = r.in_group;
    r.in_group = false;
    if (s->waiting_for == &r) s->waiting_for = nullptr;
    try {
      s->leaving.push_back(std::move(*it));
    } catch (...) {
      // out of memory: stop it without the stuck report
      if (r.cell) request_end(r.cell, bits::shutdown_requested, exit_reason::shutdown);
      s->remove(r);
      return {};
    }
    s->children.erase(it);
    if (r.cell) {
      request_end(r.cell, bits::shutdown_requested, exit_reason::shutdown);  // closes its mailbox now
      s->arm_wait(r);
    } else {
      s->remove(r);
    }
  }
  if (recheck) {  // a group restart may have waited for it
    event ev{event::kind::recheck};
    s->post(ev);
  }
  return {};
}

cell_base* which_child(cell_base* sup, std::string_view id, const cell_ops* ops, errc& code) noexcept {
  auto* x = extras_if_any(core_of(*sup));
  auto* s = x ? x->sup_self : nullptr;
  code = errc::actor_stopped;
  if (!s) return nullptr;
  if (table_held_here == s) {
    code = errc::would_block;
    return nullptr;
  }
  std::lock_guard lock(s->table_mutex);
  if (s->finished_mode) return nullptr;
  code = errc::invalid_argument;
  for (auto& r : s->children) {
    if (r->spec().id != id) continue;
    if (!r->cell || r->cell->ops != ops) return nullptr;
    retain_address(r->cell);
    return r->cell;
  }
  return nullptr;
}

cell_base* supervisor_of(cell_base* child) noexcept {
  auto* x = extras_if_any(core_of(*child));
  if (!x || !x->sup_cell) return nullptr;
  retain_address(x->sup_cell);
  return x->sup_cell;
}

void bind_child(cell_base* cell, const void* binding) {
  auto* b = static_cast<const internal::child_binding*>(binding);
  auto& x = internal::extras_of(core_of(*cell));
  internal::retain_sup(b->core);
  x.sup = b->core;
  retain_address(b->core->self);  // a child keeps its supervisor reachable
  x.sup_cell = b->core->self;
  x.sup_type = b->type;
  x.sup_gen.store(b->gen, std::memory_order_relaxed);  // relaxed: the cell is not shared yet
  x.policy = {};  // options.failure is ignored: the supervisor decides
}

}  // namespace courier::detail

namespace courier::internal {

void retain_sup(sup_core* s) noexcept {
  s->refs.fetch_add(1, std::memory_order_relaxed);  // relaxed: the caller holds a reference
}

void release_sup(sup_core* s) noexcept {
  // acq_rel: the last owner sees every other owner's use before it frees
  if (s && s->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete s;
}

void report_dormant(sup_core* s, detail::cell_base* child, std::uint32_t gen) noexcept {
  detail::event ev{detail::event::kind::dormant};
  ev.cell = child;
  ev.gen = gen;
  s->post(ev);
}

void report_exit(detail::cell_base& child, cell_extras& x) noexcept {
  if (!x.sup) return;
  detail::event ev{detail::event::kind::exited};
  ev.cell = &child;
  ev.reason = core_of(child).recorded_reason();
  ev.by_self = x.ended_by_self;
  x.sup->post(ev);
  unbind(x);
}

void unbind(cell_extras& x) noexcept {
  if (auto* cell = std::exchange(x.sup_cell, nullptr)) detail::release_address(cell);
  if (auto* s = std::exchange(x.sup, nullptr)) release_sup(s);
}

bool hold_end(detail::cell_base& cell) noexcept {
  auto* x = extras_if_any(core_of(cell));
  if (!x || !x->sup_self) return false;
  return x->sup_self->hold(cell);
}

}  // namespace courier::internal
