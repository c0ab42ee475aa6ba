#pragma once
// task<R>: the return type of a coroutine handler.
//
//   courier::task<int> on(quote q, courier::context<trader>& ctx) {
//     auto price = co_await ctx.ask(pricer_, q);   // result<R>, never blocks a worker
//     co_return *price * 2;
//   }
//
// While the handler is suspended its actor handles no other message (they
// wait in the mailbox), the worker runs other actors, and the handler
// resumes inside its actor's own turn (never concurrently with another
// handler). A request's reply is delivered when the coroutine returns.
// stop() destroys a suspended frame (its destructors run) and completes the
// pending reply with actor_stopped; shutdown() lets it finish first.
//
// Memory ordering: everything the awaited handler did before replying is
// visible after the co_await.

#include <coroutine>
#include <exception>
#include <new>
#include <string_view>
#include <type_traits>
#include <utility>

#include <courier/detail/allocator.hpp>
#include <courier/detail/cell.hpp>
#include <courier/detail/completion.hpp>
#include <courier/detail/envelope.hpp>
#include <courier/detail/failure.hpp>
#include <courier/detail/frame.hpp>
#include <courier/error.hpp>
#include <courier/fwd.hpp>

namespace courier::detail {

void report_failure(cell_base* cell, std::string_view message_type, std::string_view what) noexcept;

/// What every courier::task promise holds, whatever R is.
template <class R>
struct task_promise_base : frame_base {
  // -- set by the handler's thunk before the first resume ------------------------
  cell_base* cell = nullptr;
  completion<R>* reply = nullptr;  // null for a plain send
  std::string_view message_type;
  envelope* message = nullptr;                   // the envelope whose message the handler took
  void (*destroy_message)(envelope*) noexcept = nullptr;

  // -- outcome ----------------------------------------------------------------------
  bool has_outcome = false;
  bool threw = false;  // the outcome is an exception (reported by the error hook on a plain send)
  alignas(result<R>) unsigned char outcome[sizeof(result<R>)];

  result<R>& value() noexcept { return *std::launder(reinterpret_cast<result<R>*>(outcome)); }
  template <class U>
  void set(U&& v) {
    ::new (static_cast<void*>(outcome)) result<R>(std::forward<U>(v));
    has_outcome = true;
  }

  // -- coroutine protocol -----------------------------------------------------------
  std::suspend_always initial_suspend() noexcept { return {}; }  // the runtime starts it in the actor's turn
  std::suspend_always final_suspend() noexcept { return {}; }    // the runtime reads the outcome, then destroys
  void unhandled_exception() noexcept {
    threw = true;
    set(current_exception_error());
  }

  // Frames come from courier's allocator (mimalloc unless disabled).
  static void* operator new(std::size_t size) { return allocate(size); }
  static void operator delete(void* p) noexcept { deallocate(p); }

  task_promise_base() noexcept { this->complete = &complete_fn; }

  static void complete_fn(frame_base* base, bool stopped) noexcept {
    auto* self = static_cast<task_promise_base*>(base);
    // Read what outlives the frame, then destroy it (its locals' destructors
    // run), then the message, then answer.
    auto* r = self->reply;
    auto* c = self->cell;
    auto type = self->message_type;
    auto* e = self->message;
    auto* destroy_message = self->destroy_message;
    bool has = self->has_outcome && !stopped;
    bool threw = self->threw;
    result<R> outcome = has ? std::move(self->value()) : result<R>(error{errc::actor_stopped, "the actor stopped"});
    if (self->has_outcome) self->value().~result<R>();
    self->handle.destroy();
    if (destroy_message) destroy_message(e);
    if (r) {
      if (has && threw) failed(c, outcome.error().message());  // the actor's policy; the asker gets handler_failed
      r->try_complete(std::move(outcome), c->sys);
      r->release();
    } else if (has && threw) {
      report_failure(c, type, outcome.error().message());
      failed(c, outcome.error().message());
    }
  }
};

}  // namespace courier::detail

namespace courier {

template <class R>
class task {
 public:
  struct promise_type;
  using handle_type = std::coroutine_handle<promise_type>;
  using value_type = R;

  task(task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  task& operator=(task&&) = delete;
  ~task() {
    if (handle_) handle_.destroy();  // never started (the runtime takes it with release())
  }

  /// The runtime's: takes the frame over.
  promise_type& promise() noexcept { return handle_.promise(); }
  handle_type release() noexcept { return std::exchange(handle_, {}); }

 private:
  explicit task(handle_type h) noexcept : handle_(h) {}
  handle_type handle_;
};

template <class R>
struct task<R>::promise_type : detail::task_promise_base<R> {
  promise_type() noexcept { this->handle = handle_type::from_promise(*this); }
  task get_return_object() noexcept { return task(handle_type::from_promise(*this)); }
  template <class U>
    requires std::is_constructible_v<result<R>, U&&>
  void return_value(U&& v) {
    this->set(std::forward<U>(v));
  }
};

template <>
struct task<void>::promise_type : detail::task_promise_base<void> {
  promise_type() noexcept { this->handle = handle_type::from_promise(*this); }
  task get_return_object() noexcept { return task(handle_type::from_promise(*this)); }
  void return_void() noexcept { this->set(result<void>{}); }
};

}  // namespace courier

namespace courier::detail {

template <class T>
struct is_task : std::false_type {};
template <class R>
struct is_task<task<R>> : std::true_type {};

}  // namespace courier::detail
