#pragma once
// recipient<M> and recipient<R(M)>: "any actor that handles M", without
// naming its type. Two pointers: the cell (an address: it keeps the actor
// reachable) and a table of the (A, M) operations chosen where the
// recipient was made from an address<A>. A send through it is one indirect
// call, then exactly address<A>::send's work.
//
//   std::vector<courier::recipient<price_update>> subscribers{trader, logger};
//   for (auto& s : subscribers) (void)s.send(update);
//   courier::recipient<int(sum)> q = calc;   // the reply type must be exactly int

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <functional>
#include <type_traits>
#include <utility>

#include <courier/address.hpp>
#include <courier/error.hpp>
#include <courier/handlers.hpp>
#include <courier/reply.hpp>

namespace courier {

template <class Sig>
class recipient;

namespace detail {

/// The operations of one (A, M) pair, for recipient<M>.
template <class M>
struct recipient_ops {
  result<void> (*send_move)(cell_base*, M&&);
  result<void> (*send_copy)(cell_base*, const M&);
  /// A message envelope for a timer delivery (send_after): (message, flags).
  envelope* (*make_envelope)(const M&, std::uint32_t);
  /// The envelope of a tick of a timer with a handle (send_every).
  envelope* (*make_tick)(timer_block*, M&&);
};

/// ... and for recipient<R(M)>: the requests.
template <class R, class M>
struct recipient_ask_ops : recipient_ops<M> {
  reply<R> (*ask_move)(cell_base*, M&&);
  reply<R> (*ask_copy)(cell_base*, const M&);
  /// A request whose outcome completes `reply` (ctx.ask, co_await ctx.ask).
  void (*post_with_reply)(cell_base*, M&&, completion<R>*);
};

template <class A, class M>
struct recipient_table {
  static result<void> send_move(cell_base* c, M&& m) { return post<A>(c, std::move(m)); }
  static result<void> send_copy(cell_base* c, const M& m) { return post<A>(c, m); }
  static envelope* make_envelope(const M& m, std::uint32_t flags) {
    return make<message_envelope<A, M>>(flags, m);
  }
  static reply<reply_type_t<A, M>> ask_move(cell_base* c, M&& m) { return post_request<A>(c, std::move(m)); }
  static reply<reply_type_t<A, M>> ask_copy(cell_base* c, const M& m) { return post_request<A>(c, m); }
  static void with_reply(cell_base* c, M&& m, completion<reply_type_t<A, M>>* r) {
    post_with_reply<A>(c, std::move(m), r);
  }

  static constexpr recipient_ops<M> send_only{&send_move, &send_copy, &make_envelope, &tick_envelope<A, M>::wrap};
  static constexpr recipient_ask_ops<reply_type_t<A, M>, M> with_ask{
      {&send_move, &send_copy, &make_envelope, &tick_envelope<A, M>::wrap}, &ask_move, &ask_copy, &with_reply};
};

/// A reply already complete with `e` (a request through an empty recipient).
template <class R>
reply<R> failed_reply(error e) {
  auto* state = reply_state<R>::create();  // two references: the reply's and the request's
  state->try_complete(std::move(e));
  state->release();  // no request holds it
  return reply<R>(state);
}

/// What both recipient forms share: the cell (one address), the table, and send.
template <class Ops, class M>
class recipient_base {
 public:
  recipient_base() noexcept = default;
  recipient_base(const recipient_base& other) noexcept : cell_(other.cell_), ops_(other.ops_) {
    if (cell_) retain_address(cell_);
  }
  recipient_base(recipient_base&& other) noexcept
      : cell_(std::exchange(other.cell_, nullptr)), ops_(std::exchange(other.ops_, nullptr)) {}
  recipient_base& operator=(const recipient_base& other) noexcept {
    recipient_base copy(other);
    swap(copy);
    return *this;
  }
  recipient_base& operator=(recipient_base&& other) noexcept {
    recipient_base moved(std::move(other));
    swap(moved);
    return *this;
  }
  ~recipient_base() {
    if (cell_) release_address(cell_);
  }

  /// As address::send: actor_stopped (empty, stopped), mailbox_full; a
  /// refused message is left in the argument.
  [[nodiscard]] result<void> send(M&& message) const {
    if (!cell_) return error{errc::actor_stopped, "empty recipient"};
    return ops_->send_move(cell_, std::move(message));
  }
  [[nodiscard]] result<void> send(const M& message) const {
    if (!cell_) return error{errc::actor_stopped, "empty recipient"};
    return ops_->send_copy(cell_, message);
  }

  /// Has the actor stopped? (true for an empty recipient)
  bool done() const noexcept { return !cell_ || detail::done(cell_); }
  /// The actor's id; 0 when empty.
  actor_id id() const noexcept { return cell_ ? id_of(cell_) : 0; }
  explicit operator bool() const noexcept { return cell_ != nullptr; }
  /// Equal to std::hash of the same actor's address.
  std::size_t hash() const noexcept { return std::hash<const void*>{}(cell_); }

 protected:
  recipient_base(cell_base* cell, const Ops* ops) noexcept : cell_(cell), ops_(ops) {
    if (cell_) retain_address(cell_);
  }
  /// Takes over an address the caller already counted (runtime::whereis).
  struct adopt_t {};
  recipient_base(adopt_t, cell_base* cell, const Ops* ops) noexcept : cell_(cell), ops_(ops) {}
  void swap(recipient_base& other) noexcept {
    std::swap(cell_, other.cell_);
    std::swap(ops_, other.ops_);
  }

  cell_base* cell_ = nullptr;
  const Ops* ops_ = nullptr;

  friend struct recipient_access;
};

struct recipient_access {
  template <class Sig>
  static cell_base* cell_of(const recipient<Sig>& r) noexcept {
    return r.cell_;
  }
  template <class Sig>
  static auto* ops_of(const recipient<Sig>& r) noexcept {
    return r.ops_;
  }
  /// A recipient of `cell`, whose address the caller counted already.
  template <class Sig, class Ops>
  static recipient<Sig> adopt(cell_base* cell, const Ops* ops) noexcept {
    return recipient<Sig>(typename recipient<Sig>::adopt_t{}, cell, ops);
  }
};

/// One address per recipient signature: what runtime::whereis compares.
template <class Sig>
inline constexpr char name_tag = 0;

}  // namespace detail

/// Any actor that handles M: send only.
template <class M>
class recipient : public detail::recipient_base<detail::recipient_ops<M>, M> {
  static_assert(std::is_object_v<M> && !std::is_const_v<M> && !std::is_volatile_v<M>,
                "courier: recipient<M> names a message type: not a reference, not const");
  using base = detail::recipient_base<detail::recipient_ops<M>, M>;

 public:
  recipient() noexcept = default;
  /// From any address whose actor handles M; implicit, allocates nothing.
  template <class A>
    requires handles<A, M>
  recipient(const address<A>& a) noexcept  // NOLINT: implicit by design
      : base(detail::access::cell_of(a), &detail::recipient_table<A, M>::send_only) {}
  /// Forgets the reply type of a recipient<R(M)>.
  template <class R>
  recipient(const recipient<R(M)>& r) noexcept  // NOLINT: implicit by design
      : base(detail::recipient_access::cell_of(r), detail::recipient_access::ops_of(r)) {}


  /// Same actor.
  friend bool operator==(const recipient& x, const recipient& y) noexcept { return x.cell_ == y.cell_; }

 private:
  friend struct detail::recipient_access;
  using typename base::adopt_t;
  recipient(adopt_t t, detail::cell_base* cell, const detail::recipient_ops<M>* ops) noexcept : base(t, cell, ops) {}
};

/// Any actor that handles M with reply type exactly R: send and ask.
template <class R, class M>
class recipient<R(M)> : public detail::recipient_base<detail::recipient_ask_ops<R, M>, M> {
  static_assert(std::is_object_v<M> && !std::is_const_v<M> && !std::is_volatile_v<M>,
                "courier: recipient<R(M)> names a message type: not a reference, not const");
  using base = detail::recipient_base<detail::recipient_ask_ops<R, M>, M>;

 public:
  using reply_type = R;

  recipient() noexcept = default;
  template <class A>
    requires(handles<A, M> && std::is_same_v<reply_type_t<A, M>, R>)
  recipient(const address<A>& a) noexcept  // NOLINT: implicit by design
      : base(detail::access::cell_of(a), &detail::recipient_table<A, M>::with_ask) {}

  /// As address::ask.
  reply<R> ask(M&& message) const {
    if (!this->cell_) return detail::failed_reply<R>(error{errc::actor_stopped, "empty recipient"});
    return this->ops_->ask_move(this->cell_, std::move(message));
  }
  reply<R> ask(const M& message) const {
    if (!this->cell_) return detail::failed_reply<R>(error{errc::actor_stopped, "empty recipient"});
    return this->ops_->ask_copy(this->cell_, message);
  }

  friend bool operator==(const recipient& x, const recipient& y) noexcept { return x.cell_ == y.cell_; }

 private:
  friend struct detail::recipient_access;
  using typename base::adopt_t;
  recipient(adopt_t t, detail::cell_base* cell, const detail::recipient_ask_ops<R, M>* ops) noexcept
      : base(t, cell, ops) {}
};

namespace detail {

template <class Sig>
cell_base* recipient_cell(const recipient<Sig>& r) noexcept {
  return recipient_access::cell_of(r);
}

/// Sends a request through `to` whose outcome completes `reply` (which holds
/// the request's reference); an empty recipient completes it at once.
template <class R, class M>
void post_via(const recipient<R(M)>& to, M&& message, completion<R>* reply) {
  auto* cell = recipient_access::cell_of(to);
  if (!cell) {
    reply->try_complete(error{errc::actor_stopped, "empty recipient"});
    reply->release();  // the request's reference: no request exists
    return;
  }
  recipient_access::ops_of(to)->post_with_reply(cell, std::move(message), reply);
}

/// The reply slot of `co_await ctx.ask(recipient, m)`: a completion that
/// wakes the awaiting actor (awaited_request's, without the envelope, which
/// the recipient's table builds for the actor type behind it).
template <class R>
struct awaited_reply final : completion<R> {
  awaited_reply(cell_base* waiter, std::uint32_t references)
      : completion<R>(&deliver_fn, &release_fn), slot(waiter), refs(references) {}

  static void deliver_fn(completion<R>* base, result<R>&& v) noexcept {
    static_cast<awaited_reply*>(base)->slot.deliver(std::move(v));
  }
  static void release_fn(completion<R>* base) noexcept { drop(static_cast<awaited_reply*>(base)); }
  static void drop(awaited_reply* self) noexcept {
    if (!self->refs.release()) return;  // the last one sees the others' writes
    self->slot.destroy_value();
    detail::destroy(self);
  }

  awaited_slot<R> slot;
  ref_count refs;
};

/// co_await ctx.ask(recipient<R(M)>, m) / ask_for: gives result<R>.
template <class R, class M>
class [[nodiscard]] recipient_awaitable {
 public:
  recipient_awaitable(cell_base* self, recipient<R(M)> to, M&& message, bool timed,
                      std::chrono::steady_clock::duration timeout)
      : self_(self), to_(std::move(to)), message_(std::move(message)), timed_(timed), timeout_(timeout) {}
  recipient_awaitable(recipient_awaitable&& other) noexcept(std::is_nothrow_move_constructible_v<M>)
      : self_(other.self_),
        to_(std::move(other.to_)),
        message_(std::move(other.message_)),
        timed_(other.timed_),
        timeout_(other.timeout_),
        reply_(std::exchange(other.reply_, nullptr)) {}
  recipient_awaitable(const recipient_awaitable&) = delete;
  recipient_awaitable& operator=(const recipient_awaitable&) = delete;
  ~recipient_awaitable() {
    if (reply_) awaited_reply<R>::drop(reply_);
  }

  bool await_ready() const noexcept { return false; }
  template <courier_promise P>
  void await_suspend(std::coroutine_handle<P> h) {
    // references: ours, the request's, and the timeout's
    reply_ = make<awaited_reply<R>>(self_, timed_ ? 3u : 2u);
    static_cast<frame_base&>(h.promise()).awaits(&awaited_slot<R>::probe, &reply_->slot);
    if (timed_) add_timeout<R>(self_->sys, timeout_, reply_);
    post_via(to_, std::move(message_), static_cast<completion<R>*>(reply_));
  }
  result<R> await_resume() noexcept { return std::move(reply_->slot.value); }

  // -- for courier::when_all / when_any (courier/when.hpp): as ask_awaitable's -----------
  cell_base* waiter() const noexcept { return self_; }
  std::uint32_t launch_references() const noexcept { return timed_ ? 2u : 1u; }
  void launch(completion<R>* reply) noexcept {
    if (timed_) add_timeout<R>(self_->sys, timeout_, reply);
    try {
      post_via(to_, std::move(message_), reply);
    } catch (...) {  // the request could not be built: completed and released already
    }
  }

 private:
  cell_base* self_;
  recipient<R(M)> to_;
  M message_;
  bool timed_;
  std::chrono::steady_clock::duration timeout_;
  awaited_reply<R>* reply_ = nullptr;
};

template <class M>
void send_after_recipient(internal::system* sys, const recipient<M>& to, const M& message,
                          std::chrono::steady_clock::duration delay) {
  auto* target = recipient_access::cell_of(to);
  if (!target) return;
  auto when = std::chrono::steady_clock::now() + delay;
  auto* e = recipient_access::ops_of(to)->make_envelope(message, envelope::pre_accepted);
  retain_address(target);  // the pending timer is an address, as for send_after(address)
  add_timer(sys, when, timer_job{&run_delivery_job, target, e});
}

/// How send_awaitable (co_await ctx.send) reaches a recipient<M>: its table.
/// The waiting envelope holds a copy, so the argument is never moved from.
template <class M>
struct send_to_recipient {
  const recipient_ops<M>* ops;
  template <class Sig>
  static send_to_recipient of(const recipient<Sig>& r) noexcept {
    return {recipient_access::ops_of(r)};
  }
  template <class Arg>
  result<void> post_now(cell_base* target, Arg&& m) const {
    if constexpr (std::is_lvalue_reference_v<Arg> || std::is_const_v<std::remove_reference_t<Arg>>)
      return ops->send_copy(target, m);
    else
      return ops->send_move(target, std::move(m));
  }
  template <class Arg>
  envelope* make_envelope(Arg& m, give_back&) const {
    return ops->make_envelope(m, 0u);
  }
};

template <bool Periodic, class M>
timer arm_timer_via(internal::system* sys, cell_base* owner, const recipient<M>& to, const M& message,
                    std::chrono::steady_clock::duration period, std::chrono::steady_clock::duration first) {
  auto* target = recipient_access::cell_of(to);
  if (!target) return timer{};
  return start_timer<M>(sys, owner, target, recipient_access::ops_of(to)->make_tick, message, first, period, Periodic);
}

}  // namespace detail

}  // namespace courier

template <class Sig>
struct std::hash<courier::recipient<Sig>> {
  std::size_t operator()(const courier::recipient<Sig>& r) const noexcept { return r.hash(); }
};
