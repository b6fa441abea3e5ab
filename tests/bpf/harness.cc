#include "harness.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

namespace reel::testing {

namespace {

std::chrono::milliseconds left(std::chrono::steady_clock::time_point deadline) {
  auto d = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                 std::chrono::steady_clock::now());
  return d.count() < 0 ? std::chrono::milliseconds(0) : d;
}

Listener bound(const std::string& ip, std::uint16_t port, int type) {
  auto addr = parse_ip(ip);
  if (!addr) throw std::runtime_error(addr.error().message);
  Endpoint ep{*addr, port};
  UniqueFd fd(::socket(ep.family(), type | SOCK_CLOEXEC, 0));
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (ep.family() == AF_INET6) ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  sockaddr_storage ss;
  socklen_t len = ep.to_sockaddr(ss);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0)
    throw std::runtime_error("bind " + ep.to_string() + ": " + strerror(errno));
  if (type == SOCK_STREAM && ::listen(fd.get(), 4096) != 0) throw std::runtime_error("listen");
  len = sizeof ss;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len);
  return Listener{std::move(fd), *Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len)};
}

}  // namespace

Listener listen_tcp(const std::string& ip, std::uint16_t port) { return bound(ip, port, SOCK_STREAM); }
Listener bind_udp(const std::string& ip, std::uint16_t port) { return bound(ip, port, SOCK_DGRAM); }

UniqueFd accept_within(int listen_fd, std::chrono::milliseconds timeout) {
  pollfd p{listen_fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return UniqueFd();
  return UniqueFd(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
}

std::string read_n(int fd, std::size_t n, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string out;
  char buf[65536];
  while (out.size() < n) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left(deadline).count())) != 1) break;
    ssize_t r = ::read(fd, buf, std::min(sizeof buf, n - out.size()));
    if (r <= 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  return out;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t w = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (w < 0 && errno == ENOTSOCK) w = ::write(fd, data.data(), data.size());  // a pipe
    if (w <= 0) return false;
    data.remove_prefix(static_cast<size_t>(w));
  }
  return true;
}

Result<UniqueFd> connect_tcp(const Endpoint& to, int family) {
  UniqueFd fd(::socket(family ? family : to.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno("socket");
  sockaddr_storage ss;
  socklen_t len;
  if (family == AF_INET6 && to.ip.is_v4()) {  // IPv4-mapped destination on an IPv6 socket
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    std::memset(&ss, 0, sizeof ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(to.port);
    s6->sin6_addr = to.ip.v6();
    len = sizeof *s6;
  } else {
    len = to.to_sockaddr(ss);
  }
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0)
    return fail_errno("connect " + to.to_string());
  return fd;
}

Result<Endpoint> peer_of(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return fail_errno("getpeername");
  auto ep = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  if (!ep) return fail_msg("getpeername: unknown family");
  return *ep;
}

CgroupChild CgroupChild::start(int cgroup_fd, const std::function<std::string()>& fn) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  clone_args args{};
  args.flags = CLONE_INTO_CGROUP;
  args.cgroup = static_cast<__u64>(cgroup_fd);
  args.exit_signal = SIGCHLD;
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0) throw std::runtime_error(std::string("clone3: ") + strerror(errno));
  if (pid == 0) {
    ::close(p[0]);
    std::string r;
    try {
      r = fn();
    } catch (const std::exception& e) {
      r = std::string("exception: ") + e.what();
    }
    write_all(p[1], r);
    ::_exit(0);
  }
  ::close(p[1]);
  return CgroupChild(static_cast<pid_t>(pid), UniqueFd(p[0]));
}

std::string CgroupChild::finish(std::chrono::milliseconds timeout) {
  std::string out = read_n(out_.get(), 1 << 20, timeout);
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);  // no-op when it already exited
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  return out;
}

CgroupChild::~CgroupChild() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

}  // namespace reel::testing
