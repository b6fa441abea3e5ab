// A tiny TCP load tool for comparing relays: a server that echoes (latency) or sinks
// (throughput), and two clients that print one JSON line each. See bench/README.md.
//
//   bench_pingpong server     --listen ADDR:PORT
//   bench_pingpong latency    --connect ADDR:PORT [--count 20000] [--size 64] [--warmup 1000]
//   bench_pingpong throughput --connect ADDR:PORT [--seconds 5] [--streams 1] [--chunk 262144]
//
// The client's first byte picks the service: 'E' echo, 'S' sink (read to EOF, answer with the
// byte count as 8 bytes, so the client measures bytes that arrived, not bytes it queued).
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "core/net.h"
#include "core/unique_fd.h"

namespace reel {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench_pingpong: %s\n", what.c_str());
  std::exit(1);
}

bool send_all(int fd, const void* data, std::size_t n) {
  auto* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);
    if (k <= 0) return false;
    p += k;
    n -= static_cast<std::size_t>(k);
  }
  return true;
}

bool recv_all(int fd, void* data, std::size_t n) {
  auto* p = static_cast<char*>(data);
  while (n > 0) {
    ssize_t k = ::recv(fd, p, n, 0);
    if (k <= 0) return false;
    p += k;
    n -= static_cast<std::size_t>(k);
  }
  return true;
}

void no_delay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void serve(UniqueFd fd) {
  no_delay(fd.get());
  char mode = 0;
  if (!recv_all(fd.get(), &mode, 1)) return;
  std::vector<char> buf(256 * 1024);
  std::uint64_t total = 0;
  for (;;) {
    ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
    if (n <= 0) break;
    total += static_cast<std::uint64_t>(n);
    if (mode == 'E' && !send_all(fd.get(), buf.data(), static_cast<std::size_t>(n))) return;
  }
  if (mode == 'S') send_all(fd.get(), &total, sizeof total);
}

int run_server(const Endpoint& at) {
  UniqueFd l(::socket(at.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  int one = 1;
  ::setsockopt(l.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage ss;
  socklen_t len = at.to_sockaddr(ss);
  if (::bind(l.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(l.get(), 1024) != 0)
    die(fmt::format("listen on {}: {}", at.to_string(), std::strerror(errno)));
  len = sizeof ss;
  ::getsockname(l.get(), reinterpret_cast<sockaddr*>(&ss), &len);
  auto bound = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  std::printf("{\"listening\":\"%s\"}\n", bound->to_string().c_str());
  std::fflush(stdout);
  for (;;) {
    int fd = ::accept4(l.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) std::thread(serve, UniqueFd(fd)).detach();
  }
}

UniqueFd dial(const Endpoint& to, char mode) {
  UniqueFd fd(::socket(to.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_storage ss;
  socklen_t len = to.to_sockaddr(ss);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0)
    die(fmt::format("connect {}: {}", to.to_string(), std::strerror(errno)));
  no_delay(fd.get());
  if (!send_all(fd.get(), &mode, 1)) die("send");
  return fd;
}

int run_latency(const Endpoint& to, long count, long size, long warmup) {
  auto fd = dial(to, 'E');
  std::vector<char> out(static_cast<std::size_t>(size), 'x'), in(out.size());
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(count));
  auto begin = Clock::now();
  for (long i = 0; i < warmup + count; i++) {
    if (i == warmup) begin = Clock::now();
    auto t0 = Clock::now();
    if (!send_all(fd.get(), out.data(), out.size()) || !recv_all(fd.get(), in.data(), in.size()))
      die("connection lost during the latency run");
    if (i >= warmup)
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  double secs = std::chrono::duration<double>(Clock::now() - begin).count();
  std::sort(us.begin(), us.end());
  auto pct = [&](double p) { return us[static_cast<std::size_t>(p * (us.size() - 1))]; };
  std::printf(
      "{\"mode\":\"latency\",\"count\":%ld,\"size\":%ld,\"p50_us\":%.2f,\"p90_us\":%.2f,"
      "\"p99_us\":%.2f,\"rtt_per_s\":%.0f}\n",
      count, size, pct(0.5), pct(0.9), pct(0.99), static_cast<double>(count) / secs);
  return 0;
}

// One stream: send for `seconds`, half-close, and return the byte count the server confirms.
std::uint64_t stream(const Endpoint& to, double seconds, std::size_t chunk) {
  auto fd = dial(to, 'S');
  std::vector<char> buf(chunk, 'y');
  auto until = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < until)
    if (!send_all(fd.get(), buf.data(), buf.size())) die("connection lost during the bulk run");
  ::shutdown(fd.get(), SHUT_WR);
  std::uint64_t got = 0;
  if (!recv_all(fd.get(), &got, sizeof got)) die("no byte count from the server");
  return got;
}

int run_throughput(const Endpoint& to, double seconds, long streams, std::size_t chunk) {
  std::vector<std::uint64_t> got(static_cast<std::size_t>(streams));
  std::vector<std::thread> threads;
  auto begin = Clock::now();
  for (long i = 0; i < streams; i++)
    threads.emplace_back([&, i] { got[static_cast<std::size_t>(i)] = stream(to, seconds, chunk); });
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - begin).count();
  std::uint64_t total = 0;
  for (auto g : got) total += g;
  std::printf(
      "{\"mode\":\"throughput\",\"streams\":%ld,\"seconds\":%.3f,\"bytes\":%llu,"
      "\"gbit_per_s\":%.3f}\n",
      streams, secs, static_cast<unsigned long long>(total), total * 8.0 / secs / 1e9);
  return 0;
}

int usage() {
  std::fprintf(stderr,
               "usage: bench_pingpong server --listen ADDR:PORT\n"
               "       bench_pingpong latency --connect ADDR:PORT [--count N] [--size B] "
               "[--warmup N]\n"
               "       bench_pingpong throughput --connect ADDR:PORT [--seconds S] "
               "[--streams K] [--chunk B]\n");
  return 2;
}

}  // namespace
}  // namespace reel

int main(int argc, char** argv) {
  using namespace reel;
  if (argc < 2) return usage();
  std::string mode = argv[1];
  std::map<std::string, std::string> flags;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::strncmp(argv[i], "--", 2) != 0) return usage();
    flags[argv[i] + 2] = argv[i + 1];
  }
  auto num = [&](const char* name, double dflt) {
    return flags.count(name) ? std::stod(flags[name]) : dflt;
  };
  auto where = parse_endpoint(flags.count("listen") ? flags["listen"] : flags["connect"]);
  if (!where) die(where.error().message);
  if (mode == "server") return run_server(*where);
  if (mode == "latency")
    return run_latency(*where, static_cast<long>(num("count", 20000)),
                       static_cast<long>(num("size", 64)), static_cast<long>(num("warmup", 1000)));
  if (mode == "throughput")
    return run_throughput(*where, num("seconds", 5), static_cast<long>(num("streams", 1)),
                          static_cast<std::size_t>(num("chunk", 256 * 1024)));
  return usage();
}
