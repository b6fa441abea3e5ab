// MySQL mocks: a client session recorded into mocks, then served back by the responder.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "core/encoding.h"
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

TEST(MockMysql, KeployMockWithoutPayloadIsUnmatched) {
  const std::string yaml = R"(version: api.keploy.io/v1beta1
kind: MySQL
name: mock-3
spec:
    metadata:
        type: mocks
    requests:
        - header:
            header:
                payload_length: 50
                sequence_id: 0
            packet_type: COM_QUERY
          message:
            query: UPDATE orders SET status = 'paid' WHERE id = 1001
    responses:
        - header:
            header:
                payload_length: 48
                sequence_id: 1
            packet_type: OK
          message:
            affected_rows: 1
---
version: api.keploy.io/v1beta1
kind: MySQL
name: mock-0
spec:
    metadata:
        type: config
    requests:
        - header:
            packet_type: HandshakeResponse41
    responses:
        - header:
            packet_type: HandshakeV10
)";
  auto file = testset::parse_mocks(yaml, "mocks.yaml");
  ASSERT_TRUE(file.has_value()) << file.error().message;
  Replay r(file->mocks);
  std::string g = r.login();
  EXPECT_NE(g.find("mysql_native_password"), std::string::npos);  // built: none recorded
  std::string reply = r.send(packet(0, "\x03UPDATE orders SET status = 'paid' WHERE id = 1001"));
  ASSERT_GT(reply.size(), 5u);
  EXPECT_EQ(reply[4], '\xff');
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
