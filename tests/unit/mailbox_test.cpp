// The mailbox list (runtime/mailbox/mailbox.hpp) and the head word's
// transitions of the actor-state protocol (runtime/actor/state.hpp): push/pop
// order, the idle bit (exactly one scheduling push), close, refusal, the last
// address's flag and the release CAS.
#include <atomic>
#include <thread>
#include <vector>

#include "runtime/mailbox/mailbox.hpp"
#include "tests/support/doctest.hpp"

using namespace courier;
using courier::internal::cell_core;
using courier::internal::mailbox;
using courier::internal::drop_result;
using courier::internal::push_result;
using courier::internal::release_result;
using courier::internal::state;
namespace bits = courier::internal::bits;
using detail::action;
using detail::cell_base;
using detail::envelope;

namespace {

struct test_envelope : envelope {
  static inline std::atomic<int> released{0};
  explicit test_envelope(std::uint64_t v, std::uint32_t sender_id = 0)
      : envelope(&run_fn, envelope::counted), value(v), sender(sender_id) {}
  static detail::ran run_fn(envelope* e, cell_base*, action what) noexcept {
    if (what == action::release) {
      released.fetch_add(1);
      delete static_cast<test_envelope*>(e);
    }
    return detail::ran::done;
  }
  std::uint64_t value;
  std::uint32_t sender;
};

struct no_chaos {
  void operator()(const char*) const noexcept {}
};

/// Drops "the last address" of a test cell (its count is set to 1 first).
drop_result drop_last(cell_core& cell) {
  cell.strong().store(1);
  return state::drop_address(cell, no_chaos{});
}

struct fresh_cell {
  cell_base base;
  cell_core& cell = *::new (static_cast<void*>(base.runtime_block)) cell_core();
  fresh_cell() { mailbox::init(cell); }
  ~fresh_cell() {
    mailbox box(cell);
    while (box.pop()) {  // each pop releases the previous node
    }
    box.release_dummy();
  }
};

}  // namespace

TEST_CASE("a fresh mailbox is empty and owned by its spawner, not idle") {
  fresh_cell c;
  mailbox box(c.cell);
  CHECK(box.empty());
  CHECK(box.pop() == nullptr);
  // the first push does not schedule: the spawner schedules the first turn
  CHECK(box.push(new test_envelope(1)) == push_result::accepted);
  auto* e = box.pop();
  REQUIRE(e != nullptr);
  CHECK(static_cast<test_envelope*>(e)->value == 1);
}

TEST_CASE("messages pop in push order and each dummy is released once") {
  test_envelope::released = 0;
  {
    fresh_cell c;
    mailbox box(c.cell);
    for (int i = 0; i < 100; ++i) (void)box.push(new test_envelope(i));
    for (int i = 0; i < 100; ++i) {
      auto* e = box.pop();
      REQUIRE(e != nullptr);
      CHECK(static_cast<test_envelope*>(e)->value == static_cast<std::uint64_t>(i));
    }
    CHECK(box.pop() == nullptr);
    CHECK(box.empty());
    CHECK(test_envelope::released.load() == 99);  // the last one is the dummy
  }
  CHECK(test_envelope::released.load() == 100);
}

TEST_CASE("release sets idle only when empty, and the next push reports the idle actor exactly once") {
  fresh_cell c;
  mailbox box(c.cell);
  (void)box.push(new test_envelope(1));
  CHECK(state::release(c.cell) == release_result::busy);  // not empty
  box.pop();
  CHECK(state::release(c.cell) == release_result::released);
  CHECK(box.push(new test_envelope(2)) == push_result::accepted_idle);
  CHECK(box.push(new test_envelope(3)) == push_result::accepted);
}

TEST_CASE("the last address dropped while the actor runs fails its release once, with the flag") {
  fresh_cell c;
  mailbox box(c.cell);
  CHECK(drop_last(c.cell) == drop_result::flagged);  // running: flagged, not claimed
  CHECK(state::release(c.cell) == release_result::unreachable);
  CHECK(state::release(c.cell) == release_result::unreachable);  // sticky until the owner clears it
  state::clear_unreachable(c.cell);  // the actor took an address to itself again
  CHECK(state::release(c.cell) == release_result::released);
}

TEST_CASE("the last address dropped while the actor is idle claims it for the dropper") {
  fresh_cell c;
  mailbox box(c.cell);
  REQUIRE(state::release(c.cell) == release_result::released);
  CHECK(drop_last(c.cell) == drop_result::claimed);  // the dropper now owns it and schedules it
  CHECK(box.push(new test_envelope(1)) == push_result::accepted);  // owned: no second schedule
  box.pop();
  CHECK(state::release(c.cell) == release_result::released);  // no flag was left behind
}

TEST_CASE("a push wipes the unreachable flag, and close clears it so the final release succeeds") {
  fresh_cell c;
  mailbox box(c.cell);
  CHECK(drop_last(c.cell) == drop_result::flagged);
  CHECK(box.push(new test_envelope(1)) == push_result::accepted);
  box.pop();
  CHECK(state::release(c.cell) == release_result::released);  // the owner reads the count before each release instead
  REQUIRE(drop_last(c.cell) == drop_result::claimed);  // idle now: claimed
  CHECK(drop_last(c.cell) == drop_result::flagged);  // running again: flagged
  CHECK_FALSE(state::close(c.cell, no_chaos{}));
  CHECK(drop_last(c.cell) == drop_result::closing);  // closed: nothing to do, the actor finishes anyway
  CHECK(state::final_release(c.cell));
}

TEST_CASE("close refuses new pushes and hands an idle actor to the closer") {
  fresh_cell c;
  mailbox box(c.cell);
  REQUIRE(state::release(c.cell) == release_result::released);
  CHECK(state::close(c.cell, no_chaos{}));        // it was idle: the closer must schedule it
  CHECK_FALSE(state::close(c.cell, no_chaos{}));  // already closed
  auto* e = new test_envelope(1);
  CHECK(box.push(e) == push_result::rejected);
  delete e;
  CHECK(state::release(c.cell) == release_result::busy);  // an open-mailbox release fails on a closed one
  CHECK(state::final_release(c.cell));
}

TEST_CASE("a push racing close is refused yet linked, and `closed` stays set") {
  fresh_cell c;
  mailbox box(c.cell);
  (void)state::close(c.cell, no_chaos{});
  // Simulate a push that read the word before the close: exchange directly.
  auto* e = new test_envelope(7);
  e->next.store(nullptr);
  auto old = c.cell.head.exchange(reinterpret_cast<std::uintptr_t>(e));
  CHECK((old & bits::closed) != 0);
  // ... which push() handles as: mark refused, link, restore closed
  e->flags |= envelope::refused;
  state::pointer(old)->next.store(e);
  c.cell.head.fetch_or(bits::closed);
  auto* popped = box.pop();
  REQUIRE(popped == e);
  CHECK((popped->flags & envelope::refused) != 0);
  auto* f = new test_envelope(8);
  CHECK(box.push(f) == push_result::rejected);
  delete f;
  CHECK(state::final_release(c.cell));
}

TEST_CASE("a push into a done mailbox that races the final release makes the pusher the owner") {
  fresh_cell c;
  mailbox box(c.cell);
  (void)state::close(c.cell, no_chaos{});
  REQUIRE(state::final_release(c.cell));  // done: closed | idle
  auto* e = new test_envelope(9);
  e->next.store(nullptr);
  // the pre-check would refuse it; force the race by going straight to the exchange path
  auto old = c.cell.head.exchange(reinterpret_cast<std::uintptr_t>(e));
  CHECK((old & bits::idle) != 0);
  CHECK((old & bits::closed) != 0);
  state::pointer(old)->next.store(e);
  c.cell.head.fetch_or(bits::closed);
  CHECK(box.pop() == e);
  CHECK(state::final_release(c.cell));
}

TEST_CASE("with many producers, exactly one push per idle period reports the idle actor, and each producer's order holds") {
  constexpr int producers = 4;
  constexpr std::uint64_t per_producer = 50'000;
  fresh_cell c;
  mailbox box(c.cell);
  REQUIRE(state::release(c.cell) == release_result::released);
  std::atomic<int> owner_claims{0};
  std::atomic<bool> owned{false};
  std::atomic<std::uint64_t> consumed{0};
  std::vector<std::uint64_t> next(producers, 0);
  std::atomic<int> order_errors{0};
  std::atomic<int> double_owner{0};

  // The consumer runs only when a push handed it ownership (like a worker turn).
  auto drain = [&] {
    if (owned.exchange(true)) double_owner.fetch_add(1);
    for (;;) {
      while (auto* e = box.pop()) {
        auto* t = static_cast<test_envelope*>(e);
        if (next[t->sender] != t->value) order_errors.fetch_add(1);
        next[t->sender] = t->value + 1;
        consumed.fetch_add(1);
      }
      owned.store(false);
      if (state::release(c.cell) == release_result::released) return;
      if (owned.exchange(true)) double_owner.fetch_add(1);
    }
  };
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p)
    threads.emplace_back([&, p] {
      for (std::uint64_t i = 0; i < per_producer; ++i)
        if (box.push(new test_envelope(i, static_cast<std::uint32_t>(p))) == push_result::accepted_idle) {
          owner_claims.fetch_add(1);
          drain();
        }
    });
  for (auto& t : threads) t.join();
  CHECK(consumed.load() == producers * per_producer);
  CHECK(order_errors.load() == 0);
  CHECK(double_owner.load() == 0);
  CHECK(owner_claims.load() >= 1);
  CHECK(box.empty());
}
