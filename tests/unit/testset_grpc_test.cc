// gRPC in test sets: protoscope text (Keploy's decoded_data) both ways, protobuf as JSON, and
// gRPC mocks and test cases in Keploy's YAML shape.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <random>
#include <string>

#include "protocols/http2/grpc.h"
#include "protocols/http2/protobuf_json.h"
#include "protocols/http2/protoscope.h"
#include "testset/codec.h"
#include "testset/reader.h"
#include "testset/redact.h"
#include "testset/writer.h"

namespace reel::protocols::grpc {
namespace {

using namespace std::literals;

std::string scan_ok(std::string_view text) {
  auto bytes = protoscope_scan(text);
  EXPECT_TRUE(bytes) << text << "\n" << (bytes ? "" : bytes.error().message);
  return bytes ? *bytes : "";
}

std::string scan_error(std::string_view text) {
  auto bytes = protoscope_scan(text);
  EXPECT_FALSE(bytes) << text;
  return bytes ? "" : bytes.error().message;
}

void expect_round_trip(std::string_view bytes) {
  std::string text = protoscope_write(bytes);
  auto back = protoscope_scan(text);
  ASSERT_TRUE(back) << back.error().message << "\n" << text;
  ASSERT_EQ(*back, bytes) << text;
}

// Protoscope's own golden outputs (testdata/*.pb.golden, default writer options); the .pb
// inputs are the goldens read back, so each checks the scanner and the writer together.
void expect_golden(std::string_view golden) {
  std::string bytes = scan_ok(golden);
  EXPECT_EQ(protoscope_write(bytes), golden);
}

TEST(Protoscope, GoldenMessage) {
  expect_golden(R"(1: 101
2: 102
3: 103
4: 104
5: 210
6: 212
7: 107i32
8: 108i64
9: 109i32
10: 110i64
11: 111.0i32  # 0x42de0000i32
12: 112.0     # 0x405c000000000000i64
13: 1
14: {"115"}
15: {"116"}
16: !{17: 117}
18: {1: 118}
19: {1: 119}
20: {1: 120}
21: 3
22: 6
23: 9
24: {"124"}
25: {"125"}
26: {1: 126}
27: {1: 127}
28: {1: 128}
31: 201
31: 301
32: 202
32: 302
33: 203
33: 303
34: 204
34: 304
35: 410
35: 610
36: 412
36: 612
37: 207i32
37: 307i32
38: 208i64
38: 308i64
39: 209i32
39: 309i32
40: 210i64
40: 310i64
41: 211.0i32  # 0x43530000i32
41: 311.0i32  # 0x439b8000i32
42: 212.0     # 0x406a800000000000i64
42: 312.0     # 0x4073800000000000i64
43: 1
43: 0
44: {"215"}
44: {"315"}
45: {"216"}
45: {"316"}
46: !{47: 217}
46: !{47: 317}
48: {1: 218}
48: {1: 318}
49: {1: 219}
49: {1: 319}
50: {1: 220}
50: {1: 320}
51: 2
51: 3
52: 5
52: 6
53: 8
53: 9
54: {"224"}
54: {"324"}
55: {"225"}
55: {"325"}
57: {1: 227}
57: {1: 327}
61: 401
62: 402
63: 403
64: 404
65: 810
66: 812
67: 407i32
68: 408i64
69: 409i32
70: 410i64
71: 411.0i32  # 0x43cd8000i32
72: 412.0     # 0x4079c00000000000i64
73: 0
74: {"415"}
75: {"416"}
81: 1
82: 4
83: 7
84: {"424"}
85: {"425"}
111: 601
112: {1: 602}
113: {"603"}
114: {"604"}
)");
}

TEST(Protoscope, GoldenGroups) {
  // testdata/groups.pb.golden, except that protoscope's printer folds a block of at most three
  // lines, so a group holding a field and a long-form end tag (four lines) is not folded.
  expect_golden(R"(1: !{
  1: 101
  2: 202i32
  3: {12: 7.2232605e28i32}  # 0x6f696569i32
}
2:SGROUP
3:EGROUP
4:EGROUP
5: !{6: !{}}
6: !{long-form:5}
7: !{
  1: 1
  long-form:5
}
7: !{
  1: 1
  1: 1
  long-form:5
}
10:SGROUP
)");
}

TEST(Protoscope, GoldenPackedAndProto3) {
  expect_golden(R"(90: {`d904bd05`}
91: {`da04be05`}
92: {`db04bf05`}
93: {`dc04c005`}
94: {`ba09820b`}
95: {
  151:EGROUP
  176:EGROUP
}
96: {`5f020000c3020000`}
97: {`6002000000000000c402000000000000`}
98: {`61020000c5020000`}
99: {`6202000000000000c602000000000000`}
100: {`00c0184400c03144`}
101: {`00000000002083400000000000408640`}
102: {`0100`}
103: {`0506`}
)");
  expect_golden(R"(31: {`65ad02`}
32: {`ca01ae02`}
43: {`0100`}
44: {"215"}
48: {1: 218}
)");
}

TEST(Protoscope, GoldenMaps) {
  expect_golden(R"(1: {
  1: -2118571295
  2: {
    1: {
      1: -200
      2: 0
    }
    1: {
      1: 4
      2: -2118571295
    }
  }
}
2: {
  1: -8858993638460596965
  2: {
    1: {
      1: 15
      2: 136076571
    }
  }
}
)");
}

TEST(Protoscope, WritesWhatAHumanReads) {
  // 1: 150, 2: "Alice", 3: {1: 1, 2: "x"}
  std::string msg =
      "\x08\x96\x01\x12\x05"
      "Alice"
      "\x1a\x05\x08\x01\x12\x01x"s;
  EXPECT_EQ(protoscope_write(msg), "1: 150\n2: {\"Alice\"}\n3: {\n  1: 1\n  2: {\"x\"}\n}\n");
  EXPECT_EQ(protoscope_write(""), "");
  EXPECT_EQ(protoscope_write("\x0a\x00"s), "1: {}\n");
  EXPECT_EQ(protoscope_write("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"s), "1: -1\n");
  EXPECT_EQ(protoscope_write("\x08\x81\x80\x00"s), "1: long-form:2 1\n");
  EXPECT_EQ(protoscope_write("\x0d\x00\x00\xc0\x3f"s),
            "1: 1.5i32   # 0x3fc00000i32\n");  // remarks at an even column
  EXPECT_EQ(protoscope_write("\x09\x00\x00\x00\x00\x00\x00\xf8\x7f"s),
            "1: 0x7ff8000000000000i64\n");
  EXPECT_EQ(protoscope_write("\x09\x00\x00\x00\x00\x00\x00\xf0\xff"s), "1: -inf64\n");
  EXPECT_EQ(protoscope_write("\x09\x00\x00\x00\x00\x80\x84\x2e\x41"s),
            "1: 1.0e06   # 0x412e848000000000i64\n");
  // Not text and not a message: hex, 40 bytes a line.
  EXPECT_EQ(protoscope_write("\x12\x03\x00\xff\x07"s), "2: {`00ff07`}\n");
  EXPECT_EQ(protoscope_write(std::string(50, '\xff')),
            "`" + std::string(80, 'f') + "`\n`" + std::string(20, 'f') + "`\n");
  // Escapes and a long string, 80 bytes a line.
  EXPECT_EQ(protoscope_write("\x12\x08"
                             "a\"b\\\n\tcd"s),
            "2: {\"a\\\"b\\\\\\n\\x09cd\"}\n");
  EXPECT_EQ(protoscope_write("\x12\x06"
                             "a\"b\\\n\t"s),
            "2: {`6122625c0a09`}\n");  // >30% not graphic
  std::string long_text(100, 'a');
  EXPECT_EQ(protoscope_write("\x12\x64" + long_text),
            "2: {\n  \"" + std::string(80, 'a') + "\"\n  \"" + std::string(20, 'a') + "\"\n}\n");
  EXPECT_EQ(protoscope_write("\x12\x06"
                             "h\xc3\xa9llo"s),
            "2: {\"h\xc3\xa9llo\"}\n");
  // A field that cannot be read ends the fields; the rest is hex.
  EXPECT_EQ(protoscope_write("\x08\x01\x0f\x01"s), "1: 1\n`0f01`\n");
}

TEST(Protoscope, ScansEverySyntax) {
  EXPECT_EQ(scan_ok("1: 150"), "\x08\x96\x01"s);
  EXPECT_EQ(scan_ok("1: -1"), "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"s);
  EXPECT_EQ(scan_ok("1: 0xff"), "\x08\xff\x01"s);
  EXPECT_EQ(scan_ok("1: -0x1"), scan_ok("1: -1"));
  EXPECT_EQ(scan_ok("1: -2z 1: 3"), "\x08\x03\x08\x03"s);
  EXPECT_EQ(scan_ok("1: 5i32"), "\x0d\x05\x00\x00\x00"s);
  EXPECT_EQ(scan_ok("1: -1i32"), "\x0d\xff\xff\xff\xff"s);
  EXPECT_EQ(scan_ok("1: -23i64"), "\x09\xe9\xff\xff\xff\xff\xff\xff\xff"s);
  EXPECT_EQ(scan_ok("1: 1.5i32"), "\x0d\x00\x00\xc0\x3f"s);
  EXPECT_EQ(scan_ok("1: 1.5"), "\x09\x00\x00\x00\x00\x00\x00\xf8\x3f"s);
  EXPECT_EQ(scan_ok("1: 9.423e-2"), scan_ok("1: 0.09423"));
  EXPECT_EQ(scan_ok("1: 0x1.8p0"), scan_ok("1: 1.5"));
  EXPECT_EQ(scan_ok("1: -0x1.ffp52"), scan_ok("1: -8989607068696576.0"));
  EXPECT_EQ(scan_ok("1: 0xf.fi64"), scan_ok("1: 15.9375"));
  EXPECT_EQ(scan_ok("1: inf32 2: -inf64"),
            "\x0d\x00\x00\x80\x7f\x11\x00\x00\x00\x00\x00\x00\xf0\xff"s);
  EXPECT_EQ(scan_ok("1: true 2: false"), "\x08\x01\x10\x00"s);
  EXPECT_EQ(scan_ok(R"(2: {"a\"b\\\n\x41\101\0"})"),
            "\x12\x08"
            "a\"b\\\nAA\0"s);
  EXPECT_EQ(scan_ok("\"hello \" \"world\""), "hello world");
  EXPECT_EQ(scan_ok("`00` `abcdef` `AbCdEf`"), "\x00\xab\xcd\xef\xab\xcd\xef"s);
  EXPECT_EQ(scan_ok("3: {\"text\"}"), "\x1a\x04text"s);
  EXPECT_EQ(scan_ok("24: {\n  1: 5\n  2: {\"nested string\"}\n}"),
            "\xc2\x01\x11\x08\x05\x12\x0dnested string"s);
  EXPECT_EQ(scan_ok("25: { 1 2 3 }"), "\xca\x01\x03\x01\x02\x03"s);
  EXPECT_EQ(scan_ok("1:VARINT 2:I64 3:LEN 4:SGROUP 5:EGROUP 6:I32 0x10:0 8:6"),
            "\x08\x11\x1a\x23\x2c\x35\x80\x01\x46"s);
  EXPECT_EQ(scan_ok("2:LEN 4 \"abcd\""),
            "\x12\x04"
            "abcd"s);
  EXPECT_EQ(scan_ok("long-form:3 3"), "\x83\x80\x80\x00"s);
  EXPECT_EQ(scan_ok("23: long-form:2 {\"x\"}"), "\xba\x01\x81\x80\x00x"s);
  EXPECT_EQ(scan_ok("8: !{42}"), "\x43\x2a\x44"s);
  EXPECT_EQ(scan_ok("26: !{1: 55z}"), "\xd3\x01\x08\x6e\xd4\x01"s);
  EXPECT_EQ(scan_ok("27: !{long-form:3}"), "\xdb\x01\xdc\x81\x80\x80\x00"s);
  EXPECT_EQ(scan_ok("1: 1 # a comment\n# another\n2: 2"), "\x08\x01\x10\x02"s);
  EXPECT_EQ(scan_ok("1:{}"), "\x0a\x00"s);
  EXPECT_EQ(scan_ok(""), "");
  EXPECT_EQ(scan_ok("  # nothing\n"), "");
  EXPECT_EQ(scan_ok("1: -9223372036854775808"), scan_ok("1: 0x8000000000000000"));
  EXPECT_EQ(scan_ok("1: 18446744073709551615"), scan_ok("1: -1"));
  // Protoscope's own specification is a protoscope file.
  EXPECT_FALSE(
      scan_ok("# Protoscope Language\n\"Quoted\" 456 -0xffFF -2z 3 0i32 -23i64 long-form:3 3 "
              "true false 1.0 9.423e-2 -0x1.ffp52 1.5i32 0xf.fi64 inf32 -inf64 1:VARINT "
              "1: 55z 2: 1.23 3: {\"text\"} 6: -1i32 8: !{42} 23: long-form:2 {\"x\"} "
              "26: !{ 1: 55z 2: 1.4 3: {\"abcd\"} } 27: !{long-form:3} 2:LEN 5 \"abcd\"")
          .empty());
}

TEST(Protoscope, BadTextIsAnErrorWithItsPosition) {
  EXPECT_EQ(scan_error("1: 1\n2: {\n"), "2:4: unmatched '{'");
  EXPECT_EQ(scan_error("}"), "1:1: unmatched '}'");
  EXPECT_EQ(scan_error("1: \"abc"), "1:4: unmatched \"");
  EXPECT_EQ(scan_error("  `abc`"), "1:3: odd number of hex digits in `...`");
  EXPECT_EQ(scan_error("`zz`"), "1:1: only hex digits may appear between backticks");
  EXPECT_EQ(scan_error("\"\\q\""), "1:2: unknown escape sequence \\q");
  EXPECT_EQ(scan_error("\"\\400\""), "1:2: octal escape \\400 does not fit in a byte");
  EXPECT_EQ(scan_error("1: hello"), "1:4: unrecognized symbol \"hello\"");
  EXPECT_EQ(scan_error("1: 18446744073709551616"),
            "1:4: '18446744073709551616' does not fit in 64 bits");
  EXPECT_EQ(scan_error("1: -9223372036854775809"),
            "1:4: negation overflows: '-9223372036854775809'");
  EXPECT_EQ(scan_error("1: 4294967296i32"), "1:4: '4294967296i32' does not fit in 32 bits");
  EXPECT_EQ(scan_error("1i32: 1"), "1:1: cannot use fixed-width encoding on tag expressions");
  EXPECT_EQ(scan_error("9:8"),
            "1:1: '9:8': a tag's wire type is VARINT, I64, LEN, SGROUP, "
            "EGROUP, I32 or a number from 0 to 7");
  EXPECT_NE(scan_error("2305843009213693952: 1").find("too large"), std::string::npos);
  EXPECT_EQ(scan_error("1: 1e999999.0i32").find("unrecognized"), 5u);
  EXPECT_EQ(scan_error("1: 1.0e99i32"), "1:4: '1.0e99' does not fit in an IEEE 754 binary32");
  EXPECT_EQ(scan_error("1: 1.0e999"), "1:4: '1.0e999' does not fit in an IEEE 754 binary64");
  EXPECT_EQ(scan_error("long-form:2 1i32"),
            "1:1: long-form:2 is not followed by a varint, '{' or a group's '}'");
  EXPECT_EQ(scan_error("long-form:2"),
            "1:1: long-form:2 is not followed by a varint, '{' or a group's '}'");
  EXPECT_EQ(scan_error("{1 long-form:2}"),
            "1:4: long-form:2 is not followed by a varint, '{' or a group's '}'");
  EXPECT_EQ(scan_error("long-form:65 1"), "1:1: long-form:65: at most 64 redundant bytes");
  EXPECT_EQ(scan_error("1: !"), "1:4: expected { after !");
  EXPECT_EQ(scan_error("1: 2 !{}"),
            "1:6: a group !{} must immediately follow a field number without a wire type "
            "(\"N: !{...}\")");
  EXPECT_EQ(scan_error("1:LEN !{}").substr(0, 8), "1:7: a g");
  EXPECT_EQ(scan_error("1: !{ 2: 3"), "1:11: unmatched '!{' at the end");
  EXPECT_EQ(scan_error(std::string(2000, '{')), "1:1025: {} nested deeper than 1024");
  EXPECT_EQ(scan_error("1: [2]"), "1:4: unrecognized symbol \"[2\"");
  EXPECT_EQ(scan_error("\x01\xff"s), "1:1: unrecognized symbol \"??\"");
}

TEST(Protoscope, RandomBytesRoundTrip) {
  std::mt19937 rng(12345);
  for (int i = 0; i < 20000; i++) {
    std::size_t n = rng() % (i < 10000 ? 12 : 200);
    std::string bytes;
    // Mostly bytes that look like fields (small tags and lengths), some anything at all.
    bool fieldish = rng() % 2 == 0;
    for (std::size_t k = 0; k < n; k++) {
      bytes +=
          static_cast<char>(fieldish && rng() % 3 ? (rng() % 16) * 8 + rng() % 6 : rng() % 256);
    }
    expect_round_trip(bytes);
    if (HasFatalFailure()) return;
  }
}

// A random message with nested messages, text, groups, floats and non-minimal varints.
std::string random_message(std::mt19937& rng, int depth) {
  std::string out;
  auto varint = [&](std::uint64_t v, int extra = 0) {
    while (v > 0x7f) {
      out += static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    out += static_cast<char>(v | (extra > 0 ? 0x80 : 0));
    for (int i = 0; i < extra; i++) out += static_cast<char>(i + 1 < extra ? 0x80 : 0);
  };
  int fields = static_cast<int>(rng() % 6);
  for (int i = 0; i < fields; i++) {
    std::uint64_t number = 1 + rng() % (rng() % 4 ? 20 : 100000);
    int kind = static_cast<int>(rng() % 8);
    int extra = rng() % 10 == 0 ? static_cast<int>(rng() % 3) : 0;
    if (kind == 0) {
      varint(number << 3, extra);
      varint(rng() % 2 ? rng() % 300 : (std::uint64_t(rng()) << 32 | rng()), rng() % 8 == 0);
    } else if (kind == 1 || kind == 2) {
      varint(number << 3 | (kind == 1 ? 1 : 5));
      std::uint64_t bits = std::uint64_t(rng()) << 32 | rng();
      if (rng() % 2)
        bits = kind == 1 ? std::bit_cast<std::uint64_t>(double(rng() % 1000) / 8)
                         : std::bit_cast<std::uint32_t>(float(rng() % 1000) / 3);
      for (int b = 0; b < (kind == 1 ? 8 : 4); b++) out += static_cast<char>(bits >> (8 * b));
    } else if (kind == 3 && depth < 4) {
      std::string inner = random_message(rng, depth + 1);
      varint(number << 3 | 2);
      varint(inner.size(), extra);
      out += inner;
    } else if (kind == 4 && rng() % 2) {
      std::string text;  // random code points, as UTF-8
      for (int c = static_cast<int>(rng() % 12); c > 0; c--) {
        char32_t cp = rng() % 4 ? rng() % 0x800 : rng() % 0x110000;
        if (cp >= 0xd800 && cp <= 0xdfff) cp = 'x';
        if (cp < 0x80) {
          text += static_cast<char>(cp);
        } else if (cp < 0x800) {
          text += static_cast<char>(0xc0 | cp >> 6);
          text += static_cast<char>(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
          text += static_cast<char>(0xe0 | cp >> 12);
          text += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
          text += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
          text += static_cast<char>(0xf0 | cp >> 18);
          text += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
          text += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
          text += static_cast<char>(0x80 | (cp & 0x3f));
        }
      }
      varint(number << 3 | 2);
      varint(text.size());
      out += text;
    } else if (kind == 4) {
      static const char* kTexts[] = {
          "Alice",        "", "hello, world\n", "h\xc3\xa9llo \xe2\x82\xac", "tab\there",
          "\x01\x02\x03", "x"};
      std::string text = kTexts[rng() % 7];
      varint(number << 3 | 2);
      varint(text.size());
      out += text;
    } else if (kind == 5 && depth < 4) {
      varint(number << 3 | 3);
      out += random_message(rng, depth + 1);
      varint(number << 3 | 4, extra);
    } else {
      std::string blob;
      for (int b = static_cast<int>(rng() % 50); b > 0; b--) blob += static_cast<char>(rng());
      varint(number << 3 | 2);
      varint(blob.size());
      out += blob;
    }
  }
  return out;
}

TEST(Protoscope, RandomMessagesRoundTrip) {
  std::mt19937 rng(777);
  for (int i = 0; i < 5000; i++) {
    expect_round_trip(random_message(rng, 0));
    if (HasFatalFailure()) return;
  }
}

// Through YAML too: decoded_data is emitted as a YAML string and read back.
TEST(Protoscope, RandomMessagesSurviveMockYaml) {
  std::mt19937 rng(4242);
  for (int i = 0; i < 300; i++) {
    testset::Mock mock;
    mock.kind = testset::MockKind::kGrpc;
    testset::GrpcMockSpec call;
    for (int k = static_cast<int>(rng() % 3); k > 0; k--) {
      std::string data = random_message(rng, 0);
      call.req.messages.push_back({false, static_cast<std::uint32_t>(data.size()), data});
    }
    std::string junk;
    for (int k = static_cast<int>(rng() % 30); k > 0; k--) junk += static_cast<char>(rng());
    call.resp.messages.push_back({false, static_cast<std::uint32_t>(junk.size()), junk});
    mock.spec = call;
    std::string yaml = testset::encode_mock(mock);
    auto back = testset::parse_mocks(yaml, "mocks.yaml");
    ASSERT_TRUE(back) << back.error().message << "\n" << yaml;
    ASSERT_EQ(back->mocks.size(), 1u);
    ASSERT_EQ(std::get<testset::GrpcMockSpec>(back->mocks[0].spec), call) << yaml;
  }
}

TEST(Protoscope, LongRunsOfFloatsStayFast) {
  std::string msg;
  for (int i = 0; i < 100000; i++) msg += "\x0d\x00\x00\xc0\x3f"s;
  expect_round_trip(msg);
}

TEST(Protoscope, DeepNestingRoundTrips) {
  std::string msg = "\x08\x01"s;
  for (int i = 0; i < 200; i++) {
    std::string len;
    std::size_t n = msg.size();
    while (n > 0x7f) {
      len += static_cast<char>((n & 0x7f) | 0x80);
      n >>= 7;
    }
    len += static_cast<char>(n);
    msg = "\x0a" + len + msg;
  }
  expect_round_trip(msg);
  expect_round_trip(std::string(5000, '\x0b'));                              // open groups
  expect_round_trip(std::string(3000, '\x0b') + std::string(3000, '\x0c'));  // nested groups
}

TEST(ProtobufJson, FieldsBecomeJson) {
  // 1: 150, 2: "Alice", 3: {1: 1, 2: "x"}, 4: 5, 4: 6, 5: fixed32 7, 6: bytes 00 ff
  std::string msg =
      "\x08\x96\x01\x12\x05"
      "Alice"
      "\x1a\x05\x08\x01\x12\x01x"
      "\x20\x05\x20\x06"
      "\x2d\x07\x00\x00\x00"
      "\x32\x02\x00\xff"s;
  auto json = protobuf_json(msg);
  ASSERT_TRUE(json);
  EXPECT_EQ(json->dump(),
            R"({"1":150,"2":"Alice","3":{"1":1,"2":"x"},"4":[5,6],"5":7,"6":{"bytes":"AP8="}})");
  EXPECT_EQ(protobuf_json("")->dump(), "{}");
  EXPECT_EQ(protobuf_json("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"s)->dump(),
            R"({"1":18446744073709551615})");
  EXPECT_EQ(protobuf_json("\x0b\x08\x01\x0c"s)->dump(), R"({"1":{"1":1}})");  // a group
  EXPECT_EQ(protobuf_json("\x0a\x00"s)->dump(), R"({"1":""})");
  EXPECT_FALSE(protobuf_json("hello"));
  EXPECT_FALSE(protobuf_json("\x08"s));
  EXPECT_FALSE(
      protobuf_json("\x12\x05"
                    "ab"s));
  EXPECT_FALSE(protobuf_json("\x00\x01"s));
  EXPECT_FALSE(protobuf_json("\x0b\x08\x01"s));  // a group never closed
  EXPECT_FALSE(protobuf_json("\x0c"s));
}

}  // namespace
}  // namespace reel::protocols::grpc

namespace reel::testset {
namespace {

using namespace std::literals;
namespace fs = std::filesystem;

GrpcMessage message(std::string data) {
  auto n = static_cast<std::uint32_t>(data.size());
  return {false, n, std::move(data)};
}

std::string gzip(std::string_view data) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

GrpcMockSpec greeter_call() {
  GrpcMockSpec call;
  call.req.headers.pseudo = {{":authority", "localhost:50051"},
                             {":method", "POST"},
                             {":path", "/helloworld.Greeter/SayHello"},
                             {":scheme", "http"}};
  call.req.headers.ordinary = {{"content-type", "application/grpc"}, {"te", "trailers"}};
  call.req.messages = {
      message("\x0a\x05"
              "Alice"s)};
  call.req.timestamp = *Timestamp::parse("2024-11-05T09:15:02.1Z");
  call.resp.headers.pseudo = {{":status", "200"}};
  call.resp.headers.ordinary = {{"content-type", "application/grpc"}};
  call.resp.messages = {
      message("\x0a\x0b"
              "Hello Alice"s)};
  call.resp.trailers.ordinary = {{"grpc-message", ""}, {"grpc-status", "0"}};
  call.resp.timestamp = *Timestamp::parse("2024-11-05T09:15:02.2Z");
  return call;
}

Mock grpc_mock(GrpcMockSpec call) {
  Mock mock;
  mock.kind = MockKind::kGrpc;
  mock.kind_name = "gRPC";
  mock.name = "mock-0";
  mock.metadata = {{"operation", "/helloworld.Greeter/SayHello"}, {"type", "mocks"}};
  mock.req_timestamp = call.req.timestamp;
  mock.res_timestamp = call.resp.timestamp;
  mock.spec = std::move(call);
  return mock;
}

Mock parse_one_mock(std::string_view yaml) {
  auto file = parse_mocks(yaml, "mocks.yaml");
  EXPECT_TRUE(file) << (file ? "" : file.error().message);
  if (!file || file->mocks.size() != 1) return {};
  return file->mocks[0];
}

TEST(TestsetGrpc, MockIsWrittenInKeployShape) {
  EXPECT_EQ(encode_mock(grpc_mock(greeter_call())), R"(version: api.keploy.io/v1beta1
kind: gRPC
name: mock-0
spec:
    metadata:
        operation: /helloworld.Greeter/SayHello
        type: mocks
    grpcReq:
        headers:
            pseudo_headers:
                :authority: localhost:50051
                :method: POST
                :path: /helloworld.Greeter/SayHello
                :scheme: http
            ordinary_headers:
                content-type: application/grpc
                te: trailers
        body:
            compression_flag: 0
            message_length: 7
            decoded_data: |
                1: {"Alice"}
        timestamp: 2024-11-05T09:15:02.1Z
    grpcResp:
        headers:
            pseudo_headers:
                :status: "200"
            ordinary_headers:
                content-type: application/grpc
        body:
            compression_flag: 0
            message_length: 13
            decoded_data: |
                1: {"Hello Alice"}
        trailers:
            pseudo_headers: {}
            ordinary_headers:
                grpc-message: ""
                grpc-status: "0"
        timestamp: 2024-11-05T09:15:02.2Z
    reqTimestampMock: 2024-11-05T09:15:02.1Z
    resTimestampMock: 2024-11-05T09:15:02.2Z
)");
}

TEST(TestsetGrpc, MocksRoundTrip) {
  GrpcMockSpec call = greeter_call();
  // A client stream of three, a server stream of two (one gzip-compressed), binary bytes.
  std::string big(300, 'x');
  call.req.messages = {message("\x08\x01"s), message(""), message("\x12\x03\x00\xff\x01"s)};
  call.resp.headers.ordinary["grpc-encoding"] = "gzip";
  std::string payload = "\x0a\x82\x02" + std::string(258, 'y');
  call.resp.messages = {{true, static_cast<std::uint32_t>(gzip(payload).size()), payload},
                        message("\x0d\x00\x00\xc0\x3f"s)};
  Mock mock = grpc_mock(call);
  mock.connection_id = "7";
  std::string yaml = encode_mock(mock);
  Mock back = parse_one_mock(yaml);
  EXPECT_EQ(back, mock) << yaml;
  EXPECT_NE(yaml.find("compression_flag: 1"), std::string::npos);
  EXPECT_EQ(encode_mock(back), yaml);

  // No message in the request (`messages: []`: Keploy's empty body would be one message), two
  // in the answer (Keploy's additional_messages).
  EXPECT_NE(yaml.find("        additional_messages:\n"), std::string::npos) << yaml;
  call.req.messages = {};
  call.resp.messages = {message("\x08\x01"s), message("\x08\x02"s)};
  mock = grpc_mock(call);
  yaml = encode_mock(mock);
  EXPECT_NE(yaml.find("        messages: []\n"), std::string::npos) << yaml;
  EXPECT_EQ(parse_one_mock(yaml), mock) << yaml;
}

TEST(TestsetGrpc, TestCasesRoundTrip) {
  GrpcMockSpec call = greeter_call();
  TestCase test;
  test.kind = TestKind::kGrpc;
  test.name = "test-3";
  test.grpc_req = call.req;
  test.grpc_resp = call.resp;
  test.grpc_resp.messages.push_back(
      message("\x0a\x03"
              "Bob"s));
  test.metadata = {{"gap", "true"}};
  test.noise = {{"messages.0.1", {}}, {"header.date", {}}};
  test.created = 1730798102;
  test.app_port = 50051;
  std::string yaml = encode_test_case(test);
  EXPECT_EQ(yaml.substr(0, yaml.find("    grpcReq:")), R"(version: api.keploy.io/v1beta1
kind: gRPC
name: test-3
spec:
    metadata:
        gap: "true"
)");
  EXPECT_NE(yaml.find(R"(        timestamp: 2024-11-05T09:15:02.2Z
    app_port: 50051
    created: 1730798102
    assertions:
        noise:
            header.date: []
            messages.0.1: []
)"),
            std::string::npos)
      << yaml;
  EXPECT_EQ(yaml.find("curl"), std::string::npos) << yaml;
  auto back = parse_test_case(yaml, "test-3.yaml");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, test) << yaml;
  EXPECT_EQ(encode_test_case(*back), yaml);
}

// What Keploy writes (pkg/models GrpcSpec, yaml.v3): one message a side, no `messages`.
constexpr std::string_view kKeployMock = R"(version: api.keploy.io/v1beta1
kind: gRPC
name: mock-0
spec:
    metadata: {}
    grpcReq:
        headers:
            pseudo_headers:
                :authority: localhost:50051
                :method: POST
                :path: /helloworld.Greeter/SayHello
                :scheme: http
            ordinary_headers:
                content-type: application/grpc
                grpc-accept-encoding: gzip
                te: trailers
                user-agent: grpc-go/1.64.0
        body:
            compression_flag: 0
            message_length: 99
            decoded_data: |
                1: {"hello"}
    grpcResp:
        headers:
            pseudo_headers:
                :status: "200"
            ordinary_headers:
                content-type: application/grpc
        body:
            compression_flag: 0
            message_length: 13
            decoded_data: |
                1: {"Hello hello"}
                2: 42  # a comment
        trailers:
            pseudo_headers: {}
            ordinary_headers:
                grpc-message: ""
                grpc-status: "0"
    reqTimestampMock: 2024-11-05T09:15:02.100Z
    resTimestampMock: 2024-11-05T09:15:02.2Z
connectionId: "0"
)";

TEST(TestsetGrpc, ReadsKeployMocks) {
  Mock mock = parse_one_mock(kKeployMock);
  ASSERT_EQ(mock.kind, MockKind::kGrpc);
  const auto* call = std::get_if<GrpcMockSpec>(&mock.spec);
  ASSERT_NE(call, nullptr);
  EXPECT_EQ(call->req.headers.pseudo.at(":path"), "/helloworld.Greeter/SayHello");
  EXPECT_EQ(call->req.headers.ordinary.at("user-agent"), "grpc-go/1.64.0");
  // Keploy's message_length is not trusted: the bytes decide.
  EXPECT_EQ(call->req.messages, std::vector<GrpcMessage>{message("\x0a\x05hello"s)});
  EXPECT_EQ(call->resp.messages, std::vector<GrpcMessage>{message("\x0a\x0bHello hello\x10\x2a"s)});
  EXPECT_EQ(call->resp.trailers.ordinary.at("grpc-status"), "0");
  EXPECT_EQ(mock.req_timestamp.to_string(), "2024-11-05T09:15:02.1Z");
  EXPECT_EQ(mock.connection_id, "0");
}

// Replaces the one occurrence of `from` in `text`.
std::string replaced(std::string text, std::string_view from, std::string_view to) {
  auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

TEST(TestsetGrpc, KeployZeroBodyOfAFailedCallIsNoMessage) {
  std::string failed =
      replaced(std::string(kKeployMock), "grpc-status: \"0\"", "grpc-status: \"5\"");
  failed = replaced(failed, R"(            message_length: 13
            decoded_data: |
                1: {"Hello hello"}
                2: 42  # a comment
)",
                    R"(            message_length: 0
            decoded_data: ""
)");
  auto call = std::get<GrpcMockSpec>(parse_one_mock(failed).spec);
  EXPECT_TRUE(call.resp.messages.empty()) << failed;
  EXPECT_EQ(grpc_status(call.resp), 5);
  // The same zero body with status OK is one empty message (Keploy's health checks).
  std::string ok = replaced(failed, "grpc-status: \"5\"", "grpc-status: \"0\"");
  call = std::get<GrpcMockSpec>(parse_one_mock(ok).spec);
  EXPECT_EQ(call.resp.messages, std::vector<GrpcMessage>{GrpcMessage{}});
  // Written by reel, the failed call reads back with no message.
  Mock mine = grpc_mock(call);
  std::get<GrpcMockSpec>(mine.spec).resp.messages.clear();
  std::get<GrpcMockSpec>(mine.spec).resp.trailers.ordinary["grpc-status"] = "5";
  EXPECT_EQ(parse_one_mock(encode_mock(mine)), mine);
}

TEST(TestsetGrpc, ReadsKeployStreamsAndReelMessagesFirst) {
  std::string stream =
      replaced(std::string(kKeployMock), "        trailers:\n", R"(        additional_messages:
            - compression_flag: 0
              message_length: 2
              decoded_data: "1: 7"
            - compression_flag: 0
              message_length: 2
              decoded_data: "1: 8"
        trailers:
)");
  auto call = std::get<GrpcMockSpec>(parse_one_mock(stream).spec);
  ASSERT_EQ(call.resp.messages.size(), 3u);
  EXPECT_EQ(call.resp.messages[2], message("\x08\x08"s));
  // reel's `messages` is the whole stream, whatever body says.
  std::string mine = replaced(std::string(kKeployMock), "        trailers:\n", R"(        messages:
            - compression_flag: 1
              message_length: 25
              decoded_data: "`00ff`"
        trailers:
)");
  call = std::get<GrpcMockSpec>(parse_one_mock(mine).spec);
  EXPECT_EQ(call.resp.messages, (std::vector<GrpcMessage>{{true, 25, "\x00\xff"s}}));
}

TEST(TestsetGrpc, BadDecodedDataNamesFileAndLine) {
  std::string bad = replaced(std::string(kKeployMock), "1: {\"hello\"}", "1: {\"hello\"");
  auto file = parse_mocks(bad, "test-set-0/mocks.yaml");
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().message,
            "test-set-0/mocks.yaml:21: spec.grpcReq.body.decoded_data: not protoscope text: "
            "1:4: unmatched '{'");
  bad = replaced(std::string(kKeployMock), "message_length: 99", "message_length: -1");
  file = parse_mocks(bad, "mocks.yaml");
  ASSERT_FALSE(file);
  EXPECT_NE(file.error().message.find("mocks.yaml:20: spec.grpcReq.body.message_length: expected "
                                      "an integer from 0 to 4294967295"),
            std::string::npos)
      << file.error().message;
  file = parse_mocks("kind: gRPC\nspec:\n  grpcReq: {}\n", "mocks.yaml");
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().message, "mocks.yaml:3: spec: expected a field 'grpcResp', found none");
}

TEST(TestsetGrpc, WrittenRedactedAndLoaded) {
  fs::path dir = fs::temp_directory_path() / fmt::format("reel-grpc-{}", ::getpid());
  fs::remove_all(dir);
  WriterOptions options;
  options.redactor = Redactor(std::string(32, 'k'));
  auto writer = TestSetWriter::open(dir / "test-set-0", options);
  ASSERT_TRUE(writer) << writer.error().message;
  GrpcMockSpec call = greeter_call();
  call.req.headers.ordinary["authorization"] = "Bearer s3cret";
  TestCase test;
  test.kind = TestKind::kGrpc;
  test.grpc_req = call.req;
  test.grpc_resp = call.resp;
  test.created = 1730798102;
  ASSERT_TRUE(writer->record(test, {grpc_mock(call)}));
  auto set = load_test_set(dir / "test-set-0");
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_TRUE(set->skipped_tests.empty());
  ASSERT_EQ(set->tests.size(), 1u);
  const TestCase& loaded = set->tests[0];
  EXPECT_EQ(loaded.kind, TestKind::kGrpc);
  EXPECT_EQ(loaded.name, "test-1");
  EXPECT_EQ(loaded.curl, "");
  EXPECT_EQ(loaded.grpc_resp, test.grpc_resp);
  std::string auth = loaded.grpc_req.headers.ordinary.at("authorization");
  EXPECT_TRUE(auth.starts_with("Bearer REDACTED:")) << auth;
  ASSERT_EQ(set->mocks.size(), 1u);
  const auto& mock_call = std::get<GrpcMockSpec>(set->mocks[0].spec);
  EXPECT_EQ(mock_call.req.headers.ordinary.at("authorization"), auth);
  EXPECT_EQ(mock_call.req.messages, call.req.messages);
  EXPECT_EQ(set->mocks[0].metadata.at("reel.test"), "test-1");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace reel::testset
