// The replay client against real servers on loopback: clear HTTP, HTTPS with a certificate
// reel's client does not check (the app under test serves its own), and the errors a user sees
// when the two sides do not speak the same thing.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <thread>

#include "core/unique_fd.h"
#include "replay/http_client.h"
#include "tls/bridge.h"
#include "tls/ca.h"

namespace reel::replay {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::string_view kAnswer =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";

// One loopback listener that serves a single connection with `serve`, on its own thread.
class OneShotServer {
 public:
  explicit OneShotServer(std::function<void(int fd)> serve) {
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{.sin_family = AF_INET, .sin_port = 0, .sin_addr = {htonl(INADDR_LOOPBACK)}};
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_.get(), 4), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this, serve = std::move(serve)] {
      UniqueFd c(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (c) serve(c.get());
    });
  }
  ~OneShotServer() { thread_.join(); }
  Endpoint endpoint() const { return *parse_endpoint("127.0.0.1:" + std::to_string(port_)); }
  std::string url(std::string_view scheme, std::string_view path) const {
    return std::string(scheme) + "://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }

 private:
  UniqueFd fd_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

// Reads until the end of the request head; returns it.
std::string read_head(auto&& read_some) {
  std::string in;
  char buf[4096];
  while (in.find("\r\n\r\n") == std::string::npos) {
    int n = read_some(buf, sizeof buf);
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
  }
  return in;
}

class ReplayHttpClientTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/reel-client-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    auto ca = tls::CertAuthority::open(root_ / "ca");
    ASSERT_TRUE(ca) << ca.error().message;
    ca_ = std::move(*ca);
  }
  void TearDown() override { fs::remove_all(root_); }

  // Serves one HTTPS exchange with a certificate for `name`: records the SNI the client sent and
  // the request head, answers kAnswer.
  struct TlsExchange {
    std::string sni, head;
  };
  std::function<void(int)> tls_server(const std::string& name, TlsExchange& seen) {
    auto leaf = ca_->leaf_for(name);
    EXPECT_TRUE(leaf) << leaf.error().message;
    auto ctx = tls::server_context(**leaf);
    EXPECT_TRUE(ctx) << ctx.error().message;
    return [ctx = std::make_shared<tls::SslCtxPtr>(std::move(*ctx)), &seen](int fd) {
      tls::SslPtr ssl(SSL_new(ctx->get()));
      SSL_set_fd(ssl.get(), fd);
      if (SSL_accept(ssl.get()) != 1) return;
      if (const char* sni = SSL_get_servername(ssl.get(), TLSEXT_NAMETYPE_host_name)) seen.sni = sni;
      seen.head = read_head([&](char* b, int n) { return SSL_read(ssl.get(), b, n); });
      SSL_write(ssl.get(), kAnswer.data(), static_cast<int>(kAnswer.size()));
      SSL_shutdown(ssl.get());
    };
  }

  fs::path root_;
  std::unique_ptr<tls::CertAuthority> ca_;
};

TEST_F(ReplayHttpClientTest, SpeaksTlsToAnHttpsUrlWithoutCheckingTheCertificate) {
  TlsExchange seen;
  OneShotServer server(tls_server("shop.example", seen));  // a name the client does not ask for
  testset::HttpRequest req;
  req.method = "GET";
  req.url = server.url("https", "/products/1?x=2");
  req.header["Host"] = "shop.local:8443";
  auto resp = send_request(server.endpoint(), req, 5000ms);
  ASSERT_TRUE(resp) << resp.error().message;
  EXPECT_EQ(resp->status_code, 200);
  EXPECT_EQ(resp->body, "hello");
  EXPECT_TRUE(seen.head.starts_with("GET /products/1?x=2 HTTP/1.1\r\n")) << seen.head;
  EXPECT_NE(seen.head.find("Host: shop.local:8443\r\n"), std::string::npos) << seen.head;
  EXPECT_EQ(seen.sni, "");  // the recorded URL names an IP: no SNI
}

TEST_F(ReplayHttpClientTest, TheRecordedHostNameIsTheSni) {
  TlsExchange seen;
  OneShotServer server(tls_server("shop.local", seen));
  testset::HttpRequest req;
  req.method = "GET";
  req.url = "https://shop.local:8443/health";  // recorded by name; the app is at `endpoint()`
  auto resp = send_request(server.endpoint(), req, 5000ms);
  ASSERT_TRUE(resp) << resp.error().message;
  EXPECT_EQ(seen.sni, "shop.local");
}

TEST_F(ReplayHttpClientTest, HttpsUrlAgainstAPlainServerIsAHandshakeError) {
  OneShotServer server([](int fd) {
    char buf[512];
    (void)::read(fd, buf, sizeof buf);  // the ClientHello
    std::string_view junk = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    (void)::write(fd, junk.data(), junk.size());
  });
  testset::HttpRequest req;
  req.method = "GET";
  req.url = server.url("https", "/");
  auto resp = send_request(server.endpoint(), req, 5000ms);
  ASSERT_FALSE(resp);
  EXPECT_NE(resp.error().message.find("TLS handshake with the app at 127.0.0.1:"), std::string::npos)
      << resp.error().message;
}

TEST_F(ReplayHttpClientTest, HttpUrlStaysClear) {
  std::string seen;
  OneShotServer server([&](int fd) {
    seen = read_head([&](char* b, int n) { return static_cast<int>(::read(fd, b, n)); });
    (void)::write(fd, kAnswer.data(), kAnswer.size());
  });
  testset::HttpRequest req;
  req.method = "POST";
  req.url = server.url("http", "/orders");
  req.body = "{}";
  auto resp = send_request(server.endpoint(), req, 5000ms);
  ASSERT_TRUE(resp) << resp.error().message;
  EXPECT_EQ(resp->body, "hello");
  EXPECT_TRUE(seen.starts_with("POST /orders HTTP/1.1\r\n")) << seen;
  EXPECT_NE(seen.find("Content-Length: 2\r\n"), std::string::npos) << seen;
}

TEST_F(ReplayHttpClientTest, NothingListeningIsAConnectError) {
  Endpoint closed;
  {
    OneShotServer server([](int) {});
    closed = server.endpoint();
    UniqueFd poke(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));  // lets the server thread end
    sockaddr_storage ss;
    socklen_t len = closed.to_sockaddr(ss);
    ::connect(poke.get(), reinterpret_cast<sockaddr*>(&ss), len);
  }
  testset::HttpRequest req;
  req.method = "GET";
  req.url = "https://127.0.0.1/";
  auto resp = send_request(closed, req, 2000ms);
  ASSERT_FALSE(resp);
  EXPECT_NE(resp.error().message.find("cannot connect to the app"), std::string::npos)
      << resp.error().message;
}

}  // namespace
}  // namespace reel::replay
