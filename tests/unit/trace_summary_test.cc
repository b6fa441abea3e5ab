// The exit summary: latencies in readable units, requests grouped by shape, the table bounded;
// and is_printable_utf8's fast path, which JSON output leans on.
#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "core/encoding.h"
#include "protocols/sql_shape.h"
#include "trace/shape.h"
#include "trace/summary.h"

namespace reel::trace {
namespace {

capture::TracedExchange exchange(protocols::Protocol p, std::string method, std::string target,
                                 std::uint64_t latency_ns = 1000) {
  capture::TracedExchange t;
  t.exchange.protocol = p;
  t.exchange.has_request = t.exchange.has_response = true;
  t.exchange.method = std::move(method);
  t.exchange.target = std::move(target);
  t.exchange.status = 200;
  t.exchange.latency_ns = latency_ns;
  return t;
}

std::string printed(const Summary& s) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* out = open_memstream(&buf, &len);
  s.print(out, {}, {});
  std::fclose(out);
  std::string text(buf, len);
  free(buf);
  return text;
}

TEST(SummaryLatency, ThreeSignificantDigitsInTheUnitThatNeedsNoMore) {
  EXPECT_EQ(format_latency(0), "0ns");
  EXPECT_EQ(format_latency(999), "999ns");
  EXPECT_EQ(format_latency(1'000), "1.00µs");
  EXPECT_EQ(format_latency(8'704), "8.70µs");
  EXPECT_EQ(format_latency(87'040), "87.0µs");
  EXPECT_EQ(format_latency(870'400), "870µs");
  EXPECT_EQ(format_latency(999'000), "999µs");
  EXPECT_EQ(format_latency(999'499), "999µs");
  EXPECT_EQ(format_latency(999'500), "1.00ms");  // rounds up into the next unit, not "1000µs"
  EXPECT_EQ(format_latency(1'000'000), "1.00ms");
  EXPECT_EQ(format_latency(9'995'000), "10.0ms");
  EXPECT_EQ(format_latency(12'345'678), "12.3ms");
  EXPECT_EQ(format_latency(999'499'999), "999ms");
  EXPECT_EQ(format_latency(999'500'000), "1.00s");
  EXPECT_EQ(format_latency(1'250'000'000), "1.25s");
  EXPECT_EQ(format_latency(999'400'000'000), "999s");
  EXPECT_EQ(format_latency(1'234'000'000'000), "1234s");
  EXPECT_EQ(format_latency(UINT64_MAX), "18446744074s");
  std::string s = "x";
  EXPECT_EQ(append_latency(s, 870'000), 5u);  // characters, µ being one
  EXPECT_EQ(s, "x870µs");
}

TEST(SummaryLatency, TableShowsMicroseconds) {
  Summary s;
  for (int i = 0; i < 10; i++) s.add(exchange(protocols::Protocol::kHttp1, "GET", "/", 870'000));
  auto text = printed(s);
  EXPECT_NE(text.find("      870µs      870µs      870µs\n"), std::string::npos) << text;
  Summary none;
  none.add(exchange(protocols::Protocol::kHttp1, "GET", "/", 0));
  EXPECT_NE(printed(none).find("          -          -          -\n"), std::string::npos)
      << printed(none);
}

std::string pg(std::string_view sql) {
  return protocols::sql_shape(sql, protocols::SqlDialect::kPostgres);
}
std::string my(std::string_view sql) {
  return protocols::sql_shape(sql, protocols::SqlDialect::kMysql);
}

TEST(SqlShape, PgbenchInitialisationIsOneShapePerStatement) {
  EXPECT_EQ(pg("insert into pgbench_branches(bid,bbalance) values(1,0)"),
            "insert into pgbench_branches(bid,bbalance) values($1,$2)");
  EXPECT_EQ(pg("insert into pgbench_tellers(tid,bid,tbalance) values (7,1,0)"),
            pg("insert into pgbench_tellers(tid,bid,tbalance) values (8,1,0)"));
  EXPECT_EQ(pg("INSERT INTO pgbench_accounts VALUES (1, 1, 0, '')"),
            "INSERT INTO pgbench_accounts VALUES ($1, $2, $3, $4)");
  // Many rows of one shape: the first and ", ...", whatever their number.
  EXPECT_EQ(pg("INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'x')"),
            "INSERT INTO items VALUES ($1, $2), ...");
  EXPECT_EQ(pg("INSERT INTO items VALUES (1, 'one'), (2, 'two')"),
            pg("INSERT INTO items VALUES (5, 'five'), (6, 'six'), (7, '')"));
  EXPECT_EQ(pg("INSERT INTO t VALUES (1, now()), (2, 'x')"),
            "INSERT INTO t VALUES ($1, now()), ($2, $3)");
}

TEST(SqlShape, InListsCollapse) {
  EXPECT_EQ(pg("SELECT * FROM t WHERE id IN (1, 2, 3)"), "SELECT * FROM t WHERE id IN ($1, ...)");
  EXPECT_EQ(pg("SELECT * FROM t WHERE id in (4,5)"), "SELECT * FROM t WHERE id in ($1, ...)");
  EXPECT_EQ(pg("SELECT * FROM t WHERE id IN (7)"), "SELECT * FROM t WHERE id IN ($1)");
  EXPECT_EQ(pg("SELECT * FROM t WHERE id IN ($1, $2, $3)"),
            "SELECT * FROM t WHERE id IN ($1, ...)");
  EXPECT_EQ(pg("SELECT * FROM t WHERE k IN ('a', 'b') AND id IN (SELECT id FROM u WHERE n = 2)"),
            "SELECT * FROM t WHERE k IN ($1, ...) AND id IN (SELECT id FROM u WHERE n = $2)");
}

TEST(SqlShape, NumbersAndNegativeNumbers) {
  EXPECT_EQ(pg("UPDATE t SET x = -5 WHERE y > -1.5e-3 AND z = .5"),
            "UPDATE t SET x = $1 WHERE y > $2 AND z = $3");
  EXPECT_EQ(pg("SELECT a - 1, a-2, -3, f(-4) FROM t2 LIMIT 10"),
            "SELECT a - $1, a-$2, $3, f($4) FROM t2 LIMIT $5");
  EXPECT_EQ(pg("SELECT c1, \"Col 2\" FROM t_3"),
            "SELECT c1, \"Col 2\" FROM t_3");  // identifiers stay
  EXPECT_EQ(my("SELECT 0x1F, X'1F', 1e10"), "SELECT ?, ?, ?");
}

TEST(SqlShape, StringsWithEscapedQuotesDollarQuotesAndComments) {
  EXPECT_EQ(pg("SELECT 'it''s', E'a\\'b', 'c:\\' FROM t"), "SELECT $1, $2, $3 FROM t");
  EXPECT_EQ(my("SELECT 'it\\'s', \"dq\", `col` FROM t"), "SELECT ?, ?, `col` FROM t");
  EXPECT_EQ(pg("SELECT $$a 'b' c$$, $tag$x$y $$ z$tag$ FROM t"), "SELECT $1, $2 FROM t");
  EXPECT_EQ(pg("SELECT /* a /* nested */ comment */ 1 -- trailing 2\nFROM  t\n\t WHERE x = 'y'"),
            "SELECT $1 FROM t WHERE x = $2");
  EXPECT_EQ(my("SELECT 1 # a MySQL comment\nFROM t"), "SELECT ? FROM t");
  EXPECT_EQ(pg("SELECT 'unterminated"), "SELECT $1");  // a statement cut by --max-body
  EXPECT_EQ(pg(""), "");
}

TEST(SqlShape, ParametersAreKeptAndLiteralsNumberedAfterThem) {
  EXPECT_EQ(pg("UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;"),
            "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;");
  EXPECT_EQ(pg("SELECT * FROM t WHERE a = $2 AND b = 7 AND c = $1"),
            "SELECT * FROM t WHERE a = $2 AND b = $3 AND c = $1");
  EXPECT_EQ(my("SELECT * FROM t WHERE a = ? AND b = 7"), "SELECT * FROM t WHERE a = ? AND b = ?");
}

TEST(SqlShape, HostileInputNeverCrashes) {
  std::mt19937 rng(7);
  const std::string alphabet = "'\"`$-/*#()\\,. \n0123456789aeEXINVALUES";
  for (int n = 0; n < 20'000; n++) {
    std::string s(rng() % 40, ' ');
    for (auto& c : s) c = alphabet[rng() % alphabet.size()];
    (void)pg(s);
    (void)my(s);
  }
}

TEST(PathShape, IdsBecomeColonIdAndTheQueryIsDropped) {
  EXPECT_EQ(path_shape("/users/42/orders?x=1"), "/users/:id/orders");
  EXPECT_EQ(path_shape("/u/550e8400-e29b-41d4-a716-446655440000/avatar"), "/u/:id/avatar");
  EXPECT_EQ(path_shape("/blob/0123456789abcdef0123"), "/blob/:id");
  EXPECT_EQ(path_shape("/v1/api/deadbeef"), "/v1/api/deadbeef");  // short hex may be a word
  EXPECT_EQ(path_shape("/a/b#frag"), "/a/b");
  EXPECT_EQ(path_shape("/"), "/");
  EXPECT_EQ(path_shape("*"), "*");
  EXPECT_EQ(path_shape("/1/2/"), "/:id/:id/");
}

TEST(SummaryShape, EachProtocolGroupsByItsShape) {
  using P = protocols::Protocol;
  auto key = [](P p, std::string m, std::string t) {
    return Summary::endpoint_key(exchange(p, m, t).exchange);
  };
  EXPECT_EQ(key(P::kHttp1, "GET", "/items/7?currency=EUR"), "http1 GET /items/:id");
  EXPECT_EQ(key(P::kHttp2, "GET", "/items/7"), "http2 GET /items/:id");
  EXPECT_EQ(key(P::kRedis, "GET", "user:42"), "redis GET user:*");
  EXPECT_EQ(key(P::kRedis, "get", "session:ab:9"), "redis GET session:ab:*");
  EXPECT_EQ(key(P::kRedis, "SET", "greeting"), "redis SET greeting");
  EXPECT_EQ(key(P::kRedis, "GET", std::string(40, 'k')), "redis GET *");
  EXPECT_EQ(key(P::kRedis, "PING", ""), "redis PING");
  EXPECT_EQ(key(P::kPostgres, "Query", "SELECT 1"), "postgres Query SELECT $1");
  EXPECT_EQ(key(P::kMysql, "Query", "SELECT 'a'"), "mysql Query SELECT ?");
  EXPECT_EQ(key(P::kDns, "A", "example.com"), "dns A example.com");

  Summary s;
  for (int i = 0; i < 5; i++)
    s.add(exchange(P::kPostgres, "Query", "SELECT * FROM t WHERE id = " + std::to_string(i)));
  for (int i = 0; i < 3; i++) s.add(exchange(P::kRedis, "GET", "user:" + std::to_string(i)));
  auto text = printed(s);
  EXPECT_NE(text.find("postgres Query SELECT * FROM t WHERE id = $1    "), std::string::npos)
      << text;
  EXPECT_NE(text.find("redis GET user:*    "), std::string::npos) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 6)
      << text;  // blank, header, 2 rows, blank, capture
}

TEST(SummaryShape, TheNumberOfShapesIsBounded) {
  Summary s;
  std::size_t n = Summary::kMaxShapes + 500;
  for (std::size_t i = 0; i < n; i++)
    s.add(exchange(protocols::Protocol::kHttp1, "GET", "/p/x" + std::to_string(i)));
  s.add(exchange(protocols::Protocol::kHttp1, "GET", "/p/x0"));  // a known shape keeps its row
  auto text = printed(s);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), static_cast<long>(Summary::kMaxShapes) + 5);
  auto other = text.find(std::string(Summary::kOtherShapes));
  ASSERT_NE(other, std::string::npos);
  std::string row = text.substr(other, text.find('\n', other) - other);
  EXPECT_TRUE(row.starts_with(std::string(Summary::kOtherShapes) + std::string(50, ' ') +
                              "      500       0"))
      << row;
  EXPECT_NE(text.find("http1 GET /p/x0 "), std::string::npos);
  EXPECT_EQ(text.find("http1 GET /p/x0 ") + 64,
            text.find("        2       0", text.find("http1 GET /p/x0 ")));
}

// Rows are found again through a small cache of recent (protocol, gRPC, method, target): the
// same target under another protocol, method or gRPC-ness is another row, and counts stay exact
// when many targets share its slots.
TEST(SummaryShape, RepeatedTargetsCountInTheirOwnRows) {
  using P = protocols::Protocol;
  Summary s;
  auto grpc = [](std::string target) {
    auto t = exchange(P::kHttp2, "POST", std::move(target));
    t.exchange.fields["grpc.request_messages"] = "1";
    return t;
  };
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 300; i++) s.add(exchange(P::kHttp1, "GET", "/items/" + std::to_string(i)));
    s.add(exchange(P::kHttp1, "POST", "/items/1"));
    s.add(exchange(P::kHttp2, "GET", "/items/1"));
    s.add(exchange(P::kHttp2, "POST", "/a.B/C"));
    s.add(grpc("/a.B/C"));
    s.add(exchange(P::kRedis, "get", "/items/1"));
    s.add(exchange(P::kHttp1, "GET", std::string(300, 'x')));  // longer than a slot keeps
  }
  auto text = printed(s);
  auto count_of = [&](const std::string& key) {
    auto at = text.find(key + "  ");
    if (at == std::string::npos) return std::string("(no row)");
    return text.substr(at + 64, 9);
  };
  EXPECT_EQ(count_of("http1 GET /items/:id"), "      900") << text;
  EXPECT_EQ(count_of("http1 POST /items/:id"), "        3") << text;
  EXPECT_EQ(count_of("http2 GET /items/:id"), "        3") << text;
  EXPECT_EQ(count_of("http2 POST /a.B/C"), "        3") << text;
  EXPECT_EQ(count_of("grpc POST /a.B/C"), "        3") << text;
  EXPECT_EQ(count_of("redis GET /items/1"), "        3") << text;
  EXPECT_EQ(s.shown(), 918u);
}

TEST(SummaryShape, LongKeysAreCutInTheirColumn) {
  Summary s;
  s.add(exchange(protocols::Protocol::kHttp1, "GET", "/" + std::string(100, 'z')));
  auto text = printed(s);
  EXPECT_NE(text.find("http1 GET /" + std::string(50, 'z') + "...        1"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace reel::trace

namespace reel {
namespace {

// is_printable_utf8 as it was, byte by byte after the first special byte: the reference.
bool printable_byte_by_byte(std::string_view s) {
  std::size_t i = plain_ascii_prefix(s, false);
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f) return false;
    std::size_t len = utf8_sequence_length(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

TEST(Encoding, PrintableFastPathAgreesWithByteByByteOnRandomInputs) {
  std::mt19937 rng(13);
  const std::vector<std::string> text = {
      "a", "hello world ", "\n", "\r\n", "\t", "\"", "\\", "é", "€", "😀", "0123456789abcdef"};
  const std::vector<std::string> other = {std::string(1, '\0'), "\x7f",     "\x01", "\xc0\xaf",
                                          "\xed\xa0\x80",       "\xe2\x82", "\x80", "\xff",
                                          "\xf4\x90\x80\x80"};
  int printable = 0;
  for (int n = 0; n < 100'000; n++) {
    std::string s;
    std::size_t parts = rng() % 16;
    // Mostly text, so that long printable inputs are common.
    for (std::size_t k = 0; k < parts; k++)
      s += rng() % 16 == 0 ? other[rng() % other.size()] : text[rng() % text.size()];
    bool want = printable_byte_by_byte(s);
    printable += want;
    ASSERT_EQ(is_printable_utf8(s), want) << base64_encode(s);
    // Every suffix too: each starts the fast path at a different alignment.
    for (std::size_t from = 1; from < s.size(); from += 3)
      ASSERT_EQ(is_printable_utf8(std::string_view(s).substr(from)),
                printable_byte_by_byte(std::string_view(s).substr(from)));
  }
  EXPECT_GT(printable, 10'000);
  EXPECT_TRUE(is_printable_utf8("line one\nline two\nhé\nlast line is longer than eight"));
  EXPECT_FALSE(
      is_printable_utf8(std::string_view("line one\nline two\nand then a NUL \0 after", 41)));
}

}  // namespace
}  // namespace reel
