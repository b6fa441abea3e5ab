#include "record/dns_forwarder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <array>
#include <fstream>
#include <map>
#include <sstream>

#include <spdlog/spdlog.h>

#include "core/clock.h"
#include "mock/protocols.h"

namespace reel::record {

namespace {

constexpr std::uint64_t kTimeoutNs = 5'000'000'000;
constexpr std::size_t kMaxMessage = 65535;

// One UDP query waiting for the upstream's answer on its own connected socket.
struct PendingQuery {
  sockaddr_storage client{};
  socklen_t client_len = 0;
  std::string query;
  std::uint64_t sent_ns = 0;
};

std::span<const std::byte> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

Result<UniqueFd> bound_socket(int type, const Endpoint& ep) {
  UniqueFd fd(::socket(ep.family(), type | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno("socket");
  int one = 1;
  if (type == SOCK_STREAM) ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage ss;
  socklen_t len = ep.to_sockaddr(ss);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0)
    return fail_errno(fmt::format("bind {}", ep.to_string()));
  return fd;
}

Result<std::uint16_t> local_port(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return fail_errno("getsockname");
  auto ep = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  if (!ep) return fail_msg("getsockname: unknown address family");
  return ep->port;
}

// Reads exactly n bytes, waiting at most until `deadline_ns`.
bool read_full(int fd, char* out, std::size_t n, std::uint64_t deadline_ns) {
  std::size_t got = 0;
  while (got < n) {
    std::uint64_t now = monotonic_ns();
    if (now >= deadline_ns) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>((deadline_ns - now) / 1'000'000) + 1) <= 0) return false;
    ssize_t r = ::recv(fd, out + got, n - got, 0);
    if (r <= 0) return false;
    got += static_cast<std::size_t>(r);
  }
  return true;
}

bool write_full(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    ssize_t w = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (w <= 0) return false;
    off += static_cast<std::size_t>(w);
  }
  return true;
}

std::string with_length(const std::string& msg) {
  std::string out(2, '\0');
  out[0] = static_cast<char>(msg.size() >> 8);
  out[1] = static_cast<char>(msg.size() & 0xff);
  return out + msg;
}

}  // namespace

Result<Endpoint> system_resolver() {
  std::ifstream in("/etc/resolv.conf");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key, value;
    if (!(words >> key >> value) || key != "nameserver") continue;
    if (auto ip = parse_ip(value)) return Endpoint{*ip, 53};
  }
  return fail_msg("no nameserver in /etc/resolv.conf: give --dns-upstream HOST:PORT");
}

Result<std::unique_ptr<DnsForwarder>> DnsForwarder::start(const IpAddr& listen_ip,
                                                          const Endpoint& upstream,
                                                          mock::RecordOptions options) {
  std::unique_ptr<DnsForwarder> f(new DnsForwarder());
  f->upstream_ = upstream;
  f->options_ = std::move(options);
  // One port for both transports: take a free UDP port, then try TCP on it.
  for (int attempt = 0; attempt < 50 && !f->tcp_; attempt++) {
    f->udp_ = REEL_TRY(bound_socket(SOCK_DGRAM, Endpoint{listen_ip, 0}));
    std::uint16_t port = REEL_TRY(local_port(f->udp_.get()));
    if (auto tcp = bound_socket(SOCK_STREAM, Endpoint{listen_ip, port})) {
      f->tcp_ = std::move(*tcp);
      f->listening_ = Endpoint{listen_ip, port};
    }
  }
  if (!f->tcp_) return fail_msg("no port free for both UDP and TCP DNS on {}", listen_ip.to_string());
  if (::listen(f->tcp_.get(), 64) != 0) return fail_errno("listen (DNS over TCP)");
  f->wake_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!f->wake_) return fail_errno("eventfd");
  f->thread_ = std::thread([p = f.get()] { p->run(); });
  return f;
}

DnsForwarder::~DnsForwarder() { stop(); }

void DnsForwarder::stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  std::uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
  thread_.join();
}

std::vector<mock::RecordedCall> DnsForwarder::take() {
  std::lock_guard lock(mu_);
  return std::exchange(done_, {});
}

void DnsForwarder::keep(std::span<const std::byte> query, std::span<const std::byte> answer,
                        std::uint64_t request_ns) {
  auto call = mock::dns_call(query, answer, request_ns, monotonic_ns(), upstream_, options_);
  if (!call) {
    spdlog::debug("DNS answer not recorded: {}", call.error().message);
    return;
  }
  std::lock_guard lock(mu_);
  done_.push_back(std::move(*call));
}

void DnsForwarder::forward_tcp(int client_fd) {
  UniqueFd client(client_fd);
  std::uint64_t deadline = monotonic_ns() + kTimeoutNs;
  std::array<unsigned char, 2> len{};
  // A client may send several queries on one connection; answer until it stops.
  while (read_full(client.get(), reinterpret_cast<char*>(len.data()), 2, deadline)) {
    std::string query(std::size_t(len[0]) << 8 | len[1], '\0');
    if (!read_full(client.get(), query.data(), query.size(), deadline)) return;
    std::uint64_t request_ns = monotonic_ns();
    UniqueFd up(::socket(upstream_.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_storage ss;
    socklen_t sl = upstream_.to_sockaddr(ss);
    if (!up || ::connect(up.get(), reinterpret_cast<sockaddr*>(&ss), sl) != 0 ||
        !write_full(up.get(), with_length(query)) ||
        !read_full(up.get(), reinterpret_cast<char*>(len.data()), 2, deadline)) {
      failed_++;
      return;
    }
    std::string answer(std::size_t(len[0]) << 8 | len[1], '\0');
    if (!read_full(up.get(), answer.data(), answer.size(), deadline)) {
      failed_++;
      return;
    }
    keep(bytes_of(query), bytes_of(answer), request_ns);
    if (!write_full(client.get(), with_length(answer))) return;
  }
}

void DnsForwarder::run() {
  std::map<int, PendingQuery> pending;  // upstream socket -> query
  std::string buf(kMaxMessage, '\0');
  while (!stopping_) {
    std::vector<pollfd> fds{{wake_.get(), POLLIN, 0}, {udp_.get(), POLLIN, 0}, {tcp_.get(), POLLIN, 0}};
    for (auto& [fd, _] : pending) fds.push_back({fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), 500) < 0 && errno != EINTR) break;
    if (fds[1].revents & POLLIN) {
      PendingQuery q;
      q.client_len = sizeof q.client;
      ssize_t n = ::recvfrom(udp_.get(), buf.data(), buf.size(), 0,
                             reinterpret_cast<sockaddr*>(&q.client), &q.client_len);
      if (n > 0) {
        q.query.assign(buf.data(), static_cast<std::size_t>(n));
        q.sent_ns = monotonic_ns();
        int up = ::socket(upstream_.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_storage ss;
        socklen_t sl = upstream_.to_sockaddr(ss);
        if (up >= 0 && ::connect(up, reinterpret_cast<sockaddr*>(&ss), sl) == 0 &&
            ::send(up, q.query.data(), q.query.size(), 0) >= 0) {
          pending.emplace(up, std::move(q));
        } else {
          failed_++;
          if (up >= 0) ::close(up);
        }
      }
    }
    if (fds[2].revents & POLLIN) {
      int c = ::accept4(tcp_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (c >= 0) forward_tcp(c);
    }
    std::uint64_t now = monotonic_ns();
    for (std::size_t i = 3; i < fds.size(); i++) {
      auto it = pending.find(fds[i].fd);
      if (fds[i].revents & (POLLIN | POLLERR)) {
        ssize_t n = ::recv(fds[i].fd, buf.data(), buf.size(), 0);
        if (n > 0) {
          ::sendto(udp_.get(), buf.data(), static_cast<std::size_t>(n), 0,
                   reinterpret_cast<sockaddr*>(&it->second.client), it->second.client_len);
          keep(bytes_of(it->second.query),
               std::span<const std::byte>(reinterpret_cast<const std::byte*>(buf.data()),
                                          static_cast<std::size_t>(n)),
               it->second.sent_ns);
        } else {
          failed_++;
        }
      } else if (now - it->second.sent_ns < kTimeoutNs) {
        continue;
      } else {
        failed_++;
      }
      ::close(it->first);
      pending.erase(it);
    }
  }
  for (auto& [fd, _] : pending) ::close(fd);
}

}  // namespace reel::record
