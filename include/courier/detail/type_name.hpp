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

}  // namespace courier::detail
