// The tracker with TLS plaintext (data events flagged CAP_F_TLS): the handshake's ciphertext that
// came first is thrown away, plaintext is decoded like clear traffic, ciphertext that follows is
// ignored, and the connection is marked tls.
#include <gtest/gtest.h>

#include "bpf/abi/tls.h"
#include "capture/tracker.h"

namespace reel::capture {
namespace {

struct Feed {
  Tracker tracker{{.limits = {}, .idle_ns = 1'000'000'000, .is_listening = [](const Endpoint&) { return false; }}};
  std::vector<TracedExchange> out;
  ConnKey key{100, 7, 1};

  void open() {
    tracker.on_event(OpenEvent{key, 100, 1000, CAP_ROLE_CLIENT, *parse_endpoint("127.0.0.1:40000"),
                               *parse_endpoint("127.0.0.1:8443"), false, "curl"},
                     out);
  }
  void data(int dir, int flags, std::uint64_t pos, std::string_view bytes, std::uint64_t ts) {
    tracker.on_event(DataEvent{key, 100, ts, dir, flags, pos, static_cast<std::uint32_t>(bytes.size()),
                               {reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()}, {}},
                     out);
  }
};

const std::string kClientHello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
const std::string kServerHello("\x16\x03\x03\x00\x7a\x02\x00\x00\x76\x03\x03", 11);

TEST(TrackerTls, PlaintextReplacesTheHandshakeAndIsDecoded) {
  Feed f;
  f.open();
  f.data(CAP_DIR_EGRESS, 0, 0, kClientHello, 1100);  // before the kernel knew: ciphertext
  f.data(CAP_DIR_INGRESS, 0, 0, kServerHello, 1200);
  EXPECT_TRUE(f.out.empty()) << "a TLS handshake must not become a raw exchange while it may be decrypted";
  f.data(CAP_DIR_EGRESS, CAP_F_TLS, 0, "GET /secret HTTP/1.1\r\nHost: x\r\n\r\n", 2000);
  f.data(CAP_DIR_INGRESS, 0, 11, std::string("\x17\x03\x03\x00\x20", 5), 2500);  // late ciphertext
  f.data(CAP_DIR_INGRESS, CAP_F_TLS, 0, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 3000);
  f.tracker.on_event(CloseEvent{f.key, 9000, 0, 0}, f.out);
  ASSERT_EQ(f.out.size(), 1u);
  EXPECT_EQ(f.out[0].exchange.method, "GET");
  EXPECT_EQ(f.out[0].exchange.target, "/secret");
  EXPECT_EQ(f.out[0].exchange.status, 200);
  EXPECT_EQ(f.out[0].exchange.response_body.data, "ok");
  EXPECT_FALSE(f.out[0].exchange.gap);
  EXPECT_TRUE(f.out[0].conn.tls);
  EXPECT_EQ(f.tracker.stats().tls_connections, 1u);
}

TEST(TrackerTls, HandshakeWithoutPlaintextIsStillShownAtClose) {
  Feed f;
  f.open();
  f.data(CAP_DIR_EGRESS, 0, 0, kClientHello, 1100);
  f.data(CAP_DIR_INGRESS, 0, 0, kServerHello, 1200);
  f.tracker.on_event(CloseEvent{f.key, 9000, 0, 0}, f.out);
  ASSERT_EQ(f.out.size(), 1u);  // uprobes missed this library: the ciphertext is not hidden
  EXPECT_FALSE(f.out[0].conn.tls);
}

}  // namespace
}  // namespace reel::capture
