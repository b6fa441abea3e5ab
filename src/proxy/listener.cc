#include "proxy/listener.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>

namespace reel {
namespace {

constexpr int kBacklog = 4096;

Error bind_error(const Endpoint& ep, int code) {
  auto where = ep.to_string();
  switch (code) {
    case EADDRINUSE:
      return Error::msg(where +
                            " is already in use (EADDRINUSE): another program listens there; "
                            "stop it or choose another port",
                        code);
    case EADDRNOTAVAIL:
      return Error::msg(where + " is not an address of this machine (EADDRNOTAVAIL)", code);
    case EACCES:
      return Error::msg(where + " needs privileges to bind (EACCES): use a port above 1023", code);
    default:
      return Error::from_errno("bind " + where, code);
  }
}

Result<UniqueFd> make_socket(const Endpoint& ep, bool reuseport) {
  UniqueFd fd(::socket(ep.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return fail_errno("socket for " + ep.to_string());
  int one = 1;
  // SO_REUSEADDR lets a restart bind over TIME_WAIT leftovers of the previous run.
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuseport && ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
    return fail_errno("SO_REUSEPORT on " + ep.to_string());
  // Without V6ONLY, [::]:P would also take IPv4 and collide with 127.0.0.1:P.
  if (ep.family() == AF_INET6 &&
      ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0)
    return fail_errno("IPV6_V6ONLY on " + ep.to_string());
  // Accepted sockets inherit it, which saves a syscall per connection.
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_storage ss;
  socklen_t len = ep.to_sockaddr(ss);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0)
    return fail(bind_error(ep, errno));
  return fd;
}

Result<Endpoint> local_endpoint(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
    return fail_errno("getsockname");
  auto ep = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  if (!ep) return fail_msg("getsockname: unexpected address family {}", ss.ss_family);
  return *ep;
}

// A plain bind (no SO_REUSEPORT) conflicts with any listener on the port, ours or not. Kept open
// until the real listeners are up so nobody grabs a port-0 choice in between.
struct Probe {
  UniqueFd fd;
  Endpoint bound;
};

Result<Probe> probe(Endpoint want, std::uint16_t shared_port) {
  if (want.port == 0 && shared_port != 0) {
    Endpoint same = want;
    same.port = shared_port;
    auto fd = make_socket(same, false);
    if (fd) return Probe{std::move(*fd), same};
  }
  auto fd = REEL_TRY(make_socket(want, false));
  auto bound = REEL_TRY(local_endpoint(fd.get()));
  return Probe{std::move(fd), bound};
}

Result<UniqueFd> listener(const Endpoint& ep) {
  auto fd = REEL_TRY(make_socket(ep, true));
  if (::listen(fd.get(), kBacklog) != 0) {
    if (errno == EADDRINUSE) return fail(bind_error(ep, errno));
    return fail_errno("listen on " + ep.to_string());
  }
  return fd;
}

}  // namespace

Result<ListenerSet> open_listeners(const std::vector<Endpoint>& endpoints, int copies) {
  ListenerSet set;
  set.by_worker.resize(copies);
  std::vector<Probe> probes;
  std::uint16_t shared_port = 0;
  for (const auto& want : endpoints) {
    auto p = REEL_TRY(probe(want, shared_port));
    if (want.port == 0 && shared_port == 0) shared_port = p.bound.port;
    for (auto& fds : set.by_worker) fds.push_back(REEL_TRY(listener(p.bound)));
    set.bound.push_back(p.bound);
    probes.push_back(std::move(p));
  }
  return set;
}

}  // namespace reel
