#include <gtest/gtest.h>

#include <string>

#include "protocols/infer.h"

namespace reel::protocols {
namespace {

using namespace std::literals;

Protocol infer(std::string_view bytes, MessageType sender = MessageType::kRequest,
               bool datagram = false) {
  return infer_protocol(as_bytes(bytes), sender, datagram);
}

TEST(Infer, Http) {
  EXPECT_EQ(infer("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), Protocol::kHttp1);
  EXPECT_EQ(infer("POST /api HTTP/1.1\r\n"), Protocol::kHttp1);
  EXPECT_EQ(infer("HTTP/1.1 200 OK\r\n", MessageType::kResponse), Protocol::kHttp1);
  EXPECT_EQ(infer("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Protocol::kHttp2);  // HTTP/2 preface
}

TEST(Infer, Tls) {
  EXPECT_EQ(infer("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"sv), Protocol::kTls);
  EXPECT_EQ(infer("\x16\x03\x03\x00\x7a\x02"sv, MessageType::kResponse), Protocol::kTls);
  // Joined mid-connection: application data, an alert.
  EXPECT_EQ(infer("\x17\x03\x03\x00\x35\x9a\x01"sv), Protocol::kTls);
  EXPECT_EQ(infer("\x15\x03\x03\x00\x1a\x00"sv, MessageType::kResponse), Protocol::kTls);
  EXPECT_NE(infer("\x17\x03\x03\xff\xff\x00"sv), Protocol::kTls);  // longer than a record
  EXPECT_NE(infer("\x17\x03\x07\x00\x10\x00"sv), Protocol::kTls);  // no such version
}

TEST(Infer, Postgres) {
  EXPECT_EQ(infer("\x00\x00\x00\x08\x04\xd2\x16\x2f"sv), Protocol::kPostgres);  // SSLRequest
  EXPECT_EQ(infer("\x00\x00\x00\x29\x00\x03\x00\x00user\0postgres\0database\0shop\0\0"sv),
            Protocol::kPostgres);
  EXPECT_EQ(infer("R\x00\x00\x00\x08\x00\x00\x00\x00"sv, MessageType::kResponse),
            Protocol::kPostgres);
}

// Joined an established connection (a pooled one, open before reel attached): no start-up,
// only statements and their answers.
TEST(Infer, PostgresJoinedMidConnection) {
  std::string query = "Q\x00\x00\x00\x0dSELECT 1\0"s;
  EXPECT_EQ(infer(query), Protocol::kPostgres);
  // Parse (unnamed and named), then Bind/Describe/Execute/Sync in the same write.
  std::string parse = "P\x00\x00\x00\x1cs1\0SELECT $1::int\0\x00\x01\x00\x00\x00\x17"s;
  EXPECT_EQ(infer(parse), Protocol::kPostgres);
  EXPECT_EQ(infer(parse + "B\x00\x00\x00\x0c"s), Protocol::kPostgres);
  std::string answer = "C\x00\x00\x00\x0dSELECT 1\0Z\x00\x00\x00\x05I"s;
  EXPECT_EQ(infer(answer, MessageType::kResponse), Protocol::kPostgres);
  EXPECT_EQ(infer("1\x00\x00\x00\x04"s + answer, MessageType::kResponse), Protocol::kPostgres);

  // Not whole, not text, or not what a client sends.
  EXPECT_EQ(infer(query.substr(0, 10)), Protocol::kUnknown);
  EXPECT_EQ(infer("Q\x00\x00\x00\x08\x01\x02\x03\0"sv), Protocol::kUnknown);
  EXPECT_EQ(infer("Q\x00\x00\x00\x0aSELECT 1\0"s), Protocol::kUnknown);  // length cuts the SQL
  EXPECT_EQ(infer("P\x00\x00\x00\x1cs1\0SELECT $1::int\0\x00\x02\x00\x00\x00\x17"s),
            Protocol::kUnknown);  // two parameter types announced, one present
  // An answer must reach a ReadyForQuery with a real status.
  EXPECT_EQ(infer(answer.substr(0, answer.size() - 1), MessageType::kResponse), Protocol::kUnknown);
  EXPECT_EQ(infer("C\x00\x00\x00\x0dSELECT 1\0Z\x00\x00\x00\x05X"s, MessageType::kResponse),
            Protocol::kUnknown);
  EXPECT_EQ(infer("Q\x00\x00\x00\x05\0"s, MessageType::kResponse), Protocol::kUnknown);
}

TEST(Infer, Mysql) {
  std::string greeting =
      "\x4a\x00\x00\x00\x0a"
      "8.0.35\0"s +
      std::string(20, 'x');
  EXPECT_EQ(infer(greeting, MessageType::kResponse), Protocol::kMysql);
  EXPECT_EQ(infer("\x09\x00\x00\x00\x03SELECT 1"sv), Protocol::kMysql);
}

TEST(Infer, Redis) {
  EXPECT_EQ(infer("*1\r\n$4\r\nPING\r\n"), Protocol::kRedis);
  EXPECT_EQ(infer("+PONG\r\n", MessageType::kResponse), Protocol::kRedis);
  EXPECT_EQ(infer("$3\r\nbar\r\n", MessageType::kResponse), Protocol::kRedis);
  EXPECT_EQ(infer("*x\r\n"), Protocol::kUnknown);
}

TEST(Infer, Dns) {
  std::string q =
      "\x1a\x2b\x01\x20\x00\x01\x00\x00\x00\x00\x00\x00"
      "\x07"
      "example\x03"
      "com\x00\x00\x01\x00\x01"s;
  EXPECT_EQ(infer(q, MessageType::kRequest, true), Protocol::kDns);
  std::string tcp = "\x00"s + static_cast<char>(q.size()) + q;
  EXPECT_EQ(infer(tcp), Protocol::kDns);
  EXPECT_EQ(infer("hello", MessageType::kRequest, true), Protocol::kUnknown);
}

TEST(Infer, UnknownAndShortInputs) {
  EXPECT_EQ(infer(""), Protocol::kUnknown);
  EXPECT_EQ(infer("G"), Protocol::kUnknown);
  EXPECT_EQ(infer("SSH-2.0-OpenSSH_9.2\r\n"), Protocol::kUnknown);
  EXPECT_EQ(infer("\x00\x00\x00"sv), Protocol::kUnknown);
  EXPECT_EQ(infer("220 mail.example.com ESMTP\r\n", MessageType::kResponse), Protocol::kUnknown);
}

TEST(Infer, Names) {
  EXPECT_EQ(protocol_name(Protocol::kPostgres), "postgres");
  EXPECT_EQ(protocol_name(Protocol::kUnknown), "unknown");
}

}  // namespace
}  // namespace reel::protocols
