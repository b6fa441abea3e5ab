#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "testset/codec.h"
#include "testset/reader.h"

namespace reel::testset {
namespace {

namespace fs = std::filesystem;
using namespace std::literals;

const fs::path kSamples = fs::path(__FILE__).parent_path().parent_path() / "data/keploy/test-set-0";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The documents of a multi-document file, each ending in a newline, without "---" lines.
std::vector<std::string> split_documents(const std::string& text) {
  std::vector<std::string> docs(1);
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line == "---") {
      docs.emplace_back();
    } else {
      docs.back() += line + "\n";
    }
  }
  return docs;
}

TEST(TestsetCodec, ReadsKeploySampleSet) {
  auto set = load_test_set(kSamples);
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(set->name, "test-set-0");
  ASSERT_EQ(set->tests.size(), 3u);
  const TestCase& t1 = set->tests[0];
  EXPECT_EQ(t1.name, "test-1");
  EXPECT_EQ(t1.req.method, "POST");
  EXPECT_EQ(t1.req.url, "http://localhost:8090/orders");
  EXPECT_EQ(t1.req.header.at("Content-Length"), "41");
  EXPECT_EQ(t1.req.timestamp.to_string(), "2024-11-05T10:15:02.104812734+01:00");
  EXPECT_EQ(t1.resp.status_code, 201);
  EXPECT_EQ(t1.resp.status_message, "Created");
  EXPECT_EQ(t1.noise, (NoiseMap{{"header.Date", {}}}));
  EXPECT_EQ(t1.created, 1730798102);
  EXPECT_EQ(t1.app_port, 8090);
  EXPECT_EQ(set->tests[1].resp.body.back(), '\n');
  // An older Keploy file: noise as a list, unknown body_type fields ignored.
  const TestCase& t3 = set->tests[2];
  EXPECT_EQ(t3.version, "api.keploy.io/v1beta2");
  EXPECT_EQ(t3.noise, (NoiseMap{{"header.Date", {}}}));
  EXPECT_EQ(t3.resp.status_code, 204);
}

TEST(TestsetCodec, ReadsEveryMockKindOfTheSample) {
  auto set = load_test_set(kSamples);
  ASSERT_TRUE(set) << set.error().message;
  ASSERT_EQ(set->mocks.size(), 7u);
  const auto& m = set->mocks;
  EXPECT_EQ(m[0].kind, MockKind::kHttp);
  EXPECT_EQ(m[0].connection_id, "3");
  EXPECT_EQ(std::get<HttpMockSpec>(m[0].spec).resp.body,
            R"({"base":"EUR","rates":{"USD":1.0871}})");
  EXPECT_EQ(m[1].kind, MockKind::kGeneric);
  const auto& generic = std::get<PayloadMockSpec>(m[1].spec);
  ASSERT_EQ(generic.requests.size(), 1u);
  EXPECT_EQ(generic.requests[0].origin, "client");
  EXPECT_EQ(generic.requests[0].message[0].data.substr(0, 4), "\xca\xfe\x00\x01"s);
  EXPECT_EQ(generic.responses[1].message[0].data, "END\r\n");
  EXPECT_EQ(m[2].kind, MockKind::kRedis);
  EXPECT_EQ(std::get<PayloadMockSpec>(m[2].spec).requests[0].message[0].data,
            "*2\r\n$3\r\nGET\r\n$10\r\norder:1001\r\n");
  EXPECT_EQ(m[3].kind, MockKind::kMySql);
  EXPECT_EQ(m[3].metadata.at("requestOperation"), "COM_QUERY");
  const auto& mysql = std::get<PacketMockSpec>(m[3].spec);
  EXPECT_EQ(mysql.requests[0].find("message")->find("query")->text,
            "UPDATE orders SET status = 'paid' WHERE id = 1001");
  EXPECT_EQ(m[4].kind, MockKind::kPostgres);
  EXPECT_EQ(std::get<PacketMockSpec>(m[4].spec).requests[0].find("query")->find("string")->text,
            "SELECT id, status FROM orders WHERE id = 1001");
  EXPECT_EQ(m[5].kind, MockKind::kDns);
  EXPECT_EQ(std::get<DnsMockSpec>(m[5].spec).answers[0],
            "rates.example.com.\t300\tIN\tA\t93.184.216.34");
  EXPECT_EQ(m[6].kind, MockKind::kUnknown);
  EXPECT_EQ(set->unknown_mock_kinds, (std::map<std::string, std::size_t>{{"Mongo", 1}}));
  EXPECT_EQ(m[2].req_timestamp.to_string(), "2024-11-05T10:15:02.174220918+01:00");
}

// Keploy's own layout, field order and quoting come back byte for byte.
TEST(TestsetCodec, SamplesReencodeByteForByte) {
  for (const char* name : {"test-1.yaml", "test-2.yaml"}) {
    std::string text = slurp(kSamples / "tests" / name);
    auto test = parse_test_case(text, name);
    ASSERT_TRUE(test) << test.error().message;
    EXPECT_EQ(encode_test_case(*test), text) << name;
  }
  std::string mocks = slurp(kSamples / "mocks.yaml");
  auto docs = split_documents(mocks);
  auto file = parse_mocks(mocks, "mocks.yaml");
  ASSERT_TRUE(file) << file.error().message;
  ASSERT_EQ(file->mocks.size(), docs.size());
  for (std::size_t i = 0; i < docs.size(); i++) {
    EXPECT_EQ(encode_mock(file->mocks[i]), docs[i]) << "mock " << i;
  }
}

TestCase awkward_test() {
  TestCase t;
  t.name = "test-7";
  t.metadata = {{"gap", "true"}};
  t.req.method = "PUT";
  t.req.url = "http://localhost:8080/a b?x=1&y=\"2\"";
  t.req.header = {{"Content-Type", "application/octet-stream"},
                  {"X-Empty", ""},
                  {"X-Quote", "'\"*&!"},
                  {"X-Number", "007"}};
  t.req.body = std::string("\x00\x01\xff binary", 10);
  t.req.timestamp = Timestamp{1730798102123456789, -7 * 3600};
  t.resp.status_code = 500;
  t.resp.header = {{"Content-Type", "text/plain; charset=utf-8"}};
  t.resp.body = "line one\n  indented: yes\n\ttab\n# not a comment\n";
  t.resp.status_message = "Internal Server Error";
  t.resp.proto_major = 1;
  t.resp.proto_minor = 1;
  t.resp.timestamp = Timestamp{1730798102500000000, 0};
  t.objects = {{"plain"}, {std::string("\x80\x81", 2)}};
  t.noise = {{"body.a.b", {"^\\d+$"}}, {"header.Date", {}}};
  t.created = 1730798102;
  t.app_port = 8080;
  t.curl = "curl --request PUT \\\n  --url x";
  return t;
}

TEST(TestsetCodec, TestCaseRoundTrips) {
  TestCase t = awkward_test();
  auto back = parse_test_case(encode_test_case(t), "t.yaml");
  ASSERT_TRUE(back) << back.error().message << "\n" << encode_test_case(t);
  EXPECT_EQ(*back, t);
}

TEST(TestsetCodec, EveryMockKindRoundTrips) {
  std::vector<Mock> mocks(5);
  mocks[0].kind = MockKind::kHttp;
  mocks[0].spec = HttpMockSpec{awkward_test().req, awkward_test().resp, 1730798102};
  mocks[1].kind = MockKind::kGeneric;
  mocks[1].spec =
      PayloadMockSpec{{{"client", {{std::string("\0\xfe", 2)}}}}, {{"server", {{"ok\r\n"}}}}};
  mocks[2].kind = MockKind::kRedis;
  mocks[2].spec =
      PayloadMockSpec{{{"client", {{"*1\r\n$4\r\nPING\r\n"}}}}, {{"server", {{"+PONG\r\n"}}}}};
  auto packets =
      parse_yaml("- {header: {packet_type: COM_QUERY}, message: {query: 'SELECT 1'}}\n", "p");
  ASSERT_TRUE(packets);
  mocks[3].kind = MockKind::kMySql;
  mocks[3].spec = PacketMockSpec{(*packets)[0].items, (*packets)[0].items, 5};
  mocks[4].kind = MockKind::kDns;
  mocks[4].spec = DnsMockSpec{"a.example.", 28, 1, 3, true, false, true, {}, {"ns"}, {}};
  for (std::size_t i = 0; i < mocks.size(); i++) {
    mocks[i].name = fmt::format("mock-{}", i);
    mocks[i].kind_name = mock_kind_name(mocks[i].kind);
    mocks[i].metadata = {{"type", "mocks"}, {"connID", "7"}};
    mocks[i].req_timestamp = Timestamp{1730798102000000001, 3600};
    mocks[i].res_timestamp = Timestamp{1730798102900000000, 3600};
    mocks[i].connection_id = "7";
    std::string text = encode_mock(mocks[i]);
    auto back = parse_mocks(text, "m.yaml");
    ASSERT_TRUE(back) << back.error().message << "\n" << text;
    ASSERT_EQ(back->mocks.size(), 1u);
    EXPECT_EQ(back->mocks[0], mocks[i]) << text;
  }
}

TEST(TestsetCodec, BadDocumentsNameFileLineAndExpectation) {
  auto syntax = parse_test_case("version: x\nkind: Http\nspec:\n  req: [1,\n", "tests/test-9.yaml");
  ASSERT_FALSE(syntax);
  EXPECT_NE(syntax.error().message.find("tests/test-9.yaml:"), std::string::npos);

  std::string wrong_type =
      "version: api.keploy.io/v1beta1\nkind: Http\nname: t\nspec:\n  req:\n    method: GET\n"
      "    header: [a, b]\n  resp: {}\n";
  auto shape = parse_test_case(wrong_type, "t.yaml");
  ASSERT_FALSE(shape);
  EXPECT_EQ(shape.error().message,
            "t.yaml:7: spec.req.header: expected a mapping of names to values, found a sequence");

  auto missing = parse_test_case("version: v\nkind: Http\nname: t\n", "t.yaml");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "t.yaml:1: document: expected a field 'spec', found none");

  auto status =
      parse_test_case("kind: Http\nspec:\n  req: {}\n  resp:\n    status_code: lots\n", "t.yaml");
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message,
            "t.yaml:5: spec.resp.status_code: expected an integer from 0 to 999, found \"lots\"");

  auto mock = parse_mocks("kind: Generic\nspec:\n  genericrequests: 5\n", "mocks.yaml");
  ASSERT_FALSE(mock);
  EXPECT_NE(mock.error().message.find("mocks.yaml:3: spec.genericrequests: expected a list"),
            std::string::npos)
      << mock.error().message;
}

TEST(TestsetCodec, LoadingABrokenSetNamesTheFile) {
  fs::path dir = fs::temp_directory_path() / fmt::format("reel-codec-{}", ::getpid());
  fs::create_directories(dir / "tests");
  std::ofstream(dir / "tests" / "test-1.yaml") << "kind: Http\nspec:\n  req: {url: [}\n";
  auto set = load_test_set(dir);
  ASSERT_FALSE(set);
  EXPECT_NE(set.error().message.find((dir / "tests" / "test-1.yaml").string() + ":3"),
            std::string::npos)
      << set.error().message;
  fs::remove_all(dir);
}

TEST(TestsetCodec, OtherTestKindsAreSkippedAndReported) {
  fs::path dir = fs::temp_directory_path() / fmt::format("reel-kinds-{}", ::getpid());
  fs::create_directories(dir / "tests");
  std::ofstream(dir / "tests" / "test-1.yaml")
      << "version: v\nkind: GraphQL\nname: test-1\nspec: {}\n";
  auto set = load_test_set(dir);
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_TRUE(set->tests.empty());
  ASSERT_EQ(set->skipped_tests.size(), 1u);
  EXPECT_EQ(set->skipped_tests[0].kind, "GraphQL");
  fs::remove_all(dir);
}

TEST(TestsetCodec, TimestampsFollowGoFormatting) {
  EXPECT_EQ(Timestamp{}.to_string(), "0001-01-01T00:00:00Z");
  EXPECT_EQ((Timestamp{1730798102100000000, 0}.to_string()), "2024-11-05T09:15:02.1Z");
  EXPECT_EQ((Timestamp{1730798102000000000, -(4 * 3600 + 1800)}.to_string()),
            "2024-11-05T04:45:02-04:30");
  auto t = Timestamp::parse("2024-11-05 09:15:02.123456789123Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->unix_ns, 1730798102123456789);
  EXPECT_TRUE(Timestamp::parse("0001-01-01T00:00:00Z")->is_zero());
  EXPECT_FALSE(Timestamp::parse("2024-13-05T09:15:02Z"));
  EXPECT_FALSE(Timestamp::parse("yesterday"));
}

}  // namespace
}  // namespace reel::testset
