#include <gtest/gtest.h>

#include <string>

#include "protocol_harness.h"
#include "protocols/http1/parse.h"

namespace reel::protocols {
namespace {

using testing::Harness;
using namespace std::literals;

// curl 7.88 against python's http.server, keep-alive.
constexpr std::string_view kCurlGet =
    "GET /api/items?id=7 HTTP/1.1\r\n"
    "Host: localhost:8000\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "\r\n";
constexpr std::string_view kJsonOk =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 13\r\n"
    "\r\n"
    "{\"id\":7,\"a\":1}";  // 14 bytes: one more than declared, it starts the next message

// nginx chunked reply (Transfer-Encoding set by gzip off + no length).
constexpr std::string_view kChunked =
    "HTTP/1.1 200 OK\r\n"
    "Server: nginx/1.22.1\r\n"
    "Content-Type: text/plain\r\n"
    "Transfer-Encoding: chunked\r\n"
    "Connection: keep-alive\r\n"
    "\r\n"
    "7\r\nMozilla\r\n"
    "11\r\nDeveloper Network\r\n"
    "0\r\n\r\n";

// What a trace line needs (no -v): the same exchange, its own fields and sizes, but no header
// or body copied beyond the ones those fields come from.
TEST(Http1, WithoutHeadersAndBodiesTheLineStaysTheSame) {
  DecoderOptions o;
  o.limits.http1_contents = false;
  Harness h(Protocol::kHttp1, o);
  h.client(kCurlGet, 1000)
      .server("HTTP/1.1 200 OK\r\nServer: x\r\nContent-Encoding: gzip\r\nContent-Length: 10\r\n\r\n"
              "0123456789"sv,
              5000);
  h.client(kCurlGet, 6000).server(kChunked, 7000);
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].host, "localhost:8000");
  EXPECT_EQ(ex[0].status, 200);
  ASSERT_EQ(ex[0].request_headers.size(), 1u);
  EXPECT_EQ(ex[0].request_headers[0].first, "Host");
  // A response's headers feed nothing a line shows: none is reported, so none is kept.
  EXPECT_TRUE(ex[0].response_headers.empty());
  EXPECT_FALSE(ex[0].fields.contains("http.response_content_encoding"));
  EXPECT_EQ(ex[0].response_body.data, "");
  EXPECT_EQ(ex[0].response_body.size, 10u);
  EXPECT_TRUE(ex[0].response_body.truncated());
  EXPECT_EQ(ex[0].latency_ns, 4000u);
  EXPECT_EQ(ex[1].fields.at("http.response_chunked"), "true");
  EXPECT_EQ(ex[1].response_body.size, 24u);  // de-chunked: "Mozilla" + "Developer Network"
  EXPECT_EQ(ex[1].response_size, kChunked.size());
}

TEST(Http1, KeepAliveRequestAndResponse) {
  Harness h(Protocol::kHttp1);
  std::string ok(kJsonOk.substr(0, kJsonOk.size() - 1));
  h.client(kCurlGet, 1000).server(ok, 5000);
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 1u);
  const Exchange& e = ex[0];
  EXPECT_EQ(e.protocol, Protocol::kHttp1);
  EXPECT_EQ(e.method, "GET");
  EXPECT_EQ(e.target, "/api/items?id=7");
  EXPECT_EQ(e.host, "localhost:8000");
  EXPECT_EQ(e.status, 200);
  EXPECT_EQ(e.status_text, "OK");
  EXPECT_EQ(e.response_body.data, "{\"id\":7,\"a\":1");
  EXPECT_EQ(e.response_body.size, 13u);
  EXPECT_EQ(find_header(e.response_headers, "content-type"), "application/json");
  EXPECT_EQ(e.request_headers.size(), 3u);
  EXPECT_EQ(e.request_time.first_ns, 1000u);
  EXPECT_EQ(e.response_time.last_ns, 5000u);
  EXPECT_EQ(e.latency_ns, 4000u);
  EXPECT_EQ(e.request_size, kCurlGet.size());
  EXPECT_EQ(e.response_size, ok.size());
  EXPECT_EQ(e.fields.at("http.version"), "1.1");
  EXPECT_FALSE(e.gap);
}

TEST(Http1, PipelinedRequestsPairInOrder) {
  Harness h(Protocol::kHttp1);
  h.client(
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /c HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
  h.server(
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA"
      "HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nB");
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].target, "/a");
  EXPECT_EQ(ex[0].response_body.data, "A");
  EXPECT_EQ(ex[1].target, "/b");
  EXPECT_EQ(ex[1].status, 404);
  h.server("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
  ex = h.take();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].method, "POST");
  EXPECT_EQ(ex[0].request_body.data, "abc");
  EXPECT_EQ(ex[0].status, 201);
}

TEST(Http1, ChunkedBodyIsDechunked) {
  Harness h(Protocol::kHttp1);
  h.client(kCurlGet).server(kChunked);
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].response_body.data, "MozillaDeveloper Network");
  EXPECT_EQ(ex[0].fields.at("http.response_chunked"), "true");
  EXPECT_EQ(ex[0].response_size, kChunked.size());
}

TEST(Http1, ByteAtATimeGivesTheSameExchange) {
  Harness h(Protocol::kHttp1);
  for (char c : kCurlGet) h.client(std::string_view(&c, 1));
  for (char c : kChunked) h.server(std::string_view(&c, 1));
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].target, "/api/items?id=7");
  EXPECT_EQ(ex[0].response_body.data, "MozillaDeveloper Network");
  EXPECT_LT(ex[0].response_time.first_ns, ex[0].response_time.last_ns);
}

TEST(Http1, HeadResponseHasNoBody) {
  Harness h(Protocol::kHttp1);
  h.client("HEAD /big HTTP/1.1\r\nHost: x\r\n\r\nGET /small HTTP/1.1\r\nHost: x\r\n\r\n");
  h.server(
      "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].method, "HEAD");
  EXPECT_EQ(ex[0].response_body.size, 0u);
  EXPECT_EQ(ex[1].response_body.data, "hi");
}

TEST(Http1, InterimContinueFoldsIntoFinalResponse) {
  Harness h(Protocol::kHttp1);
  h.client("PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  h.server("HTTP/1.1 100 Continue\r\n\r\n");
  EXPECT_TRUE(h.take().empty());
  h.client("data");
  h.server("HTTP/1.1 204 No Content\r\n\r\n");
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].status, 204);
  EXPECT_EQ(ex[0].request_body.data, "data");
  EXPECT_EQ(ex[0].fields.at("http.interim"), "100");
}

TEST(Http1, SwitchingProtocolsEndsHttp) {
  Harness h(Protocol::kHttp1);
  h.client(
      "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
      "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58");
  h.server(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x05Hello");
  auto ex = h.take(true);
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].status, 101);
  EXPECT_EQ(ex[0].fields.at("http.upgrade"), "websocket");
  EXPECT_EQ(h.decoder().stats().invalid, 0u);
}

TEST(Http1, DeclinedUpgradeKeepsParsingHttp) {
  Harness h(Protocol::kHttp1);
  h.client(
      "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
      "GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
  h.server("HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n");
  h.client("");  // the client side re-runs now that the server has answered
  h.server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].status, 426);
  EXPECT_EQ(ex[1].target, "/next");
  EXPECT_EQ(ex[1].status, 200);
}

TEST(Http1, ConnectOpensATunnel) {
  Harness h(Protocol::kHttp1);
  h.client("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
  h.server("HTTP/1.1 200 Connection established\r\n\r\n");
  h.client("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"sv);
  h.server("\x16\x03\x03\x00\x7a\x02\x00\x00\x76"sv);
  auto ex = h.take(true);
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].method, "CONNECT");
  EXPECT_EQ(ex[0].fields.at("http.upgrade"), "tunnel");
  EXPECT_EQ(h.decoder().stats().invalid, 0u);
}

TEST(Http1, BodyUntilCloseCompletesOnClose) {
  Harness h(Protocol::kHttp1);
  h.client("GET /old HTTP/1.0\r\n\r\n");
  h.server("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of ");
  h.server("this");
  EXPECT_TRUE(h.take().empty());
  h.close(MessageType::kResponse);
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].response_body.data, "all of this");
  EXPECT_EQ(ex[0].fields.at("http.version"), "1.0");
}

TEST(Http1, GzipIsNotedAndBodyCappedWithTrueSize) {
  DecoderOptions options;
  options.limits.max_body = 4;
  Harness h(Protocol::kHttp1, options);
  h.client(kCurlGet);
  h.server(
      "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 10\r\n\r\n"
      "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"sv);
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].fields.at("http.response_content_encoding"), "gzip");
  EXPECT_EQ(ex[0].response_body.data.size(), 4u);
  EXPECT_EQ(ex[0].response_body.size, 10u);
  EXPECT_TRUE(ex[0].response_body.truncated());
}

TEST(Http1, GarbageThenRequestResyncs) {
  Harness h(Protocol::kHttp1);
  h.client("\x01\x02garbage\r\nGET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
  h.server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].target, "/ok");
  EXPECT_TRUE(ex[0].gap);
  EXPECT_EQ(h.decoder().stats().invalid, 1u);
}

TEST(Http1, LostBytesMidBodyResyncAtNextMessage) {
  Harness h(Protocol::kHttp1);
  h.client("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789");
  h.lose(MessageType::kRequest, 90);
  h.client("GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
  h.server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].target, "/b");
  EXPECT_TRUE(ex[0].gap);
}

TEST(Http1, UnansweredRequestFlushesAlone) {
  Harness h(Protocol::kHttp1);
  h.client(kCurlGet);
  EXPECT_TRUE(h.take().empty());
  auto ex = h.take(true);
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_TRUE(ex[0].has_request);
  EXPECT_FALSE(ex[0].has_response);
  EXPECT_EQ(ex[0].latency_ns, 0u);
}

TEST(Http1, TruncatedRequestYieldsNothing) {
  Harness h(Protocol::kHttp1);
  h.client("GET /partial HTTP/1.1\r\nHost: x\r\nAcc");
  EXPECT_TRUE(h.take(true).empty());
}

TEST(Http1, OversizedHeadersAreInvalid) {
  DecoderOptions options;
  options.limits.max_header_bytes = 64;
  Harness h(Protocol::kHttp1, options);
  h.client("GET / HTTP/1.1\r\nX-Long: " + std::string(200, 'a') + "\r\n\r\n");
  EXPECT_GE(h.decoder().stats().invalid, 1u);
  EXPECT_TRUE(h.take(true).empty());
}

// Without contents a response's headers are not reported, yet a head that never ends is still
// bounded: bytes fed while it stays open count against max_header_bytes.
TEST(Http1, UnreportedHeadersAreBoundedToo) {
  DecoderOptions options;
  options.limits.http1_contents = false;
  options.limits.max_header_bytes = 64;
  Harness h(Protocol::kHttp1, options);
  h.client("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  h.server("HTTP/1.1 200 OK\r\n");
  for (int i = 0; i < 8; i++) h.server("X-Long-" + std::to_string(i) + ": " + std::string(20, 'a') + "\r\n");
  EXPECT_GE(h.decoder().stats().invalid, 1u);
  // Within the bound, the same response in pieces is read whole.
  Harness ok(Protocol::kHttp1, options);
  ok.client("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  ok.server("HTTP/1.1 200 OK\r\n").server("Server: x\r\n").server("Content-Length: 2\r\n\r\nok");
  auto ex = ok.take();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].status, 200);
  EXPECT_EQ(ex[0].response_body.size, 2u);
  EXPECT_EQ(ok.decoder().stats().invalid, 0u);
}

TEST(Http1, FrameBoundaryFindsLineStarts) {
  http1::State state;
  std::string_view junk = "xx\r\nHTTP/1.1 200 OK\r\n";
  EXPECT_EQ(http1::find_frame_boundary(MessageType::kResponse, as_bytes(junk), state), 4u);
  EXPECT_EQ(http1::find_frame_boundary(MessageType::kRequest, as_bytes(junk), state), kNoBoundary);
  EXPECT_EQ(http1::find_frame_boundary(MessageType::kRequest, as_bytes("a\nDELETE /x"), state), 2u);
}

}  // namespace
}  // namespace reel::protocols
