#include <gtest/gtest.h>

#include <string>

#include "testset/yaml_emit.h"
#include "testset/yaml_value.h"

namespace reel::testset {
namespace {

// Quoting as Go's yaml.v3 does it, checked against what Keploy's files contain.
TEST(TestsetYaml, ScalarsAreQuotedLikeGoYamlV3) {
  EXPECT_EQ(yaml_scalar("application/json"), "application/json");
  EXPECT_EQ(yaml_scalar("*/*"), "'*/*'");
  EXPECT_EQ(yaml_scalar("50"), "\"50\"");
  EXPECT_EQ(yaml_scalar(""), "\"\"");
  EXPECT_EQ(yaml_scalar("on"), "\"on\"");
  EXPECT_EQ(yaml_scalar("13.16"), "\"13.16\"");
  EXPECT_EQ(yaml_scalar("null"), "\"null\"");
  EXPECT_EQ(yaml_scalar("2024-10-23"), "\"2024-10-23\"");
  EXPECT_EQ(yaml_scalar("ISO, MDY"), "ISO, MDY");
  EXPECT_EQ(yaml_scalar("Tue, 05 Nov 2024 09:15:02 GMT"), "Tue, 05 Nov 2024 09:15:02 GMT");
  EXPECT_EQ(yaml_scalar("{\"id\": 1}"), "'{\"id\": 1}'");
  EXPECT_EQ(yaml_scalar("a: b"), "'a: b'");
  EXPECT_EQ(yaml_scalar("it's"), "it's");
  EXPECT_EQ(yaml_scalar("'q'"), "'''q'''");
  EXPECT_EQ(yaml_scalar(" lead"), "' lead'");
  EXPECT_EQ(yaml_scalar("a\tb"), "\"a\\tb\"");
  EXPECT_EQ(yaml_scalar("*2\r\n$3\r\n"), "\"*2\\r\\n$3\\r\\n\"");
  EXPECT_EQ(yaml_scalar("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(yaml_scalar("\x01"), "\"\\x01\"");
}

TEST(TestsetYaml, BlockLayoutMatchesKeployIndentation) {
  Value doc = Value::mapping();
  Value& spec = doc.add("spec", Value::mapping());
  spec.add("metadata", Value::mapping());
  Value& reqs = spec.add("redisrequests", Value::sequence());
  Value& payload = reqs.push(Value::mapping());
  payload.add("origin", Value::string("client"));
  Value& chunk = payload.add("message", Value::sequence()).push(Value::mapping());
  chunk.add("type", Value::string("string"));
  chunk.add("data", Value::string("PING\r\n"));
  Value& flow = spec.add("header", Value::sequence(/*flow=*/true));
  flow.push(Value::string("1"));
  flow.push(Value::plain("T"));
  doc.add("curl", Value::string("curl \\\n  --url x"));
  EXPECT_EQ(emit_yaml(doc),
            "spec:\n"
            "    metadata: {}\n"
            "    redisrequests:\n"
            "        - origin: client\n"
            "          message:\n"
            "            - type: string\n"
            "              data: \"PING\\r\\n\"\n"
            "    header: [\"1\", T]\n"
            "curl: |-\n"
            "    curl \\\n"
            "      --url x\n");
}

TEST(TestsetYaml, LiteralBlocksKeepTrailingNewlines) {
  Value doc = Value::mapping();
  doc.add("one", Value::string("a\n"));
  doc.add("two", Value::string("a\n\n"));
  doc.add("lead", Value::string(" a\nb"));
  doc.add("trailing_space", Value::string("a \nb"));
  std::string text = emit_yaml(doc);
  EXPECT_EQ(text,
            "one: |\n    a\n"
            "two: |+\n    a\n\n"
            "lead: |4-\n     a\n    b\n"
            "trailing_space: \"a \\nb\"\n");
  auto back = parse_yaml(text, "t.yaml");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ((*back)[0], doc);
}

TEST(TestsetYaml, BinaryIsWrittenAsBase64AndReadBack) {
  Value doc = Value::mapping();
  doc.add("short", Value::binary(std::string("\xff\x00\x01", 3)));
  doc.add("invalid_utf8", Value::string("caf\xe9"));
  doc.add("long", Value::binary(std::string(60, '\x80')));
  std::string text = emit_yaml(doc);
  EXPECT_NE(text.find("short: !!binary /wAB\n"), std::string::npos) << text;
  EXPECT_NE(text.find("long: !!binary |\n    gICA"), std::string::npos) << text;
  auto back = parse_yaml(text, "t.yaml");
  ASSERT_TRUE(back) << back.error().message;
  const Value& d = (*back)[0];
  EXPECT_EQ(d.find("short")->text, std::string("\xff\x00\x01", 3));
  EXPECT_EQ(d.find("invalid_utf8")->text, "caf\xe9");
  EXPECT_EQ(d.find("long")->text, std::string(60, '\x80'));
}

TEST(TestsetYaml, ParserKeepsStyleFlowAndLines) {
  auto docs = parse_yaml("a: '5'\nb: 5\nc: [x, y]\nd:\n  - z\n---\ne: 1\n", "t.yaml");
  ASSERT_TRUE(docs) << docs.error().message;
  ASSERT_EQ(docs->size(), 2u);
  const Value& d = (*docs)[0];
  EXPECT_EQ(d.find("a")->style, Value::Style::kString);
  EXPECT_EQ(d.find("b")->style, Value::Style::kPlain);
  EXPECT_TRUE(d.find("c")->flow);
  EXPECT_FALSE(d.find("d")->flow);
  EXPECT_EQ(d.find("d")->items[0].line, 5);
  EXPECT_EQ(d.find("B"), d.find("b"));  // keys are matched ignoring case
  EXPECT_EQ(emit_yaml(d), "a: \"5\"\nb: 5\nc: [x, y]\nd:\n    - z\n");
}

TEST(TestsetYaml, SyntaxErrorsNameSourceLineAndColumn) {
  auto r = parse_yaml("a: 1\nb: [1, 2\nc: 3\n", "dir/mocks.yaml");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("dir/mocks.yaml:"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("invalid YAML"), std::string::npos) << r.error().message;
}

TEST(TestsetYaml, AliasBombsAndDeepNestingAreRefused) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'k'; c++, prev++) {
    bomb += fmt::format("{}: &{} [*{}, *{}, *{}, *{}, *{}, *{}, *{}, *{}, *{}, *{}]\n", c, c, prev,
                        prev, prev, prev, prev, prev, prev, prev, prev, prev);
  }
  auto r = parse_yaml(bomb, "bomb.yaml");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("more than"), std::string::npos) << r.error().message;

  std::string deep(1000, '[');
  auto d = parse_yaml(deep + std::string(1000, ']'), "deep.yaml");
  ASSERT_FALSE(d);
}

TEST(TestsetYaml, Base64DecodeRejectsGarbage) {
  std::string out;
  EXPECT_TRUE(base64_decode("aGVs\nbG8=", out));
  EXPECT_EQ(out, "hello");
  EXPECT_FALSE(base64_decode("aGVsbG8=x", out));
  EXPECT_FALSE(base64_decode("a*==", out));
  EXPECT_FALSE(base64_decode("a===", out));
}

}  // namespace
}  // namespace reel::testset
