#include <gtest/gtest.h>

#include "testset/codec.h"
#include "testset/convert.h"

namespace reel::testset {
namespace {

protocols::Exchange http_exchange() {
  protocols::Exchange e;
  e.protocol = protocols::Protocol::kHttp1;
  e.has_request = e.has_response = true;
  e.method = "POST";
  e.target = "/orders?src=web";
  e.request_headers = {{"Host", "shop.local:8090"},
                       {"Content-Type", "application/json"},
                       {"Accept", "text/html"},
                       {"Accept", "application/json"}};
  e.request_body.append(R"({"item":"tea"})", 1024);
  e.status = 201;
  e.status_text = "Created";
  e.response_headers = {{"Set-Cookie", "a=1"}, {"Set-Cookie", "b=2"}};
  e.response_body.append("{\"id\":7}", 1024);
  e.request_time = {1'000, 2'000};
  e.response_time = {5'000, 9'000};
  e.fields["http.version"] = "1.0";
  return e;
}

ConvertOptions options() {
  ConvertOptions o;
  o.app_port = 8090;
  o.clock_to_unix_ns = 1730798102'000'000'000;
  o.utc_offset_s = 3600;
  return o;
}

TEST(TestsetConvert, HttpExchangeBecomesATestCase) {
  auto t = test_case_from_exchange(http_exchange(), options());
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->req.url, "http://shop.local:8090/orders?src=web");
  EXPECT_EQ(t->req.proto_major, 1);
  EXPECT_EQ(t->req.proto_minor, 0);
  EXPECT_EQ(t->req.header.at("Accept"), "text/html, application/json");
  EXPECT_EQ(t->resp.header.at("Set-Cookie"), "a=1, b=2");
  EXPECT_EQ(t->req.timestamp.unix_ns, 1730798102'000'001'000);
  EXPECT_EQ(t->req.timestamp.to_string(), "2024-11-05T10:15:02.000001+01:00");
  EXPECT_EQ(t->resp.timestamp.unix_ns, 1730798102'000'009'000);
  EXPECT_EQ(t->created, 1730798102);
  EXPECT_EQ(t->app_port, 8090);
  EXPECT_TRUE(t->metadata.empty());
  EXPECT_TRUE(parse_test_case(encode_test_case(*t), "t.yaml"));
}

TEST(TestsetConvert, PartialExchangesAreMarkedOrRefused) {
  protocols::Exchange e = http_exchange();
  e.gap = true;
  e.response_body.size = 1 << 20;  // more on the wire than kept
  auto t = test_case_from_exchange(e, options());
  ASSERT_TRUE(t);
  EXPECT_EQ(t->metadata.at("gap"), "true");
  EXPECT_EQ(t->metadata.at("truncated"), "response");
  e.has_response = false;
  auto none = test_case_from_exchange(e, options());
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message, "HTTP exchange POST /orders?src=web has no response");
  e.protocol = protocols::Protocol::kRedis;
  EXPECT_FALSE(http_mock_from_exchange(e, options()));
}

TEST(TestsetConvert, HttpMockCarriesKeployMetadata) {
  auto m = http_mock_from_exchange(http_exchange(), options());
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, MockKind::kHttp);
  EXPECT_EQ(m->metadata.at("type"), "HTTP_CLIENT");
  EXPECT_EQ(m->metadata.at("operation"), "POST");
  EXPECT_EQ(m->req_timestamp.unix_ns, 1730798102'000'001'000);
}

TEST(TestsetConvert, ByteExchangeBecomesAGenericMockInKeployShape) {
  ByteExchange x;
  x.requests = {std::string("\x01\x02\xfe", 3)};
  x.responses = {"OK\r\n"};
  x.request_ns = 1'000;
  x.response_ns = 2'000;
  x.connection_id = "12";
  Mock m = generic_mock(x, options());
  m.name = "mock-0";
  EXPECT_EQ(encode_mock(m),
            "version: api.keploy.io/v1beta1\n"
            "kind: Generic\n"
            "name: mock-0\n"
            "spec:\n"
            "    metadata:\n"
            "        connID: \"12\"\n"
            "        type: mocks\n"
            "    genericrequests:\n"
            "        - origin: client\n"
            "          message:\n"
            "            - type: binary\n"
            "              data: AQL+\n"
            "    genericresponses:\n"
            "        - origin: server\n"
            "          message:\n"
            "            - type: string\n"
            "              data: \"OK\\r\\n\"\n"
            "    reqtimestampmock: 2024-11-05T10:15:02.000001+01:00\n"
            "    restimestampmock: 2024-11-05T10:15:02.000002+01:00\n"
            "connectionId: \"12\"\n");
  Mock redis = payload_mock(x, MockKind::kRedis, options());
  EXPECT_NE(encode_mock(redis).find("    redisrequests:\n"), std::string::npos);
}

}  // namespace
}  // namespace reel::testset
