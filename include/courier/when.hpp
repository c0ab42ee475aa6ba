#pragma once
// Awaiting several replies at once, in a coroutine handler:
//
//   auto [price, stock] = co_await courier::when_all(ctx.ask(prices, quote{sku}), ctx.ask(stock, count{sku}));
//   auto first = co_await courier::when_any(ctx.ask_for(a, m, 50ms), ctx.ask_for(b, m, 50ms));
//   if (first.index == 0) use(std::get<0>(first.value));
//
// Every ask is sent when when_all / when_any is called (an ask alone is sent
// only at its co_await), so the requests run concurrently. when_all gives a
// std::tuple of the results, in argument order, once every reply is in.
// when_any gives the first reply to arrive (`index`: its argument position;
// `value`: a std::variant holding its result at that index); the others
// still run, and their replies are discarded (counted in
// metrics().replies_discarded). docs/coroutines.md has the details: what
// a stop or a restart of the awaiting actor does meanwhile (the frame goes,
// the replies are discarded when they come), and that the awaiting actor
// stays reachable until every reply is in.

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <new>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include <courier/context.hpp>
#include <courier/detail/allocator.hpp>
#include <courier/detail/awaitables.hpp>
#include <courier/detail/completion.hpp>
#include <courier/error.hpp>
#include <courier/recipient.hpp>

namespace courier {

/// What `co_await when_any(...)` gives: the first reply in.
template <class... R>
struct any_reply {
  /// Which ask (argument position) replied first.
  std::size_t index = 0;
  /// Its result, at alternative `index`.
  std::variant<result<R>...> value;
};

namespace detail {

/// Counts `n` replies nobody will read (runtime/system/runtime.cpp).
void count_discarded_replies(internal::system* sys, std::uint64_t n) noexcept;

/// What the replies of one when_all / when_any share. `word`:
///   low 16 bits  replies still to come
///   bits 16-23   when_any: the index of the first reply
///   won          when_any: a reply came (the first one set it)
///   awaiting     the frame suspended on the group (the reply that completes
///                it then wakes the actor; before, nobody does)
///   abandoned    the awaitable went without resuming (its frame was
///                destroyed): no wake at all
struct reply_group_base {
  static constexpr std::uint32_t count_mask = 0xffff;
  static constexpr std::uint32_t index_shift = 16;
  static constexpr std::uint32_t won = 1u << 29;
  static constexpr std::uint32_t awaiting = 1u << 30;
  static constexpr std::uint32_t abandoned = 1u << 31;

  reply_group_base(cell_base* waiter, bool first_wins, std::uint32_t replies, std::uint32_t references) noexcept
      : word(replies), refs(references), cell(waiter), sys(waiter->sys), any(first_wins) {
    revive_address(waiter);  // the pending replies are an address (until the last is in)
  }

  /// Reply `index` is stored.
  void arrived(std::size_t index) noexcept {
    // acq_rel: release publishes the stored value to the awaiter (its acquire
    // in await_ready/await_suspend, or the turn that wake() schedules);
    // acquire orders this reply after the earlier ones.
    auto old = word.load(std::memory_order_relaxed);
    std::uint32_t next;
    bool first = false;
    do {
      next = old - 1;
      first = any && !(old & won);
      if (first) next |= won | (static_cast<std::uint32_t>(index) << index_shift);
    } while (!word.compare_exchange_weak(old, next, std::memory_order_acq_rel, std::memory_order_relaxed));
    bool complete = any ? first : (next & count_mask) == 0;
    if (any && !first) count_discarded_replies(sys, 1);  // a loser
    if (complete && (old & awaiting) && !(old & abandoned)) wake(cell);
    if ((next & count_mask) == 0) release_address(cell);  // after the wake: the last use of the cell
  }

  bool complete(std::uint32_t w) const noexcept { return any ? (w & won) != 0 : (w & count_mask) == 0; }
  /// frame_base::ready: the awaited reply (or all of them) is in.
  static bool probe(const void* p) noexcept {
    auto* g = static_cast<const reply_group_base*>(p);
    return g->complete(g->word.load(std::memory_order_acquire));  // acquire: pairs with arrived()
  }

  std::atomic<std::uint32_t> word;
  ref_count refs;
  cell_base* cell;
  internal::system* sys;
  bool any;
  bool taken = false;  // the awaiter read the results (owner's turn; read by the last release)
};

/// Where a reply goes: its group and position (builds a group_reply in place).
struct reply_seat {
  reply_group_base* group;
  std::size_t index;
  void (*drop_group)(reply_group_base*) noexcept;
};

/// One reply of a group: the completion a request points at.
template <class R>
struct group_reply final : completion<R> {
  explicit group_reply(reply_seat seat) noexcept
      : completion<R>(&deliver_fn, &release_fn), group(seat.group), index(seat.index), drop_group(seat.drop_group) {}
  group_reply(const group_reply&) = delete;
  group_reply& operator=(const group_reply&) = delete;
  ~group_reply() {
    if (ready) value.~result<R>();
  }

  static void deliver_fn(completion<R>* base, result<R>&& v) noexcept {
    auto* self = static_cast<group_reply*>(base);
    ::new (static_cast<void*>(&self->value)) result<R>(std::move(v));
    self->ready = true;  // plain: published by arrived()'s release CAS
    self->group->arrived(self->index);
  }
  static void release_fn(completion<R>* base) noexcept {
    auto* self = static_cast<group_reply*>(base);
    self->drop_group(self->group);
  }

  reply_group_base* group;
  std::size_t index;
  void (*drop_group)(reply_group_base*) noexcept;
  bool ready = false;
  union {
    result<R> value;
  };
};

template <bool Any, class... R>
struct reply_group final : reply_group_base {
  template <std::size_t... I>
  reply_group(cell_base* waiter, std::uint32_t references, std::index_sequence<I...>) noexcept
      : reply_group_base(waiter, Any, sizeof...(R), references), replies(reply_seat{this, I, &drop}...) {}

  static void drop(reply_group_base* base) noexcept {
    auto* self = static_cast<reply_group*>(base);
    if (!self->refs.release()) return;  // the last one sees every reply's writes
    if (!self->taken) {
      // Nobody read them: the awaiting frame went first (when_any's losers
      // were counted as they came).
      std::uint64_t n = 0;
      std::apply([&](auto&... r) { ((n += r.ready ? 1 : 0), ...); }, self->replies);
      if (Any && n > 0) n = 1;
      if (n > 0) count_discarded_replies(self->sys, n);
    }
    detail::destroy(self);
  }

  std::tuple<group_reply<R>...> replies;
};

/// The reply type R of an ask's awaitable (it gives result<R>).
template <class Awaitable>
struct awaited;
template <class B, class M>
struct awaited<ask_awaitable<B, M>> {
  using type = reply_type_t<B, M>;
};
template <class R, class M>
struct awaited<recipient_awaitable<R, M>> {
  using type = R;
};
template <class Awaitable>
using awaited_type = typename awaited<std::remove_cvref_t<Awaitable>>::type;

/// What when_all / when_any return: launched at construction, awaited once.
template <bool Any, class... R>
class [[nodiscard]] group_awaitable {
 public:
  using group_type = reply_group<Any, R...>;

  template <class... Asks>
  explicit group_awaitable(Asks&&... asks) {
    auto* waiter = std::get<0>(std::forward_as_tuple(asks...)).waiter();
    std::uint32_t references = 1 + (asks.launch_references() + ...);  // ours, then each request's
    group_ = make<group_type>(waiter, references, std::index_sequence_for<R...>{});
    launch_all(std::index_sequence_for<R...>{}, asks...);
  }
  group_awaitable(group_awaitable&& other) noexcept : group_(std::exchange(other.group_, nullptr)) {}
  group_awaitable(const group_awaitable&) = delete;
  group_awaitable& operator=(const group_awaitable&) = delete;
  group_awaitable& operator=(group_awaitable&&) = delete;
  ~group_awaitable() {
    if (!group_) return;
    // acq_rel: a reply that completes the group later must not wake a
    // frame that is gone (its actor may have restarted and be awaiting
    // something else).
    group_->word.fetch_or(reply_group_base::abandoned, std::memory_order_acq_rel);
    group_type::drop(group_);
  }

  bool await_ready() const noexcept {
    return group_->complete(group_->word.load(std::memory_order_acquire));  // acquire: pairs with arrived()
  }
  template <courier_promise P>
  bool await_suspend(std::coroutine_handle<P> h) noexcept {
    static_cast<frame_base&>(h.promise()).awaits(&reply_group_base::probe, group_);
    // acq_rel: pairs with arrived(): either the completing reply sees
    // `awaiting` (and wakes us), or we see it complete and do not suspend.
    auto old = group_->word.fetch_or(reply_group_base::awaiting, std::memory_order_acq_rel);
    return !group_->complete(old);
  }
  auto await_resume() noexcept {
    group_->taken = true;
    if constexpr (Any) {
      auto w = group_->word.load(std::memory_order_acquire);  // acquire: as in await_ready
      std::size_t index = (w >> reply_group_base::index_shift) & 0xff;
      return first_of(index, std::index_sequence_for<R...>{});
    } else {
      return std::apply([](auto&... r) { return std::tuple<result<R>...>(std::move(r.value)...); }, group_->replies);
    }
  }

 private:
  template <std::size_t... I, class... Asks>
  void launch_all(std::index_sequence<I...>, Asks&... asks) noexcept {
    (asks.launch(&std::get<I>(group_->replies)), ...);
  }

  template <std::size_t... I>
  any_reply<R...> first_of(std::size_t index, std::index_sequence<I...>) noexcept {
    using value_type = std::variant<result<R>...>;
    using take_fn = value_type (*)(group_type*) noexcept;
    static constexpr take_fn take[] = {+[](group_type* g) noexcept {
      return value_type(std::in_place_index<I>, std::move(std::get<I>(g->replies).value));
    }...};
    return any_reply<R...>{index, take[index](group_)};
  }

  group_type* group_ = nullptr;
};

template <class T>
concept ask_result = requires { typename awaited<T>::type; };

}  // namespace detail

/// Sends every ask now; `co_await` gives std::tuple<result<R>...> once all
/// replies are in. The asks are ctx.ask(...) / ctx.ask_for(...) results of
/// this actor's context (by address or recipient), passed as they are.
template <class... Asks>
  requires(sizeof...(Asks) >= 1 && sizeof...(Asks) <= 255 && (detail::ask_result<std::remove_cvref_t<Asks>> && ...))
auto when_all(Asks&&... asks) {
  return detail::group_awaitable<false, detail::awaited_type<Asks>...>(asks...);
}

/// Sends every ask now; `co_await` gives any_reply<R...>: the first reply
/// in. The others are discarded when they come.
template <class... Asks>
  requires(sizeof...(Asks) >= 1 && sizeof...(Asks) <= 255 && (detail::ask_result<std::remove_cvref_t<Asks>> && ...))
auto when_any(Asks&&... asks) {
  return detail::group_awaitable<true, detail::awaited_type<Asks>...>(asks...);
}

}  // namespace courier
