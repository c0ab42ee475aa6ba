// courier-kv's command line: the options, then the server (server.hpp).
#include <charconv>
#include <cstdio>
#include <string>
#include <system_error>

#include "server.hpp"

namespace {

void usage(FILE* to) {
  std::fprintf(to,
               "usage: courier-kv [options]\n"
               "  --bind ADDR          address to listen on (default 127.0.0.1)\n"
               "  --port N             TCP port (default 6380)\n"
               "  --workers N          courier worker threads (default: the usable CPUs left after the I/O threads, at least 1)\n"
               "  --io-threads N       Asio I/O threads (default 1)\n"
               "  --shards N           keyspace shards, one actor each (default: one per worker)\n"
               "  --max-bulk BYTES     longest bulk string accepted (default 536870912, as Redis)\n"
               "  --output-limit BYTES pending reply bytes after which a client is closed (default 67108864)\n"
               "  --spin-us N          how long an idle courier worker spins before it sleeps (default 20)\n"
               "  --min-awake N        courier workers that never sleep (default 0)\n"
               "  --io-spin-us N       how long an I/O thread waiting for shard results polls (yielding) before it\n"
               "                       sleeps in epoll (default 200; 0: never)\n"
               "  --help               this text\n"
               "A Redis-protocol (RESP2) in-memory key-value server; no persistence, replication or cluster.\n");
}

bool number(const char* s, unsigned long long& v) {
  auto len = std::char_traits<char>::length(s);
  auto [p, ec] = std::from_chars(s, s + len, v);
  return ec == std::errc{} && p == s + len;
}

}  // namespace

int main(int argc, char** argv) {
  kv::settings s;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      usage(stdout);
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "courier-kv: %s needs a value\n", a.c_str());
      usage(stderr);
      return 2;
    }
    const char* v = argv[++i];
    unsigned long long n = 0;
    if (a == "--bind") {
      s.bind = v;
      continue;
    }
    if (!number(v, n)) {
      std::fprintf(stderr, "courier-kv: %s wants a number, not '%s'\n", a.c_str(), v);
      return 2;
    }
    if (a == "--port" && n > 0 && n < 65536) s.port = static_cast<unsigned short>(n);
    else if (a == "--workers") s.workers = n;
    else if (a == "--io-threads" && n > 0 && n <= 256) s.io_threads = n;
    else if (a == "--shards" && n <= 4096) s.shards = n;
    else if (a == "--max-bulk" && n > 0) s.proto.max_bulk = n;
    else if (a == "--output-limit" && n > 0) s.output_limit = n;
    else if (a == "--spin-us" && n <= 1'000'000) s.spin_us = static_cast<long>(n);
    else if (a == "--min-awake" && n <= 256) s.min_awake = n;
    else if (a == "--io-spin-us" && n <= 1'000'000) s.io_spin_us = static_cast<long>(n);
    else {
      std::fprintf(stderr, "courier-kv: bad option or value: %s %s\n", a.c_str(), v);
      usage(stderr);
      return 2;
    }
  }
  kv::server srv(s);
  return srv.run();
}
