#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "testset/codec.h"
#include "testset/reader.h"
#include "testset/redact.h"
#include "testset/writer.h"

namespace reel::testset {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "reel-redact-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Every byte under `dir`, concatenated.
std::string all_bytes(const fs::path& dir) {
  std::string out;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    out += ss.str();
  }
  return out;
}

const std::vector<std::string> kSecrets = {
    "s3cr3t-bearer-token", "dXNlcjpodW50ZXIy",   "sess-8f14e45f", "csrf-99ab",
    "key-live-51HqLy",     "tok-abc-123",        "hunter2",       "nested-refresh-1",
    "query-key-777",       "form-pass-42",       "redis-pass-9",  "md5a3f1e2b7c9",
    "mysql-pw-31337",      "resp-access-token-x"};

TestCase secret_test() {
  TestCase t;
  t.req.method = "POST";
  t.req.url = "http://localhost:8080/login?api_key=query-key-777&page=2";
  t.req.header = {{"Authorization", "Bearer s3cr3t-bearer-token"},
                  {"Proxy-Authorization", "Basic dXNlcjpodW50ZXIy"},
                  {"Cookie", "session=sess-8f14e45f; csrftoken=csrf-99ab"},
                  {"X-Api-Key", "key-live-51HqLy"},
                  {"X-Auth-Token", "tok-abc-123"},
                  {"Content-Type", "application/json"}};
  t.req.body = R"({"user":"ann","password":"hunter2","meta":{"Refresh_Token":"nested-refresh-1"}})";
  t.resp.status_code = 200;
  t.resp.header = {
      {"Set-Cookie",
       "session=sess-8f14e45f; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly"},
      {"Content-Type", "application/json"}};
  t.resp.body = R"({"access_token":"resp-access-token-x","expires_in":3600})";
  return t;
}

std::vector<Mock> secret_mocks() {
  Mock form;
  form.kind = MockKind::kHttp;
  HttpMockSpec http;
  http.req.method = "POST";
  http.req.url = "http://auth.example.com/token";
  http.req.header = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Authorization", "Bearer s3cr3t-bearer-token"}};
  http.req.body = "grant_type=password&username=ann&password=form-pass-42";
  form.spec = http;

  Mock redis;
  redis.kind = MockKind::kRedis;
  redis.spec = PayloadMockSpec{
      {{"client", {{"*2\r\n$4\r\nAUTH\r\n$12\r\nredis-pass-9\r\n*1\r\n$4\r\nPING\r\n"}}}},
      {{"server", {{"+OK\r\n+PONG\r\n"}}}}};

  auto pg = parse_yaml(
      "- header: [p]\n  identifier: ClientRequest\n  password_message:\n    password: "
      "md5a3f1e2b7c9\n"
      "  payload: cAAAAChtZDVhM2YxZTJiN2M5AA==\n",
      "pg");
  Mock postgres;
  postgres.kind = MockKind::kPostgres;
  postgres.spec = PacketMockSpec{(*pg)[0].items, {}, 0};

  auto my = parse_yaml(
      "- header: {header: {payload_length: 15, sequence_id: 3}, packet_type: plain_password}\n"
      "  message: mysql-pw-31337\n",
      "my");
  Mock mysql;
  mysql.kind = MockKind::kMySql;
  mysql.spec = PacketMockSpec{(*my)[0].items, {}, 0};
  return {form, redis, postgres, mysql};
}

TEST(TestsetRedact, NoSecretReachesDisk) {
  TempDir root;
  auto redactor = Redactor::for_recording(root.path());
  ASSERT_TRUE(redactor) << redactor.error().message;
  auto writer = TestSetWriter::open(root.path() / "test-set-0", {0644, *redactor});
  ASSERT_TRUE(writer) << writer.error().message;
  ASSERT_TRUE(writer->record(secret_test(), secret_mocks()));

  std::string disk = all_bytes(root.path() / "test-set-0");
  for (const auto& secret : kSecrets) {
    EXPECT_EQ(disk.find(secret), std::string::npos) << secret << " reached disk";
  }
  // Still readable, and names and attributes around the secrets survive.
  auto set = load_test_set(root.path() / "test-set-0");
  ASSERT_TRUE(set) << set.error().message;
  const TestCase& t = set->tests.at(0);
  EXPECT_TRUE(t.req.header.at("Authorization").starts_with("Bearer REDACTED:"));
  EXPECT_TRUE(std::regex_match(t.req.header.at("X-Api-Key"), std::regex("REDACTED:[0-9a-f]{8}")));
  EXPECT_NE(t.resp.header.at("Set-Cookie")
                .find("; Path=/; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly"),
            std::string::npos)
      << t.resp.header.at("Set-Cookie");
  EXPECT_NE(t.req.url.find("page=2"), std::string::npos);
  EXPECT_NE(t.req.body.find("\"user\":\"ann\""), std::string::npos);
  EXPECT_EQ(set->mocks.size(), 4u);
}

TEST(TestsetRedact, SameSecretSamePlaceholderAcrossFilesAndRuns) {
  TempDir root;
  auto first = Redactor::for_recording(root.path());
  auto second = Redactor::for_recording(root.path());  // a later replay reads the same key
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->placeholder("hunter2"), second->placeholder("hunter2"));
  EXPECT_NE(first->placeholder("hunter2"), first->placeholder("hunter3"));
  Redactor other(std::string(32, 'k'));
  EXPECT_NE(other.placeholder("hunter2"), first->placeholder("hunter2"));

  struct stat st {};
  ASSERT_EQ(::stat((root.path() / Redactor::kKeyFile).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // The bearer token appears in the test and in a mock: both get the same placeholder.
  TestCase t = secret_test();
  std::vector<Mock> mocks = secret_mocks();
  first->redact(t);
  first->redact(mocks[0]);
  EXPECT_EQ(t.req.header.at("Authorization"),
            std::get<HttpMockSpec>(mocks[0].spec).req.header.at("Authorization"));
  // The session cookie sent and the one set map to the same placeholder.
  std::string ph = first->placeholder("sess-8f14e45f");
  EXPECT_NE(t.req.header.at("Cookie").find("session=" + ph), std::string::npos);
  EXPECT_NE(t.resp.header.at("Set-Cookie").find("session=" + ph), std::string::npos);
}

TEST(TestsetRedact, RedactingTwiceChangesNothing) {
  Redactor r(std::string(32, 'x'));
  TestCase once = secret_test();
  r.redact(once);
  TestCase twice = once;
  EXPECT_EQ(r.redact(twice), 0u);
  EXPECT_EQ(twice, once);
  std::vector<Mock> mocks = secret_mocks();
  for (auto& m : mocks) r.redact(m);
  std::vector<Mock> again = mocks;
  for (auto& m : again) EXPECT_EQ(r.redact(m), 0u);
  EXPECT_EQ(again, mocks);
}

TEST(TestsetRedact, RedisAuthKeepsValidRespFraming) {
  Redactor r(std::string(32, 'x'));
  std::string bytes =
      "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n*3\r\n$4\r\nAUTH\r\n$3\r\nbob\r\n$2\r\npw\r\n";
  // HELLO without AUTH is left alone; the AUTH command's password is replaced with a valid
  // bulk string.
  EXPECT_EQ(r.redact_redis(bytes), 1u);
  std::string ph = r.placeholder("pw");
  EXPECT_EQ(bytes, "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n*3\r\n$4\r\nAUTH\r\n$3\r\nbob\r\n$" +
                       std::to_string(ph.size()) + "\r\n" + ph + "\r\n");
  std::string hello = "*5\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$4\r\nAUTH\r\n$3\r\nbob\r\n$2\r\npw\r\n";
  EXPECT_EQ(r.redact_redis(hello), 1u);
  EXPECT_TRUE(hello.ends_with("$3\r\nbob\r\n$" + std::to_string(ph.size()) + "\r\n" + ph + "\r\n"));
  std::string inline_cmd = "AUTH pw\r\n";
  EXPECT_EQ(r.redact_redis(inline_cmd), 1u);
  EXPECT_EQ(inline_cmd, "AUTH " + ph + "\r\n");
}

TEST(TestsetRedact, ConfigurationAddsNamesAndCanTurnItOff) {
  Redactor r(std::string(32, 'x'), {true, {"X-*-Signature"}, {"ssn"}});
  HeaderMap h = {{"X-Hub-Signature", "sha1=abc"}, {"X-Plain", "keep"}};
  EXPECT_EQ(r.redact_headers(h), 1u);
  EXPECT_EQ(h.at("X-Plain"), "keep");
  std::string body = R"({"ssn":"078-05-1120","n":1})";
  EXPECT_EQ(r.redact_body(body, "application/json"), 1u);
  EXPECT_EQ(body.find("078-05-1120"), std::string::npos);

  Redactor off(std::string(32, 'x'), {false, {}, {}});
  TestCase t = secret_test();
  EXPECT_EQ(off.redact(t), 0u);
  EXPECT_EQ(t, secret_test());
  std::string db = off.redact_db_password("pw");  // the hook itself always redacts
  EXPECT_TRUE(Redactor::is_placeholder(db));
}

TEST(TestsetRedact, BodiesWithoutSecretsKeepTheirBytes) {
  Redactor r(std::string(32, 'x'));
  std::string body = "{ \"a\" : 1.50,\n  \"b\": [1, 2] }";
  EXPECT_EQ(r.redact_body(body, "application/json"), 0u);
  EXPECT_EQ(body, "{ \"a\" : 1.50,\n  \"b\": [1, 2] }");
}

}  // namespace
}  // namespace reel::testset
