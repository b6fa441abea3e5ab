#include "core/json_writer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/encoding.h"

namespace reel {
namespace {

TEST(JsonWriter, NestedValuesParseBack) {
  std::string out;
  JsonWriter w(out);
  w.begin_object()
      .field("s", "a\"b\\c\n\t\x01")
      .field("n", std::uint64_t{18446744073709551615u})
      .field("i", std::int64_t{-5})
      .field("d", 1.5)
      .field("b", false)
      .key("arr")
      .begin_array()
      .value(1)
      .value("x")
      .begin_object()
      .end_object()
      .end_array()
      .end_object();
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["s"], "a\"b\\c\n\t\x01");
  EXPECT_EQ(j["n"].get<std::uint64_t>(), 18446744073709551615u);
  EXPECT_EQ(j["i"], -5);
  EXPECT_EQ(j["d"], 1.5);
  EXPECT_EQ(j["b"], false);
  EXPECT_EQ(j["arr"].size(), 3u);
}

TEST(JsonWriter, InvalidUtf8BecomesReplacementCharacter) {
  std::string out;
  JsonWriter(out).value(std::string_view("ok\xff\xc3\xa9\xed\xa0\x80!", 9));
  auto j = nlohmann::json::parse(out);  // throws on invalid UTF-8
  EXPECT_EQ(j.get<std::string>(), "ok\xef\xbf\xbd\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd!");
}

// text_field writes exactly what is_printable_utf8 accepts, escaped, and for anything else
// leaves the output as it was, so the caller can write base64 in its place.
TEST(JsonWriter, TextFieldTakesWhatIsPrintableAndLeavesTheRestUntouched) {
  std::string long_text;
  for (int i = 0; i < 20; i++) long_text.append(76, static_cast<char>('A' + i)).append("\n");
  const std::vector<std::string> cases = {
      "", "plain", "h\xc3\xa9llo \"q\" \\ \r\n\t", long_text, std::string("a\0b", 3), "a\x7f",
      "bell\x07", std::string(40, 'x').append("\xff"), "\xc0\xaf", "\xe2\x82", "\xed\xa0\x80", std::string(long_text).append("\x01")};
  for (const auto& text : cases) {
    std::string out;
    JsonWriter w(out);
    w.begin_object().field("size", std::uint64_t{1});
    bool took = w.text_field("text", text);
    EXPECT_EQ(took, is_printable_utf8(text)) << text;
    if (!took) {
      EXPECT_EQ(out, "{\"size\":1") << text;
      w.field("base64", base64_encode(text));
    }
    w.end_object();
    auto j = nlohmann::json::parse(out);
    if (took) EXPECT_EQ(j["text"], text);
    else EXPECT_EQ(j["base64"], base64_encode(text));
  }
}

TEST(Encoding, Base64AndPrintable) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_TRUE(is_printable_utf8("héllo\r\n\t"));
  EXPECT_FALSE(is_printable_utf8(std::string_view("a\0b", 3)));
  EXPECT_FALSE(is_printable_utf8("\xc0\xaf"));  // overlong
  EXPECT_FALSE(is_printable_utf8("\xe2\x82"));  // cut short
}

TEST(Encoding, PlainAsciiPrefixStopsAtTheFirstSpecialByteAnywhere) {
  std::string base(40, 'a');
  EXPECT_EQ(plain_ascii_prefix(base, true), 40u);
  EXPECT_EQ(plain_ascii_prefix(std::string(40, ' ') + std::string(40, '~'), true), 80u);  // the edges
  for (std::size_t pos = 0; pos < 40; pos++) {
    for (char special : {'"', '\\', '\n', '\x7f', '\x80', '\0', '\x1f', '\xff'}) {
      std::string s = base;
      s[pos] = special;
      bool json_only = special == '"' || special == '\\';
      EXPECT_EQ(plain_ascii_prefix(s, true), pos) << pos << " " << int(special);
      EXPECT_EQ(plain_ascii_prefix(s, false), json_only ? 40u : pos) << pos << " " << int(special);
    }
  }
}

}  // namespace
}  // namespace reel
