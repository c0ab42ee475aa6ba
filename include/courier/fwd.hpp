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
class supervisor;
class child_def;
template <class Sig>
class recipient;

}  // namespace courier

// The runtime's internals: opaque to users, only ever held by pointer (a
// runtime's state, and the runtime an actor belongs to).
namespace courier::internal {
class system;
}
