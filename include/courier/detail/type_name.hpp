#pragma once
// Readable type names for diagnostics, taken from the compiler's function signature.

#include <string_view>

namespace courier::detail {

template <class T>
constexpr std::string_view type_name() noexcept {
#if defined(__clang__) || defined(__GNUC__)
  std::string_view name = __PRETTY_FUNCTION__;
  auto start = name.find("T = ");
  if (start == std::string_view::npos) return name;
  start += 4;
  auto end = name.find_first_of(";]", start);
  return name.substr(start, end - start);
#else
  return "unknown type";
#endif
}

/// The same name as a constant. Read it, rather than calling type_name(),
/// wherever the call would be in a run-time context: the compiler may then
/// compile the call as a search of the signature (a memchr) on every use.
template <class T>
inline constexpr std::string_view type_name_v = type_name<T>();

}  // namespace courier::detail
