#include <gtest/gtest.h>

#include "mock/protocols.h"
#include "mock_test_util.h"
#include "testset/codec.h"

namespace reel::mock {
namespace {

using namespace testing;

const Endpoint kServer = ep("127.0.0.1:8080");

std::vector<RecordedCall> record_http(const std::vector<std::pair<Direction, std::string>>& talk,
                                      RecordOptions o = {}) {
  auto r = CallRecorder::create(ep("127.0.0.1:40000"), kServer, o);
  return record(*r, talk);
}

const testset::HttpMockSpec& http(const testset::Mock& m) {
  return std::get<testset::HttpMockSpec>(m.spec);
}

std::vector<RecordedCall> two_calls() {
  std::string body = R"({"cur":"EUR","amount":10})";
  return record_http({
      {kUp, "GET /v1/rates?cur=EUR HTTP/1.1\r\nHost: api:8080\r\n\r\n"
            "POST /v1/convert HTTP/1.1\r\nHost: api:8080\r\nContent-Type: application/json\r\n"
            "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body},
      {kDown, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
              "\r\n5\r\n{\"r\":\r\n4\r\n1.5}\r\n0\r\n\r\n"},
      {kDown, "HTTP/1.1 201 Created\r\nContent-Length: 11\r\nX-Id: 7\r\n\r\n{\"ok\":true}"},
  });
}

TEST(MockHttp, RecordsPipelinedChunkedCalls) {
  auto calls = two_calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].summary, "GET /v1/rates?cur=EUR");
  EXPECT_EQ(calls[0].mock.kind, testset::MockKind::kHttp);
  EXPECT_EQ(calls[0].mock.metadata.at("type"), "mocks");
  EXPECT_EQ(calls[0].mock.metadata.at("reel.server"), "127.0.0.1:8080");
  EXPECT_EQ(calls[0].mock.metadata.at("reel.protocol"), "http1");
  EXPECT_EQ(http(calls[0].mock).resp.body, "{\"r\":1.5}");
  EXPECT_EQ(http(calls[1].mock).req.method, "POST");
  EXPECT_EQ(http(calls[1].mock).resp.status_code, 201);
  EXPECT_EQ(CallRecorder::create({}, kServer, {})->protocol(), protocols::Protocol::kUnknown);
}

TEST(MockHttp, LargeBodiesStayWhole) {
  std::string big(300 * 1024, 'z');
  auto calls = record_http(
      {{kUp, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n"},
       {kDown, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(big.size()) + "\r\n\r\n" +
                   big.substr(0, 1000)},
       {kDown, big.substr(1000)}});
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(http(calls[0].mock).resp.body, big);
  EXPECT_FALSE(calls[0].mock.metadata.contains("reel.truncated"));

  RecordOptions small;
  small.max_message = 1000;
  calls = record_http({{kUp, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n"},
                       {kDown, "HTTP/1.1 200 OK\r\nContent-Length: " +
                                   std::to_string(big.size()) + "\r\n\r\n" + big}},
                      small);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].mock.metadata.at("reel.truncated"), "true");
}

TEST(MockHttp, UnansweredRequestIsKept) {
  auto calls = record_http({{kUp, "GET /hang HTTP/1.1\r\nHost: a\r\n\r\n"}});
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].mock.metadata.at("reel.unanswered"), "true");
}

TEST(MockHttp, RoundTripsThroughTheCodec) {
  auto calls = two_calls();
  for (std::size_t i = 0; i < calls.size(); ++i) {
    testset::Mock m = calls[i].mock;
    m.name = "mock-" + std::to_string(i);
    auto parsed = testset::parse_mocks(testset::encode_mock(m), "mocks.yaml");
    ASSERT_TRUE(parsed) << parsed.error().message;
    ASSERT_EQ(parsed->mocks.size(), 1u);
    EXPECT_EQ(parsed->mocks[0], m);
  }
}

struct Replay {
  MockPool pool;
  std::unique_ptr<Responder> responder;
  explicit Replay(std::vector<testset::Mock> mocks) : pool(std::move(mocks), {}) {
    responder = Responder::create({&pool, ep("127.0.0.1:40000"), kServer});
  }
  Responder::Output send(std::string_view s) { return responder->feed(bytes(s)); }
};

TEST(MockHttp, AnswersExactly) {
  Replay r(mocks_of(two_calls()));
  auto out = r.send("GET /v1/rates?cur=EUR HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(out.bytes,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n"
            "{\"r\":1.5}");
  EXPECT_FALSE(out.close);
  EXPECT_EQ(r.pool.stats().exact, 1u);
}

TEST(MockHttp, JsonBodiesMatchByValueThenByShape) {
  Replay r(mocks_of(two_calls()));
  std::string same = R"({ "amount": 10, "cur": "EUR" })";
  auto out = r.send("POST /v1/convert HTTP/1.1\r\nContent-Length: " +
                    std::to_string(same.size()) + "\r\n\r\n" + same);
  EXPECT_TRUE(out.bytes.starts_with("HTTP/1.1 201 Created\r\n"));
  EXPECT_NE(out.bytes.find("Content-Length: 11\r\n"), std::string::npos);
  EXPECT_TRUE(out.bytes.ends_with("{\"ok\":true}"));
  EXPECT_EQ(r.pool.stats().exact, 1u);
  std::string other = R"({"cur":"USD","amount":99})";
  out = r.send("POST /v1/convert HTTP/1.1\r\nContent-Length: " + std::to_string(other.size()) +
               "\r\nConnection: close\r\n\r\n" + other);
  EXPECT_TRUE(out.bytes.starts_with("HTTP/1.1 201 Created\r\n"));
  EXPECT_NE(out.bytes.find("Connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(out.close);
  EXPECT_EQ(r.pool.stats().structural, 1u);
}

TEST(MockHttp, OtherShapeIsUnmatched) {
  Replay r(mocks_of(two_calls()));
  std::string other = R"({"currency":"USD"})";
  auto out = r.send("POST /v1/convert HTTP/1.1\r\nContent-Length: " +
                    std::to_string(other.size()) + "\r\n\r\n" + other);
  EXPECT_TRUE(out.bytes.starts_with("HTTP/1.1 502 Bad Gateway\r\n"));
  EXPECT_TRUE(out.bytes.ends_with("reel: no recorded answer for POST /v1/convert\n"));
  auto misses = r.pool.take_unmatched();
  ASSERT_EQ(misses.size(), 1u);
  EXPECT_EQ(misses[0].summary, "POST /v1/convert");
  EXPECT_EQ(misses[0].kind, testset::MockKind::kHttp);
}

TEST(MockHttp, PipelinedAndSplitRequests) {
  Replay r(mocks_of(two_calls()));
  std::string two = "GET /v1/rates?cur=EUR HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\n\r\n";
  std::string all;
  for (char c : two) all += r.send(std::string_view(&c, 1)).bytes;
  EXPECT_TRUE(all.starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_NE(all.find("HTTP/1.1 502 Bad Gateway\r\n"), std::string::npos);
  EXPECT_NE(all.find("no recorded answer for GET /nope"), std::string::npos);
}

TEST(MockHttp, HeadKeepsLengthAndSendsNoBody) {
  Replay r(mocks_of(record_http({{kUp, "HEAD /f HTTP/1.1\r\n\r\n"},
                                 {kDown, "HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n"}})));
  auto out = r.send("HEAD /f HTTP/1.1\r\n\r\n");
  EXPECT_EQ(out.bytes, "HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n");
}

TEST(MockHttp, GarbageNeverCrashes) {
  Replay r(mocks_of(two_calls()));
  auto out = r.send("GET / HTTP/1.1\r\n\x01\x02\r\n\r\n");
  EXPECT_TRUE(out.close);
  Replay r2(mocks_of(two_calls()));
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk.push_back(char(i * 31 + 7));
  r2.send(junk);
  auto rec = CallRecorder::create({}, kServer, {});
  rec->data(kUp, bytes("GET / HTTP/1.1\r\n"), 1);
  rec->data(kDown, bytes(junk), 2);
  rec->data(kUp, bytes(junk), 3);
  rec->close(true, 4);
  rec->take();
}

// What hostile input cost is counted: the mock server's "rejected" and record's "unparsable".
TEST(MockHttp, RejectedInputIsCounted) {
  Replay r(mocks_of(two_calls()));
  auto smuggled = r.send("POST /a HTTP/1.1\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n"
                         "\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n");
  EXPECT_TRUE(smuggled.rejected);
  EXPECT_TRUE(smuggled.close);
  EXPECT_TRUE(smuggled.bytes.starts_with("HTTP/1.1 400"));
  Replay ok(mocks_of(two_calls()));
  EXPECT_FALSE(ok.send("GET /v1/rates?cur=EUR HTTP/1.1\r\nHost: api:8080\r\n\r\n").rejected);

  auto rec = CallRecorder::create({}, kServer, {});
  EXPECT_EQ(rec->invalid_frames(), 0u);
  rec->data(kUp, bytes("POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), 1);
  EXPECT_GE(rec->invalid_frames(), 1u);
}

}  // namespace
}  // namespace reel::mock
