#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>

#include "core/unique_fd.h"
#include "mock/protocols.h"
#include "mock_test_util.h"

namespace reel::mock {
namespace {

using namespace testing;

const Endpoint kApi = ep("127.0.0.1:8080");
const Endpoint kRedis = ep("127.0.0.1:6379");

std::vector<testset::Mock> recorded() {
  auto http = CallRecorder::create({}, kApi, {});
  auto calls = record(*http, {{kUp, "GET /v1/rates HTTP/1.1\r\nHost: api\r\n\r\n"},
                              {kDown, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n1.50"}});
  auto redis = CallRecorder::create({}, kRedis, {});
  auto more = record(*redis, {{kUp, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"}, {kDown, "$1\r\nv\r\n"}});
  calls.insert(calls.end(), more.begin(), more.end());
  return mocks_of(calls);
}

UniqueFd connect_to(const Endpoint& at, int type = SOCK_STREAM) {
  UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  sockaddr_storage ss;
  socklen_t len = at.to_sockaddr(ss);
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len), 0);
  return fd;
}

// Reads until `done` says the answer is whole, the peer closes, or 5 s pass.
std::string read_until(int fd, const std::function<bool(const std::string&)>& done) {
  std::string got;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done(got) && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, std::size_t(n));
  }
  return got;
}

void send_all(int fd, std::string_view s) {
  ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), ssize_t(s.size()));
}

struct Server {
  MockPool pool{recorded(), {}};
  Endpoint destination = kApi;
  std::unique_ptr<MockServer> server;

  Server() {
    MockServerOptions o;
    o.listen = {ep("127.0.0.1:0")};
    o.dns = ep("127.0.0.1:0");
    o.pool = &pool;
    o.destination = [this](int) -> Result<Endpoint> { return destination; };
    auto s = MockServer::start(std::move(o));
    EXPECT_TRUE(s) << s.error().message;
    if (s) server = std::move(*s);
  }
  Endpoint at() const { return server->listening().at(0); }
};

TEST(MockServer, AnswersHttpWithKeepAliveAndClose) {
  Server s;
  ASSERT_TRUE(s.server);
  EXPECT_NE(s.at().port, 0);
  auto fd = connect_to(s.at());
  auto full = [](const std::string& g) { return g.ends_with("1.50"); };
  send_all(fd.get(), "GET /v1/rates HTTP/1.1\r\nHost: api\r\n\r\n");
  EXPECT_EQ(read_until(fd.get(), full), "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n1.50");
  send_all(fd.get(), "GET /v1/rates HTTP/1.1\r\nConnection: close\r\n\r\n");
  std::string last = read_until(fd.get(), [](const std::string&) { return false; });
  EXPECT_EQ(last, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\n1.50");
  EXPECT_EQ(s.server->stats().connections, 1u);
}

TEST(MockServer, AnswersRedisAndReportsMisses) {
  Server s;
  ASSERT_TRUE(s.server);
  s.destination = kRedis;
  auto fd = connect_to(s.at());
  send_all(fd.get(), "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r\n$3\r\nGET\r\n$1\r\nz\r\n");
  std::string want = "$1\r\nv\r\n-ERR reel: no recorded answer for GET z\r\n";
  EXPECT_EQ(read_until(fd.get(), [&](const std::string& g) { return g.size() >= want.size(); }),
            want);
  EXPECT_EQ(s.pool.take_unmatched().size(), 1u);
}

TEST(MockServer, LargeAnswerWithBackpressure) {
  std::string big(8 * 1024 * 1024, 'b');
  auto rec = CallRecorder::create({}, kApi, {});
  auto calls = record(*rec, {{kUp, "GET /big HTTP/1.1\r\n\r\n"},
                             {kDown, "HTTP/1.1 200 OK\r\nContent-Length: " +
                                         std::to_string(big.size()) + "\r\n\r\n" + big}});
  MockPool pool(mocks_of(calls), {});
  MockServerOptions o;
  o.listen = {ep("127.0.0.1:0")};
  o.pool = &pool;
  o.destination = [](int) -> Result<Endpoint> { return kApi; };
  auto server = MockServer::start(std::move(o));
  ASSERT_TRUE(server) << server.error().message;
  auto fd = connect_to((*server)->listening()[0]);
  send_all(fd.get(), "GET /big HTTP/1.1\r\n\r\n");
  std::string got = read_until(fd.get(), [&](const std::string& g) { return g.size() > big.size(); });
  EXPECT_TRUE(got.ends_with(big.substr(0, 100)));
  EXPECT_GT(got.size(), big.size());
}

TEST(MockServer, AnswersDnsOverUdpAndTcp) {
  std::string q = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 4, 't', 'e', 's', 't',
                   0, 0, 1, 0, 1};
  std::string a = q;
  a[2] = char(0x81);
  a[3] = char(0x80);
  a[7] = 1;
  a += {char(0xc0), 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 9};
  auto call = dns_call(bytes(q), bytes(a), 1, 2, ep("127.0.0.53:53"), {});
  ASSERT_TRUE(call);
  MockPool pool({call->mock}, {});
  MockServerOptions o;
  o.dns = ep("127.0.0.1:0");
  o.pool = &pool;
  auto server = MockServer::start(std::move(o));
  ASSERT_TRUE(server) << server.error().message;
  auto at = *(*server)->dns_listening();
  auto udp = connect_to(at, SOCK_DGRAM);
  send_all(udp.get(), q);
  std::string got = read_until(udp.get(), [](const std::string& g) { return !g.empty(); });
  ASSERT_GE(got.size(), 12u);
  EXPECT_EQ(got.substr(0, 2), "\x12\x34");
  EXPECT_TRUE(got.ends_with(std::string("\x7f\x00\x00\x09", 4)));

  auto tcp = connect_to(at);
  send_all(tcp.get(), std::string{0, char(q.size())} + q);
  got = read_until(tcp.get(), [](const std::string& g) { return g.size() > 20; });
  ASSERT_GE(got.size(), 2u);
  EXPECT_EQ(std::size_t(std::uint8_t(got[1])), got.size() - 2);
  EXPECT_EQ((*server)->stats().dns_queries, 2u);
}

TEST(MockServer, PortInUseIsAClearError) {
  Server s;
  ASSERT_TRUE(s.server);
  MockPool pool({}, {});
  MockServerOptions o;
  o.listen = {s.at()};
  o.pool = &pool;
  auto again = MockServer::start(std::move(o));
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find(s.at().to_string() + " is already in use"),
            std::string::npos)
      << again.error().message;
}

TEST(MockServer, StopIsIdempotentAndClosesConnections) {
  Server s;
  ASSERT_TRUE(s.server);
  auto fd = connect_to(s.at());
  s.server->stop();
  s.server->stop();
  std::string got = read_until(fd.get(), [](const std::string&) { return false; });
  EXPECT_EQ(got, "");
}

}  // namespace
}  // namespace reel::mock
