#include "record/tap_decoder.h"

#include <gtest/gtest.h>

namespace reel::record {
namespace {

std::span<const std::byte> b(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

TEST(TapDecoder, HttpCallsAcrossSplitReads) {
  TapDecoder d;
  auto client = *parse_endpoint("127.0.0.1:40000"), server = *parse_endpoint("127.0.0.1:8080");
  d.open(7, client, server);
  d.data(7, Direction::kClientToServer, b("GET /x HTTP/1.1\r\nHo"));
  d.data(7, Direction::kClientToServer, b("st: api\r\n\r\n"));
  d.data(7, Direction::kServerToClient, b("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"));
  d.data(7, Direction::kClientToServer, b("POST /y HTTP/1.1\r\nHost: api\r\nContent-Length: 3\r\n\r\nabc"));
  d.data(7, Direction::kServerToClient, b("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"));
  d.close(7, false);
  auto calls = d.take();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].conn, 7u);
  EXPECT_EQ(calls[0].server, server);
  EXPECT_EQ(calls[0].exchange.target, "/x");
  EXPECT_EQ(calls[0].exchange.response_body.data, "hi");
  EXPECT_EQ(calls[1].exchange.method, "POST");
  EXPECT_EQ(calls[1].exchange.request_body.data, "abc");
  EXPECT_EQ(calls[1].exchange.status, 201);
  EXPECT_TRUE(d.take().empty());
  EXPECT_EQ(d.stats().calls, 2u);
}

TEST(TapDecoder, ConnectionsAreIndependentAndUnknownBytesAreRaw) {
  TapDecoder d;
  auto ep = *parse_endpoint("127.0.0.1:1");
  d.open(1, ep, ep);
  d.open(2, ep, ep);
  d.data(1, Direction::kClientToServer, b("*1\r\n$4\r\nPING\r\n"));
  d.data(2, Direction::kClientToServer, b("\x01\x02\x03 binary hello"));
  d.data(1, Direction::kServerToClient, b("+PONG\r\n"));
  d.data(2, Direction::kServerToClient, b("\x04\x05 reply"));
  d.close(1, false);
  d.close(2, false);
  auto calls = d.take();
  ASSERT_EQ(calls.size(), 2u);
  for (auto& c : calls) {
    if (c.conn == 1) {
      EXPECT_EQ(c.exchange.protocol, protocols::Protocol::kRedis);
      EXPECT_EQ(c.exchange.method, "PING");
    } else {
      EXPECT_NE(c.exchange.protocol, protocols::Protocol::kRedis);
      EXPECT_TRUE(c.exchange.has_request);
      EXPECT_TRUE(c.exchange.has_response);
    }
  }
}

}  // namespace
}  // namespace reel::record
