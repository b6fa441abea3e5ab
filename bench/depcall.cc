// Sequential request/response calls to a real dependency, for the cost of `reel record`'s
// recording relay per call (bench/record.sh). One connection, `count` calls one after another
// after `warmup` unmeasured ones; prints one JSON line with per-call percentiles.
//
//   bench_depcall redis    --connect ADDR:PORT [--count 2000] [--warmup 100]   GET of an unset key
//   bench_depcall postgres --connect ADDR:PORT [--count 2000] [--warmup 100] [--user postgres]
//                          [--database postgres]      simple-query `SELECT 1`, trust auth only
//
// Prints {"proto":...,"count":N,"calls":TOTAL,"p50_us","p90_us","p99_us","calls_per_s","cpu_ms"}
// (cpu_ms: this process's user+system CPU time, so a wrapper's own CPU can be told apart), where
// calls is every request/response exchange made on the wire (warm-up included; for PostgreSQL
// the start-up exchange is not counted), so the caller can check it against the mocks recorded.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "core/net.h"
#include "core/unique_fd.h"

namespace reel {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_depcall: %s\n", what.c_str());
  std::exit(1);
}

void send_all(int fd, const void* data, std::size_t n) {
  auto* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);
    if (k <= 0) die(fmt::format("send: {}", k == 0 ? "closed" : std::strerror(errno)));
    p += k;
    n -= static_cast<std::size_t>(k);
  }
}

void recv_all(int fd, void* data, std::size_t n) {
  auto* p = static_cast<char*>(data);
  while (n > 0) {
    ssize_t k = ::recv(fd, p, n, 0);
    if (k <= 0) die(fmt::format("recv: {}", k == 0 ? "connection closed" : std::strerror(errno)));
    p += k;
    n -= static_cast<std::size_t>(k);
  }
}

UniqueFd dial(const Endpoint& to) {
  UniqueFd fd(::socket(to.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_storage ss;
  socklen_t len = to.to_sockaddr(ss);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0)
    die(fmt::format("connect {}: {}", to.to_string(), std::strerror(errno)));
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Redis: GET of a key nobody sets, answered by exactly "$-1\r\n" (nil). Not PING: reel files
// the PINGs that open a connection as connection set-up, and this measures ordinary calls.
struct Redis {
  int fd;
  void call() {
    static const char kGet[] = "*2\r\n$3\r\nGET\r\n$15\r\nreel:bench:none\r\n";
    send_all(fd, kGet, sizeof kGet - 1);
    char in[5];
    recv_all(fd, in, sizeof in);
    if (std::memcmp(in, "$-1\r\n", 5) != 0) die("redis: unexpected reply to GET (is the key set?)");
  }
};

// PostgreSQL v3 protocol, simple query. Reads messages until ReadyForQuery ('Z').
struct Postgres {
  int fd;

  static void put32(std::string& s, std::uint32_t v) {
    v = htonl(v);
    s.append(reinterpret_cast<const char*>(&v), 4);
  }

  // Reads backend messages until ReadyForQuery; dies on ErrorResponse or an auth request.
  void until_ready() {
    std::string body;
    for (;;) {
      char head[5];
      recv_all(fd, head, 5);
      std::uint32_t len;
      std::memcpy(&len, head + 1, 4);
      len = ntohl(len);
      if (len < 4) die("postgres: bad message length");
      body.resize(len - 4);
      recv_all(fd, body.data(), body.size());
      switch (head[0]) {
        case 'Z': return;
        case 'E': die("postgres: ErrorResponse: " + body);
        case 'R': {
          std::uint32_t code = 0;
          if (body.size() >= 4) std::memcpy(&code, body.data(), 4);
          if (ntohl(code) != 0) die("postgres: the server wants a password; use trust auth");
          break;
        }
        default: break;
      }
    }
  }

  void startup(const std::string& user, const std::string& database) {
    std::string params;
    params += "user";
    params += '\0';
    params += user;
    params += '\0';
    params += "database";
    params += '\0';
    params += database;
    params += '\0';
    params += '\0';
    std::string msg;
    put32(msg, static_cast<std::uint32_t>(8 + params.size()));
    put32(msg, 196608);  // protocol 3.0
    msg += params;
    send_all(fd, msg.data(), msg.size());
    until_ready();
  }

  void call() {
    static const char kSql[] = "SELECT 1";
    std::string msg = "Q";
    put32(msg, static_cast<std::uint32_t>(4 + sizeof kSql));
    msg.append(kSql, sizeof kSql);  // with its NUL
    send_all(fd, msg.data(), msg.size());
    until_ready();
  }

  void terminate() {
    std::string msg = "X";
    put32(msg, 4);
    send_all(fd, msg.data(), msg.size());
  }
};

template <class Call>
int measure(const char* proto, Call&& call, long count, long warmup) {
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(count));
  auto begin = Clock::now();
  for (long i = 0; i < warmup + count; i++) {
    if (i == warmup) begin = Clock::now();
    auto t0 = Clock::now();
    call();
    if (i >= warmup)
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  double secs = std::chrono::duration<double>(Clock::now() - begin).count();
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto ms = [](const timeval& tv) { return tv.tv_sec * 1e3 + tv.tv_usec / 1e3; };
  std::sort(us.begin(), us.end());
  auto pct = [&](double p) { return us[static_cast<std::size_t>(p * (us.size() - 1))]; };
  std::printf(
      "{\"proto\":\"%s\",\"count\":%ld,\"calls\":%ld,\"p50_us\":%.2f,\"p90_us\":%.2f,"
      "\"p99_us\":%.2f,\"calls_per_s\":%.0f,\"cpu_ms\":%.1f}\n",
      proto, count, count + warmup, pct(0.5), pct(0.9), pct(0.99),
      static_cast<double>(count) / secs, ms(ru.ru_utime) + ms(ru.ru_stime));
  return 0;
}

int usage() {
  std::fprintf(stderr,
               "usage: bench_depcall redis|postgres --connect ADDR:PORT [--count N] "
               "[--warmup N] [--user U] [--database D]\n");
  return 2;
}

}  // namespace
}  // namespace reel

int main(int argc, char** argv) {
  using namespace reel;
  if (argc < 2) return usage();
  std::string proto = argv[1];
  std::map<std::string, std::string> flags;
  for (int i = 2; i < argc; i += 2) {
    if (i + 1 >= argc || std::strncmp(argv[i], "--", 2) != 0) return usage();
    flags[argv[i] + 2] = argv[i + 1];
  }
  auto num = [&](const char* name, long dflt) {
    return flags.count(name) ? std::stol(flags[name]) : dflt;
  };
  auto flag = [&](const char* name, const char* dflt) {
    return flags.count(name) ? flags[name] : std::string(dflt);
  };
  long count = num("count", 2000), warmup = num("warmup", 100);
  if (count < 1 || warmup < 0) return usage();
  auto where = parse_endpoint(flag("connect", ""));
  if (!where) die(where.error().message);
  auto fd = dial(*where);
  if (proto == "redis") {
    Redis r{fd.get()};
    return measure("redis", [&] { r.call(); }, count, warmup);
  }
  if (proto == "postgres") {
    Postgres pg{fd.get()};
    pg.startup(flag("user", "postgres"), flag("database", "postgres"));
    int rc = measure("postgres", [&] { pg.call(); }, count, warmup);
    pg.terminate();
    return rc;
  }
  return usage();
}
