// MySQL mocks: a client session recorded into mocks, then served back by the responder.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include <fmt/format.h>
#include <string>

#include "core/encoding.h"
#include "mock/mysql_wire.h"
#include "mock/protocols.h"
#include "testset/codec.h"
#include "testset/redact.h"
#include "wire_builders.h"

namespace reel::mock {
namespace {

using namespace std::literals;

using namespace wire;
std::string column(std::string_view name, std::uint8_t type) {
  return lenenc("def") + lenenc("shop") + lenenc("users") + lenenc("users") + lenenc(name) +
         lenenc(name) + "\x0c" + le(255, 2) + le(11, 4) + static_cast<char>(type) + le(0, 2) +
         '\0' + le(0, 2);
}
std::span<const std::byte> as_span(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

constexpr std::uint32_t kSsl = 0x800;
constexpr std::uint32_t kServerCaps =
    0x1 | 0x8 | 0x200 | kSsl | 0x8000 | 0x10000 | 0x20000 | 0x80000 | 0x200000 | 0x01000000;
constexpr std::uint32_t kClientCaps =
    0x1 | 0x8 | 0x200 | 0x8000 | 0x20000 | 0x80000 | 0x200000 | 0x01000000;

std::string greeting_payload(std::uint32_t caps) {
  return "\x0a"
         "8.0.36\0"s +
         le(17, 4) + "abcdefgh" + '\0' + le(caps & 0xffff, 2) + "\xff" + le(2, 2) +
         le(caps >> 16, 2) + static_cast<char>(21) + std::string(10, '\0') + "ijklmnopqrst" + '\0' +
         "caching_sha2_password\0"s;
}
const std::string kGreeting = packet(0, greeting_payload(kServerCaps));
const std::string kHandshake = packet(
    1, le(kClientCaps, 4) + le(16777216, 4) + "\xff" + std::string(23, '\0') + "root\0"s +
           static_cast<char>(20) + "SECRET-SCRAMBLE-0123" + "shop\0"s + "caching_sha2_password\0"s);
const std::string kAuthDone = packet(2, "\x01\x03") + packet(3, "\x00\x00\x00\x02\x00\x00\x00"sv);
const std::string kOkEof = "\xfe\x00\x00\x02\x00\x00\x00"s;

const std::string kSelect7 = packet(0, "\x03SELECT id, name FROM users WHERE id = 7");
const std::string kSelect7Answer = packet(1, "\x02") + packet(2, column("id", 0x03)) +
                                   packet(3, column("name", 0xfd)) +
                                   packet(4, lenenc("7") + lenenc("alice")) + packet(5, kOkEof);
const std::string kUpdate = packet(0, "\x03UPDATE users SET name = 'bob' WHERE id = 7");
const std::string kUpdateAnswer = packet(1, "\x00\x01\x00\x02\x00\x00\x00"sv);
const std::string kMissing = packet(0, "\x03SELECT * FROM missing");
const std::string kMissingAnswer =
    packet(1, "\xff" + le(1146, 2) + "#42S02" + "Table 'shop.missing' doesn't exist");
const std::string kPrepare = packet(0, "\x16SELECT name FROM users WHERE id = ?");
std::string prepare_answer(std::uint32_t id) {
  return packet(1, '\0' + le(id, 4) + le(1, 2) + le(1, 2) + '\0' + le(0, 2)) +
         packet(2, column("?", 0x08)) + packet(3, column("name", 0xfd));
}
std::string execute(std::uint32_t id, std::uint64_t value) {
  return packet(0, "\x17" + le(id, 4) + '\0' + le(1, 4) + '\0' + "\x01\x08\x00"s + le(value, 8));
}
const std::string kExecuteAnswer = packet(1, "\x01") + packet(2, column("name", 0xfd)) +
                                   packet(3, "\x00\x00"s + lenenc("alice")) + packet(4, kOkEof);

Endpoint server_endpoint() { return Endpoint{IpAddr::from_v4(htonl(0x7f000001)), 3306}; }

std::vector<RecordedCall> record(const testset::Redactor* redactor) {
  RecordOptions options;
  options.redactor = redactor;
  auto rec = make_mysql_recorder(server_endpoint(), options);
  std::uint64_t ts = 100;
  auto c = [&](const std::string& b) {
    rec->data(Direction::kClientToServer, as_span(b), ts += 10);
  };
  auto s = [&](const std::string& b) {
    rec->data(Direction::kServerToClient, as_span(b), ts += 10);
  };
  s(kGreeting);
  c(kHandshake);
  s(kAuthDone);
  c(kSelect7);
  s(kSelect7Answer.substr(0, 7));
  s(kSelect7Answer.substr(7));
  c(kUpdate);
  s(kUpdateAnswer);
  c(kMissing);
  s(kMissingAnswer);
  c(kPrepare);
  s(prepare_answer(42));
  c(execute(42, 7));
  s(kExecuteAnswer);
  c(packet(0, "\x19" + le(42, 4)));
  c(packet(0, "\x01"));
  rec->close(false, ts += 10);
  return rec->take();
}

std::vector<testset::Mock> mocks_of(const std::vector<RecordedCall>& calls) {
  std::vector<testset::Mock> mocks;
  for (const auto& c : calls) {
    mocks.push_back(c.mock);
    mocks.back().name = "mock-" + std::to_string(mocks.size() - 1);
  }
  return mocks;
}

TEST(MockMysql, RecordsOneCallPerCommand) {
  auto calls = record(nullptr);
  ASSERT_EQ(calls.size(), 6u);
  EXPECT_TRUE(calls[0].startup);
  EXPECT_EQ(calls[0].mock.metadata.at("type"), "config");
  EXPECT_NE(calls[0].summary.find("root@shop"), std::string::npos) << calls[0].summary;
  EXPECT_EQ(calls[1].summary, "SELECT id, name FROM users WHERE id = 7");
  EXPECT_EQ(calls[1].mock.metadata.at("requestOperation"), "COM_QUERY");
  EXPECT_EQ(calls[1].mock.metadata.at("responseOperation"), "TextResultSet");
  EXPECT_EQ(calls[2].mock.metadata.at("responseOperation"), "OK");
  EXPECT_EQ(calls[3].mock.metadata.at("responseOperation"), "ERR");
  EXPECT_EQ(calls[4].mock.metadata.at("responseOperation"), "COM_STMT_PREPARE_OK");
  EXPECT_EQ(calls[5].summary, "SELECT name FROM users WHERE id = ?");
  EXPECT_EQ(calls[5].mock.metadata.at("responseOperation"), "BinaryProtocolResultSet");
  EXPECT_EQ(calls[5].mock.metadata.at("reel.protocol"), "mysql");
  EXPECT_EQ(calls[5].mock.metadata.at("reel.server"), "127.0.0.1:3306");
  for (const auto& c : calls) {
    EXPECT_FALSE(c.mock.metadata.count("reel.unanswered")) << c.summary;
    EXPECT_LT(c.request_ns, c.response_ns);
  }
  EXPECT_EQ(calls[1].request_ns, 140u);  // greeting 110, handshake 120, OK 130
  EXPECT_EQ(calls[1].response_ns, 160u);
  std::string yaml = testset::encode_mock(calls[5].mock);
  EXPECT_NE(yaml.find("packet_type: COM_STMT_EXECUTE"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("sequence_id: 0"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("- \"7\""), std::string::npos) << yaml;  // the parameter, decoded
  auto file = testset::parse_mocks(yaml, "mocks.yaml");
  ASSERT_TRUE(file.has_value()) << file.error().message;
  EXPECT_EQ(file->mocks[0].spec, calls[5].mock.spec);
}

TEST(MockMysql, AuthDataNeverKeptWithRedactor) {
  testset::Redactor redactor(std::string(32, 'k'));
  auto calls = record(&redactor);
  ASSERT_FALSE(calls.empty());
  std::string yaml = testset::encode_mock(calls[0].mock);
  EXPECT_EQ(yaml.find("SECRET"), std::string::npos) << yaml;
  EXPECT_EQ(yaml.find(base64_encode(kHandshake)), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("REDACTED:"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("username: root"), std::string::npos) << yaml;
}

struct Replay {
  explicit Replay(std::vector<testset::Mock> mocks) : pool(std::move(mocks), {}) {
    ctx.pool = &pool;
    ctx.server = server_endpoint();
    responder = make_mysql_responder(ctx);
  }
  std::string send(const std::string& bytes) {
    auto out = responder->feed(as_span(bytes));
    closed = closed || out.close;
    return out.bytes;
  }
  std::string login() {
    std::string g = responder->greeting();
    send(kHandshake);
    return g;
  }
  MockPool pool;
  Responder::Context ctx;
  std::unique_ptr<Responder> responder;
  bool closed = false;
};

TEST(MockMysql, GreetsWithRecordingButNoTls) {
  Replay r(mocks_of(record(nullptr)));
  EXPECT_EQ(r.responder->greeting(), packet(0, greeting_payload(kServerCaps & ~kSsl)));
  EXPECT_EQ(r.send(kHandshake), kAuthDone);
}

TEST(MockMysql, BuiltGreetingWithoutRecording) {
  Replay r({});
  std::string g = r.responder->greeting();
  ASSERT_GT(g.size(), 40u);
  EXPECT_EQ(g[3], '\0');    // sequence 0
  EXPECT_EQ(g[4], '\x0a');  // protocol 10
  EXPECT_NE(g.find("mysql_native_password\0"sv), std::string::npos);
  EXPECT_NE(g, Replay({}).responder->greeting());  // a fresh salt each time
  std::string native = kHandshake;
  native.replace(native.find("caching_sha2_password"), 21, "mysql_native_password");
  EXPECT_EQ(r.send(native), packet(2, "\x00\x00\x00\x02\x00\x00\x00"sv));
}

TEST(MockMysql, ReplaysQueriesAndStatements) {
  Replay r(mocks_of(record(nullptr)));
  r.login();
  EXPECT_EQ(r.send(kSelect7), kSelect7Answer);
  EXPECT_EQ(r.send(packet(0, "\x03SELECT id, name FROM users WHERE id = 8")), kSelect7Answer);
  EXPECT_EQ(r.send(kUpdate), kUpdateAnswer);
  EXPECT_EQ(r.send(kMissing), kMissingAnswer);
  auto stats = r.pool.stats();
  EXPECT_EQ(stats.exact, 3u);
  EXPECT_EQ(stats.structural, 1u);
  // The recorded statement id 42, so the recorded EXECUTE itself (as reel record's self-check
  // sends it) finds the recorded execution.
  EXPECT_EQ(r.send(kPrepare), prepare_answer(42));
  EXPECT_EQ(r.send(execute(42, 7)), kExecuteAnswer);
  EXPECT_EQ(r.pool.stats().exact, 5u);
  EXPECT_EQ(r.send(execute(42, 8)), kExecuteAnswer);
  EXPECT_EQ(r.pool.stats().structural, 2u);
  EXPECT_EQ(r.send(packet(0, "\x19" + le(42, 4))), "");  // COM_STMT_CLOSE: no answer
  EXPECT_TRUE(r.pool.take_unmatched().empty());
  EXPECT_EQ(r.send(packet(0, "\x01")), "");
  EXPECT_TRUE(r.closed);
}

TEST(MockMysql, SessionWideCommandMocksStillAnswer) {
  // reel record marks every call made outside a test "config" (Keploy's session-wide); the
  // commands among them are still commands, not a second connection phase.
  auto mocks = mocks_of(record(nullptr));
  for (auto& m : mocks) m.metadata["type"] = "config";
  Replay r(mocks);
  EXPECT_EQ(r.responder->greeting(), packet(0, greeting_payload(kServerCaps & ~kSsl)));
  EXPECT_EQ(r.send(kHandshake), kAuthDone);
  EXPECT_EQ(r.send(kSelect7), kSelect7Answer);
  EXPECT_EQ(r.send(kUpdate), kUpdateAnswer);
  EXPECT_EQ(r.send(kPrepare), prepare_answer(42));
  EXPECT_EQ(r.send(execute(42, 7)), kExecuteAnswer);
  EXPECT_TRUE(r.pool.take_unmatched().empty());
}

TEST(MockMysql, RecordedStatementIdTakenByAnotherStatementGetsOurOwn) {
  // Two recorded connections each prepared a statement the server numbered 42.
  auto mocks = mocks_of(record(nullptr));
  const std::string other = packet(0, "\x16SELECT id FROM users WHERE name = ?");
  for (std::size_t i = 0, n = mocks.size(); i < n; ++i) {
    auto& spec = std::get<testset::PacketMockSpec>(mocks[i].spec);
    const testset::Value* payload =
        spec.requests.empty() ? nullptr : spec.requests[0].find("payload");
    std::string req;
    if (!payload || !testset::base64_decode(payload->text, req) || req != kPrepare) continue;
    testset::Mock copy = mocks[i];
    auto& copy_spec = std::get<testset::PacketMockSpec>(copy.spec);
    for (auto& [key, value] : copy_spec.requests[0].members) {
      if (key == "payload") value = testset::Value::string(base64_encode(other));
      if (key == "message") value.find("query")->text = "SELECT id FROM users WHERE name = ?";
    }
    copy.name = "mock-other";
    mocks.push_back(copy);
    break;
  }
  Replay r(mocks);
  r.login();
  EXPECT_EQ(r.send(kPrepare), prepare_answer(42));
  EXPECT_EQ(r.send(kPrepare), prepare_answer(42));  // the same statement again: the same id
  EXPECT_EQ(r.send(other), prepare_answer(1));      // 42 is taken here: one of our own
  EXPECT_EQ(r.send(execute(42, 7)), kExecuteAnswer);
  EXPECT_TRUE(r.pool.take_unmatched().empty());
}

TEST(MockMysql, UnmatchedGetsErrPacketAndIsListed) {
  Replay r(mocks_of(record(nullptr)));
  r.login();
  std::string reply = r.send(packet(0,
                                    "\x03"
                                    "DELETE FROM users"));
  std::string message = "reel: no recorded answer for: DELETE FROM users";
  EXPECT_EQ(reply, packet(1, "\xff" + le(1105, 2) + "#HY000" + message));
  auto misses = r.pool.take_unmatched();
  ASSERT_EQ(misses.size(), 1u);
  EXPECT_EQ(misses[0].kind, testset::MockKind::kMySql);
  EXPECT_EQ(misses[0].summary, "DELETE FROM users");
  // An EXECUTE of a statement never prepared here.
  EXPECT_EQ(r.send(execute(9, 1)).substr(4, 1), "\xff");
  // A ping nobody recorded is still answered.
  EXPECT_EQ(r.send(packet(0, "\x0e")), packet(1, "\x00\x00\x00\x02\x00\x00\x00"sv));
}

// A recording that joined pooled connections (reel.joined) never saw their set-up; a fresh app
// at replay runs it (a greeting reel builds, then the connector's SET and USE statements) and
// gets the OKs a server would send, with the transaction flag followed.
TEST(MockMysql, SessionSetUpNobodyRecordedIsAnsweredWithOk) {
  // A recording that saw every start-up: an unrecorded SET is a change, and unmatched.
  Replay whole(mocks_of(record(nullptr)));
  whole.login();
  EXPECT_EQ(whole.send(packet(0, "\x03" "SET NAMES utf8mb4")).substr(4, 1), "\xff");
  EXPECT_EQ(whole.pool.take_unmatched().size(), 1u);

  testset::Mock joined;  // one call recorded on a joined connection, nothing like what follows
  joined.kind = testset::MockKind::kMySql;
  joined.metadata[std::string(kMetaJoined)] = "true";
  Replay r({joined});
  r.responder->greeting();
  std::string native = kHandshake;
  native.replace(native.find("caching_sha2_password"), 21, "mysql_native_password");
  EXPECT_EQ(r.send(native), packet(2, "\x00\x00\x00\x02\x00\x00\x00"sv));
  auto ok = [](std::uint16_t status) {
    return packet(1, "\x00\x00\x00"s + static_cast<char>(status) + "\x00\x00\x00"s);
  };
  EXPECT_EQ(r.send(packet(0, "\x03" "SET NAMES utf8mb4")), ok(2));
  EXPECT_EQ(r.send(packet(0, "\x03" "SET autocommit=1")), ok(2));
  EXPECT_EQ(r.send(packet(0, "\x02" "shop")), ok(2));  // COM_INIT_DB
  EXPECT_EQ(r.send(packet(0, "\x03" "START TRANSACTION")), ok(3));
  EXPECT_EQ(r.send(packet(0, "\x03" "CREATE TABLE IF NOT EXISTS t (id int)")), ok(3));
  EXPECT_EQ(r.send(packet(0, "\x03" "COMMIT")), ok(2));
  EXPECT_TRUE(r.pool.take_unmatched().empty());
  // Rows are never made up.
  EXPECT_EQ(r.send(packet(0, "\x03" "SELECT @@version")).substr(4, 1), "\xff");
  EXPECT_EQ(r.pool.take_unmatched().size(), 1u);
}

// Joined an established connection: an EXECUTE of a statement prepared before reel joined is
// recorded, and marked as one that cannot replay (its SQL and columns were never seen).
TEST(MockMysql, ExecuteOfAStatementPreparedBeforeReelJoinedIsMarked) {
  auto rec = make_mysql_recorder(server_endpoint(), {});
  rec->data(Direction::kClientToServer, as_span(execute(4, 7)), 100);
  rec->data(Direction::kServerToClient, as_span(kExecuteAnswer), 110);
  rec->close(false, 120);
  auto calls = rec->take();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].mock.metadata.at(std::string(kMetaUnreplayable)),
            "statement 4 was prepared before reel joined the connection: its SQL and columns "
            "were never seen");
}

// Keploy's decoded form (pkg/models/mysql: comm.go, conn.go, generic.go), as its recorder
// writes it: no payload, every packet as fields; []byte fields as lists of numbers; EOF and
// final packets (eofAfterColumns, FinalResponse.data) kept whole, header included.
std::string keploy_column(std::string_view name, int type, int seq) {
  return fmt::format(R"(
                - header:
                    payload_length: {}
                    sequence_id: {}
                  catalog: def
                  schema: shop
                  table: users
                  org_table: users
                  name: "{}"
                  org_name: "{}"
                  fixed_length: 12
                  character_set: 255
                  column_length: 11
                  type: {}
                  flags: 0
                  decimals: 0
                  filler: [0, 0]
                  defaultValue: "")",
                     26 + 2 * name.size(), seq, name, name, type);
}

std::string keploy_mocks() {
  return R"(version: api.keploy.io/v1beta1
kind: MySQL
name: mock-0
spec:
    metadata:
        connID: "0"
        requestOperation: HandshakeV10
        responseOperation: OK
        type: config
    requests:
        - header:
            header:
                payload_length: 98
                sequence_id: 1
            packet_type: HandshakeResponse41
          message:
            capability_flags: 19628553
            max_packet_size: 16777216
            character_set: 255
            filler: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
            username: root
            database: shop
            auth_plugin_name: caching_sha2_password
            zstdcompressionlevel: 0
    responses:
        - header:
            header:
                payload_length: 74
                sequence_id: 0
            packet_type: HandshakeV10
          message:
            protocol_version: 10
            server_version: 8.0.36
            connection_id: 17
            auth_plugin_data: [97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 0]
            filler: 0
            capability_flags: 19630601
            character_set: 255
            status_flags: 2
            auth_plugin_name: caching_sha2_password
        - header:
            header:
                payload_length: 7
                sequence_id: 3
            packet_type: OK
          message:
            header: 0
            affected_rows: 0
            last_insert_id: 0
            status_flags: 2
            warnings: 0
            info: ""
---
version: api.keploy.io/v1beta1
kind: MySQL
name: mock-1
spec:
    metadata:
        connID: "0"
        requestOperation: COM_QUERY
        responseOperation: TextResultSet
        type: mocks
    requests:
        - header:
            header:
                payload_length: 40
                sequence_id: 0
            packet_type: COM_QUERY
          message:
            command: 3
            query: SELECT id, name FROM users
    responses:
        - header:
            header:
                payload_length: 1
                sequence_id: 1
            packet_type: TextResultSet
          message:
            columnCount: 2
            columns:)" + keploy_column("id", 3, 2) + keploy_column("name", 253, 3) + R"(
            eofAfterColumns: []
            rows:
                - header:
                    payload_length: 8
                    sequence_id: 4
                  values:
                    - type: 3
                      name: id
                      value: "7"
                      unsigned: false
                    - type: 253
                      name: name
                      value: alice
                      unsigned: false
                - header:
                    payload_length: 3
                    sequence_id: 5
                  values:
                    - type: 3
                      name: id
                      value: "8"
                      unsigned: false
                    - type: 253
                      name: name
                      value: null
                      unsigned: false
            FinalResponse:
                data: [7, 0, 0, 6, 254, 0, 0, 2, 0, 0, 0]
                type: OK
---
version: api.keploy.io/v1beta1
kind: MySQL
name: mock-2
spec:
    metadata:
        connID: "0"
        type: mocks
    requests:
        - header:
            header:
                payload_length: 43
                sequence_id: 0
            packet_type: COM_QUERY
          message:
            command: 3
            query: UPDATE users SET name = 'bob' WHERE id = 7
    responses:
        - header:
            header:
                payload_length: 7
                sequence_id: 1
            packet_type: OK
          message:
            header: 0
            affected_rows: 1
            last_insert_id: 0
            status_flags: 2
            warnings: 0
            info: ""
---
version: api.keploy.io/v1beta1
kind: MySQL
name: mock-3
spec:
    metadata:
        connID: "0"
        type: mocks
    requests:
        - header:
            header:
                payload_length: 22
                sequence_id: 0
            packet_type: COM_QUERY
          message:
            command: 3
            query: SELECT * FROM missing
    responses:
        - header:
            header:
                payload_length: 43
                sequence_id: 1
            packet_type: ERR
          message:
            header: 255
            error_code: 1146
            sql_state_marker: '#'
            sql_state: 42S02
            error_message: Table 'shop.missing' doesn't exist
---
version: api.keploy.io/v1beta1
kind: MySQL
name: mock-4
spec:
    metadata:
        connID: "0"
        type: mocks
    requests:
        - header:
            header:
                payload_length: 36
                sequence_id: 0
            packet_type: COM_STMT_PREPARE
          message:
            command: 22
            query: SELECT name FROM users WHERE id = ?
    responses:
        - header:
            header:
                payload_length: 12
                sequence_id: 1
            packet_type: COM_STMT_PREPARE_OK
          message:
            status: 0
            statement_id: 42
            num_columns: 1
            num_params: 1
            filler: 0
            warning_count: 0
            param_definitions:)" + keploy_column("?", 8, 2) + R"(
            eofAfterParamDefs: []
            column_definitions:)" + keploy_column("name", 253, 3) + R"(
            eofAfterColumnDefs: []
---
version: api.keploy.io/v1beta1
kind: MySQL
name: mock-5
spec:
    metadata:
        connID: "0"
        type: mocks
    requests:
        - header:
            header:
                payload_length: 24
                sequence_id: 0
            packet_type: COM_STMT_EXECUTE
          message:
            status: 23
            statement_id: 42
            flags: 0
            iteration_count: 1
            parameter_count: 1
            null_bitmap: [0]
            new_params_bind_flag: 1
            parameters:
                - type: 8
                  unsigned: false
                  value: 7
    responses:
        - header:
            header:
                payload_length: 1
                sequence_id: 1
            packet_type: BinaryProtocolResultSet
          message:
            columnCount: 1
            columns:)" + keploy_column("name", 253, 2) + R"(
            eofAfterColumns: []
            rows:
                - header:
                    payload_length: 8
                    sequence_id: 3
                  values:
                    - type: 253
                      name: name
                      value: alice
                      unsigned: false
                  okAfterRow: true
                  rowNullBuffer: [0]
            FinalResponse:
                data: [7, 0, 0, 4, 254, 0, 0, 2, 0, 0, 0]
                type: OK
---
version: api.keploy.io/v1beta1
kind: MySQL
name: mock-6
spec:
    metadata:
        connID: "0"
        type: mocks
    requests:
        - header:
            header:
                payload_length: 5
                sequence_id: 0
            packet_type: COM_STMT_CLOSE
          message:
            status: 25
            statement_id: 42
    responses: []
)";
}

std::vector<testset::Mock> keploy_parsed(const std::string& yaml) {
  auto file = testset::parse_mocks(yaml, "mocks.yaml");
  EXPECT_TRUE(file.has_value()) << file.error().message;
  return file ? file->mocks : std::vector<testset::Mock>{};
}

std::string handshake_with(std::uint32_t caps) {
  std::string h = kHandshake;
  std::string c = le(caps, 4);
  h.replace(4, 4, c);
  return h;
}

TEST(MockMysql, KeployDecodedMocksReplayByteForByte) {
  auto mocks = keploy_parsed(keploy_mocks());
  ASSERT_EQ(mocks.size(), 7u);
  for (const auto& m : mocks) EXPECT_EQ(mysql_mock_problem(m), "") << m.name;
  Replay r(mocks);
  // The greeting rebuilt from HandshakeV10's fields, TLS withdrawn.
  EXPECT_EQ(r.responder->greeting(), packet(0, greeting_payload(kServerCaps & ~kSsl)));
  EXPECT_EQ(r.send(kHandshake), kAuthDone);  // CLIENT_DEPRECATE_EOF negotiated
  std::string row8 = lenenc("8") + "\xfb";   // NULL
  EXPECT_EQ(r.send(packet(0, "\x03SELECT id, name FROM users")),
            packet(1, "\x02") + packet(2, column("id", 0x03)) + packet(3, column("name", 0xfd)) +
                packet(4, lenenc("7") + lenenc("alice")) + packet(5, row8) + packet(6, kOkEof));
  EXPECT_EQ(r.send(kUpdate), kUpdateAnswer);
  EXPECT_EQ(r.send(kMissing), kMissingAnswer);
  EXPECT_EQ(r.send(kPrepare), prepare_answer(42));
  // Keploy's EXECUTE names only the id: the PREPARE that handed it out gives its SQL, and the
  // parameters rebuilt from their fields match the live bytes exactly.
  EXPECT_EQ(r.send(execute(42, 7)), kExecuteAnswer);
  EXPECT_EQ(r.send(execute(42, 8)), kExecuteAnswer);
  EXPECT_EQ(r.send(packet(0, "\x19" + le(42, 4))), "");
  auto stats = r.pool.stats();
  EXPECT_EQ(stats.exact, 5u);
  EXPECT_EQ(stats.structural, 1u);
  EXPECT_TRUE(r.pool.take_unmatched().empty());
}

TEST(MockMysql, KeployResultSetEndsAsTheReplayedClientNegotiated) {
  // A client without CLIENT_DEPRECATE_EOF gets an EOF after the columns and an EOF at the end,
  // though Keploy recorded the OK-as-EOF form.
  Replay r(keploy_parsed(keploy_mocks()));
  r.responder->greeting();
  r.send(handshake_with(kClientCaps & ~my::kClientDeprecateEof));
  const std::string eof = "\xfe\x00\x00\x02\x00"s;
  EXPECT_EQ(r.send(packet(0, "\x03SELECT id, name FROM users")),
            packet(1, "\x02") + packet(2, column("id", 0x03)) + packet(3, column("name", 0xfd)) +
                packet(4, eof) + packet(5, lenenc("7") + lenenc("alice")) +
                packet(6, lenenc("8") + "\xfb") + packet(7, eof));
  EXPECT_EQ(r.send(kPrepare), packet(1, '\0' + le(42, 4) + le(1, 2) + le(1, 2) + '\0' + le(0, 2)) +
                                  packet(2, column("?", 0x08)) + packet(3, eof) +
                                  packet(4, column("name", 0xfd)) + packet(5, eof));
}

// The line of the first `needle` in `text`, 1-based.
int line_of(const std::string& text, std::string_view needle) {
  auto at = text.find(needle);
  return at == std::string::npos ? 0 : 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
}

TEST(MockMysql, KeployMockMissingAFieldIsNamedWithItsLine) {
  std::string yaml = keploy_mocks();
  yaml.replace(yaml.find("            statement_id: 42\n            flags: 0"), 29, "");
  auto mocks = keploy_parsed(yaml);
  ASSERT_EQ(mocks.size(), 7u);
  EXPECT_EQ(mysql_mock_problem(mocks[5]),
            fmt::format("line {}: COM_STMT_EXECUTE without statement_id",
                        line_of(yaml, "            status: 23")));
  std::string no_columns = keploy_mocks();
  auto from = no_columns.find("            columns:");
  no_columns.erase(from, no_columns.find("            eofAfterColumns") - from);
  mocks = keploy_parsed(no_columns);
  ASSERT_EQ(mocks.size(), 7u);
  EXPECT_EQ(mysql_mock_problem(mocks[1]),
            fmt::format("line {}: TextResultSet without its columns",
                        line_of(no_columns, "            columnCount: 2")));
  // The miss names the mock reel could not use instead of calling the query unrecorded.
  Replay r(mocks);
  r.login();
  std::string reply = r.send(packet(0, "\x03SELECT id, name FROM users"));
  EXPECT_NE(reply.find("cannot be replayed (mock-1: line"), std::string::npos) << reply;
  auto misses = r.pool.take_unmatched();
  ASSERT_EQ(misses.size(), 1u);
}

TEST(MockMysql, KeployDecodedGarbageNeverCrashes) {
  const std::string yaml = keploy_mocks();
  std::mt19937 rng(7);
  const char* junk[] = {"-1", "99999999999999999999", "", "x", "[1, 2, 300]", "{a: 1}", "null",
                        "18446744073709551615", "2024-13-45 99:99:99.9999999", "-838:59:59"};
  for (int round = 0; round < 200; ++round) {
    std::string y = yaml;
    for (int i = 0; i < 3; ++i) {  // replace a value after some ": "
      std::size_t at = y.find(": ", rng() % y.size());
      if (at == std::string::npos) continue;
      std::size_t end = y.find('\n', at);
      y.replace(at + 2, end - at - 2, junk[rng() % std::size(junk)]);
    }
    auto file = testset::parse_mocks(y, "mocks.yaml");
    if (!file) continue;
    for (const auto& m : file->mocks) (void)mysql_mock_problem(m);
    Replay r(file->mocks);
    r.login();
    r.send(packet(0, "\x03SELECT id, name FROM users"));
    r.send(kPrepare);
    r.send(execute(42, 7));
  }
}

TEST(MockMysql, GarbageNeverCrashes) {
  auto mocks = mocks_of(record(nullptr));
  std::mt19937 rng(11);
  std::vector<std::string> seeds = {kHandshake,     kSelect7,          kPrepare + execute(1, 3),
                                    kSelect7Answer, prepare_answer(3), kGreeting};
  for (int round = 0; round < 300; ++round) {
    std::string bytes = seeds[rng() % seeds.size()];
    for (int i = 0; i < 4 && !bytes.empty(); ++i) bytes[rng() % bytes.size()] = char(rng());
    if (round % 3 == 0) bytes = std::string(rng() % 64, char(rng()));
    Replay r(mocks);
    if (round % 2) r.login();
    r.send(bytes);
    r.send(bytes.substr(0, bytes.size() / 2));
    auto rec = make_mysql_recorder(server_endpoint(), {});
    rec->data(Direction::kServerToClient, as_span(round % 2 ? kGreeting : bytes), 1);
    rec->data(Direction::kClientToServer, as_span(bytes), 2);
    rec->data(Direction::kServerToClient, as_span(bytes), 3);
    rec->close(true, 4);
    for (auto& call : rec->take()) (void)testset::encode_mock(call.mock);
  }
}

}  // namespace
}  // namespace reel::mock
