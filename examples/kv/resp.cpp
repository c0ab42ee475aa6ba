#include "resp.hpp"

#include <charconv>

namespace kv {

namespace {

/// Finds "\r\n" from `from`; npos if absent.
std::size_t find_crlf(std::string_view buf, std::size_t from) {
  while (true) {
    auto r = buf.find('\r', from);
    if (r == std::string_view::npos || r + 1 >= buf.size()) return std::string_view::npos;
    if (buf[r + 1] == '\n') return r;
    from = r + 1;
  }
}

parse_result need(std::size_t bytes) { return {parse_status::need_more, bytes}; }

parse_result fail(std::string& error, std::string text) {
  error = std::move(text);
  return {parse_status::error, 0};
}

/// An inline command: words split by spaces (and quotes, roughly as redis-cli
/// would type them: "a b" is one word).
parse_result parse_inline(std::string_view buf, std::size_t& pos, const limits& lim, std::vector<std::string>& out,
                          std::string& error) {
  auto nl = buf.find('\n', pos);
  // Too long whether or not its end has arrived: the outcome never depends
  // on how the bytes were cut into reads.
  if ((nl == std::string_view::npos ? buf.size() : nl) - pos > lim.max_inline)
    return fail(error, "Protocol error: too big inline request");
  if (nl == std::string_view::npos) return need(buf.size() - pos + 1);
  auto end = (nl > pos && buf[nl - 1] == '\r') ? nl - 1 : nl;
  std::string_view line = buf.substr(pos, end - pos);
  out.clear();
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size()) break;
    std::string word;
    if (line[i] == '"' || line[i] == '\'') {
      char q = line[i++];
      while (i < line.size() && line[i] != q) word.push_back(line[i++]);
      if (i >= line.size()) return fail(error, "Protocol error: unbalanced quotes in request");
      ++i;
    } else {
      while (i < line.size() && line[i] != ' ' && line[i] != '\t') word.push_back(line[i++]);
    }
    out.push_back(std::move(word));
  }
  pos = nl + 1;
  return {parse_status::command, 0};
}

}  // namespace

parse_result parse_command(std::string_view buf, std::size_t& pos, const limits& lim, std::vector<std::string>& out,
                           std::string& error) {
  if (pos >= buf.size()) return need(1);
  if (buf[pos] != '*') return parse_inline(buf, pos, lim, out, error);
  auto header_end = find_crlf(buf, pos);
  if (header_end == std::string_view::npos) {
    if (buf.size() - pos > 64) return fail(error, "Protocol error: too big mbulk count string");
    return need(buf.size() - pos + 1);
  }
  long long count = 0;
  if (!parse_integer(buf.substr(pos + 1, header_end - pos - 1), count) || count > static_cast<long long>(lim.max_args))
    return fail(error, "Protocol error: invalid multibulk length");
  std::size_t at = header_end + 2;
  out.clear();
  if (count <= 0) {  // *0 and *-1: an empty request, skipped (as Redis does)
    pos = at;
    return {parse_status::command, 0};
  }
  out.reserve(static_cast<std::size_t>(count));
  for (long long k = 0; k < count; ++k) {
    if (at >= buf.size()) return need(at - pos + 1);
    if (buf[at] != '$') {
      std::string got(1, buf[at]);
      return fail(error, "Protocol error: expected '$', got '" + got + "'");
    }
    auto len_end = find_crlf(buf, at);
    if (len_end == std::string_view::npos) {
      if (buf.size() - at > 64) return fail(error, "Protocol error: too big bulk count string");
      return need(buf.size() - pos + 1);
    }
    long long len = 0;
    if (!parse_integer(buf.substr(at + 1, len_end - at - 1), len) || len < 0 ||
        static_cast<std::uint64_t>(len) > lim.max_bulk)
      return fail(error, "Protocol error: invalid bulk length");
    auto data = len_end + 2;
    auto ulen = static_cast<std::size_t>(len);
    if (buf.size() < data + ulen + 2) return need(data + ulen + 2 - pos);
    if (buf[data + ulen] != '\r' || buf[data + ulen + 1] != '\n')
      return fail(error, "Protocol error: bulk string not terminated by CRLF");
    out.emplace_back(buf.substr(data, ulen));
    at = data + ulen + 2;
  }
  pos = at;
  return {parse_status::command, 0};
}

bool parse_integer(std::string_view s, long long& v) {
  if (s.empty() || s.size() > 20) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc{} && p == s.data() + s.size();
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

std::string ascii_upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  return out;
}

void put_simple(std::string& out, std::string_view s) {
  out += '+';
  out += s;
  out += "\r\n";
}
void put_error(std::string& out, std::string_view s) {
  out += '-';
  for (char c : s) out += (c == '\r' || c == '\n') ? ' ' : c;  // a line: no CR or LF inside
  out += "\r\n";
}
namespace {
/// `kind` then the decimal `v` then CRLF: an integer, a bulk length, an array header.
template <class N>
void put_line(std::string& out, char kind, N v) {
  char tmp[24];
  auto [p, ec] = std::to_chars(tmp, tmp + sizeof(tmp), v);
  (void)ec;  // 24 characters hold any 64-bit number
  out += kind;
  out.append(tmp, p);
  out += "\r\n";
}
}  // namespace

void put_integer(std::string& out, long long v) { put_line(out, ':', v); }
void put_bulk(std::string& out, std::string_view s) {
  put_line(out, '$', s.size());
  out += s;
  out += "\r\n";
}
void put_nil(std::string& out) { out += "$-1\r\n"; }
void put_array_header(std::string& out, std::size_t n) { put_line(out, '*', n); }

std::string wrong_arity(std::string_view command) {
  return "ERR wrong number of arguments for '" + ascii_lower(command) + "' command";
}

std::string unknown_command(const std::vector<std::string>& args) {
  std::string s = "ERR unknown command '" + (args.empty() ? std::string() : args[0].substr(0, 128)) +
                  "', with args beginning with: ";
  for (std::size_t i = 1; i < args.size() && s.size() < 512; ++i) s += "'" + args[i].substr(0, 128) + "' ";
  return s;
}

}  // namespace kv
