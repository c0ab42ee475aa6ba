#pragma once
// Errors are values at the API: errc, error and result<T>.

#include <cstdint>
#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace courier {

/// Why a send, a request or a wait did not produce a value.
enum class errc : std::uint8_t {
  /// The actor's mailbox is closed: it stopped, is stopping, or dropped the request.
  actor_stopped = 1,
  /// The actor's mailbox is bounded and full; the message was not accepted.
  mailbox_full,
  /// No reply arrived within the time the caller allowed.
  timeout,
  /// The handler ran and failed: it threw (the text is `what()`) or returned an error.
  handler_failed,
  /// A blocking call (reply::get, get_for) was made inside a handler, where it
  /// would stall a worker or deadlock; it completed at once instead.
  would_block,
  /// Bad input detected only at run time (a zero window, a duplicate name, ...).
  invalid_argument,
  /// The caller abandoned the wait (an Asio cancellation slot, courier/asio.hpp);
  /// the request itself may still run, its reply is discarded.
  cancelled,
};

/// The name of a code, e.g. "actor_stopped".
constexpr std::string_view to_string(errc code) noexcept {
  switch (code) {
    case errc::actor_stopped: return "actor_stopped";
    case errc::mailbox_full: return "mailbox_full";
    case errc::timeout: return "timeout";
    case errc::handler_failed: return "handler_failed";
    case errc::would_block: return "would_block";
    case errc::invalid_argument: return "invalid_argument";
    case errc::cancelled: return "cancelled";
  }
  return "unknown";
}

/// An error code and a human-readable text.
class error {
 public:
  error(errc code, std::string message = {}) : code_(code), message_(std::move(message)) {}

  errc code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }

  friend bool operator==(const error& x, errc y) noexcept { return x.code_ == y; }

 private:
  errc code_;
  std::string message_;
};

/// Thrown by result<T>::value() when the result holds an error.
class bad_result_access : public std::exception {
 public:
  explicit bad_result_access(courier::error err)
      : error_(std::move(err)),
        what_("courier::bad_result_access: " + std::string(to_string(error_.code())) +
              (error_.message().empty() ? "" : ": " + error_.message())) {}

  const courier::error& error() const noexcept { return error_; }
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  courier::error error_;
  std::string what_;
};

template <class T>
class result;

namespace detail {

template <class T>
struct is_result : std::false_type {};
template <class T>
struct is_result<result<T>> : std::true_type {};

}  // namespace detail

/// A value of type T or an error (C++20 has no std::expected).
template <class T>
class result {
  static_assert(!std::is_reference_v<T>, "result<T> holds values, not references");
  static_assert(!std::is_same_v<std::remove_cv_t<T>, courier::error>, "result<error> is ambiguous");

 public:
  using value_type = T;
  using error_type = courier::error;

  // -- constructors ----------------------------------------------------------

  template <class U = T>
    requires(std::is_constructible_v<T, U &&> &&
             !std::is_same_v<std::remove_cvref_t<U>, result> &&
             !std::is_same_v<std::remove_cvref_t<U>, courier::error> &&
             !std::is_same_v<std::remove_cvref_t<U>, errc>)
  result(U&& value) : has_value_(true) {
    ::new (static_cast<void*>(&value_)) T(std::forward<U>(value));
  }

  result(courier::error err) : has_value_(false) {
    ::new (static_cast<void*>(&error_)) error_type(std::move(err));
  }

  result(const result& other) : has_value_(other.has_value_) {
    if (has_value_)
      ::new (static_cast<void*>(&value_)) T(other.value_);
    else
      ::new (static_cast<void*>(&error_)) error_type(other.error_);
  }

  result(result&& other) noexcept(std::is_nothrow_move_constructible_v<T>)
      : has_value_(other.has_value_) {
    if (has_value_)
      ::new (static_cast<void*>(&value_)) T(std::move(other.value_));
    else
      ::new (static_cast<void*>(&error_)) error_type(std::move(other.error_));
  }

  result& operator=(result other) noexcept(std::is_nothrow_move_constructible_v<T>) {
    if (this != &other) {
      destroy();
      ::new (static_cast<void*>(this)) result(std::move(other));
    }
    return *this;
  }

  ~result() { destroy(); }

  // -- observers -------------------------------------------------------------

  bool has_value() const noexcept { return has_value_; }
  explicit operator bool() const noexcept { return has_value_; }

  T& value() & {
    if (!has_value_) throw bad_result_access(error_);
    return value_;
  }
  const T& value() const& {
    if (!has_value_) throw bad_result_access(error_);
    return value_;
  }
  T&& value() && {
    if (!has_value_) throw bad_result_access(error_);
    return std::move(value_);
  }

  /// @pre has_value()
  T& operator*() & noexcept { return value_; }
  const T& operator*() const& noexcept { return value_; }
  T&& operator*() && noexcept { return std::move(value_); }
  T* operator->() noexcept { return &value_; }
  const T* operator->() const noexcept { return &value_; }

  /// @pre !has_value()
  const courier::error& error() const& noexcept { return error_; }
  courier::error&& error() && noexcept { return std::move(error_); }

 private:
  void destroy() noexcept {
    if (has_value_)
      value_.~T();
    else
      error_.~error_type();
  }

  union {
    T value_;
    courier::error error_;
  };
  bool has_value_;
};

/// Success or an error; a default-constructed result<void> is success.
template <>
class result<void> {
 public:
  using value_type = void;

  result() noexcept = default;
  result(courier::error err) : error_(std::move(err)), has_error_(true) {}

  bool has_value() const noexcept { return !has_error_; }
  explicit operator bool() const noexcept { return !has_error_; }

  void value() const {
    if (has_error_) throw bad_result_access(error_);
  }
  void operator*() const noexcept {}

  /// @pre !has_value()
  const courier::error& error() const& noexcept { return error_; }
  courier::error&& error() && noexcept { return std::move(error_); }

 private:
  courier::error error_{errc::actor_stopped};
  bool has_error_ = false;
};

}  // namespace courier
