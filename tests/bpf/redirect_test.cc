// The redirect programs on the real kernel: every case drives real sockets in a child process born
// in a test-made cgroup, with a "proxy" listener in the test process outside it.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "harness.h"
#include "kernel/cgroup.h"
#include "kernel/privileges.h"
#include "proxy/original_dst.h"
#include "redirect/redirector.h"

namespace reel {
namespace {

using namespace std::chrono_literals;
using testing::accept_within;
using testing::bind_udp;
using testing::connect_tcp;
using testing::listen_tcp;
using testing::peer_of;
using testing::read_n;
using testing::run_in_cgroup;
using testing::write_all;

Endpoint ep(const char* text) { return *parse_endpoint(text); }

// getsockopt(level, 80) as an Endpoint, for checking each level separately.
std::optional<Endpoint> so_original_dst(int fd, int level) {
  sockaddr_storage ss{};
  socklen_t len = level == SOL_IP ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  if (::getsockopt(fd, level, 80, &ss, &len) != 0) return std::nullopt;
  return Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

class RedirectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(require_privileges("tests")) << "kernel tests must run as root";
    static int n = 0;
    auto cg = Cgroup::create_child(fmt::format("{}-test{}", ::getpid(), n++));
    ASSERT_TRUE(cg) << cg.error().message;
    target_.emplace(std::move(*cg));
    proxy4_ = listen_tcp("127.0.0.1");
    proxy6_ = listen_tcp("::1");
  }

  // Loads with the test's proxies, attaches to the target cgroup and (for SO_ORIGINAL_DST) to
  // the cgroup this test process runs in. Its ASSERTs end only load(): callers wrap it in
  // ASSERT_NO_FATAL_FAILURE, so a kernel that refuses the programs fails the test, not crashes it.
  void load(RedirectConfig c = {}) {
    if (!c.proxy4) c.proxy4 = proxy4_.ep;
    if (!c.proxy6) c.proxy6 = proxy6_.ep;
    auto r = Redirector::load(c);
    ASSERT_TRUE(r) << r.error().message;
    redirector_ = std::move(*r);
    ASSERT_TRUE(redirector_->attach_target(target_->fd()));
    auto self = Cgroup::of_pid(::getpid());
    ASSERT_TRUE(self) << self.error().message;
    ASSERT_TRUE(redirector_->attach_proxy(self->fd()));
  }

  int cg() const { return target_->fd(); }

  std::optional<Cgroup> target_;
  testing::Listener proxy4_, proxy6_;
  std::unique_ptr<Redirector> redirector_;
};

// The child connects to `dst` and reports what getpeername() says; the proxy must get the
// connection and read `dst` back through SO_ORIGINAL_DST.
TEST_F(RedirectTest, TcpV4LandsOnProxyWithOriginalDestination) {
  ASSERT_NO_FATAL_FAILURE(load());
  Endpoint dst = ep("127.0.0.2:4242");  // nothing listens there
  auto child = testing::CgroupChild::start(cg(), [&] {
    auto fd = connect_tcp(dst);
    if (!fd) return fd.error().message;
    auto peer = peer_of(fd->get());
    write_all(fd->get(), "ping");
    std::string reply = read_n(fd->get(), 4, 5s);
    return (peer ? peer->to_string() : peer.error().message) + " " + reply;
  });
  auto conn = accept_within(proxy4_.fd.get(), 5s);
  ASSERT_TRUE(conn) << "connection did not reach the proxy";
  auto orig = original_destination(conn.get());
  ASSERT_TRUE(orig) << orig.error().message;
  EXPECT_EQ(orig->to_string(), "127.0.0.2:4242");
  EXPECT_EQ(so_original_dst(conn.get(), SOL_IP).value_or(Endpoint{}).to_string(), "127.0.0.2:4242");
  EXPECT_EQ(read_n(conn.get(), 4, 5s), "ping");
  write_all(conn.get(), "pong");
  EXPECT_EQ(child.finish(), "127.0.0.2:4242 pong");
  auto c = redirector_->counters();
  EXPECT_EQ(c.by_action[REEL_ACT_REDIRECTED], 1u);
  EXPECT_GE(c.by_action[REEL_ACT_ORIGDST_ANSWERED], 2u);
}

TEST_F(RedirectTest, TcpV6LandsOnIpv6ProxyAndAnswersSolIpv6) {
  ASSERT_NO_FATAL_FAILURE(load());
  auto child = testing::CgroupChild::start(cg(), [&] {
    auto fd = connect_tcp(ep("[::1]:4343"));
    if (!fd) return fd.error().message;
    auto peer = peer_of(fd->get());
    return peer ? peer->to_string() : peer.error().message;
  });
  auto conn = accept_within(proxy6_.fd.get(), 5s);
  ASSERT_TRUE(conn);
  EXPECT_EQ(so_original_dst(conn.get(), SOL_IPV6).value_or(Endpoint{}).to_string(), "[::1]:4343");
  auto orig = original_destination(conn.get());
  ASSERT_TRUE(orig) << orig.error().message;
  EXPECT_EQ(orig->to_string(), "[::1]:4343");
  // An IPv6 original has no sockaddr_in form: SOL_IP must not invent one.
  EXPECT_FALSE(so_original_dst(conn.get(), SOL_IP));
  EXPECT_EQ(child.finish(), "[::1]:4343");
}

TEST_F(RedirectTest, Ipv4MappedOnIpv6SocketGoesToIpv4Proxy) {
  ASSERT_NO_FATAL_FAILURE(load());
  auto child = testing::CgroupChild::start(cg(), [&] {
    auto fd = connect_tcp(ep("127.0.0.3:4444"), AF_INET6);  // ::ffff:127.0.0.3
    if (!fd) return fd.error().message;
    auto peer = peer_of(fd->get());
    return peer ? peer->to_string() : peer.error().message;
  });
  auto conn = accept_within(proxy4_.fd.get(), 5s);
  ASSERT_TRUE(conn) << "v4-mapped connection did not reach the IPv4 proxy";
  EXPECT_EQ(so_original_dst(conn.get(), SOL_IP).value_or(Endpoint{}).to_string(), "127.0.0.3:4444");
  EXPECT_EQ(so_original_dst(conn.get(), SOL_IPV6).value_or(Endpoint{}).to_string(), "127.0.0.3:4444");
  EXPECT_EQ(child.finish(), "127.0.0.3:4444");
}

TEST_F(RedirectTest, PortRulesSelectOnlyListedPorts) {
  auto real = listen_tcp("127.0.0.2");  // a real server on an unlisted port
  RedirectConfig c;
  c.rules.ports = {{4500, 4510}};
  ASSERT_NO_FATAL_FAILURE(load(c));
  std::string got = run_in_cgroup(cg(), [&] {
    auto a = connect_tcp(ep("127.0.0.2:4505"));   // listed: to the proxy
    auto b = connect_tcp(real.ep);                // not listed: straight to the server
    return std::string(a ? "a-ok" : a.error().message) + " " + (b ? "b-ok" : b.error().message);
  });
  EXPECT_EQ(got, "a-ok b-ok");
  auto at_proxy = accept_within(proxy4_.fd.get(), 2s);
  ASSERT_TRUE(at_proxy);
  EXPECT_EQ(original_destination(at_proxy.get()).value_or(Endpoint{}).to_string(), "127.0.0.2:4505");
  EXPECT_TRUE(accept_within(real.fd.get(), 2s)) << "unlisted port should reach the real server";
  EXPECT_FALSE(accept_within(proxy4_.fd.get(), 200ms)) << "unlisted port was redirected";
  EXPECT_EQ(redirector_->counters().by_action[REEL_ACT_BYPASS_PORT], 1u);
}

TEST_F(RedirectTest, ExcludeAndIncludeRules) {
  auto excluded_net = listen_tcp("127.0.0.4");
  auto excluded_exact = listen_tcp("127.0.0.5");
  auto not_included = listen_tcp("127.0.1.9");
  RedirectConfig c;
  c.rules.exclude = {*parse_cidr("127.0.0.4/32")};
  c.rules.exclude_exact = {excluded_exact.ep};
  c.rules.include = {*parse_cidr("127.0.0.0/24")};
  ASSERT_NO_FATAL_FAILURE(load(c));
  std::string got = run_in_cgroup(cg(), [&] {
    std::string r;
    for (const Endpoint& to : {excluded_net.ep, excluded_exact.ep, not_included.ep,
                               ep("127.0.0.5:1")})  // same IP as the exact rule, other port
      r += connect_tcp(to) ? "ok " : "fail ";
    return r;
  });
  EXPECT_EQ(got, "ok ok ok ok ");
  EXPECT_TRUE(accept_within(excluded_net.fd.get(), 2s));
  EXPECT_TRUE(accept_within(excluded_exact.fd.get(), 2s));
  EXPECT_TRUE(accept_within(not_included.fd.get(), 2s));
  auto at_proxy = accept_within(proxy4_.fd.get(), 2s);
  ASSERT_TRUE(at_proxy);
  EXPECT_EQ(original_destination(at_proxy.get()).value_or(Endpoint{}).to_string(), "127.0.0.5:1");
  auto counts = redirector_->counters();
  EXPECT_EQ(counts.by_action[REEL_ACT_BYPASS_EXCLUDED], 2u);
  EXPECT_EQ(counts.by_action[REEL_ACT_BYPASS_NOT_INCLUDED], 1u);
  EXPECT_EQ(counts.by_action[REEL_ACT_REDIRECTED], 1u);
}

TEST_F(RedirectTest, ProcessesOutsideTheCgroupAreUntouched) {
  auto real = listen_tcp("127.0.0.2");
  ASSERT_NO_FATAL_FAILURE(load());
  // This test process is outside the target cgroup.
  auto fd = connect_tcp(real.ep);
  ASSERT_TRUE(fd) << fd.error().message;
  EXPECT_TRUE(accept_within(real.fd.get(), 2s));
  EXPECT_EQ(peer_of(fd->get())->to_string(), real.ep.to_string());
  // And a process in a sibling cgroup, doing the same at the same time as one inside.
  auto sibling = Cgroup::create_child(fmt::format("{}-sibling", ::getpid()));
  ASSERT_TRUE(sibling);
  auto inside = testing::CgroupChild::start(cg(), [&] { return connect_tcp(real.ep) ? "ok" : "fail"; });
  std::string outside = run_in_cgroup(sibling->fd(), [&] {
    auto f = connect_tcp(real.ep);
    return f ? peer_of(f->get())->to_string() : f.error().message;
  });
  EXPECT_EQ(outside, real.ep.to_string());
  EXPECT_EQ(inside.finish(), "ok");
  EXPECT_TRUE(accept_within(real.fd.get(), 2s)) << "sibling's connection should reach the server";
  EXPECT_TRUE(accept_within(proxy4_.fd.get(), 2s)) << "inside connection should reach the proxy";
  EXPECT_EQ(redirector_->counters().seen, 1u);
}

TEST_F(RedirectTest, ProxyProcessAndProxyAddressAreNeverRedirected) {
  auto real = listen_tcp("127.0.0.2");
  ASSERT_NO_FATAL_FAILURE(load());
  std::string got = run_in_cgroup(cg(), [&] {
    // The proxy's own address must not loop back to itself through a rewrite.
    auto f = connect_tcp(proxy4_.ep);
    return f ? peer_of(f->get())->to_string() : f.error().message;
  });
  EXPECT_EQ(got, proxy4_.ep.to_string());
  auto direct = accept_within(proxy4_.fd.get(), 2s);
  ASSERT_TRUE(direct);
  EXPECT_FALSE(original_destination(direct.get())) << "a direct connection has no original";
  EXPECT_EQ(redirector_->counters().by_action[REEL_ACT_BYPASS_PROXY], 1u);
  // A process registered as the proxy is passed through even inside the cgroup.
  int gate[2];
  ASSERT_EQ(::pipe(gate), 0);
  auto child = testing::CgroupChild::start(cg(), [&] {
    char go;
    if (::read(gate[0], &go, 1) != 1) return std::string("no go");
    auto f = connect_tcp(real.ep);
    return f ? peer_of(f->get())->to_string() : f.error().message;
  });
  ASSERT_TRUE(redirector_->skip_process(child.pid()));
  ASSERT_EQ(::write(gate[1], "g", 1), 1);
  EXPECT_EQ(child.finish(), real.ep.to_string());
  EXPECT_TRUE(accept_within(real.fd.get(), 2s));
  EXPECT_EQ(redirector_->counters().by_action[REEL_ACT_BYPASS_PROXY_PROCESS], 1u);
  ::close(gate[0]);
  ::close(gate[1]);
}

TEST_F(RedirectTest, DnsOverUdpIsSteeredAndRepliesLookLikeTheOriginalServer) {
  // One port for both UDP and TCP resolvers: retry until a port free for one is free for both.
  testing::Listener resolver, tcp_resolver;
  for (;;) {
    resolver = bind_udp("127.0.0.1");
    try {
      tcp_resolver = listen_tcp("127.0.0.1", resolver.ep.port);
      break;
    } catch (const std::runtime_error&) {
    }
  }
  RedirectConfig c;
  c.dns4 = resolver.ep;
  ASSERT_NO_FATAL_FAILURE(load(c));
  // A minimal resolver: answers each query with the same id and QR set.
  std::atomic<int> answered = 0;
  std::thread server([&] {
    for (int i = 0; i < 2; i++) {
      char buf[512];
      sockaddr_storage from;
      socklen_t len = sizeof from;
      pollfd p{resolver.fd.get(), POLLIN, 0};
      if (::poll(&p, 1, 5000) != 1) return;
      ssize_t n = ::recvfrom(resolver.fd.get(), buf, sizeof buf, 0,
                             reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 12) return;
      buf[2] |= static_cast<char>(0x80);
      ::sendto(resolver.fd.get(), buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len);
      answered++;
    }
  });
  std::string got = run_in_cgroup(cg(), [&] {
    // "example.com A" query
    const unsigned char q[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'e', 'x', 'a',
                               'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1};
    std::string r;
    Endpoint server = ep("127.0.0.53:53");
    sockaddr_storage ss;
    socklen_t len = server.to_sockaddr(ss);
    // Unconnected: sendto + recvfrom.
    UniqueFd u(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ::sendto(u.get(), q, sizeof q, 0, reinterpret_cast<sockaddr*>(&ss), len);
    pollfd p{u.get(), POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) return std::string("no reply (unconnected)");
    unsigned char buf[512];
    sockaddr_storage from;
    socklen_t flen = sizeof from;
    ssize_t n = ::recvfrom(u.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &flen);
    r += fmt::format("{} {} {}", n, (buf[2] & 0x80) ? "qr" : "-",
                     Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&from), flen)->to_string());
    // Connected: connect + send + recvfrom, as glibc's resolver does.
    UniqueFd c(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (::connect(c.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) return r + " connect failed";
    ::send(c.get(), q, sizeof q, 0);
    pollfd pc{c.get(), POLLIN, 0};
    if (::poll(&pc, 1, 5000) != 1) return r + " no reply (connected)";
    flen = sizeof from;
    n = ::recvfrom(c.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &flen);
    r += fmt::format(" | {} {} {}", n, Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&from), flen)->to_string(),
                     peer_of(c.get()).value_or(Endpoint{}).to_string());
    return r;
  });
  server.join();
  EXPECT_EQ(answered.load(), 2);
  EXPECT_EQ(got, "29 qr 127.0.0.53:53 | 29 127.0.0.53:53 127.0.0.53:53");
  EXPECT_EQ(redirector_->counters().by_action[REEL_ACT_DNS_REDIRECTED], 2u);
  // The server the app asked is known to user space, for naming a query our resolver got.
  auto asked = redirector_->dns_servers_asked();
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0].to_string(), "127.0.0.53:53");

  // DNS over TCP goes to the resolver too (not to the proxy), with its original answered.
  std::string tcp = run_in_cgroup(cg(), [&] {
    auto f = connect_tcp(ep("127.0.0.53:53"));
    return f ? peer_of(f->get())->to_string() : f.error().message;
  });
  EXPECT_EQ(tcp, "127.0.0.53:53");
  auto conn = accept_within(tcp_resolver.fd.get(), 2s);
  ASSERT_TRUE(conn) << "TCP/53 did not reach the resolver";
  EXPECT_EQ(original_destination(conn.get()).value_or(Endpoint{}).to_string(), "127.0.0.53:53");
  EXPECT_FALSE(accept_within(proxy4_.fd.get(), 100ms));
  EXPECT_EQ(redirector_->counters().by_action[REEL_ACT_DNS_REDIRECTED], 3u);
}

TEST_F(RedirectTest, TenThousandShortConnectionsLeaveNoEntries) {
  ASSERT_NO_FATAL_FAILURE(load());
  constexpr int kConnections = 10000;
  std::atomic<int> accepted = 0, answered = 0;
  std::thread proxy([&] {
    while (accepted < kConnections) {
      auto c = accept_within(proxy4_.fd.get(), 10s);
      if (!c) return;
      accepted++;
      if (original_destination(c.get())) answered++;
    }
  });
  std::string got = run_in_cgroup(cg(), [&] {
    int ok = 0;
    for (int i = 0; i < kConnections; i++) {
      auto fd = connect_tcp(ep("127.0.0.2:4600"));
      if (fd) ok++;
    }
    return std::to_string(ok);
  });
  proxy.join();
  EXPECT_EQ(got, std::to_string(kConnections));
  EXPECT_EQ(accepted.load(), kConnections);
  EXPECT_EQ(answered.load(), kConnections);
  // Every socket has closed on both sides: the 4-tuple map must be empty.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (redirector_->filed_entries() != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(redirector_->filed_entries(), 0u);
  auto c = redirector_->counters();
  EXPECT_EQ(c.by_action[REEL_ACT_FILED], static_cast<std::uint64_t>(kConnections));
  EXPECT_EQ(c.by_action[REEL_ACT_UNFILED], static_cast<std::uint64_t>(kConnections));
}

}  // namespace
}  // namespace reel
