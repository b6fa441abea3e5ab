// keploy.yml as Keploy writes it (`keploy config --generate`), read for what reel test uses.
#include <gtest/gtest.h>

#include "testset/keploy_config.h"

namespace reel::testset {
namespace {

TEST(KeployConfig, ReadsWhatReelTestUses) {
  const char* yaml = R"(path: ""
appId: 0
appName: users
command: "python3 app.py --port 8080"
port: 8080
dnsPort: 26789
proxyPort: 16789
debug: false
disableTele: false
test:
  selectedTests:
    test-set-1: []
    test-set-3: ["test-2"]
  globalNoise:
    global:
      header: {"Date": [], "X-Request-Id": ["^[0-9a-f-]+$"]}
      body: {"updated_at": []}
    test-sets:
      test-set-1:
        body: {"token": []}
  delay: 5
  apiTimeout: 5
record:
  filters: []
)";
  auto c = parse_keploy_config(yaml, "keploy.yml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->command, "python3 app.py --port 8080");
  EXPECT_EQ(c->port, 8080);
  ASSERT_TRUE(c->delay_s);
  EXPECT_EQ(*c->delay_s, 5.0);
  EXPECT_EQ(c->test_sets, (std::vector<std::string>{"test-set-1", "test-set-3"}));
  ASSERT_EQ(c->noise.global.size(), 3u);
  EXPECT_EQ(c->noise.global[0].path, "header.Date");
  EXPECT_EQ(c->noise.global[0].value_regex, "");
  EXPECT_EQ(c->noise.global[1].path, "header.X-Request-Id");
  EXPECT_EQ(c->noise.global[1].value_regex, "(?:^[0-9a-f-]+$)");
  EXPECT_EQ(c->noise.global[2].path, "body.updated_at");
  ASSERT_EQ(c->noise.test_sets.at("test-set-1").size(), 1u);
  EXPECT_EQ(c->noise.test_sets.at("test-set-1")[0].path, "body.token");
}

TEST(KeployConfig, BadValuesNameTheirLine) {
  auto c = parse_keploy_config("port: 99999\n", "keploy.yml");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message, "keploy.yml:1: port: '99999' is not a port");
  c = parse_keploy_config("test:\n  globalNoise:\n    global:\n      cookies: {a: []}\n", "keploy.yml");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("'cookies' is neither body nor header"), std::string::npos);
  EXPECT_TRUE(parse_keploy_config("", "keploy.yml"));
}

}  // namespace
}  // namespace reel::testset
