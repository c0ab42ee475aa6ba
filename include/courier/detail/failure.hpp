#pragma once
// What a handler's exception becomes: the one place that catches it. For a
// request it is errc::handler_failed carrying what(); for a plain send, a
// hook or a continuation it goes to the error hook (report_failure).

#include <exception>
#include <string>
#include <string_view>
#include <type_traits>

#include <courier/detail/cell.hpp>
#include <courier/error.hpp>

namespace courier::detail {

/// The text of the exception being handled; call it inside a catch block
/// (the view lives as long as that block).
inline std::string_view current_exception_text() noexcept {
  try {
    throw;
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

/// The exception being handled as a request's error; call it inside a catch block.
inline error current_exception_error() { return error{errc::handler_failed, std::string(current_exception_text())}; }

/// Runs `f`; an exception goes to the error hook as a failure of `label`
/// ("on_stop"), or of what `label()` returns (the message type: computed
/// only on failure, never on the handler path). Nothing else.
template <class Label, class F>
void call_reporting_only(cell_base* cell, Label label, F&& f) noexcept {
  try {
    f();
  } catch (...) {
    if constexpr (std::is_invocable_v<Label>)
      report_failure(cell, label(), current_exception_text());
    else
      report_failure(cell, label, current_exception_text());
  }
}

/// As call_reporting_only, and the exception is a failure of the actor: its
/// failure policy applies (a handler, a continuation, on_start).
template <class Label, class F>
void call_reporting(cell_base* cell, Label label, F&& f) noexcept {
  try {
    f();
  } catch (...) {
    auto what = current_exception_text();
    if constexpr (std::is_invocable_v<Label>)
      report_failure(cell, label(), what);
    else
      report_failure(cell, label, what);
    failed(cell, what);
  }
}

}  // namespace courier::detail
