#include <gtest/gtest.h>

#include <string>

#include "protocol_harness.h"
#include "protocols/postgres/conversation.h"
#include "protocols/postgres/parse.h"
#include "wire_builders.h"

namespace reel::protocols {
namespace {

using testing::Harness;
using namespace std::literals;

using namespace wire;

// psql 15 against PostgreSQL 15, SCRAM authentication.
const std::string kStartup = untyped(
    "\x00\x03\x00\x00"
    "user\0postgres\0database\0shop\0application_name\0psql\0client_encoding\0UTF8\0\0"sv);
const std::string kAuthSasl = msg('R', "\x00\x00\x00\x0aSCRAM-SHA-256\0\0"sv);
const std::string kSaslInitial = msg(
    'p',
    "SCRAM-SHA-256\0\x00\x00\x00\x20n,,n=,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"sv);
const std::string kAuthContinue =
    msg('R', "\x00\x00\x00\x0br=rOprNGfwEbeR,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"sv);
const std::string kSaslFinal =
    msg('p', "c=biws,r=rOprNGfwEbeR,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="sv);
const std::string kAuthFinal =
    msg('R', "\x00\x00\x00\x0cv=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="sv);
const std::string kAuthOk = msg('R', "\x00\x00\x00\x00"sv);
const std::string kServerVersion = msg('S', "server_version\00015.5\0"sv);
const std::string kBackendKey = msg('K', "\x00\x00\x30\x39\x12\x34\x56\x78"sv);
const std::string kReadyIdle = msg('Z', "I");

std::string row_description() {
  std::string p = be16(2);
  p += "id"s + '\0' + be32(16384) + be16(1) + be32(23) + be16(4) + be32(0xffffffff) + be16(0);
  p +=
      "name"s + '\0' + be32(16384) + be16(2) + be32(25) + be16(0xffff) + be32(0xffffffff) + be16(0);
  return msg('T', p);
}
std::string data_row(std::string_view a, std::string_view b) {
  return msg('D', be16(2) + be32(static_cast<std::uint32_t>(a.size())) + std::string(a) +
                      be32(static_cast<std::uint32_t>(b.size())) + std::string(b));
}

TEST(Postgres, StartupWithScramIsOneExchange) {
  Harness h(Protocol::kPostgres);
  h.client(kStartup).server(kAuthSasl).client(kSaslInitial).server(kAuthContinue);
  h.client(kSaslFinal).server(kAuthFinal + kAuthOk + kServerVersion + kBackendKey + kReadyIdle);
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 1u);
  const Exchange& e = ex[0];
  EXPECT_EQ(e.method, "Startup");
  EXPECT_EQ(e.host, "shop");
  EXPECT_EQ(e.fields.at("pg.user"), "postgres");
  EXPECT_EQ(e.fields.at("pg.application_name"), "psql");
  EXPECT_EQ(e.fields.at("pg.auth"), "sasl");
  EXPECT_EQ(e.fields.at("pg.server_version"), "15.5");
  EXPECT_EQ(e.fields.at("pg.password_message"), "redacted");
  EXPECT_EQ(e.status_text, "authenticated");
  EXPECT_EQ(e.request_size, kStartup.size() + kSaslInitial.size() + kSaslFinal.size());
  for (const auto& [k, v] : e.fields) EXPECT_EQ(v.find("rOprNG"), std::string::npos) << k;
}

TEST(Postgres, SimpleQueryWithRows) {
  Harness h(Protocol::kPostgres);
  h.client(kStartup).server(kAuthOk + kReadyIdle);
  h.client(msg('Q', "SELECT id, name FROM users;\0"sv), 10000);
  h.server(row_description() + data_row("1", "ada") + data_row("2", "grace") +
               msg('C', "SELECT 2\0"sv) + kReadyIdle,
           12000);
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 2u);
  const Exchange& e = ex[1];
  EXPECT_EQ(e.method, "Query");
  EXPECT_EQ(e.target, "SELECT id, name FROM users;");
  EXPECT_EQ(e.status_text, "SELECT 2");
  EXPECT_EQ(e.fields.at("pg.rows"), "2");
  EXPECT_EQ(e.fields.at("pg.columns"), "id\tname");
  EXPECT_EQ(e.fields.at("pg.transaction"), "I");
  EXPECT_EQ(e.response_body.data, "id\tname\n1\tada\n2\tgrace\n");
  EXPECT_EQ(e.latency_ns, 2000u);
  EXPECT_TRUE(e.error.empty());
}

TEST(Postgres, ErrorResponse) {
  Harness h(Protocol::kPostgres);
  h.client(msg('Q', "SELECT * FROM nope;\0"sv));
  h.server(msg('E',
               "SERROR\0VERROR\0C42P01\0Mrelation \"nope\" does not exist\0P15\0"
               "Fparse_relation.c\0L1392\0RparserOpenTable\0\0"sv) +
           kReadyIdle);
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].error, "ERROR 42P01: relation \"nope\" does not exist");
  EXPECT_EQ(ex[0].fields.at("pg.sqlstate"), "42P01");
}

// pgx / psycopg 3 style: Parse, Bind, Describe, Execute, Sync in one write.
TEST(Postgres, ExtendedQueryCycle) {
  Harness h(Protocol::kPostgres);
  std::string parse = msg('P', "\0SELECT name FROM users WHERE id = $1\0"s + be16(1) + be32(23));
  std::string bind = msg('B', "\0\0"s + be16(0) + be16(1) + be32(2) + "42" + be16(0));
  std::string describe = msg('D', "P\0"sv);
  std::string execute = msg('E', "\0"s + be32(0));
  std::string sync = msg('S', "");
  h.client(parse + bind + describe + execute + sync);
  std::string one_col = msg('T', be16(1) + "name"s + '\0' + be32(16384) + be16(2) + be32(25) +
                                     be16(0xffff) + be32(0xffffffff) + be16(0));
  h.server(msg('1', "") + msg('2', "") + one_col + msg('D', be16(1) + be32(3) + "eve") +
           msg('C', "SELECT 1\0"sv) + kReadyIdle);
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].method, "Execute");
  EXPECT_EQ(ex[0].target, "SELECT name FROM users WHERE id = $1");
  EXPECT_EQ(ex[0].fields.at("pg.params"), "42");
  EXPECT_EQ(ex[0].response_body.data, "name\neve\n");
  EXPECT_EQ(ex[0].status_text, "SELECT 1");
}

TEST(Postgres, NamedStatementIsRemembered) {
  Harness h(Protocol::kPostgres);
  h.client(msg('P', "s1\0INSERT INTO t VALUES ($1)\0"s + be16(0)) + msg('S', ""));
  h.server(msg('1', "") + kReadyIdle);
  h.client(msg('B', "\0s1\0"s + be16(1) + be16(1) + be16(1) + be32(2) + "\x00\x07"s + be16(0)) +
           msg('E', "\0"s + be32(0)) + msg('S', ""));
  h.server(msg('2', "") + msg('C', "INSERT 0 1\0"sv) + kReadyIdle);
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].method, "Parse");
  EXPECT_EQ(ex[1].method, "Execute");
  EXPECT_EQ(ex[1].target, "INSERT INTO t VALUES ($1)");
  EXPECT_EQ(ex[1].fields.at("pg.params"), "\\x0007");
  EXPECT_EQ(ex[1].status_text, "INSERT 0 1");
}

// Found by fuzzing: two format codes for three values must not read a third code.
TEST(Postgres, BindWithMismatchedFormatCountIsReadSafely) {
  Harness h(Protocol::kPostgres);
  std::string bind = msg('B', "\0\0"s + be16(2) + be16(1) + be16(1) + be16(3) + be32(1) + "a" +
                                  be32(1) + "b" + be32(1) + "c" + be16(0));
  h.client(bind + msg('E', "\0"s + be32(0)) + msg('S', ""));
  h.server(msg('2', "") + msg('C', "SELECT 0\0"sv) + kReadyIdle);
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].fields.at("pg.params"), "a, b, c");  // binary format, printable values
}

TEST(Postgres, PipelinedQueriesAndTerminate) {
  Harness h(Protocol::kPostgres);
  h.client(msg('Q', "BEGIN\0"sv) + msg('Q', "COMMIT\0"sv) + msg('X', ""));
  h.server(msg('C', "BEGIN\0"sv) + msg('Z', "T") + msg('C', "COMMIT\0"sv) + kReadyIdle);
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 3u);
  EXPECT_EQ(ex[0].target, "BEGIN");
  EXPECT_EQ(ex[0].fields.at("pg.transaction"), "T");
  EXPECT_EQ(ex[1].target, "COMMIT");
  EXPECT_EQ(ex[2].method, "Terminate");
  EXPECT_FALSE(ex[2].has_response);
}

TEST(Postgres, SslRequestDeclinedThenStartup) {
  Harness h(Protocol::kPostgres);
  h.client("\x00\x00\x00\x08\x04\xd2\x16\x2f"sv);
  h.server("N");
  h.client(kStartup).server(kAuthOk + kReadyIdle);
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].method, "SSLRequest");
  EXPECT_EQ(ex[0].status_text, "declined");
  EXPECT_EQ(ex[1].method, "Startup");
}

TEST(Postgres, SslAcceptedMakesTheRestOpaque) {
  Harness h(Protocol::kPostgres);
  h.client("\x00\x00\x00\x08\x04\xd2\x16\x2f\x16\x03\x01\x02\x00\x01\x00\x01\xfc"sv);
  h.server("S\x16\x03\x03\x00\x7a"sv);
  auto ex = h.take(true);
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].status_text, "accepted");
  EXPECT_EQ(h.decoder().stats().invalid, 0u);
}

TEST(Postgres, JoinedMidConnection) {
  Harness h(Protocol::kPostgres);
  h.client(msg('Q', "SELECT 1\0"sv));
  h.server(msg('C', "SELECT 1\0"sv) + kReadyIdle);
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].target, "SELECT 1");
}

TEST(Postgres, TwoGigabyteLengthAllocatesLittle) {
  Limits limits;
  limits.max_frame = 64;
  postgres::State state;
  state.startup = false;
  postgres::Message m;
  std::string data = "D"s + be32(0x7fffffff) + std::string(100, 'x');
  ParseResult r = postgres::parse_frame(MessageType::kResponse, as_bytes(data), m, state, limits);
  EXPECT_EQ(r.state, ParseState::kParsed);
  EXPECT_EQ(r.consumed, 1u + 0x7fffffffu);
  EXPECT_EQ(m.payload.size(), 64u);
  EXPECT_TRUE(m.truncated);
  EXPECT_LT(m.payload.capacity(), 1024u);

  std::string short_data = "D"s + be32(0x7fffffff) + "xx";
  postgres::Message m2;
  r = postgres::parse_frame(MessageType::kResponse, as_bytes(short_data), m2, state, limits);
  EXPECT_EQ(r.state, ParseState::kNeedsMore);
}

TEST(Postgres, OversizedRowIsSkippedAndStreamStaysAligned) {
  DecoderOptions options;
  options.limits.max_frame = 32;
  Harness h(Protocol::kPostgres, options);
  h.client(msg('Q', "SELECT blob FROM files\0"sv));
  std::string big = msg('D', be16(1) + be32(1000) + std::string(1000, 'b'));
  h.server(big.substr(0, 500)).server(big.substr(500));
  h.server(msg('C', "SELECT 1\0"sv) + kReadyIdle);
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].fields.at("pg.rows"), "1");
  EXPECT_EQ(ex[0].fields.at("pg.response_truncated"), "true");
  EXPECT_EQ(ex[0].status_text, "SELECT 1");
  EXPECT_EQ(h.decoder().stats().invalid, 0u);
}

TEST(Postgres, LossInsideASkippedTailKeepsAlignment) {
  DecoderOptions options;
  options.limits.max_frame = 32;
  Harness h(Protocol::kPostgres, options);
  h.client(msg('Q', "SELECT blob FROM files\0"sv));
  std::string big = msg('D', be16(1) + be32(1000) + std::string(1000, 'b'));
  h.server(big.substr(0, 100));
  h.lose(MessageType::kResponse, 800);  // inside the part the decoder skips anyway
  h.server(big.substr(900) + msg('C', "SELECT 1\0"sv) + kReadyIdle);
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].status_text, "SELECT 1");
  EXPECT_FALSE(ex[0].gap);
  EXPECT_EQ(h.decoder().stats().bytes_truncated, big.size() - 100);  // the 800 lost among them
  EXPECT_EQ(h.decoder().stats().invalid, 0u);
}

TEST(Postgres, GarbageAndTruncation) {
  postgres::State state;
  state.startup = false;
  Limits limits;
  postgres::Message m;
  auto parse = [&](MessageType t, std::string_view d) {
    return postgres::parse_frame(t, as_bytes(d), m, state, limits).state;
  };
  EXPECT_EQ(parse(MessageType::kRequest, "Q\x00\x00"sv), ParseState::kNeedsMore);
  EXPECT_EQ(parse(MessageType::kRequest, "Q\x00\x00\x00\x02xx"sv), ParseState::kInvalid);
  EXPECT_EQ(parse(MessageType::kRequest, "\x7f\x00\x00\x00\x04"sv), ParseState::kInvalid);
  EXPECT_EQ(parse(MessageType::kResponse, "Q\x00\x00\x00\x04"sv), ParseState::kInvalid);
  EXPECT_EQ(parse(MessageType::kResponse, "Z\xff\xff\xff\xff"sv), ParseState::kInvalid);
}

TEST(Postgres, ResyncFindsNextMessage) {
  Harness h(Protocol::kPostgres);
  h.client(msg('Q', "SELECT 1\0"sv));
  h.server("\xde\xad\xbe\xef"sv);
  h.server(msg('C', "SELECT 1\0"sv) + kReadyIdle);
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_TRUE(ex[0].gap);
  EXPECT_EQ(ex[0].status_text, "SELECT 1");
}

}  // namespace
}  // namespace reel::protocols

namespace reel::protocols::postgres {
namespace {

std::vector<std::size_t> owed(std::string_view client, std::string_view server) {
  return answer_owed(std::span(client.data(), client.size()), std::span(server.data(), server.size()));
}

// The one pairing model (conversation.h): which client message each server message answers.
TEST(PostgresConversation, FlushOwesEverythingButReadyForQuery) {
  // node pg: Parse Bind Describe Execute Flush Sync -> 1 2 T D D C Z.
  EXPECT_EQ(owed("PBDEHS", "12TDDCZ"), (std::vector<std::size_t>{0, 1, 2, 3, 6, 6, 7}));
  // Describe of a statement: ParameterDescription then RowDescription or NoData.
  EXPECT_EQ(owed("PDHBES", "1tn2CZ"), (std::vector<std::size_t>{0, 1, 3, 3, 4, 5, 6}));
  // A notice in the middle belongs to the message being answered.
  EXPECT_EQ(owed("PBES", "12NDCZ"), (std::vector<std::size_t>{0, 1, 2, 5, 6}));
}

TEST(PostgresConversation, ErrorSkipsToSync) {
  // Bind fails: Execute and Flush get nothing; Sync gets ReadyForQuery.
  EXPECT_EQ(owed("PBEHS", "1EZ"), (std::vector<std::size_t>{0, 1, 2, 2, 2, 3}));
  // A simple query's error is followed by its own ReadyForQuery.
  EXPECT_EQ(owed("Q", "EZ"), (std::vector<std::size_t>{0, 2}));
  // Two batches' worth in one request (pgx: many Bind/Execute, one Sync).
  EXPECT_EQ(owed("BEBES", "2DC2CZ"), (std::vector<std::size_t>{0, 1, 3, 4, 5, 6}));
}

TEST(PostgresConversation, RequestAndAnswerLengths) {
  auto m = [](char tag) { Message x; x.tag = tag; return x; };
  std::vector<Message> req = {m('P'), m('B'), m('E'), m('H')};
  EXPECT_EQ(request_length(req), 0u);  // Flush ends no request
  req.push_back(m('S'));
  req.push_back(m('Q'));
  EXPECT_EQ(request_length(req), 5u);
  std::vector<Message> resp = {m('1'), m('2'), m('C')};
  EXPECT_EQ(answer_length(resp), 0u);
  resp.push_back(m('Z'));
  EXPECT_EQ(answer_length(resp), 4u);
  EXPECT_TRUE(unanswered(m('X')));
}

}  // namespace
}  // namespace reel::protocols::postgres
