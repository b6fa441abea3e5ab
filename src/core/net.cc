#include "core/net.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace reel {

IpAddr IpAddr::from_v4(std::uint32_t be) {
  IpAddr a;
  a.bytes[10] = 0xff;
  a.bytes[11] = 0xff;
  std::memcpy(a.bytes.data() + 12, &be, 4);
  return a;
}

IpAddr IpAddr::from_v6(const in6_addr& in) {
  IpAddr a;
  std::memcpy(a.bytes.data(), &in, 16);
  return a;
}

bool IpAddr::is_v4() const {
  for (int i = 0; i < 10; i++)
    if (bytes[i] != 0) return false;
  return bytes[10] == 0xff && bytes[11] == 0xff;
}

std::uint32_t IpAddr::v4_be() const {
  std::uint32_t be;
  std::memcpy(&be, bytes.data() + 12, 4);
  return be;
}

in6_addr IpAddr::v6() const {
  in6_addr a;
  std::memcpy(&a, bytes.data(), 16);
  return a;
}

bool IpAddr::is_unspecified() const {
  if (is_v4()) return v4_be() == 0;
  for (auto b : bytes)
    if (b != 0) return false;
  return true;
}

std::string IpAddr::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  if (is_v4()) {
    in_addr a{v4_be()};
    return inet_ntop(AF_INET, &a, buf, sizeof buf);
  }
  in6_addr a = v6();
  return inet_ntop(AF_INET6, &a, buf, sizeof buf);
}

socklen_t Endpoint::to_sockaddr(sockaddr_storage& out) const {
  std::memset(&out, 0, sizeof out);
  if (ip.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr.s_addr = ip.v4_be();
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  sin6->sin6_addr = ip.v6();
  return sizeof(sockaddr_in6);
}

std::optional<Endpoint> Endpoint::from_sockaddr(const sockaddr* sa, socklen_t len) {
  if (sa->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
    auto* sin = reinterpret_cast<const sockaddr_in*>(sa);
    return Endpoint{IpAddr::from_v4(sin->sin_addr.s_addr), ntohs(sin->sin_port)};
  }
  if (sa->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    auto* sin6 = reinterpret_cast<const sockaddr_in6*>(sa);
    return Endpoint{IpAddr::from_v6(sin6->sin6_addr), ntohs(sin6->sin6_port)};
  }
  return std::nullopt;
}

std::string Endpoint::to_string() const {
  if (ip.is_v4()) return fmt::format("{}:{}", ip.to_string(), port);
  return fmt::format("[{}]:{}", ip.to_string(), port);
}

bool Cidr::contains(const IpAddr& a) const {
  int full = prefix / 8, rest = prefix % 8;
  if (std::memcmp(a.bytes.data(), ip.bytes.data(), full) != 0) return false;
  if (rest == 0) return true;
  std::uint8_t mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a.bytes[full] & mask) == (ip.bytes[full] & mask);
}

std::string Cidr::to_string() const {
  if (ip.is_v4()) return fmt::format("{}/{}", ip.to_string(), prefix - 96);
  return fmt::format("{}/{}", ip.to_string(), prefix);
}

namespace {

Result<std::uint32_t> parse_number(std::string_view text, std::uint32_t max, std::string_view what) {
  std::uint32_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || v > max)
    return fail_msg("'{}' is not a valid {} (0-{})", text, what, max);
  return v;
}

}  // namespace

Result<IpAddr> parse_ip(std::string_view text) {
  if (text == "localhost") text = "127.0.0.1";
  std::string s(text);
  in_addr a4;
  if (inet_pton(AF_INET, s.c_str(), &a4) == 1) return IpAddr::from_v4(a4.s_addr);
  in6_addr a6;
  if (inet_pton(AF_INET6, s.c_str(), &a6) == 1) return IpAddr::from_v6(a6);
  return fail_msg("'{}' is not an IPv4 or IPv6 address (reel does not resolve host names)", text);
}

Result<Endpoint> parse_endpoint(std::string_view text) {
  std::string_view host, port;
  if (text.starts_with('[')) {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return fail_msg("'{}' is not HOST:PORT (IPv6 as [::1]:8080)", text);
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon)
      return fail_msg("'{}' is not HOST:PORT (IPv6 as [::1]:8080)", text);
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  IpAddr ip = REEL_TRY(parse_ip(host));
  std::uint32_t p = REEL_TRY(parse_number(port, 65535, "port"));
  return Endpoint{ip, static_cast<std::uint16_t>(p)};
}

Result<Cidr> parse_cidr(std::string_view text) {
  auto slash = text.find('/');
  IpAddr ip = REEL_TRY(parse_ip(text.substr(0, slash)));
  int max = ip.is_v4() ? 32 : 128;
  int prefix = max;
  if (slash != std::string_view::npos)
    prefix = static_cast<int>(REEL_TRY(parse_number(text.substr(slash + 1), max, "prefix length")));
  Cidr c{ip, ip.is_v4() ? prefix + 96 : prefix};
  // Clear host bits so the printed form and LPM keys are canonical.
  for (int bit = c.prefix; bit < 128; bit++) c.ip.bytes[bit / 8] &= ~(0x80 >> (bit % 8));
  if (ip.is_v4()) {  // keep the ::ffff: marker, which sits inside the first 96 bits
    c.ip.bytes[10] = c.ip.bytes[11] = 0xff;
  }
  return c;
}

Result<std::vector<PortRange>> parse_port_ranges(std::string_view text) {
  std::vector<PortRange> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    auto dash = item.find('-');
    std::uint32_t first = REEL_TRY(parse_number(item.substr(0, dash), 65535, "port"));
    std::uint32_t last = first;
    if (dash != std::string_view::npos)
      last = REEL_TRY(parse_number(item.substr(dash + 1), 65535, "port"));
    if (first == 0 || last < first) return fail_msg("'{}' is not a port range like 8000-8100", item);
    out.push_back({static_cast<std::uint16_t>(first), static_cast<std::uint16_t>(last)});
  }
  if (out.empty()) return fail_msg("empty port list");
  return out;
}

}  // namespace reel
