#include <gtest/gtest.h>

#include <string>

#include "protocol_harness.h"
#include "protocols/mysql/decode.h"
#include "protocols/mysql/parse.h"
#include "wire_builders.h"

namespace reel::protocols {
namespace {

using testing::Harness;
using namespace std::literals;

using namespace wire;
std::string column(std::string_view name, std::uint8_t type) {
  return lenenc("def") + lenenc("shop") + lenenc("users") + lenenc("users") + lenenc(name) +
         lenenc(name) + "\x0c\x3f\x00\x0b\x00\x00\x00"s + static_cast<char>(type) +
         "\x03\x42\x00\x00\x00"s;
}

constexpr std::uint32_t kClientCaps = 0x1 | 0x8 | 0x200 | 0x8000 | 0x80000 | 0x200000 | 0x1000000;

// MySQL 8.0 greeting (caching_sha2_password), then mysql client 8.0's handshake response.
std::string greeting() {
  std::string p =
      "\x0a"
      "8.0.35\0"s +
      le(42, 4) + "abcdefgh"s + '\0' + "\xff\xff"s + '\xff' + "\x02\x00"s + "\xff\xdf"s + '\x15' +
      std::string(10, '\0') + "ijklmnopqrst"s + '\0' + "caching_sha2_password"s + '\0';
  return packet(0, p);
}
std::string handshake_response() {
  std::string p = le(kClientCaps, 4) + le(0x01000000, 4) + '\xff' + std::string(23, '\0') +
                  "root\0"s + '\x20' + std::string(32, '\x5a') + "shop\0"s +
                  "caching_sha2_password\0"s;
  return packet(1, p);
}
const std::string kOkAfterAuth = packet(3, "\x00\x00\x00\x02\x00\x00\x00"sv);

TEST(Mysql, HandshakeIsOneConnectExchange) {
  Harness h(Protocol::kMysql);
  h.server(greeting()).client(handshake_response());
  h.server(packet(2, "\x01\x03"sv) + kOkAfterAuth);
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 1u);
  const Exchange& e = ex[0];
  EXPECT_EQ(e.method, "Connect");
  EXPECT_EQ(e.target, "root@shop");
  EXPECT_EQ(e.host, "shop");
  EXPECT_EQ(e.fields.at("mysql.server_version"), "8.0.35");
  EXPECT_EQ(e.fields.at("mysql.auth_plugin"), "caching_sha2_password");
  EXPECT_EQ(e.status_text, "OK");
  for (const auto& [k, v] : e.fields) EXPECT_EQ(v.find("ZZZZ"), std::string::npos) << k;
}

TEST(Mysql, QueryResultSetWithDeprecatedEof) {
  Harness h(Protocol::kMysql);
  h.server(greeting()).client(handshake_response()).server(kOkAfterAuth);
  h.client(packet(0, "\x03SELECT id, name FROM users"sv), 10000);
  h.server(packet(1, "\x02"sv) + packet(2, column("id", 0x03)) + packet(3, column("name", 0xfd)) +
               packet(4, lenenc("1") + lenenc("ada")) + packet(5, lenenc("2") + "\xfb"s) +
               packet(6, "\xfe\x00\x00\x22\x00\x00\x00"sv),
           13000);
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 2u);
  const Exchange& e = ex[1];
  EXPECT_EQ(e.method, "COM_QUERY");
  EXPECT_EQ(e.target, "SELECT id, name FROM users");
  EXPECT_EQ(e.fields.at("mysql.columns"), "id\tname");
  EXPECT_EQ(e.fields.at("mysql.rows"), "2");
  EXPECT_EQ(e.response_body.data, "1\tada\n2\tNULL\n");
  EXPECT_EQ(e.latency_ns, 3000u);
}

TEST(Mysql, QueryWithClassicEofAndMoreResults) {
  Harness h(Protocol::kMysql);  // joined mid-connection: no handshake seen
  h.client(packet(0,
                  "\x03"
                  "CALL p()"sv));
  h.server(packet(1, "\x01"sv) + packet(2, column("x", 0x03)) +
           packet(3, "\xfe\x00\x00\x0a\x00"sv) + packet(4, lenenc("7")) +
           packet(5, "\xfe\x00\x00\x0a\x00"sv) +  // more results exist
           packet(6, "\x00\x00\x00\x02\x00\x00\x00"sv));
  h.client(packet(0, "\x0e"sv)).server(packet(1, "\x00\x00\x00\x02\x00\x00\x00"sv));
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].fields.at("mysql.rows"), "1");
  EXPECT_EQ(ex[0].status_text, "OK");
  EXPECT_EQ(ex[1].method, "COM_PING");
}

TEST(Mysql, ErrorPacket) {
  Harness h(Protocol::kMysql);
  h.client(packet(0, "\x03SELECT * FROM nope"sv));
  h.server(packet(1, "\xff\x7a\x04#42S02Table 'shop.nope' doesn't exist"sv));
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].status, 1146);
  EXPECT_EQ(ex[0].error, "ERROR 1146 (42S02): Table 'shop.nope' doesn't exist");
}

TEST(Mysql, PreparedStatementPrepareExecuteClose) {
  Harness h(Protocol::kMysql);
  h.server(greeting()).client(handshake_response()).server(kOkAfterAuth);
  h.client(packet(0, "\x16SELECT name FROM users WHERE id = ?"sv));
  h.server(packet(1, "\x00\x01\x00\x00\x00\x01\x00\x01\x00\x00\x00\x00"sv) +
           packet(2, column("?", 0x08)) + packet(3, column("name", 0xfd)));
  h.client(packet(0, "\x17\x01\x00\x00\x00\x00\x01\x00\x00\x00\x00\x01\x08\x00"s + le(42, 8)));
  h.server(packet(1, "\x01"sv) + packet(2, column("name", 0xfd)) +
           packet(3,
                  "\x00\x00\x03"
                  "eve"sv) +
           packet(4, "\xfe\x00\x00\x02\x00\x00\x00"sv));
  h.client(packet(0, "\x19\x01\x00\x00\x00"sv));
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 4u);
  EXPECT_EQ(ex[1].method, "COM_STMT_PREPARE");
  EXPECT_EQ(ex[1].fields.at("mysql.statement_id"), "1");
  EXPECT_EQ(ex[2].method, "COM_STMT_EXECUTE");
  EXPECT_EQ(ex[2].target, "SELECT name FROM users WHERE id = ?");
  EXPECT_EQ(ex[2].fields.at("mysql.params"), "42");
  EXPECT_EQ(ex[2].response_body.data, "eve\n");
  EXPECT_EQ(ex[3].method, "COM_STMT_CLOSE");
  EXPECT_FALSE(ex[3].has_response);
}

TEST(Mysql, PrepareWithClassicEofs) {
  Harness h(Protocol::kMysql);
  h.client(packet(0, "\x16SELECT ? + 1"sv));
  h.server(packet(1, "\x00\x02\x00\x00\x00\x01\x00\x01\x00\x00\x00\x00"sv) +
           packet(2, column("?", 0x08)) + packet(3, "\xfe\x00\x00\x02\x00"sv) +
           packet(4, column("r", 0x08)) + packet(5, "\xfe\x00\x00\x02\x00"sv));
  h.client(packet(0, "\x0e"sv)).server(packet(1, "\x00\x00\x00\x02\x00\x00\x00"sv));
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].response_size, 5u * 4 + 12 + 2 * column("?", 8).size() + 2 * 5);
  EXPECT_EQ(ex[1].method, "COM_PING");
  EXPECT_FALSE(ex[1].gap);
}

TEST(Mysql, QuitHasNoResponse) {
  Harness h(Protocol::kMysql);
  h.client(packet(0, "\x01"sv));
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].method, "COM_QUIT");
}

TEST(Mysql, SslRequestMakesTheRestOpaque) {
  Harness h(Protocol::kMysql);
  h.server(greeting());
  h.client(
      packet(1, le(kClientCaps | 0x800, 4) + le(0x01000000, 4) + '\xff' + std::string(23, '\0')) +
      "\x16\x03\x01\x02\x00\x01"s);
  h.server("\x16\x03\x03\x00\x7a"sv);
  auto ex = h.take(true);
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].fields.at("mysql.tls"), "true");
  EXPECT_EQ(h.decoder().stats().invalid, 0u);
}

TEST(Mysql, HugePacketIsCutNotAllocated) {
  Limits limits;
  limits.max_frame = 16;
  mysql::State state;
  mysql::Packet p;
  std::string data = "\xff\xff\xff\x00\x03"s + std::string(40, 'x');
  ParseResult r = mysql::parse_frame(MessageType::kRequest, as_bytes(data), p, state, limits);
  EXPECT_EQ(r.state, ParseState::kParsed);
  EXPECT_EQ(r.consumed, 4u + 0xffffff);
  EXPECT_EQ(p.payload.size(), 16u);
  EXPECT_TRUE(p.truncated);
  std::string partial = "\xff\xff\xff\x00\x03xx"s;
  r = mysql::parse_frame(MessageType::kRequest, as_bytes(partial), p, state, limits);
  EXPECT_EQ(r.state, ParseState::kNeedsMore);
}

TEST(Mysql, LongQueryIsCutAndTheNextCommandStillPairs) {
  DecoderOptions options;
  options.limits.max_frame = 64;
  Harness h(Protocol::kMysql, options);
  h.client(packet(0, "\x03INSERT INTO t VALUES ('" + std::string(500, 'v') + "')"));
  h.server(packet(1, "\x00\x01\x00\x02\x00\x00\x00"sv));
  h.client(packet(0, "\x0e"sv)).server(packet(1, "\x00\x00\x00\x02\x00\x00\x00"sv));
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].fields.at("mysql.request_truncated"), "true");
  EXPECT_EQ(ex[0].fields.at("mysql.affected_rows"), "1");
  EXPECT_EQ(ex[1].method, "COM_PING");
}

TEST(Mysql, TruncatedInputNeedsMore) {
  mysql::State state;
  mysql::Packet p;
  Limits limits;
  EXPECT_EQ(
      mysql::parse_frame(MessageType::kRequest, as_bytes("\x05\x00"sv), p, state, limits).state,
      ParseState::kNeedsMore);
  EXPECT_EQ(mysql::parse_frame(MessageType::kRequest, as_bytes("\x05\x00\x00\x00\x03SE"sv), p,
                               state, limits)
                .state,
            ParseState::kNeedsMore);
}

TEST(Mysql, GarbageResponsesDoNotCrashTheStitcher) {
  Harness h(Protocol::kMysql);
  h.client(packet(0, "\x03SELECT 1"sv));
  h.server(packet(1, "\x05"sv) + packet(2, "\xfc"sv) + packet(3, ""sv) + packet(9, "\xff"sv));
  auto ex = h.take(true);
  ASSERT_FALSE(ex.empty());
  EXPECT_EQ(ex[0].method, "COM_QUERY");
}

// MariaDB 10.11 and node mysql2 3.x, as recorded: the server offers its extended capabilities
// (CLIENT_MYSQL unset, 0x1d in the greeting's reserved bytes), the client asks for extended
// metadata (0x08 in its filler), and every column definition then carries one more
// length-encoded field before the fixed part. Binary rows are read with the types behind it.
std::string unhex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

TEST(Mysql, MariadbExtendedMetadataColumnsKeepBinaryRowsReadable) {
  const std::string mariadb_greeting = unhex(
      "640000000a352e352e352d31302e31312e31392d4d6172696144422d302b646562313275310006000000747778"
      "745e5a2b6300fef7080200ff81150000000000001d000000357b2d6c5b61556479526e52006d7973716c5f6e61"
      "746976655f70617373776f726400");
  const std::uint32_t caps = 0x00baf3ce;  // mysql2's, CLIENT_MYSQL unset
  const std::string mysql2_handshake = packet(
      1, le(caps, 4) + le(0x01000000, 4) + '\x21' + std::string(19, '\0') + le(0x08, 4) + "app\0"s +
             '\x14' + std::string(20, '\x5a') + "shop\0"s + "mysql_native_password\0"s);
  Harness h(Protocol::kMysql);
  h.server(mariadb_greeting).client(mysql2_handshake);
  h.server(packet(2, "\x00\x00\x00\x02\x00\x00\x00"sv));
  h.client(packet(0, "\x17\x0d\x00\x00\x00\x00\x01\x00\x00\x00"sv));
  h.server(
      packet(1, "\x02"sv) +
      packet(2, unhex("036465660473686f7006745f6e6f646506745f6e6f6465026964026964000c3f000b00"
                      "0000030350000000")) +
      packet(3, unhex("036465660473686f7006745f6e6f646506745f6e6f646505707269636505707269636500"
                      "0c3f000a000000f60000020000")) +
      packet(4, unhex("fe00002200")) + packet(5, unhex("00000100000004312e3530")) +
      packet(6, unhex("000005000000052d352e3130")) + packet(7, unhex("fe00002200")));
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].method, "Connect");
  EXPECT_EQ(ex[0].target, "app@shop");
  EXPECT_EQ(ex[1].method, "COM_STMT_EXECUTE");
  EXPECT_EQ(ex[1].fields.at("mysql.columns"), "id\tprice");
  EXPECT_EQ(ex[1].fields.at("mysql.rows"), "2");
  EXPECT_EQ(ex[1].response_body.data, "1\t1.50\n5\t-5.10\n");
  EXPECT_FALSE(ex[1].gap);
}

TEST(Mysql, ExtendedCapabilitiesOnlyWhenClientMysqlIsUnset) {
  mysql::Packet g;
  g.payload = unhex(
      "0a352e352e352d31302e31312e31392d4d6172696144422d302b646562313275310006000000747778745e5a2b"
      "6300fef7080200ff81150000000000001d000000357b2d6c5b61556479526e52006d7973716c5f6e617469"
      "76655f70617373776f726400");
  mysql::Greeting mg = mysql::greeting(g);
  EXPECT_EQ(mg.mariadb_capabilities, 0x1du);
  EXPECT_EQ(mg.auth_plugin, "mysql_native_password");
  mysql::Packet hr;
  hr.payload = handshake_response().substr(4);
  hr.payload.replace(9 + 19, 4, le(0x08, 4));  // filler bytes, but CLIENT_MYSQL is set
  mysql::HandshakeResponse h = mysql::handshake_response(hr);
  EXPECT_EQ(h.mariadb_capabilities, 0u);
  EXPECT_EQ(h.user, "root");
  // The same column definition, read with and without the extended metadata field.
  mysql::Packet col;
  col.payload = unhex(
      "036465660473686f7006745f6e6f646506745f6e6f6465026964026964000c3f000b000000030350000000");
  EXPECT_EQ(mysql::column_def(col, true).type, 0x03);
  EXPECT_EQ(mysql::column_def(col, true).name, "id");
  EXPECT_NE(mysql::column_def(col, false).type, 0x03);
}

TEST(Mysql, ChangeUserWaitsForTheFinalOk) {
  Harness h(Protocol::kMysql);
  h.client(packet(0,
                  "\x11"
                  "bob\0\x00shop\0"sv));
  h.server(packet(1,
                  "\xfe"
                  "mysql_native_password\0"
                  "abcdefghijklmnopqrst\0"sv));
  h.client(packet(2, std::string(20, 'p')));
  h.server(packet(3, "\x00\x00\x00\x02\x00\x00\x00"sv));
  h.client(packet(0, "\x0e"sv)).server(packet(1, "\x00\x00\x00\x02\x00\x00\x00"sv));
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].method, "COM_CHANGE_USER");
  EXPECT_EQ(ex[0].status_text, "OK");
  EXPECT_FALSE(ex[0].gap);
  EXPECT_EQ(ex[1].method, "COM_PING");
}

}  // namespace
}  // namespace reel::protocols
