#include "core/net.h"

#include <gtest/gtest.h>

namespace reel {
namespace {

TEST(ParseEndpoint, Ipv4AndIpv6AndLocalhost) {
  auto a = parse_endpoint("127.0.0.1:8080");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_TRUE(a->ip.is_v4());
  EXPECT_EQ(a->port, 8080);
  EXPECT_EQ(a->to_string(), "127.0.0.1:8080");

  auto b = parse_endpoint("[::1]:443");
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_FALSE(b->ip.is_v4());
  EXPECT_EQ(b->to_string(), "[::1]:443");

  auto c = parse_endpoint("localhost:1");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->to_string(), "127.0.0.1:1");
}

TEST(ParseEndpoint, RejectsWhatIsNotHostPort) {
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "::1:80", "[::1]80",
                          "example.com:80", "1.2.3.4:-1", "1.2.3.4:8x"}) {
    auto r = parse_endpoint(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_FALSE(r.error().message.empty());
    }
  }
}

TEST(Endpoint, SockaddrRoundTrip) {
  for (const char* text : {"127.1.2.3:53", "[fd00::7]:8443", "[::ffff:1.2.3.4]:9"}) {
    auto ep = parse_endpoint(text);
    ASSERT_TRUE(ep);
    sockaddr_storage ss;
    socklen_t len = ep->to_sockaddr(ss);
    auto back = Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, *ep) << text;
  }
}

TEST(ParseCidr, PrefixesAreCanonicalAndContainmentWorks) {
  auto c = parse_cidr("127.1.2.3/8");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->prefix, 96 + 8);
  EXPECT_EQ(c->to_string(), "127.0.0.0/8");
  EXPECT_TRUE(c->contains(*parse_ip("127.200.0.1")));
  EXPECT_FALSE(c->contains(*parse_ip("128.0.0.1")));
  EXPECT_FALSE(c->contains(*parse_ip("::1")));

  auto host = parse_cidr("127.0.0.9");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->prefix, 128);

  auto v6 = parse_cidr("fd00::/8");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains(*parse_ip("fdff::1")));
  EXPECT_FALSE(v6->contains(*parse_ip("fe80::1")));

  EXPECT_FALSE(parse_cidr("127.0.0.0/33"));
  EXPECT_FALSE(parse_cidr("::/129"));
  EXPECT_FALSE(parse_cidr("nonsense/8"));
}

TEST(ParsePortRanges, ListsAndRanges) {
  auto r = parse_port_ranges("80,443,8000-8100");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[2].first, 8000);
  EXPECT_EQ((*r)[2].last, 8100);
  for (const char* bad : {"", "0", "80-", "90-80", "70000", "a", "80,,81"})
    EXPECT_FALSE(parse_port_ranges(bad)) << bad;
}

}  // namespace
}  // namespace reel
