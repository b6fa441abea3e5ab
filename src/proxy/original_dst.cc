#include "proxy/original_dst.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>

namespace reel {
namespace {

// Both come from <linux/netfilter_ipv4.h> / <linux/netfilter_ipv6/ip6_tables.h>, whose headers
// clash with glibc's; the value is ABI and has been 80 since Linux 2.4.
constexpr int kSoOriginalDst = 80;
constexpr int kIp6tSoOriginalDst = 80;

Result<Endpoint> ask(int fd, int level, int option) {
  sockaddr_storage ss{};
  socklen_t len = level == SOL_IPV6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  if (::getsockopt(fd, level, option, &ss, &len) != 0) return fail_errno("getsockopt");
  auto ep = Endpoint::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len);
  if (!ep) return fail_msg("getsockopt returned address family {}", ss.ss_family);
  return *ep;
}

int socket_family(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return AF_UNSPEC;
  return ss.ss_family;
}

}  // namespace

Result<Endpoint> original_destination(int fd) {
  int family = socket_family(fd);
  if (family == AF_UNSPEC) return fail_errno("original destination: getsockname");
  if (family == AF_INET6) {
    auto v6 = ask(fd, SOL_IPV6, kIp6tSoOriginalDst);
    if (v6) return v6;
    // A v4 client on a dual-stack listener is filed by the IPv4 conntrack/hook, not the IPv6 one.
    auto v4 = ask(fd, SOL_IP, kSoOriginalDst);
    if (v4) return v4;
    return fail(Error{v6.error().code,
                      fmt::format("connection was not redirected: SOL_IPV6: {}; SOL_IP: {}",
                                  v6.error().message, v4.error().message)});
  }
  if (family != AF_INET)
    return fail_msg("original destination: not an IP socket (address family {})", family);
  auto v4 = ask(fd, SOL_IP, kSoOriginalDst);
  if (v4) return v4;
  return fail(v4.error().wrap("connection was not redirected: SOL_IP"));
}

}  // namespace reel
