#include <gtest/gtest.h>

#include <string>

#include "protocol_harness.h"

namespace reel::protocols {
namespace {

using testing::Harness;

TEST(Raw, ClientBurstPairsWithFollowingServerBurst) {
  Harness h(Protocol::kUnknown);
  h.client("HELO ", 100).client("there\r\n", 200);
  h.server("250 ", 300).server("ok\r\n", 400);
  EXPECT_TRUE(h.take().empty());  // the server may not be done
  h.client("QUIT\r\n", 500);
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].protocol, Protocol::kRaw);
  EXPECT_EQ(ex[0].request_body.data, "HELO there\r\n");
  EXPECT_EQ(ex[0].response_body.data, "250 ok\r\n");
  EXPECT_EQ(ex[0].request_time.first_ns, 100u);
  EXPECT_EQ(ex[0].response_time.last_ns, 400u);
  EXPECT_EQ(ex[0].latency_ns, 300u);
  auto rest = h.take(true);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].request_body.data, "QUIT\r\n");
  EXPECT_FALSE(rest[0].has_response);
}

TEST(Raw, ServerBannerStandsAlone) {
  Harness h(Protocol::kUnknown);
  h.server("220 smtp ready\r\n", 100);
  h.client("EHLO x\r\n", 200).server("250 hi\r\n", 300);
  auto ex = h.take(true);
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_FALSE(ex[0].has_request);
  EXPECT_EQ(ex[0].response_body.data, "220 smtp ready\r\n");
  EXPECT_EQ(ex[1].request_body.data, "EHLO x\r\n");
  EXPECT_EQ(ex[1].response_body.data, "250 hi\r\n");
}

TEST(Raw, TlsKeepsItsName) {
  Harness h(Protocol::kTls);
  h.client("\x16\x03\x01", 1).server("\x16\x03\x03", 2);
  auto ex = h.take(true);
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].protocol, Protocol::kTls);
}

TEST(Raw, BodiesAreCappedWithTrueSize) {
  DecoderOptions options;
  options.limits.max_body = 4;
  Harness h(Protocol::kRaw, options);
  h.client("0123456789", 1).server("abcdefgh", 2);
  auto ex = h.take(true);
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].request_body.data, "0123");
  EXPECT_EQ(ex[0].request_body.size, 10u);
  EXPECT_EQ(ex[0].response_body.size, 8u);
}

TEST(Raw, LostBytesMarkTheExchange) {
  Harness h(Protocol::kUnknown);
  h.client("abc", 1).lose(MessageType::kRequest, 10).client("def", 3).server("x", 4);
  auto ex = h.take(true);
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_TRUE(ex[0].gap);
  EXPECT_EQ(ex[0].request_body.data, "abcdef");
}

}  // namespace
}  // namespace reel::protocols
