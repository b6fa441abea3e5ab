// Addresses, endpoints, CIDRs and port ranges: parsing and conversion to socket addresses.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace reel {

// An IP address held in 16 bytes; IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d).
struct IpAddr {
  std::array<std::uint8_t, 16> bytes{};

  static IpAddr from_v4(std::uint32_t be);  // network byte order
  static IpAddr from_v6(const in6_addr& a);
  bool is_v4() const;
  std::uint32_t v4_be() const;  // only meaningful when is_v4()
  in6_addr v6() const;
  bool is_unspecified() const;
  std::string to_string() const;
  friend bool operator==(const IpAddr&, const IpAddr&) = default;
};

// An IP address and a port (host byte order).
struct Endpoint {
  IpAddr ip;
  std::uint16_t port = 0;

  // Fills `out` with a sockaddr_in for IPv4 and sockaddr_in6 otherwise; returns its length.
  socklen_t to_sockaddr(sockaddr_storage& out) const;
  static std::optional<Endpoint> from_sockaddr(const sockaddr* sa, socklen_t len);
  int family() const { return ip.is_v4() ? AF_INET : AF_INET6; }
  // "1.2.3.4:80" or "[::1]:80".
  std::string to_string() const;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
};

struct Cidr {
  IpAddr ip;
  int prefix = 128;  // over the 16-byte form: an IPv4 /24 is 120
  bool contains(const IpAddr& a) const;
  std::string to_string() const;
};

struct PortRange {
  std::uint16_t first = 0;
  std::uint16_t last = 0;
};

// "1.2.3.4", "::1", "localhost" (127.0.0.1). No DNS: reel never resolves names on its own.
Result<IpAddr> parse_ip(std::string_view text);
// "1.2.3.4:80", "[::1]:80", "localhost:80".
Result<Endpoint> parse_endpoint(std::string_view text);
// "10.0.0.0/8", "1.2.3.4" (a /32), "fd00::/8", "::1".
Result<Cidr> parse_cidr(std::string_view text);
// "80,443,8000-8100".
Result<std::vector<PortRange>> parse_port_ranges(std::string_view text);

}  // namespace reel
