#include <gtest/gtest.h>

#include "testset/compare.h"

namespace reel::testset {
namespace {

HttpResponse json_response(std::string body) {
  HttpResponse r;
  r.status_code = 200;
  r.header = {{"Content-Type", "application/json"},
              {"Content-Length", std::to_string(body.size())},
              {"Date", "Tue, 05 Nov 2024 09:15:03 GMT"}};
  r.body = std::move(body);
  return r;
}

NoiseSet noise(const NoiseMap& map) {
  auto set = NoiseSet::compile(map);
  EXPECT_TRUE(set) << set.error().message;
  return std::move(*set);
}

TEST(TestsetCompare, EqualUpToKeyOrderNoiseAndHeaderCasePasses) {
  HttpResponse expected = json_response(R"({"id":1,"tags":["a","b"],"at":"2024-01-01T00:00:00Z"})");
  HttpResponse actual =
      json_response(R"({ "at": "2025-02-02T00:00:00Z", "tags": ["a", "b"], "id": 1.0 })");
  actual.header = {{"content-type", "application/json"}, {"date", "later"}, {"X-New", "extra"}};
  ResponseDiff diff =
      compare_responses(expected, actual, noise({{"header.Date", {}}, {"body.at", {}}}));
  EXPECT_TRUE(diff.passed()) << render_diff(diff, {.color = false});
  EXPECT_TRUE(diff.body_json);
  EXPECT_EQ(render_diff(diff), "");
}

TEST(TestsetCompare, ReportsStatusHeadersAndJsonPaths) {
  HttpResponse expected = json_response(
      R"({"user":{"name":"Ann","roles":["admin","dev"]},"items":[{"id":1},{"id":2}],"gone":true})");
  HttpResponse actual = json_response(
      R"({"user":{"name":"Bob","roles":["admin"]},"items":[{"id":1},{"id":3}],"new":null})");
  actual.status_code = 500;
  actual.header.erase("Date");
  actual.header["Content-Type"] = "text/html";
  ResponseDiff diff = compare_responses(expected, actual, NoiseSet());
  EXPECT_FALSE(diff.passed());
  EXPECT_FALSE(diff.status_ok());
  ASSERT_EQ(diff.headers.size(), 2u);
  EXPECT_EQ(diff.headers[0].path, "header.Content-Type");
  EXPECT_EQ(diff.headers[1].path, "header.Date");
  EXPECT_EQ(diff.headers[1].kind, FieldDiff::Kind::kMissing);
  std::vector<std::string> paths;
  for (const auto& d : diff.body) paths.push_back(d.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"body.user.name", "body.user.roles.1",
                                             "body.items.1.id", "body.gone", "body.new"}));
  EXPECT_EQ(diff.body[0].expected, "\"Ann\"");
  EXPECT_EQ(diff.body[0].actual, "\"Bob\"");
  EXPECT_EQ(diff.body[1].kind, FieldDiff::Kind::kMissing);
  EXPECT_EQ(diff.body[4].kind, FieldDiff::Kind::kUnexpected);

  std::string text = render_diff(diff, {.color = false});
  EXPECT_NE(text.find("status: expected 200, got 500"), std::string::npos) << text;
  EXPECT_NE(text.find("body.user.name (changed)\n    - \"Ann\"\n    + \"Bob\""), std::string::npos)
      << text;
  EXPECT_NE(text.find("header.Date (missing)"), std::string::npos) << text;
  std::string colored = render_diff(diff);
  EXPECT_NE(colored.find("\x1b[31m- \"Ann\""), std::string::npos);
  EXPECT_NE(colored.find("\x1b[32m+ \"Bob\""), std::string::npos);
}

TEST(TestsetCompare, NoiseValueRegexAndWholeBodyNoise) {
  HttpResponse expected = json_response(R"({"n":"17","s":"x"})");
  HttpResponse actual = json_response(R"({"n":"18","s":"y"})");
  auto diff = compare_responses(expected, actual, noise({{"body.n", {"^\\d+$"}}}));
  ASSERT_EQ(diff.body.size(), 1u);
  EXPECT_EQ(diff.body[0].path, "body.s");
  EXPECT_TRUE(compare_responses(expected, actual, noise({{"body", {}}})).passed());
}

TEST(TestsetCompare, TextBodiesGetAUnifiedDiff) {
  HttpResponse expected, actual;
  expected.status_code = actual.status_code = 200;
  expected.body = "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n";
  actual.body = "one\ntwo\nthree\nFOUR\nfive\nsix\nseven\neight\nnine\nten\neleven\n";
  ResponseDiff diff = compare_responses(expected, actual, NoiseSet());
  EXPECT_FALSE(diff.body_json);
  ASSERT_EQ(diff.body.size(), 1u);
  std::string text = render_diff(diff, {.color = false, .context_lines = 1});
  EXPECT_EQ(text,
            "body:\n--- expected\n+++ actual\n"
            "@@ -3,3 +3,3 @@\n three\n-four\n+FOUR\n five\n"
            "@@ -10,1 +10,2 @@\n ten\n+eleven\n");
}

TEST(TestsetCompare, JsonAgainstNonJsonIsABodyChange) {
  HttpResponse expected = json_response(R"({"ok":true})");
  HttpResponse actual = json_response("<html>oops</html>");
  ResponseDiff diff = compare_responses(expected, actual, NoiseSet());
  ASSERT_EQ(diff.body.size(), 1u);
  EXPECT_EQ(diff.body[0].path, "body");
  EXPECT_NE(render_diff(diff, {.color = false}).find("+<html>oops</html>"), std::string::npos);
}

}  // namespace
}  // namespace reel::testset
