// libFuzzer on courier-kv's RESP parser (examples/kv/resp.cpp): any bytes,
// fed whole and in random pieces, must give commands, a wait for more, or a
// protocol error, never a crash, a read out of bounds, a position going
// backwards or past the input, or a different result for the same bytes cut
// differently. Built by tools/fuzz with ASan + UBSan.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "resp.hpp"

namespace {

struct outcome {
  std::vector<std::vector<std::string>> commands;
  bool error = false;
};

[[noreturn]] void violated(const char* what) {
  __builtin_printf("invariant violated: %s\n", what);
  std::abort();
}

/// Feeds `data` in pieces of the given sizes (cycling), as a connection would.
outcome run(std::string_view data, const std::vector<std::size_t>& cuts, const kv::limits& lim) {
  outcome out;
  std::string buf;
  std::size_t pos = 0, fed = 0, k = 0, need = 0;
  std::vector<std::string> args;
  std::string error;
  while (fed < data.size()) {
    auto piece = cuts.empty() ? data.size() : cuts[k++ % cuts.size()];
    buf.append(data.substr(fed, piece));
    fed += std::min(piece, data.size() - fed);
    while (buf.size() - pos >= need) {
      auto before = pos;
      auto r = kv::parse_command(buf, pos, lim, args, error);
      if (pos < before || pos > buf.size()) violated("position out of range");
      if (r.status == kv::parse_status::error) {
        if (error.empty()) violated("an error without a text");
        out.error = true;
        return out;
      }
      if (r.status == kv::parse_status::need_more) {
        if (pos != before) violated("need_more moved the position");
        if (r.need == 0) violated("need_more of nothing");
        need = r.need;
        break;
      }
      if (pos == before) violated("a command of no bytes");
      need = 0;
      out.commands.push_back(args);
      for (auto& a : args)  // a bulk string is bounded by max_bulk, an inline word by its line
        if (a.size() > std::max<std::size_t>(lim.max_bulk, lim.max_inline)) violated("an argument over the limits");
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  kv::limits lim;
  lim.max_bulk = 64 + data[0];  // small limits, so the fuzzer reaches them
  lim.max_inline = 128;
  lim.max_args = 64;
  std::vector<std::size_t> cuts;
  for (int i = 0; i < (data[1] & 7); ++i) cuts.push_back(1 + ((data[1] >> 3) + i * 7) % 13);
  std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);
  auto whole = run(input, {}, lim);
  auto pieces = run(input, cuts, lim);
  if (whole.commands != pieces.commands || whole.error != pieces.error) violated("cut differently, parsed differently");
  return 0;
}
