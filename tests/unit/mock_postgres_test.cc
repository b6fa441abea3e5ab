// Postgres mocks: a psql-like session recorded into mocks, then served back by the responder.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "mock/protocols.h"
#include "mock/sql_text.h"
#include "testset/codec.h"
#include "testset/redact.h"
#include "wire_builders.h"

namespace reel::mock {
namespace {

using namespace std::literals;

using namespace wire;

std::string query(std::string_view sql) { return msg('Q', cstr(sql)); }
std::string ready(char status = 'I') { return msg('Z', std::string(1, status)); }
std::string complete(std::string_view tag) { return msg('C', cstr(tag)); }
std::string row_description(std::vector<std::string> names) {
  std::string p = be16(static_cast<std::uint16_t>(names.size()));
  for (const auto& n : names)
    p += cstr(n) + be32(16390) + be16(1) + be32(23) + be16(4) + be32(0xffffffff) + be16(0);
  return msg('T', p);
}
std::string data_row(std::vector<std::string> values) {
  std::string p = be16(static_cast<std::uint16_t>(values.size()));
  for (const auto& v : values) p += be32(static_cast<std::uint32_t>(v.size())) + v;
  return msg('D', p);
}
std::string error(std::string_view code, std::string_view text) {
  return msg('E', "SERROR\0VERROR\0C"s + cstr(code) + "M" + cstr(text) + '\0');
}
std::string parse(std::string_view name, std::string_view sql) {
  return msg('P', cstr(name) + cstr(sql) + be16(0));
}
std::string bind(std::string_view stmt, std::string_view value) {
  return msg('B', cstr("") + cstr(stmt) + be16(0) + be16(1) +
                      be32(static_cast<std::uint32_t>(value.size())) + std::string(value) +
                      be16(0));
}
std::string extended(std::string_view stmt, std::string_view value) {
  return parse(stmt, "SELECT name FROM users WHERE id = $1") + bind(stmt, value) +
         msg('D', "P\0"sv) + msg('E', "\0\0\0\0\0"sv) + msg('S', "");
}

const std::string kSslRequest = untyped("\x04\xd2\x16\x2f"sv);
const std::string kStartup = untyped(
    "\x00\x03\x00\x00"
    "user\0alice\0database\0shop\0application_name\0psql\0client_encoding\0UTF8\0\0"sv);
const std::string kPassword = msg('p', "md5hunter2hashedsecret0123456789\0"sv);
const std::string kAuthOk = msg('R', "\x00\x00\x00\x00"sv);
const std::string kServerHello = kAuthOk + msg('S', "server_version\00016.2\0"sv) +
                                 msg('S', "client_encoding\0UTF8\0"sv) +
                                 msg('K', "\x00\x00\x30\x39\x11\x22\x33\x44"sv) + ready();
const std::string kSelect7 = query("SELECT id, name FROM users WHERE id = 7");
const std::string kSelect7Answer =
    row_description({"id", "name"}) + data_row({"7", "alice"}) + complete("SELECT 1") + ready();
const std::string kMissing = query("SELECT * FROM missing");
const std::string kMissingAnswer = error("42P01", "relation \"missing\" does not exist") + ready();
const std::string kBatchAnswer = msg('1', "") + msg('2', "") + row_description({"name"}) +
                                 data_row({"alice"}) + complete("SELECT 1") + ready();

std::span<const std::byte> as_span(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

constexpr std::int64_t kClockToUnix = 1'700'000'000'000'000'000;

Endpoint server_endpoint() { return Endpoint{IpAddr::from_v4(htonl(0x7f000001)), 5432}; }

// Feeds the psql session to a recorder, one direction at a time, with rising timestamps.
std::vector<RecordedCall> record(const testset::Redactor* redactor) {
  RecordOptions options;
  options.convert.clock_to_unix_ns = kClockToUnix;
  options.redactor = redactor;
  auto rec = make_postgres_recorder(server_endpoint(), options);
  std::uint64_t ts = 1000;
  auto c = [&](const std::string& b) {
    rec->data(Direction::kClientToServer, as_span(b), ts += 10);
  };
  auto s = [&](const std::string& b) {
    rec->data(Direction::kServerToClient, as_span(b), ts += 10);
  };
  c(kSslRequest);
  s("N");
  c(kStartup);
  s(msg('R', "\x00\x00\x00\x05\x01\x02\x03\x04"sv));
  c(kPassword);
  s(kServerHello);
  c(kSelect7);
  // The answer in two reads, split inside a message.
  s(kSelect7Answer.substr(0, 10));
  s(kSelect7Answer.substr(10));
  c(kMissing);
  s(kMissingAnswer);
  c(extended("s1", "7"));
  s(kBatchAnswer);
  c(msg('X', ""));
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

TEST(MockPostgres, RecordsOneCallPerTurn) {
  testset::Redactor redactor(std::string(32, 'k'));
  auto calls = record(&redactor);
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_TRUE(calls[0].startup);
  EXPECT_EQ(calls[0].mock.metadata.at("type"), "config");
  EXPECT_NE(calls[0].summary.find("user=alice"), std::string::npos);
  EXPECT_FALSE(calls[1].startup);
  EXPECT_EQ(calls[1].summary, "SELECT id, name FROM users WHERE id = 7");
  EXPECT_EQ(calls[1].mock.metadata.at("type"), "mocks");
  EXPECT_EQ(calls[1].mock.metadata.at("reel.protocol"), "postgres");
  EXPECT_EQ(calls[1].mock.metadata.at("reel.server"), "127.0.0.1:5432");
  EXPECT_EQ(calls[1].mock.kind, testset::MockKind::kPostgres);
  EXPECT_EQ(calls[2].summary, "SELECT * FROM missing");
  EXPECT_EQ(calls[3].summary, "SELECT name FROM users WHERE id = $1");
  for (const auto& c : calls) {
    EXPECT_LE(c.request_ns, c.response_ns);
    EXPECT_EQ(c.mock.req_timestamp.unix_ns, static_cast<std::int64_t>(c.request_ns) + kClockToUnix);
    EXPECT_EQ(c.mock.res_timestamp.unix_ns,
              static_cast<std::int64_t>(c.response_ns) + kClockToUnix);
  }
  // The query was sent at ts 1070 and answered by 1090 in two reads.
  EXPECT_EQ(calls[1].request_ns, 1070u);
  EXPECT_EQ(calls[1].response_ns, 1090u);
}

TEST(MockPostgres, RecordedShapeLooksLikeKeploys) {
  auto calls = record(nullptr);
  ASSERT_EQ(calls.size(), 4u);
  std::string yaml = testset::encode_mock(calls[3].mock);
  EXPECT_NE(yaml.find("postgresrequests:"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("header: [P, B, D, E, S]"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("identifier: ClientRequest"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("header: [\"1\", \"2\", T, D, C, Z]"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("command_tag_type: SELECT 1"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("txstatus: 73"), std::string::npos) << yaml;
  std::string err = testset::encode_mock(calls[2].mock);
  EXPECT_NE(err.find("code: 42P01"), std::string::npos) << err;
  // And it reads back to the same mock.
  auto file = testset::parse_mocks(yaml, "mocks.yaml");
  ASSERT_TRUE(file.has_value()) << file.error().message;
  ASSERT_EQ(file->mocks.size(), 1u);
  EXPECT_EQ(file->mocks[0].spec, calls[3].mock.spec);
}

TEST(MockPostgres, PasswordNeverKeptWithRedactor) {
  testset::Redactor redactor(std::string(32, 'k'));
  auto calls = record(&redactor);
  ASSERT_FALSE(calls.empty());
  std::string yaml = testset::encode_mock(calls[0].mock);
  EXPECT_EQ(yaml.find("hunter2"), std::string::npos) << yaml;
  // Not even inside a base64 payload: the password segment keeps no payload at all.
  EXPECT_NE(yaml.find("REDACTED:"), std::string::npos) << yaml;
  std::string without = testset::encode_mock(record(nullptr)[0].mock);
  EXPECT_EQ(without.find("REDACTED:"), std::string::npos);
}

struct Replay {
  explicit Replay(std::vector<testset::Mock> mocks) : pool(std::move(mocks), {}) {
    ctx.pool = &pool;
    ctx.server = server_endpoint();
    responder = make_postgres_responder(ctx);
  }
  std::string send(const std::string& bytes) {
    auto out = responder->feed(as_span(bytes));
    closed = closed || out.close;
    return out.bytes;
  }
  MockPool pool;
  Responder::Context ctx;
  std::unique_ptr<Responder> responder;
  bool closed = false;
};

TEST(MockPostgres, ReplaysStartupFromRecording) {
  Replay r(mocks_of(record(nullptr)));
  EXPECT_EQ(r.send(kSslRequest), "N");
  std::string hello = r.send(kStartup);
  EXPECT_EQ(hello, kServerHello);  // AuthenticationOk, the recorded parameters and key, ready
}

TEST(MockPostgres, StartupWithoutRecordingUsesDefaults) {
  Replay r({});
  std::string hello = r.send(kStartup);
  ASSERT_GE(hello.size(), 9u);
  EXPECT_EQ(hello.substr(0, 9), kAuthOk);
  EXPECT_NE(hello.find("server_version\0"sv), std::string::npos);
  EXPECT_NE(hello.find("integer_datetimes\0on\0"sv), std::string::npos);
  EXPECT_NE(hello.find("session_authorization\0alice\0"sv), std::string::npos);
  EXPECT_EQ(hello.substr(hello.size() - 6), ready());
}

TEST(MockPostgres, ReplaysExactStructuralAndExtended) {
  Replay r(mocks_of(record(nullptr)));
  r.send(kStartup);
  EXPECT_EQ(r.send(kSelect7), kSelect7Answer);
  EXPECT_EQ(r.pool.stats().exact, 1u);
  // Another literal: same statement shape.
  EXPECT_EQ(r.send(query("SELECT id, name FROM users WHERE id = 8")), kSelect7Answer);
  EXPECT_EQ(r.pool.stats().structural, 1u);
  EXPECT_EQ(r.send(kMissing), kMissingAnswer);
  // A driver naming its statement with another counter still fits exactly.
  EXPECT_EQ(r.send(extended("s42", "7")), kBatchAnswer);
  EXPECT_EQ(r.pool.stats().exact, 3u);
  // Another parameter value: structural.
  EXPECT_EQ(r.send(extended("s43", "8")), kBatchAnswer);
  EXPECT_EQ(r.pool.stats().structural, 2u);
  EXPECT_TRUE(r.pool.take_unmatched().empty());
  EXPECT_EQ(r.send(msg('X', "")), "");
  EXPECT_TRUE(r.closed);
}

TEST(MockPostgres, PipelinedQueriesInOneRead) {
  Replay r(mocks_of(record(nullptr)));
  r.send(kStartup);
  EXPECT_EQ(r.send(kSelect7 + kMissing), kSelect7Answer + kMissingAnswer);
}

TEST(MockPostgres, RecordsPipelinedQueries) {
  auto rec = make_postgres_recorder(server_endpoint(), {});
  std::string both = kSelect7 + kMissing;
  rec->data(Direction::kClientToServer, as_span(both), 10);
  std::string answers = kSelect7Answer + kMissingAnswer;
  rec->data(Direction::kServerToClient, as_span(answers), 20);
  auto calls = rec->take();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].summary, "SELECT id, name FROM users WHERE id = 7");
  EXPECT_EQ(calls[1].summary, "SELECT * FROM missing");
}

// node `pg`: Parse/Bind/Describe/Execute/Flush, and the Sync either with it or after the answer.
std::string flushed(std::string_view stmt, std::string_view value) {
  return parse(stmt, "SELECT name FROM users WHERE id = $1") + bind(stmt, value) +
         msg('D', "P\0"sv) + msg('E', "\0\0\0\0\0"sv) + msg('H', "");
}
const std::string kFlushAnswer = msg('1', "") + msg('2', "") + row_description({"name"}) +
                                 data_row({"alice"}) + complete("SELECT 1");

// The recorder used to end a request at the Flush: the Sync became a request of its own, and
// every answer after it was stored under the request before.
TEST(MockPostgres, RecordsFlushThenSyncAsOneRequest) {
  auto rec = make_postgres_recorder(server_endpoint(), {});
  std::uint64_t ts = 10;
  auto c = [&](const std::string& b) { rec->data(Direction::kClientToServer, as_span(b), ts += 10); };
  auto s = [&](const std::string& b) { rec->data(Direction::kServerToClient, as_span(b), ts += 10); };
  c(flushed("", "7"));  // the client sends the Sync only once the answer is in
  s(kFlushAnswer);
  c(msg('S', ""));
  s(ready());
  c(flushed("", "8") + msg('S', ""));  // or at once
  s(kFlushAnswer + ready());
  c(kSelect7);
  s(kSelect7Answer);
  rec->close(false, ts += 10);
  auto calls = rec->take();
  ASSERT_EQ(calls.size(), 3u);
  for (int i = 0; i < 2; ++i) {
    const auto& spec = std::get<testset::PacketMockSpec>(calls[i].mock.spec);
    ASSERT_EQ(spec.requests.size(), 1u) << i;
    ASSERT_EQ(spec.responses.size(), 1u) << i;
    EXPECT_EQ(calls[i].summary, "SELECT name FROM users WHERE id = $1");
    EXPECT_EQ(calls[i].mock.metadata.count("reel.unanswered"), 0u);
  }
  EXPECT_EQ(calls[2].summary, "SELECT id, name FROM users WHERE id = 7");
  Replay r(mocks_of(calls));
  r.send(kStartup);
  // At the Flush, everything but the ReadyForQuery that only the Sync is owed.
  EXPECT_EQ(r.send(flushed("", "7")), kFlushAnswer);
  EXPECT_EQ(r.send(msg('S', "")), ready());
  EXPECT_EQ(r.send(flushed("", "8") + msg('S', "")), kFlushAnswer + ready());
  EXPECT_EQ(r.send(kSelect7), kSelect7Answer);
  EXPECT_TRUE(r.pool.take_unmatched().empty());
  EXPECT_EQ(r.pool.stats().exact, 3u);
}

// lib/pq's db.Ping(): the empty simple query ";", answered by EmptyQueryResponse.
TEST(MockPostgres, EmptyQueryReplays) {
  auto rec = make_postgres_recorder(server_endpoint(), {});
  std::string ping = query(";"), pong = msg('I', "") + ready();
  rec->data(Direction::kClientToServer, as_span(kStartup), 10);
  rec->data(Direction::kServerToClient, as_span(kServerHello), 20);
  rec->data(Direction::kClientToServer, as_span(ping), 30);
  rec->data(Direction::kServerToClient, as_span(pong), 40);
  rec->close(false, 50);
  auto calls = rec->take();
  ASSERT_EQ(calls.size(), 2u);
  Replay r(mocks_of(calls));
  r.send(kStartup);
  EXPECT_EQ(r.send(ping), pong);
  EXPECT_TRUE(r.pool.take_unmatched().empty());
}

// Reads one ErrorResponse's SQLSTATE and message, and checks that ReadyForQuery follows.
void expect_error_then_ready(const std::string& bytes, std::string_view message_part) {
  ASSERT_GE(bytes.size(), 11u);
  ASSERT_EQ(bytes[0], 'E');
  std::uint32_t len =
      (static_cast<unsigned char>(bytes[1]) << 24) | (static_cast<unsigned char>(bytes[2]) << 16) |
      (static_cast<unsigned char>(bytes[3]) << 8) | static_cast<unsigned char>(bytes[4]);
  ASSERT_EQ(bytes.size(), 1 + len + 6);
  std::string fields = bytes.substr(5, len - 4);
  EXPECT_EQ(fields.back(), '\0');
  EXPECT_NE(fields.find("SERROR\0"sv), std::string::npos);
  EXPECT_NE(fields.find("CXX000\0"sv), std::string::npos);
  EXPECT_NE(fields.find(message_part), std::string::npos) << fields;
  EXPECT_EQ(bytes.substr(1 + len), ready());
}

TEST(MockPostgres, UnmatchedGetsErrorAndIsListed) {
  Replay r(mocks_of(record(nullptr)));
  r.send(kStartup);
  std::string reply = r.send(query("DELETE FROM users"));
  expect_error_then_ready(reply, "reel: no recorded answer for: DELETE FROM users");
  auto misses = r.pool.take_unmatched();
  ASSERT_EQ(misses.size(), 1u);
  EXPECT_EQ(misses[0].kind, testset::MockKind::kPostgres);
  EXPECT_EQ(misses[0].summary, "DELETE FROM users");
  // A batch with other SQL, then the lone Sync a driver sends after an error.
  std::string batch = parse("", "SELECT 1") +
                      msg('B', cstr("") + cstr("") + be16(0) + be16(0) + be16(0)) +
                      msg('E', "\0\0\0\0\0"sv) + msg('S', "");
  expect_error_then_ready(r.send(batch), "SELECT 1");
  EXPECT_EQ(r.send(msg('S', "")), ready());
  EXPECT_EQ(r.pool.take_unmatched().size(), 1u);
}

TEST(MockPostgres, StateStatementTags) {
  auto tag = [](std::string_view sql) {
    return state_statement_tag(normalize_sql(sql, SqlDialect::kPostgres), SqlDialect::kPostgres)
        .value_or("-");
  };
  EXPECT_EQ(tag("begin"), "BEGIN");
  EXPECT_EQ(tag("START TRANSACTION ISOLATION LEVEL SERIALIZABLE"), "START TRANSACTION");
  EXPECT_EQ(tag("END"), "COMMIT");
  EXPECT_EQ(tag("ABORT"), "ROLLBACK");
  EXPECT_EQ(tag("SET search_path TO app, public;"), "SET");
  EXPECT_EQ(tag("SET CONSTRAINTS ALL DEFERRED"), "SET CONSTRAINTS");
  EXPECT_EQ(tag("DISCARD ALL"), "DISCARD ALL");
  EXPECT_EQ(tag("/* migrate */ CREATE TABLE IF NOT EXISTS t (id serial PRIMARY KEY, "
                "n int GENERATED ALWAYS AS IDENTITY)"),
            "CREATE TABLE");
  EXPECT_EQ(tag("CREATE UNIQUE INDEX IF NOT EXISTS i ON t (n)"), "CREATE INDEX");
  EXPECT_EQ(tag("create or replace function f() returns int as $$ select 1; $$ language sql"),
            "CREATE FUNCTION");
  EXPECT_EQ(tag("CREATE TEMP TABLE scratch (x int)"), "CREATE TABLE");
  EXPECT_EQ(tag("ALTER TABLE t ADD COLUMN c int"), "ALTER TABLE");
  EXPECT_EQ(tag("DROP INDEX IF EXISTS i"), "DROP INDEX");
  EXPECT_EQ(tag("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM t) THEN INSERT INTO t VALUES (1); "
                "END IF; END $$"),
            "DO");
  EXPECT_EQ(tag("TRUNCATE t"), "TRUNCATE TABLE");
  // Rows or counts: never answered from the text.
  EXPECT_EQ(tag("SELECT count(*) FROM t"), "-");
  EXPECT_EQ(tag("INSERT INTO t VALUES (1)"), "-");
  EXPECT_EQ(tag("CREATE TABLE t2 AS SELECT * FROM t"), "-");
  EXPECT_EQ(tag("CREATE TABLE IF NOT EXISTS t2 AS SELECT * FROM t"), "-");
  EXPECT_EQ(tag("CREATE MATERIALIZED VIEW v AS SELECT 1"), "-");
  EXPECT_EQ(tag("BEGIN; SELECT 1"), "-");
  EXPECT_EQ(tag("CREATE WIDGET w"), "-");
  EXPECT_EQ(tag(""), "-");
}

// A recording made by joining pooled connections (reel.joined) never saw the app's start-up; a
// fresh app at replay runs it, and its state statements are answered as a server would, in and
// out of a transaction, simple or extended.
TEST(MockPostgres, StateStatementsNobodyRecordedAreAnsweredAsAServerWould) {
  // A recording that saw every start-up: an unrecorded BEGIN is a change, and unmatched.
  Replay whole(mocks_of(record(nullptr)));
  whole.send(kStartup);
  EXPECT_EQ(whole.send(query("BEGIN")).front(), 'E');
  EXPECT_EQ(whole.pool.take_unmatched().size(), 1u);

  auto joined = mocks_of(record(nullptr));
  for (auto& m : joined) m.metadata[std::string(kMetaJoined)] = "true";
  Replay r(joined);
  r.send(kStartup);
  EXPECT_EQ(r.send(query("BEGIN")), complete("BEGIN") + ready('T'));
  EXPECT_EQ(r.send(query("CREATE TABLE IF NOT EXISTS products (id serial PRIMARY KEY)")),
            complete("CREATE TABLE") + ready('T'));
  EXPECT_EQ(r.send(query("SAVEPOINT s1")), complete("SAVEPOINT") + ready('T'));
  EXPECT_EQ(r.send(query("ROLLBACK TO SAVEPOINT s1")), complete("ROLLBACK") + ready('T'));
  EXPECT_EQ(r.send(query("COMMIT")), complete("COMMIT") + ready('I'));
  std::string set = parse("", "SET application_name = 'shop'") +
                    msg('B', cstr("") + cstr("") + be16(0) + be16(0) + be16(0)) +
                    msg('D', "P\0"sv) + msg('E', "\0\0\0\0\0"sv) + msg('S', "");
  EXPECT_EQ(r.send(set), msg('1', "") + msg('2', "") + msg('n', "") + complete("SET") + ready());
  EXPECT_TRUE(r.pool.take_unmatched().empty());
  // After an error only the transaction's end is answered; COMMIT then rolls back.
  EXPECT_EQ(r.send(query("BEGIN")), complete("BEGIN") + ready('T'));
  r.send(query("SELECT * FROM nowhere"));
  EXPECT_EQ(r.pool.take_unmatched().size(), 1u);
  std::string refused = r.send(query("SET x = 1"));
  EXPECT_EQ(refused.back(), 'E');  // still aborted
  r.pool.take_unmatched();
  EXPECT_EQ(r.send(query("COMMIT")), complete("ROLLBACK") + ready('I'));
}

TEST(MockPostgres, KeployMockWithoutPayload) {
  const std::string yaml = R"(version: api.keploy.io/v1beta1
kind: Postgres
name: mock-4
spec:
    metadata:
        type: mocks
    postgresrequests:
        - header: [Q]
          identifier: ClientRequest
          length: 8
          query:
            string: SELECT 1
    postgresresponses:
        - header: [T, D, C, Z]
          identifier: ServerResponse
          length: 8
          ready_for_query:
            txstatus: 73
)";
  auto file = testset::parse_mocks(yaml, "mocks.yaml");
  ASSERT_TRUE(file.has_value()) << file.error().message;
  Replay r(file->mocks);
  r.send(kStartup);
  // No bytes to answer with: an error, never a crash or a made-up answer.
  expect_error_then_ready(r.send(query("SELECT 1")), "SELECT 1");
}

// Keploy's decoded mocks (no payload), in both shapes Keploy has written: names and tags as
// byte lists, or as text with row values. The answer is rebuilt message by message.
TEST(MockPostgres, KeployDecodedMocksReplay) {
  const std::string yaml = R"(version: api.keploy.io/v1beta1
kind: Postgres
name: mock-1
spec:
    metadata:
        type: config
    postgresrequests:
        - header: [Q]
          identifier: ClientRequest
          length: 8
          query:
            string: BEGIN
          msg_type: 81
          auth_type: 0
    postgresresponses:
        - header: [C, Z]
          identifier: ServerResponse
          length: 8
          authentication_md5_password:
            salt: [0, 0, 0, 0]
          command_complete:
            - command_tag: [66, 69, 71, 73, 78]
          ready_for_query:
            txstatus: 84
          msg_type: 90
          auth_type: 0
---
version: api.keploy.io/v1beta1
kind: Postgres
name: mock-2
spec:
    metadata:
        type: mocks
    postgresrequests:
        - header: [Q]
          identifier: ClientRequest
          length: 62
          query:
            string: SELECT id, name FROM users WHERE id = 7
    postgresresponses:
        - header: [T, D, C, Z]
          identifier: ServerResponse
          length: 62
          command_complete:
            - command_tag_type: SELECT 1
          data_row: [{row_values: ["7", alice]}]
          ready_for_query:
            txstatus: 84
          row_description: {fields: [{field_name: id, table_oid: 16386, table_attribute_number: 1, data_type_oid: 23, data_type_size: 4, type_modifier: -1, format: 0}, {name: [110, 97, 109, 101], table_oid: 16386, table_attribute_number: 2, data_type_oid: 1043, data_type_size: -1, type_modifier: 259, format: 0}]}
---
version: api.keploy.io/v1beta1
kind: Postgres
name: mock-3
spec:
    metadata:
        type: mocks
    postgresrequests:
        - header: [P, B, D, E, S]
          identifier: ClientRequest
          length: 102
          parse:
            - name: ""
              query: SELECT name FROM users WHERE id = $1
              parameter_oids: []
          bind:
            - parameters: [[55]]
              result_format_codes: []
          describe:
            object_type: 80
            name: ""
          execute:
            - max_rows: 0
    postgresresponses:
        - header: ["1", "2", T, D, C, Z]
          identifier: ServerResponse
          length: 102
          row_description: {fields: [{field_name: name, table_oid: 0, table_attribute_number: 0, data_type_oid: 25, data_type_size: -1, type_modifier: -1, format: 0}]}
          data_row: [{row_values: [alice]}]
          command_complete:
            - command_tag_type: SELECT 1
          ready_for_query:
            txstatus: 84
)";
  auto file = testset::parse_mocks(yaml, "mocks.yaml");
  ASSERT_TRUE(file.has_value()) << file.error().message;
  for (const auto& m : file->mocks) EXPECT_EQ(postgres_mock_problem(m), "") << m.name;
  Replay r(file->mocks);
  r.send(kStartup);
  EXPECT_EQ(r.send(query("BEGIN")), complete("BEGIN") + ready('T'));
  std::string fields = be16(2) + cstr("id") + be32(16386) + be16(1) + be32(23) + be16(4) +
                       be32(0xffffffff) + be16(0) + cstr("name") + be32(16386) + be16(2) +
                       be32(1043) + be16(0xffff) + be32(259) + be16(0);
  EXPECT_EQ(r.send(kSelect7), msg('T', fields) + data_row({"7", "alice"}) + complete("SELECT 1") + ready('T'));
  std::string one_col = be16(1) + cstr("name") + be32(0) + be16(0) + be32(25) + be16(0xffff) +
                        be32(0xffffffff) + be16(0);
  EXPECT_EQ(r.send(extended("", "7")), msg('1', "") + msg('2', "") + msg('T', one_col) +
                                           data_row({"alice"}) + complete("SELECT 1") + ready('T'));
  EXPECT_TRUE(r.pool.take_unmatched().empty());
  EXPECT_EQ(r.pool.stats().exact, 3u);
}

// A decoded mock with a message reel cannot rebuild is named when asked, and a query it would
// have answered is not called unrecorded.
TEST(MockPostgres, KeployMockReelCannotReadIsNamed) {
  const std::string yaml = R"(version: api.keploy.io/v1beta1
kind: Postgres
name: mock-9
spec:
    postgresrequests:
        - header: [Q]
          query:
            string: SELECT 1
    postgresresponses:
        - header: [T, D, C, Z]
          ready_for_query:
            txstatus: 73
)";
  auto file = testset::parse_mocks(yaml, "mocks.yaml");
  ASSERT_TRUE(file.has_value()) << file.error().message;
  EXPECT_EQ(postgres_mock_problem(file->mocks[0]), "line 10: RowDescription without its fields");
  Replay r(file->mocks);
  r.send(kStartup);
  expect_error_then_ready(r.send(query("SELECT 1")),
                          "reel: the answer recorded for: SELECT 1 cannot be replayed (mock-9: line 10");
  auto misses = r.pool.take_unmatched();
  ASSERT_EQ(misses.size(), 1u);
  EXPECT_EQ(misses[0].closest, "mock-9: line 10: RowDescription without its fields");
}

TEST(MockPostgres, GarbageNeverCrashes) {
  auto mocks = mocks_of(record(nullptr));
  std::mt19937 rng(7);
  std::vector<std::string> seeds = {kSslRequest + kStartup, kSelect7, extended("a", "1"),
                                    kSelect7Answer, kServerHello};
  for (int round = 0; round < 300; ++round) {
    std::string bytes = seeds[rng() % seeds.size()];
    for (int i = 0; i < 4 && !bytes.empty(); ++i) bytes[rng() % bytes.size()] = char(rng());
    if (round % 3 == 0) bytes = std::string(rng() % 64, char(rng()));
    Replay r(mocks);
    if (round % 2) r.send(kStartup);
    r.send(bytes);
    r.send(bytes.substr(0, bytes.size() / 2));
    auto rec = make_postgres_recorder(server_endpoint(), {});
    rec->data(round % 2 ? Direction::kClientToServer : Direction::kServerToClient, as_span(bytes),
              1);
    rec->data(Direction::kServerToClient, as_span(bytes), 2);
    rec->close(true, 3);
    for (auto& call : rec->take()) (void)testset::encode_mock(call.mock);
  }
}

TEST(MockPostgres, OversizeMessageMarksTruncated) {
  RecordOptions options;
  options.max_message = 32;
  auto rec = make_postgres_recorder(server_endpoint(), options);
  std::string big = query("SELECT '" + std::string(100, 'x') + "'");
  rec->data(Direction::kClientToServer, as_span(big), 1);
  std::string answer = complete("SELECT 1") + ready();
  rec->data(Direction::kServerToClient, as_span(answer), 2);
  auto calls = rec->take();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].mock.metadata.at("reel.truncated"), "true");
  // Never replayed as if whole, and the miss says why.
  Replay r(mocks_of(calls));
  r.send(kStartup);
  expect_error_then_ready(r.send(big), "cannot be replayed (mock-0: recorded cut short");
}

}  // namespace
}  // namespace reel::mock
