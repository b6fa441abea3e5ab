#include <gtest/gtest.h>

#include <string>

#include "protocol_harness.h"
#include "protocols/redis/parse.h"

namespace reel::protocols {
namespace {

using testing::Harness;
using namespace std::literals;

redis::Frame parse_one(MessageType type, std::string_view bytes, ParseState expect,
                       std::uint64_t* consumed = nullptr, Limits limits = {}) {
  redis::Frame f;
  redis::State state;
  ParseResult r = redis::parse_frame(type, as_bytes(bytes), f, state, limits);
  EXPECT_EQ(r.state, expect) << bytes;
  if (consumed) *consumed = r.consumed;
  return f;
}

// redis-cli 7.0: SET foo bar, GET foo, GET missing.
TEST(Redis, RedisCliCommandsPairWithReplies) {
  Harness h(Protocol::kRedis);
  h.client("*3\r\n$3\r\nSET\r\n$3\r\nfoo\r\n$3\r\nbar\r\n", 1000).server("+OK\r\n", 1500);
  h.client("*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n", 2000).server("$3\r\nbar\r\n", 2600);
  h.client("*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n", 3000).server("$-1\r\n", 3100);
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 3u);
  EXPECT_EQ(ex[0].method, "SET");
  EXPECT_EQ(ex[0].target, "foo");
  EXPECT_EQ(ex[0].request_body.data, "SET foo bar");
  EXPECT_EQ(ex[0].response_body.data, "OK");
  EXPECT_EQ(ex[0].status_text, "simple");
  EXPECT_EQ(ex[0].latency_ns, 500u);
  EXPECT_EQ(ex[1].response_body.data, "bar");
  EXPECT_EQ(ex[1].status_text, "bulk");
  EXPECT_EQ(ex[2].response_body.data, "(nil)");
  EXPECT_EQ(ex[2].status_text, "null");
}

// redis-benchmark -P 3: three commands in one write, three replies in one read.
TEST(Redis, PipelinePairsInOrder) {
  Harness h(Protocol::kRedis);
  h.client(
      "*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nxxx\r\n"
      "*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n");
  h.server("+PONG\r\n+OK\r\n:42\r\n");
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 3u);
  EXPECT_EQ(ex[0].method, "PING");
  EXPECT_EQ(ex[1].target, "key:__rand_int__");
  EXPECT_EQ(ex[2].method, "INCR");
  EXPECT_EQ(ex[2].response_body.data, "42");
  EXPECT_EQ(ex[2].status_text, "integer");
}

TEST(Redis, ErrorsAndArrays) {
  Harness h(Protocol::kRedis);
  h.client("*1\r\n$3\r\nFOO\r\n")
      .server("-ERR unknown command 'FOO', with args beginning with: \r\n");
  h.client("*4\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n$1\r\n0\r\n$2\r\n-1\r\n");
  h.server("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].error, "ERR unknown command 'FOO', with args beginning with: ");
  EXPECT_EQ(ex[1].response_body.data, "[a, b, c]");
  EXPECT_EQ(ex[1].status_text, "array");
}

TEST(Redis, Resp3HelloMapAndTypes) {
  Harness h(Protocol::kRedis);
  h.client("*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n");
  h.server("%3\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n$7\r\nmodules\r\n*0\r\n");
  h.client("*1\r\n$1\r\nX\r\n").server(",3.14\r\n");
  h.client("*1\r\n$1\r\nX\r\n").server("#t\r\n");
  h.client("*1\r\n$1\r\nX\r\n").server("_\r\n");
  h.client("*1\r\n$1\r\nX\r\n").server("=15\r\ntxt:Some string\r\n");
  h.client("*1\r\n$1\r\nX\r\n").server("!21\r\nSYNTAX invalid syntax\r\n");
  h.client("*1\r\n$1\r\nX\r\n")
      .server("~2\r\n:1\r\n(3492890328409238509324850943850943825024385\r\n");
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 7u);
  EXPECT_EQ(ex[0].response_body.data, "{server: redis, proto: 3, modules: []}");
  EXPECT_EQ(ex[1].response_body.data, "3.14");
  EXPECT_EQ(ex[2].response_body.data, "true");
  EXPECT_EQ(ex[3].status_text, "null");
  EXPECT_EQ(ex[4].response_body.data, "Some string");
  EXPECT_EQ(ex[5].error, "SYNTAX invalid syntax");
  EXPECT_EQ(ex[6].response_body.data, "[1, 3492890328409238509324850943850943825024385]");
}

TEST(Redis, AttributesAreSkipped) {
  auto f = parse_one(MessageType::kResponse,
                     "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n"
                     "*2\r\n:2039123\r\n:9543892\r\n",
                     ParseState::kParsed);
  EXPECT_EQ(f.type, '*');
  EXPECT_EQ(f.text.data, "[2039123, 9543892]");
}

TEST(Redis, PubSubRepliesAndPushes) {
  Harness h(Protocol::kRedis);
  h.client("*3\r\n$9\r\nSUBSCRIBE\r\n$4\r\nnews\r\n$7\r\nweather\r\n");
  h.server("*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n");
  EXPECT_TRUE(h.take().empty());  // one more confirmation to come
  h.server("*3\r\n$9\r\nsubscribe\r\n$7\r\nweather\r\n:2\r\n");
  h.server("*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n");
  h.server(">3\r\n$7\r\nmessage\r\n$7\r\nweather\r\n$4\r\nrain\r\n");
  h.client("*1\r\n$11\r\nUNSUBSCRIBE\r\n");
  h.server(
      "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:1\r\n*3\r\n$11\r\nunsubscribe\r\n$7\r\n"
      "weather\r\n:0\r\n");
  h.client("*1\r\n$4\r\nPING\r\n").server("+PONG\r\n");
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 5u);
  EXPECT_EQ(ex[0].method, "SUBSCRIBE");
  EXPECT_EQ(ex[0].response_body.data, "[subscribe, news, 1]\n[subscribe, weather, 2]");
  EXPECT_EQ(ex[1].method, "PUSH");
  EXPECT_FALSE(ex[1].has_request);
  EXPECT_EQ(ex[1].target, "news");
  EXPECT_EQ(ex[1].fields.at("redis.push"), "message");
  EXPECT_EQ(ex[2].target, "weather");
  EXPECT_EQ(ex[3].method, "UNSUBSCRIBE");
  EXPECT_EQ(ex[4].method, "PING");
  EXPECT_EQ(ex[4].response_body.data, "PONG");
}

TEST(Redis, InlineCommands) {
  Harness h(Protocol::kRedis);
  h.client("PING\r\n").server("+PONG\r\n");
  h.client("set greeting \"hello world\"\r\n").server("+OK\r\n");
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].method, "PING");
  EXPECT_EQ(ex[0].fields.at("redis.inline"), "true");
  EXPECT_EQ(ex[1].method, "SET");
  EXPECT_EQ(ex[1].target, "greeting");
  EXPECT_EQ(ex[1].fields.at("redis.args"), "3");
}

TEST(Redis, EmptyInlineLineIsNoCommand) {
  Harness h(Protocol::kRedis);
  h.client("PING\r\n\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n").server("+PONG\r\n$2\r\nhi\r\n");
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].method, "PING");
  EXPECT_EQ(ex[1].method, "ECHO");
  EXPECT_EQ(ex[1].response_body.data, "hi");
}

TEST(Redis, AuthPasswordIsRedacted) {
  Harness h(Protocol::kRedis);
  h.client("*3\r\n$4\r\nAUTH\r\n$7\r\ndefault\r\n$6\r\nsecret\r\n").server("+OK\r\n");
  h.client("*5\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$1\r\nu\r\n$2\r\npw\r\n")
      .server("+OK\r\n");
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].request_body.data, "AUTH (redacted) (redacted)");
  EXPECT_EQ(ex[0].target, "(redacted)");
  EXPECT_EQ(ex[1].request_body.data, "HELLO 3 AUTH u (redacted)");
}

TEST(Redis, HugeBulkIsCutAndSkipped) {
  DecoderOptions options;
  options.limits.max_frame = 16;
  options.limits.max_body = 8;
  Harness h(Protocol::kRedis, options);
  h.client("*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n");
  h.server("$40\r\n0123456789");
  h.server("0123456789012345678901234567890123456789\r\n"sv.substr(10));
  h.client("*1\r\n$4\r\nPING\r\n").server("+PONG\r\n");
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].response_body.data, "01234567");
  EXPECT_EQ(ex[0].response_body.size, 40u);
  EXPECT_EQ(ex[1].response_body.data, "PONG");
  EXPECT_EQ(h.decoder().stats().invalid, 0u);
}

TEST(Redis, PartialFramesNeedMore) {
  parse_one(MessageType::kResponse, "$5\r\nhel", ParseState::kNeedsMore);
  parse_one(MessageType::kResponse, "*2\r\n:1\r\n", ParseState::kNeedsMore);
  parse_one(MessageType::kResponse, "+OK", ParseState::kNeedsMore);
  parse_one(MessageType::kRequest, "*1\r\n$4\r\nPI", ParseState::kNeedsMore);
  parse_one(MessageType::kRequest, "PIN", ParseState::kNeedsMore);
}

TEST(Redis, GarbageIsInvalid) {
  parse_one(MessageType::kResponse, "?what\r\n", ParseState::kInvalid);
  parse_one(MessageType::kResponse, ":99999999999999999999\r\n", ParseState::kInvalid);
  parse_one(MessageType::kResponse, "$-2\r\n", ParseState::kInvalid);
  parse_one(MessageType::kResponse, "$3\r\nabcd\r\n", ParseState::kInvalid);
  parse_one(MessageType::kResponse, "*-5\r\n", ParseState::kInvalid);
  parse_one(MessageType::kResponse, "$999999999999\r\n", ParseState::kInvalid);
  parse_one(MessageType::kResponse, "#x\r\n", ParseState::kInvalid);
  parse_one(MessageType::kRequest, "\x01\x02\x03\n"sv, ParseState::kInvalid);
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "*1\r\n";
  parse_one(MessageType::kResponse, deep + ":1\r\n", ParseState::kInvalid);
  parse_one(MessageType::kResponse, "+" + std::string(70000, 'a'), ParseState::kInvalid);
}

TEST(Redis, HugeDeclaredCountsAllocateNothing) {
  std::uint64_t consumed = 0;
  auto f = parse_one(MessageType::kResponse, "*2147483647\r\n:1\r\n:2\r\n", ParseState::kNeedsMore,
                     &consumed);
  EXPECT_LE(f.args.capacity(), 16u);
  EXPECT_EQ(consumed, 0u);
}

TEST(Redis, ResyncAfterGarbage) {
  Harness h(Protocol::kRedis);
  h.client("\xff\xfe garbage\r\n*1\r\n$4\r\nPING\r\n"sv).server("+PONG\r\n");
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].method, "PING");
  EXPECT_TRUE(ex[0].gap);
}

TEST(Redis, OrphanReplyAtFlush) {
  Harness h(Protocol::kRedis);
  h.server("+OK\r\n");
  EXPECT_TRUE(h.take().empty());
  auto ex = h.take(true);
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_FALSE(ex[0].has_request);
}

}  // namespace
}  // namespace reel::protocols
