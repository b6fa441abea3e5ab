// RelayTakeover: a connection whose client speaks first with what `wants` accepts is handed over
// whole; every other connection (clear client-first, or server-first even if the client later
// sends the same bytes) stays in the relay's pumps.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <string>
#include <thread>

#include "core/unique_fd.h"
#include "proxy/relay.h"

namespace reel {
namespace {

Endpoint ep(const std::string& text) { return *parse_endpoint(text); }

// One-connection-at-a-time loopback server: sends `greeting` on accept, then echoes.
class EchoPeer {
 public:
  explicit EchoPeer(std::string greeting = "") : greeting_(std::move(greeting)) {
    listener_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_storage ss;
    socklen_t len = ep("127.0.0.1:0").to_sockaddr(ss);
    EXPECT_EQ(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&ss), len), 0);
    EXPECT_EQ(::listen(listener_.get(), 16), 0);
    len = sizeof ss;
    ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&ss), &len);
    at_ = *Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    thread_ = std::thread([this] { serve(); });
  }
  ~EchoPeer() {
    ::shutdown(listener_.get(), SHUT_RDWR);
    thread_.join();
  }
  Endpoint at() const { return at_; }

 private:
  void serve() {
    for (;;) {
      UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!fd) return;
      if (!greeting_.empty()) ::send(fd.get(), greeting_.data(), greeting_.size(), MSG_NOSIGNAL);
      char buf[4096];
      for (;;) {
        ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
        if (n <= 0 || ::send(fd.get(), buf, std::size_t(n), MSG_NOSIGNAL) != n) break;
      }
    }
  }
  std::string greeting_;
  UniqueFd listener_;
  Endpoint at_;
  std::thread thread_;
};

UniqueFd dial(const Endpoint& to) {
  UniqueFd fd(::socket(to.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_storage ss;
  socklen_t len = to.to_sockaddr(ss);
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len), 0);
  return fd;
}

// Reads exactly n bytes (5 s deadline).
std::string read_n(int fd, std::size_t n) {
  std::string got;
  while (got.size() < n) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) break;
    char buf[4096];
    ssize_t k = ::recv(fd, buf, std::min(sizeof buf, n - got.size()), 0);
    if (k <= 0) break;
    got.append(buf, std::size_t(k));
  }
  return got;
}

void send_str(int fd, const std::string& s) {
  ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), ssize_t(s.size()));
}

const std::string kHello("\x16\x03\x01\x00\x05hello", 10);

struct Harness {
  explicit Harness(const Endpoint& upstream) {
    RelayOptions o;
    o.listen = {ep("127.0.0.1:0")};
    o.threads = 1;
    o.destination = [upstream](int) -> Result<Endpoint> { return upstream; };
    o.takeover.wants = [](std::span<const std::byte> first) {
      return !first.empty() && first[0] == std::byte{0x16};
    };
    o.takeover.take = [this](TakenConnection c) {
      // Whoever takes it owns both sockets: answer the client ourselves to prove it.
      // Everything the test checks is set before the reply that lets it check.
      upstream_ok = c.upstream.get() >= 0;
      taken++;
      ::send(c.client.get(), "taken", 5, MSG_NOSIGNAL);
    };
    relay = *Relay::start(std::move(o));
  }
  std::atomic<int> taken{0};
  std::atomic<bool> upstream_ok{false};
  std::unique_ptr<Relay> relay;
};

TEST(RelayTakeover, ClientFirstMatchingBytesAreHandedOver) {
  EchoPeer peer;
  Harness h(peer.at());
  UniqueFd c = dial(h.relay->listening()[0]);
  send_str(c.get(), kHello);
  EXPECT_EQ(read_n(c.get(), 5), "taken");
  EXPECT_EQ(h.taken.load(), 1);
  EXPECT_TRUE(h.upstream_ok.load());
}

// The client's first bytes may land between the sniff's peek and the pumps' read (a connect that
// completes at once, then the ClientHello): they must still be offered, never relayed.
TEST(RelayTakeover, BytesArrivingWhileTheRelaySetsUpAreStillOffered) {
  EchoPeer peer;
  Harness h(peer.at());
  constexpr int kConnections = 2000;
  for (int i = 0; i < kConnections; ++i) {
    UniqueFd c = dial(h.relay->listening()[0]);
    send_str(c.get(), kHello);
    ASSERT_EQ(read_n(c.get(), 5), "taken") << "connection " << i << " was relayed, not taken";
  }
  EXPECT_EQ(h.taken.load(), kConnections);
}

TEST(RelayTakeover, ClearClientFirstStaysInTheRelay) {
  EchoPeer peer;
  Harness h(peer.at());
  UniqueFd c = dial(h.relay->listening()[0]);
  send_str(c.get(), "GET / HTTP/1.1\r\n\r\n");
  EXPECT_EQ(read_n(c.get(), 18), "GET / HTTP/1.1\r\n\r\n");
  send_str(c.get(), kHello);  // later bytes never count
  EXPECT_EQ(read_n(c.get(), kHello.size()), kHello);
  EXPECT_EQ(h.taken.load(), 0);
}

TEST(RelayTakeover, ServerFirstIsNeverHeldOrTaken) {
  EchoPeer peer(kHello);  // a greeting, even one that looks like TLS
  Harness h(peer.at());
  UniqueFd c = dial(h.relay->listening()[0]);
  EXPECT_EQ(read_n(c.get(), kHello.size()), kHello) << "the greeting arrives with no client byte";
  send_str(c.get(), kHello);
  EXPECT_EQ(read_n(c.get(), kHello.size()), kHello);
  EXPECT_EQ(h.taken.load(), 0);
}

}  // namespace
}  // namespace reel
