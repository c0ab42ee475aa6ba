#pragma once
// RESP2, the protocol of Redis: the request parser and the reply encoders
// of courier-kv. No I/O and no actors here, so the parser is fuzzed alone
// (tests/fuzz/resp_fuzzer.cpp).
//
// A request is an array of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`)
// or an inline command (`GET k\r\n`, what telnet sends). The parser is
// incremental: it takes what has arrived, gives back whole commands, and
// says how many bytes it needs before it can make progress, so a large
// bulk string arriving in pieces is not re-scanned at every read.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kv {

struct limits {
  std::uint64_t max_bulk = 512ull * 1024 * 1024;  // a bulk string's longest length (Redis: proto-max-bulk-len)
  std::uint64_t max_args = 1024 * 1024;           // a request's most arguments
  std::size_t max_inline = 64 * 1024;             // an inline request's longest line
};

enum class parse_status {
  command,    // `out` holds one command; `pos` moved past it
  need_more,  // an incomplete command: wait until `need` bytes from `pos` have arrived
  error,      // a protocol error (`error` says which, in Redis's words): the connection must close
};

struct parse_result {
  parse_status status;
  std::size_t need = 0;  // need_more: bytes from `pos` that must be present before the next attempt
};

/// Parses one command from `buf` starting at `pos`. On `command`, `out`
/// holds its arguments (out[0] is the name; an empty inline line gives an
/// empty `out`) and `pos` is past it.
parse_result parse_command(std::string_view buf, std::size_t& pos, const limits& lim, std::vector<std::string>& out,
                           std::string& error);

// -- replies ----------------------------------------------------------------------------
void put_simple(std::string& out, std::string_view s);  // +OK
void put_error(std::string& out, std::string_view s);   // -ERR ...
void put_integer(std::string& out, long long v);        // :1
void put_bulk(std::string& out, std::string_view s);    // $3\r\nabc
void put_nil(std::string& out);                         // $-1
void put_array_header(std::string& out, std::size_t n); // *n

/// A decimal integer filling `s` exactly, as Redis reads one (no spaces,
/// no '+', at most 20 characters, within long long).
bool parse_integer(std::string_view s, long long& v);
/// `s` with ASCII letters folded (command names, options).
std::string ascii_lower(std::string_view s);
std::string ascii_upper(std::string_view s);

/// Redis's words for the common errors.
std::string wrong_arity(std::string_view command);
std::string unknown_command(const std::vector<std::string>& args);

}  // namespace kv
