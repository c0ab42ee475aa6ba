#pragma once
// The chaos build's hook (see runtime/support/chaos.hpp). Public only so the
// reply completion in completion.hpp can carry a point; with chaos off
// (every normal build) the macro expands to nothing.

#if defined(COURIER_CHAOS) && COURIER_CHAOS
namespace courier::detail {
void chaos_point(const char* where) noexcept;
}
#define COURIER_DETAIL_CHAOS_POINT(name) ::courier::detail::chaos_point(name)
#else
#define COURIER_DETAIL_CHAOS_POINT(name) ((void)0)
#endif
