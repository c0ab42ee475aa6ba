#pragma once
// Forward declarations of the public types.

namespace courier {

class runtime;
class error;
enum class errc : unsigned char;
template <class T>
class result;
template <class Self>
class actor;
template <class A>
class address;
template <class A>
class context;
template <class R>
class reply;
template <class R>
class task;
struct config;
struct spawn_options;
struct stats;

}  // namespace courier

namespace courier::internal {
class system;
}
