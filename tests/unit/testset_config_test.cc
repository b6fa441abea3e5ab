#include <gtest/gtest.h>

#include "testset/config.h"

namespace reel::testset {
namespace {

constexpr std::string_view kFull = R"(# reel.yaml
record:
  app_port: 8080        # another part of reel reads this; ignored here
noise:
  auto: false
  global:
    - header.X-Request-Start
    - path: body.items.*.updatedAt
    - path: body.version
      value: '^v\d+\.\d+\.\d+$'
    - path_regex: '^header\.x-amzn-.*'
  test_sets:
    test-set-0:
      - body.session.id
redact:
  enabled: true
  headers: [X-Internal-Auth, X-*-Signature]
  fields: [ssn, card_number]
files:
  mode: "0600"
)";

TEST(TestsetConfig, ParsesTheDocumentedSchema) {
  auto config = parse_reel_config(kFull, "reel.yaml");
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_FALSE(config->noise.auto_detect);
  ASSERT_EQ(config->noise.global.size(), 4u);
  EXPECT_EQ(config->noise.global[0].path, "header.X-Request-Start");
  EXPECT_EQ(config->noise.global[1].path, "body.items.*.updatedAt");
  EXPECT_EQ(config->noise.global[2].value_regex, "^v\\d+\\.\\d+\\.\\d+$");
  EXPECT_EQ(config->noise.global[3].path_regex, "^header\\.x-amzn-.*");
  ASSERT_EQ(config->noise.test_sets.at("test-set-0").size(), 1u);
  EXPECT_EQ(config->redact.headers, (std::vector<std::string>{"X-Internal-Auth", "X-*-Signature"}));
  EXPECT_EQ(config->redact.fields, (std::vector<std::string>{"ssn", "card_number"}));
  EXPECT_EQ(config->file_mode, 0600u);
}

TEST(TestsetConfig, EmptyOrMissingGivesDefaults) {
  auto empty = parse_reel_config("", "reel.yaml");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->noise.auto_detect);
  EXPECT_TRUE(empty->redact.enabled);
  EXPECT_EQ(empty->file_mode, 0640u);
  auto missing = load_reel_config("/nonexistent/reel.yaml");
  ASSERT_TRUE(missing);
  EXPECT_TRUE(missing->redact.enabled);
}

TEST(TestsetConfig, MistakesNameLineAndWhatIsAllowed) {
  auto typo = parse_reel_config("noise:\n  globl: []\n", "reel.yaml");
  ASSERT_FALSE(typo);
  EXPECT_EQ(typo.error().message,
            "reel.yaml:2: noise: unknown setting 'globl' (known: auto, global, test_sets)");
  auto regex = parse_reel_config("noise:\n  global:\n    - path_regex: '(['\n", "reel.yaml");
  ASSERT_FALSE(regex);
  EXPECT_NE(regex.error().message.find("reel.yaml:3: noise.global[0]:"), std::string::npos)
      << regex.error().message;
  // Numbers libstdc++ would overflow reading (found by the reel_config fuzzer), or build a
  // state per unit of; long literal digits stay fine.
  for (const char* re : {"a{1,11111111111111111111}", "(a)\\11111111111111111111", "a{12345}"}) {
    auto huge = parse_reel_config(fmt::format("noise:\n  global:\n    - path_regex: '{}'\n", re), "reel.yaml");
    ASSERT_FALSE(huge) << re;
    EXPECT_NE(huge.error().message.find("a repeat count or back-reference of more than 4 digits"),
              std::string::npos)
        << huge.error().message;
  }
  EXPECT_TRUE(parse_reel_config("noise:\n  global:\n    - path_regex: 'body\\.id_1234567890{2}'\n", "reel.yaml"));
  auto both = parse_reel_config("noise:\n  global:\n    - {path: a, path_regex: b}\n", "reel.yaml");
  ASSERT_FALSE(both);
  EXPECT_NE(both.error().message.find("exactly one of path and path_regex"), std::string::npos);
  auto mode = parse_reel_config("files:\n  mode: \"0444\"\n", "reel.yaml");
  ASSERT_FALSE(mode);
  EXPECT_NE(mode.error().message.find("reel.yaml:2: files.mode"), std::string::npos);
  auto flag = parse_reel_config("redact:\n  enabled: maybe\n", "reel.yaml");
  ASSERT_FALSE(flag);
  EXPECT_EQ(flag.error().message,
            "reel.yaml:2: redact.enabled: expected true or false, found \"maybe\"");
}

}  // namespace
}  // namespace reel::testset
