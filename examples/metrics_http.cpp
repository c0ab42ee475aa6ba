// Serves runtime::metrics() in the Prometheus text format over HTTP on
// loopback.
//   metrics_http --serve 9464     serve until killed (curl localhost:9464/metrics)
//   metrics_http                  smoke test: serve one scrape to itself and check it
#include <courier/courier.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

struct tick {
  int n;
};
class worker_actor : public courier::actor<worker_actor> {
 public:
  static constexpr bool courier_metrics = true;  // per-type metrics: handled, mailbox, histograms
  int on(tick t) { return t.n; }
};

// One HTTP/1.0 exchange: read the request line, answer with the exposition.
void serve_one(int client, courier::runtime& rt) {
  char request[1024];
  auto n = read(client, request, sizeof request - 1);
  request[n > 0 ? n : 0] = '\0';
  std::string body = std::strncmp(request, "GET /metrics", 12) == 0 ? rt.metrics().to_prometheus() : "not found\n";
  std::string status = body == "not found\n" ? "404 Not Found" : "200 OK";
  std::string response = "HTTP/1.0 " + status + "\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\n\r\n" + body;
  (void)write(client, response.data(), response.size());
  close(client);
}

int listen_on(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int yes = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 16) != 0) {
    std::perror("bind/listen");
    std::exit(1);
  }
  return fd;
}

int main(int argc, char** argv) {
  courier::runtime rt{{.workers = 2}};
  auto w = rt.spawn<worker_actor>(courier::spawn_options{.name = "ticker"});
  for (int i = 0; i < 1000; ++i) (void)w.send(tick{i});
  (void)w.ask(tick{0}).get();

  if (argc == 3 && std::strcmp(argv[1], "--serve") == 0) {
    int fd = listen_on(std::atoi(argv[2]));
    std::printf("serving http://127.0.0.1:%s/metrics\n", argv[2]);
    for (;;) serve_one(accept(fd, nullptr, nullptr), rt);
  }

  // Smoke test: an ephemeral port, one scrape by a client thread.
  int fd = listen_on(0);
  sockaddr_in bound{};
  socklen_t len = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  std::string scraped;
  std::thread client([&] {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, reinterpret_cast<sockaddr*>(&bound), sizeof bound) != 0) return;
    const char* get = "GET /metrics HTTP/1.0\r\n\r\n";
    (void)write(c, get, std::strlen(get));
    char buf[4096];
    for (ssize_t n; (n = read(c, buf, sizeof buf)) > 0;) scraped.append(buf, static_cast<std::size_t>(n));
    close(c);
  });
  serve_one(accept(fd, nullptr, nullptr), rt);
  client.join();
  close(fd);
  bool ok = scraped.rfind("HTTP/1.0 200 OK", 0) == 0 && scraped.find("courier_worker_messages_handled_total") != std::string::npos &&
            scraped.find("courier_live_actors 1") != std::string::npos &&
            scraped.find("courier_actor_type_handler_seconds_bucket{type=") != std::string::npos;
  std::printf("%s", scraped.substr(scraped.find("\r\n\r\n") + 4, 400).c_str());
  return ok && rt.shutdown() ? 0 : 1;
}
