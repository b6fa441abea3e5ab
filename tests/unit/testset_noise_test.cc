#include <gtest/gtest.h>

#include "testset/config.h"
#include "testset/noise.h"

namespace reel::testset {
namespace {

HttpResponse order_response() {
  HttpResponse r;
  r.status_code = 200;
  r.header = {{"Content-Type", "application/json"},
              {"Date", "Tue, 05 Nov 2024 09:15:03 GMT"},
              {"ETag", "W/\"9d-1a2b\""},
              {"X-Request-Id", "req-1"},
              {"X-Amzn-RequestId", "abc"},
              {"Set-Cookie", "sid=1"},
              {"X-Upstream-Trace-Id", "t-1"},
              {"Server", "gunicorn"}};
  r.body = R"({
    "id": 1001,
    "item": "espresso beans",
    "count": 42,
    "status": "paid",
    "created_at": "2024-11-05T09:15:02.187Z",
    "updated": 1730798102187,
    "expires_at": 1730801702,
    "version_code": 1730801702,
    "tracking_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "session": "Qm9vbGVhbnMgYW5kIHRva2Vu5f2a9c1b7d",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
    "sha": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "description": "a_long_identifier_without_digits_at_all",
    "lines": [{"sku": "EB-1", "added": "2024-11-05 09:15:02"}]
  })";
  return r;
}

TEST(TestsetNoise, DetectsVolatileFieldsByShape) {
  NoiseMap noise = detect_noise(order_response());
  NoiseMap expected;
  for (const char* p :
       {"header.Date", "header.ETag", "header.X-Request-Id", "header.X-Amzn-RequestId",
        "header.Set-Cookie", "header.X-Upstream-Trace-Id", "body.created_at", "body.updated",
        "body.expires_at", "body.tracking_id", "body.session", "body.jwt", "body.sha",
        "body.lines.0.added"}) {
    expected[p];
  }
  EXPECT_EQ(noise, expected);
}

TEST(TestsetNoise, WholeTextBodyThatIsAnIdIsNoise) {
  HttpResponse r;
  r.body = "7c9e6679-7425-40de-944b-e07fc1f90ae7\n";
  EXPECT_EQ(detect_noise(r), (NoiseMap{{"body", {}}}));
  r.body = "hello world";
  EXPECT_TRUE(detect_noise(r).empty());
}

TEST(TestsetNoise, DetectsFieldsThatDifferBetweenTwoObservations) {
  HttpResponse a = order_response(), b = order_response();
  b.header["Date"] = "Tue, 05 Nov 2024 09:15:09 GMT";
  b.header["Server"] = "gunicorn/2";
  b.body.replace(b.body.find("\"paid\""), 6, "\"sent\"");
  b.body.replace(b.body.find("EB-1"), 4, "EB-2");
  NoiseMap noise = detect_noise_between(a, b);
  EXPECT_EQ(noise, (NoiseMap{{"body.lines.0.sku", {}},
                             {"body.status", {}},
                             {"header.Date", {}},
                             {"header.Server", {}}}));
  b.body = "not json";
  EXPECT_TRUE(detect_noise_between(a, b).contains("body"));
}

TEST(TestsetNoise, NoiseSetIgnoresPathsPrefixesAndHeaderCase) {
  auto set = NoiseSet::compile({{"header.Date", {}}, {"body.meta", {}}, {"body.n", {"^\\d+$"}}});
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_TRUE(set->ignores("header.date", "a", "b"));
  EXPECT_TRUE(set->ignores("body.meta.request.id", "1", "2"));
  EXPECT_FALSE(set->ignores("body.metadata", "1", "2"));
  EXPECT_TRUE(set->ignores("body.n", "17", "18"));
  EXPECT_FALSE(set->ignores("body.n", "17", "x"));
  EXPECT_FALSE(set->ignores_absent("body.n"));
  EXPECT_TRUE(set->ignores_absent("body.meta"));
}

TEST(TestsetNoise, RulesWithGlobsAndRegexes) {
  std::vector<NoiseRule> rules = {{"body.lines.*.added", "", ""},
                                  {"", "^header\\.x-amzn-.*", ""},
                                  {"body.**.sku", "", "^EB-\\d+$"}};
  auto set = NoiseSet::compile({}, rules);
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_TRUE(set->ignores("body.lines.3.added", "x", "y"));
  EXPECT_FALSE(set->ignores("body.lines.3.sku2", "x", "y"));
  EXPECT_TRUE(set->ignores("header.X-Amzn-RequestId", "a", "b"));
  EXPECT_TRUE(set->ignores("body.lines.0.sku", "EB-1", "EB-2"));
  EXPECT_FALSE(set->ignores("body.lines.0.sku", "EB-1", "XX-2"));
  EXPECT_FALSE(NoiseSet::compile({}, {{"", "([", ""}}));
}

TEST(TestsetNoise, RecordTimeNoiseMergesAutoGlobalAndTestSetRules) {
  NoiseConfig config;
  config.global = {{"body.lines.*.sku", "", ""}, {"header.X-Custom", "", ""}};
  config.test_sets["test-set-1"] = {{"body.count", "", "^\\d+$"}};
  auto noise = compute_noise(order_response(), config, "test-set-1");
  ASSERT_TRUE(noise) << noise.error().message;
  EXPECT_TRUE(noise->contains("header.Date"));       // auto
  EXPECT_TRUE(noise->contains("body.lines.0.sku"));  // glob expanded to a concrete path
  EXPECT_TRUE(noise->contains("header.X-Custom"));   // plain path kept even when absent
  EXPECT_EQ(noise->at("body.count"), (std::vector<std::string>{"^\\d+$"}));
  config.auto_detect = false;
  auto other = compute_noise(order_response(), config, "test-set-0");
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->contains("header.Date"));
  EXPECT_FALSE(other->contains("body.count"));
}

}  // namespace
}  // namespace reel::testset
