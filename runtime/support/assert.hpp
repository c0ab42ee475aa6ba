#pragma once
// COURIER_ASSERT: broken invariants end the process with a message.

namespace courier::internal {

[[noreturn]] void fatal(const char* file, int line, const char* message) noexcept;

}  // namespace courier::internal

#define COURIER_ASSERT(cond, message)                                  \
  do {                                                                 \
    if (!(cond)) ::courier::internal::fatal(__FILE__, __LINE__, message); \
  } while (false)
