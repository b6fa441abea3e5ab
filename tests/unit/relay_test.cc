// The relay's byte pumping on its own: `destination` points at a loopback peer started here, so
// no redirect and no root are involved (the SO_ORIGINAL_DST path is covered by tests/bpf).
#include "proxy/relay.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>

#include "core/unique_fd.h"

namespace reel {
namespace {

using Clock = std::chrono::steady_clock;
using Bytes = std::vector<std::byte>;
// Only a guard against hanging forever; no test outcome depends on how fast anything is.
constexpr auto kPatience = std::chrono::seconds(60);

Bytes random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::byte>(rng());
  return b;
}

Endpoint ep(const std::string& text) { return *parse_endpoint(text); }

UniqueFd listen_on(const Endpoint& at, bool do_listen = true) {
  UniqueFd fd(::socket(at.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_storage ss;
  socklen_t len = at.to_sockaddr(ss);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len), 0) << std::strerror(errno);
  if (do_listen) {
    EXPECT_EQ(::listen(fd.get(), 512), 0);
  }
  return fd;
}

Endpoint bound_endpoint(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return *Endpoint::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

bool send_all(int fd, const std::byte* p, std::size_t n) {
  while (n > 0) {
    ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);
    if (k <= 0) return false;
    p += k;
    n -= static_cast<std::size_t>(k);
  }
  return true;
}

// The server the relay forwards to: blocking sockets, a thread per connection.
class Peer {
 public:
  enum class Mode {
    kEcho,        // echoes, then half-closes after the client's EOF
    kReplyAtEof,  // reads to EOF, then answers "<bytes> <sum>"
    kResetAfterFirstRead,
  };
  explicit Peer(Mode mode, const std::string& at = "127.0.0.1:0")
      : mode_(mode), listener_(listen_on(ep(at))), endpoint_(bound_endpoint(listener_.get())) {
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~Peer() {
    ::shutdown(listener_.get(), SHUT_RDWR);
    acceptor_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
      threads.swap(threads_);
    }
    for (auto& t : threads) t.join();  // each takes mu_ on its way out
  }
  Endpoint endpoint() const { return endpoint_; }

 private:
  void accept_loop() {
    for (;;) {
      int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      std::lock_guard lock(mu_);
      open_.push_back(fd);
      threads_.emplace_back([this, fd] { serve(UniqueFd(fd)); });
    }
  }
  void serve(UniqueFd fd) {
    std::vector<std::byte> buf(64 * 1024);
    std::uint64_t total = 0, sum = 0;
    for (;;) {
      ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
      if (n <= 0) break;
      if (mode_ == Mode::kResetAfterFirstRead) {
        linger lg{1, 0};
        ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        break;
      }
      if (mode_ == Mode::kEcho && !send_all(fd.get(), buf.data(), static_cast<std::size_t>(n)))
        break;
      total += static_cast<std::uint64_t>(n);
      for (ssize_t i = 0; i < n; i++) sum += static_cast<std::uint8_t>(buf[i]);
    }
    if (mode_ == Mode::kReplyAtEof) {
      auto reply = std::to_string(total) + " " + std::to_string(sum);
      send_all(fd.get(), reinterpret_cast<const std::byte*>(reply.data()), reply.size());
    }
    std::lock_guard lock(mu_);
    std::erase(open_, fd.get());
  }

  Mode mode_;
  UniqueFd listener_;
  Endpoint endpoint_;
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> open_;
  std::vector<std::thread> threads_;
};

// `rcvbuf`: a fixed receive buffer (no autotuning), set before the handshake.
UniqueFd dial(const Endpoint& to, int rcvbuf = 0) {
  UniqueFd fd(::socket(to.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (rcvbuf) ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_storage ss;
  socklen_t len = to.to_sockaddr(ss);
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len), 0) << std::strerror(errno);
  ::fcntl(fd.get(), F_SETFL, O_NONBLOCK);
  return fd;
}

// One client connection's exchange: send `out` (then FIN if `shut`), read until `expect` bytes,
// EOF or an error.
struct Stream {
  int fd;
  const Bytes* out;
  std::size_t expect;
  bool shut = true;
  std::size_t sent = 0;
  Bytes got;
  bool eof = false;
  int error = 0;
  bool done() const { return eof || error != 0 || (got.size() >= expect && sent == out->size()); }
};

void step(Stream& s, short revents) {
  if ((revents & POLLOUT) && s.sent < s.out->size()) {
    ssize_t n = ::send(s.fd, s.out->data() + s.sent, s.out->size() - s.sent, MSG_NOSIGNAL);
    if (n > 0) s.sent += static_cast<std::size_t>(n);
    if (n < 0 && errno != EAGAIN) s.error = errno;
    if (s.sent == s.out->size() && s.shut) ::shutdown(s.fd, SHUT_WR);
  }
  if (revents & (POLLIN | POLLHUP | POLLERR)) {
    std::byte buf[64 * 1024];
    ssize_t n = ::recv(s.fd, buf, sizeof buf, 0);
    if (n > 0) s.got.insert(s.got.end(), buf, buf + n);
    if (n == 0) s.eof = true;
    if (n < 0 && errno != EAGAIN) s.error = errno;
  }
}

// Drives every stream with poll() until all are done; false if the deadline passed first.
bool run_streams(std::vector<Stream>& streams) {
  auto deadline = Clock::now() + kPatience;
  for (auto& s : streams)
    if (s.out->empty() && s.shut) ::shutdown(s.fd, SHUT_WR);
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<Stream*> live;
    for (auto& s : streams) {
      if (s.done()) continue;
      short want = POLLIN | (s.sent < s.out->size() ? POLLOUT : 0);
      fds.push_back({s.fd, want, 0});
      live.push_back(&s);
    }
    if (live.empty()) return true;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    if (::poll(fds.data(), fds.size(), static_cast<int>(left.count())) < 0) return false;
    for (std::size_t i = 0; i < fds.size(); i++) step(*live[i], fds[i].revents);
  }
}

// Reads until EOF or an error; returns the bytes, and in *error the errno (0 for a clean EOF).
Bytes read_to_end(int fd, int* error) {
  static const Bytes kNothing;
  std::vector<Stream> one{{fd, &kNothing, SIZE_MAX, false}};
  EXPECT_TRUE(run_streams(one)) << "no EOF or reset before the deadline";
  *error = one[0].error;
  return std::move(one[0].got);
}

template <typename Pred>
bool wait_until(Pred pred) {
  auto deadline = Clock::now() + kPatience;
  while (!pred()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

std::unique_ptr<Relay> start_relay(const Endpoint& dest, RelayOptions opt = {}) {
  if (opt.listen.empty()) opt.listen = {ep("127.0.0.1:0")};
  opt.destination = [dest](int) -> Result<Endpoint> { return dest; };
  auto relay = Relay::start(std::move(opt));
  EXPECT_TRUE(relay) << relay.error().message;
  return relay ? std::move(*relay) : nullptr;
}

// Runs each byte-pumping test with splice and with plain read/write.
class RelayMode : public ::testing::TestWithParam<bool> {
 protected:
  RelayOptions options(int threads = 0) {
    RelayOptions o;
    o.splice = GetParam();
    o.threads = threads;
    return o;
  }
};
INSTANTIATE_TEST_SUITE_P(, RelayMode, ::testing::Values(true, false),
                         [](const auto& p) { return p.param ? "splice" : "readwrite"; });

TEST_P(RelayMode, EchoesExactBytesBothWays) {
  Peer peer(Peer::Mode::kEcho);
  auto relay = start_relay(peer.endpoint(), options());
  ASSERT_NE(relay, nullptr);
  std::uint32_t seed = 1;
  for (std::size_t size : {std::size_t{1}, std::size_t{64} << 10, std::size_t{32} << 20}) {
    SCOPED_TRACE(size);
    Bytes out = random_bytes(size, seed++);
    auto fd = dial(relay->listening()[0]);
    std::vector<Stream> s{{fd.get(), &out, SIZE_MAX}};
    ASSERT_TRUE(run_streams(s));
    EXPECT_TRUE(s[0].eof) << std::strerror(s[0].error);
    EXPECT_EQ(s[0].got.size(), out.size());
    EXPECT_TRUE(s[0].got == out) << "echoed bytes differ";
  }
  ASSERT_TRUE(wait_until([&] { return relay->stats().active == 0; }));
  auto st = relay->stats();
  std::uint64_t total = 1 + (64 << 10) + (32 << 20);
  EXPECT_EQ(st.accepted, 3u);
  EXPECT_EQ(st.bytes_up, total);
  EXPECT_EQ(st.bytes_down, total);
}

TEST_P(RelayMode, HalfCloseStillDeliversTheReply) {
  Peer peer(Peer::Mode::kReplyAtEof);
  auto relay = start_relay(peer.endpoint(), options());
  ASSERT_NE(relay, nullptr);
  Bytes out = random_bytes(100000, 7);
  std::uint64_t sum = 0;
  for (auto b : out) sum += static_cast<std::uint8_t>(b);
  auto fd = dial(relay->listening()[0]);
  std::vector<Stream> s{{fd.get(), &out, SIZE_MAX, /*shut=*/true}};
  ASSERT_TRUE(run_streams(s));
  EXPECT_TRUE(s[0].eof) << std::strerror(s[0].error);
  std::string reply(reinterpret_cast<const char*>(s[0].got.data()), s[0].got.size());
  EXPECT_EQ(reply, "100000 " + std::to_string(sum));
}

TEST_P(RelayMode, ManyConcurrentConnections) {
  Peer peer(Peer::Mode::kEcho);
  auto relay = start_relay(peer.endpoint(), options());
  ASSERT_NE(relay, nullptr);
  constexpr int kConns = 200;
  std::vector<Bytes> outs;
  std::vector<UniqueFd> fds;
  std::vector<Stream> streams;
  for (int i = 0; i < kConns; i++) outs.push_back(random_bytes(16 * 1024 + i, 100 + i));
  for (int i = 0; i < kConns; i++) fds.push_back(dial(relay->listening()[0]));
  for (int i = 0; i < kConns; i++) streams.push_back({fds[i].get(), &outs[i], SIZE_MAX});
  ASSERT_TRUE(run_streams(streams));
  for (int i = 0; i < kConns; i++) {
    EXPECT_TRUE(streams[i].eof) << i << ": " << std::strerror(streams[i].error);
    EXPECT_TRUE(streams[i].got == outs[i]) << "connection " << i << " got other bytes";
  }
  EXPECT_EQ(relay->stats().accepted, static_cast<std::uint64_t>(kConns));
}

TEST_P(RelayMode, SlowReaderDoesNotStallAnotherConnection) {
  Peer peer(Peer::Mode::kEcho);
  auto relay = start_relay(peer.endpoint(), options(/*threads=*/1));  // both on one worker
  ASSERT_NE(relay, nullptr);
  // The slow client sends without reading until its echo path is full. Every receive buffer on
  // that path autotunes (to 32 MiB each where tcp_rmem allows it), so the path can hold ~100 MiB:
  // a 64 MiB block is sent over and over, up to 1 GiB, rather than a block bigger than any path.
  Bytes block = random_bytes(64 << 20, 11);
  constexpr std::size_t kCap = std::size_t{1} << 30;
  auto slow = dial(relay->listening()[0], 128 * 1024);  // a small fixed receive buffer
  std::size_t sent = 0;
  int rounds_blocked = 0;
  // Meanwhile and afterwards a second connection must keep working on the same worker.
  while (sent < kCap && rounds_blocked < 50) {
    std::size_t at = sent % block.size();
    ssize_t n = ::send(slow.get(), block.data() + at, block.size() - at, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      rounds_blocked = 0;
      continue;
    }
    ASSERT_EQ(errno, EAGAIN);
    rounds_blocked++;
    Bytes ping = random_bytes(4096, 1000 + rounds_blocked);
    auto fast = dial(relay->listening()[0]);
    std::vector<Stream> s{{fast.get(), &ping, SIZE_MAX}};
    ASSERT_TRUE(run_streams(s)) << "a stalled neighbour blocked this connection";
    ASSERT_TRUE(s[0].got == ping);
  }
  ASSERT_LT(sent, kCap) << "the slow path never filled up; backpressure is not working";
  // Now read: every byte sent must come back, in order, then the end of the stream.
  ::shutdown(slow.get(), SHUT_WR);
  std::size_t got = 0, first_wrong = SIZE_MAX;
  std::vector<std::byte> buf(1 << 16);
  auto deadline = Clock::now() + kPatience;
  for (;;) {
    pollfd p{slow.get(), POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    ASSERT_GT(left.count(), 0) << "echo incomplete: " << got << " of " << sent << " bytes";
    ::poll(&p, 1, static_cast<int>(left.count()));
    ssize_t n = ::recv(slow.get(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n == 0) break;
    if (n < 0) {
      ASSERT_EQ(errno, EAGAIN);
      continue;
    }
    for (ssize_t i = 0; i < n && first_wrong == SIZE_MAX; i++)
      if (buf[i] != block[(got + i) % block.size()]) first_wrong = got + i;
    got += static_cast<std::size_t>(n);
  }
  EXPECT_EQ(got, sent) << "bytes lost under backpressure";
  EXPECT_EQ(first_wrong, SIZE_MAX) << "bytes reordered or changed under backpressure";
}

TEST(Relay, UpstreamRefusedResetsTheClient) {
  auto closed = listen_on(ep("127.0.0.1:0"), /*do_listen=*/false);  // bound, never listening
  auto relay = start_relay(bound_endpoint(closed.get()));
  ASSERT_NE(relay, nullptr);
  auto fd = dial(relay->listening()[0]);
  int error = 0;
  EXPECT_TRUE(read_to_end(fd.get(), &error).empty());
  EXPECT_EQ(error, ECONNRESET);
  ASSERT_TRUE(wait_until([&] {
    auto st = relay->stats();
    return st.upstream_failed == 1 && st.active == 0;
  }));
}

TEST(Relay, UpstreamResetReachesTheClient) {
  Peer peer(Peer::Mode::kResetAfterFirstRead);
  auto relay = start_relay(peer.endpoint());
  ASSERT_NE(relay, nullptr);
  auto fd = dial(relay->listening()[0]);
  Bytes hello = random_bytes(10, 3);
  std::vector<Stream> s{{fd.get(), &hello, SIZE_MAX, /*shut=*/false}};
  ASSERT_TRUE(run_streams(s));
  EXPECT_FALSE(s[0].eof) << "got an orderly EOF instead of a reset";
  EXPECT_EQ(s[0].error, ECONNRESET);
}

TEST(Relay, RefusesConnectionsToItselfAndWithoutDestination) {
  std::atomic<int> calls{0};
  Endpoint self;
  RelayOptions opt;
  opt.listen = {ep("127.0.0.1:0")};
  opt.destination = [&](int) -> Result<Endpoint> {
    if (calls++ == 0) return self;
    return fail_msg("connection was not redirected: test");
  };
  auto relay = Relay::start(std::move(opt));
  ASSERT_TRUE(relay) << relay.error().message;
  self = (*relay)->listening()[0];
  for (int i = 0; i < 2; i++) {
    auto fd = dial(self);
    int error = 0;
    EXPECT_TRUE(read_to_end(fd.get(), &error).empty());
    EXPECT_EQ(error, ECONNRESET);
  }
  ASSERT_TRUE(wait_until([&] { return (*relay)->stats().no_destination == 1; }));
  EXPECT_EQ((*relay)->stats().loops_refused, 1u);
}

TEST(Relay, Ipv6ListenerSharesThePortWithIpv4) {
  Peer peer6(Peer::Mode::kEcho, "[::1]:0");
  RelayOptions opt;
  opt.listen = {ep("127.0.0.1:0"), ep("[::1]:0")};
  auto relay = start_relay(peer6.endpoint(), std::move(opt));
  ASSERT_NE(relay, nullptr);
  ASSERT_EQ(relay->listening().size(), 2u);
  EXPECT_EQ(relay->listening()[1].ip, ep("[::1]:0").ip);
  EXPECT_EQ(relay->listening()[0].port, relay->listening()[1].port);
  for (const auto& at : relay->listening()) {
    Bytes out = random_bytes(300000, 5);
    auto fd = dial(at);
    std::vector<Stream> s{{fd.get(), &out, SIZE_MAX}};
    ASSERT_TRUE(run_streams(s));
    EXPECT_TRUE(s[0].got == out) << at.to_string();
  }
}

TEST(Relay, PortInUseIsAClearError) {
  auto taken = listen_on(ep("127.0.0.1:0"));
  Endpoint at = bound_endpoint(taken.get());
  RelayOptions opt;
  opt.listen = {at};
  auto relay = Relay::start(opt);
  ASSERT_FALSE(relay);
  EXPECT_EQ(relay.error().code, EADDRINUSE);
  EXPECT_NE(relay.error().message.find(at.to_string() + " is already in use (EADDRINUSE)"),
            std::string::npos)
      << relay.error().message;

  // Another relay (SO_REUSEPORT too) must not silently take half of the first one's connections.
  opt.listen = {ep("127.0.0.1:0")};
  auto first = Relay::start(opt);
  ASSERT_TRUE(first) << first.error().message;
  opt.listen = (*first)->listening();
  auto second = Relay::start(opt);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, EADDRINUSE);
}

TEST(Relay, StopClosesOpenConnectionsAndIsIdempotent) {
  Peer peer(Peer::Mode::kEcho);
  auto relay = start_relay(peer.endpoint());
  ASSERT_NE(relay, nullptr);
  std::vector<UniqueFd> fds;
  Bytes ping = random_bytes(1000, 9);
  for (int i = 0; i < 10; i++) {
    fds.push_back(dial(relay->listening()[0]));
    std::vector<Stream> s{{fds.back().get(), &ping, ping.size(), /*shut=*/false}};
    ASSERT_TRUE(run_streams(s));
  }
  EXPECT_EQ(relay->stats().active, 10u);
  relay->stop();
  relay->stop();
  EXPECT_EQ(relay->stats().active, 0u);
  for (auto& fd : fds) {
    int error = 0;
    read_to_end(fd.get(), &error);
    EXPECT_EQ(error, ECONNRESET);
  }
  // The listener is gone too.
  Endpoint at = relay->listening()[0];
  UniqueFd probe(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_storage ss;
  socklen_t len = at.to_sockaddr(ss);
  EXPECT_NE(::connect(probe.get(), reinterpret_cast<sockaddr*>(&ss), len), 0);
  EXPECT_EQ(errno, ECONNREFUSED);
}

TEST(Relay, StopWithGraceLetsOpenConnectionsFinish) {
  Peer peer(Peer::Mode::kReplyAtEof);
  auto relay = start_relay(peer.endpoint());
  ASSERT_NE(relay, nullptr);
  auto fd = dial(relay->listening()[0]);
  ASSERT_TRUE(wait_until([&] { return relay->stats().active == 1; }));
  std::thread stopper([&] { relay->stop(std::chrono::minutes(1)); });
  // stop() is draining now (or about to): this connection must still complete normally.
  Bytes out = random_bytes(1 << 20, 13);
  std::uint64_t sum = 0;
  for (auto b : out) sum += static_cast<std::uint8_t>(b);
  std::vector<Stream> s{{fd.get(), &out, SIZE_MAX}};
  ASSERT_TRUE(run_streams(s));
  stopper.join();
  EXPECT_TRUE(s[0].eof) << std::strerror(s[0].error);
  std::string reply(reinterpret_cast<const char*>(s[0].got.data()), s[0].got.size());
  EXPECT_EQ(reply, std::to_string(out.size()) + " " + std::to_string(sum));
  EXPECT_EQ(relay->stats().active, 0u);
}

TEST(Relay, TapSeesEveryByteAndTheEnds) {
  Peer peer(Peer::Mode::kReplyAtEof);
  std::mutex mu;
  Bytes up, down;
  int up_eofs = 0, down_eofs = 0, closes = 0;
  Endpoint seen_server;
  RelayOptions opt;
  opt.tap.open = [&](ConnId, const Endpoint&, const Endpoint& server) {
    std::lock_guard lock(mu);
    seen_server = server;
    return true;
  };
  opt.tap.data = [&](ConnId, Direction d, std::span<const std::byte> bytes) {
    std::lock_guard lock(mu);
    Bytes& to = d == Direction::kClientToServer ? up : down;
    if (bytes.empty()) (d == Direction::kClientToServer ? up_eofs : down_eofs)++;
    to.insert(to.end(), bytes.begin(), bytes.end());
  };
  opt.tap.close = [&](ConnId, bool reset) {
    std::lock_guard lock(mu);
    closes += reset ? 100 : 1;
  };
  auto relay = start_relay(peer.endpoint(), std::move(opt));
  ASSERT_NE(relay, nullptr);
  Bytes out = random_bytes(3 << 20, 21);
  auto fd = dial(relay->listening()[0]);
  std::vector<Stream> s{{fd.get(), &out, SIZE_MAX}};
  ASSERT_TRUE(run_streams(s));
  ASSERT_TRUE(wait_until([&] { return relay->stats().active == 0; }));
  std::lock_guard lock(mu);
  EXPECT_EQ(seen_server, peer.endpoint());
  EXPECT_TRUE(up == out);
  EXPECT_TRUE(down == s[0].got);
  EXPECT_FALSE(down.empty());
  EXPECT_EQ(up_eofs, 1);
  EXPECT_EQ(down_eofs, 1);
  EXPECT_EQ(closes, 1);
}

}  // namespace
}  // namespace reel
