// The recording's self-check (record/self_check.h): a recording that will replay passes; one
// that paired an answer with the wrong request, or holds a call nothing can match, is caught
// with the call's name and test.
#include <gtest/gtest.h>

#include <string>

#include "mock/postgres_wire.h"
#include "mock/protocols.h"
#include "record/self_check.h"
#include "wire_builders.h"

namespace reel::record {
namespace {

using namespace std::literals;
using namespace wire;

std::string parse(std::string_view sql) { return msg('P', cstr("") + cstr(sql) + be16(0)); }
std::string bind(std::string_view value) {
  return msg('B', cstr("") + cstr("") + be16(0) + be16(1) +
                      be32(static_cast<std::uint32_t>(value.size())) + std::string(value) + be16(0));
}
std::string row(std::string_view v) {
  return msg('D', be16(1) + be32(static_cast<std::uint32_t>(v.size())) + std::string(v));
}
std::string columns() {
  return msg('T', be16(1) + cstr("name") + be32(0) + be16(0) + be32(25) + be16(0xffff) +
                      be32(0xffffffff) + be16(0));
}
// node pg's parameterised query: Parse Bind Describe Execute Flush, then Sync.
std::string flushed(std::string_view value) {
  return parse("SELECT name FROM users WHERE id = $1") + bind(value) + msg('D', "P\0"sv) +
         msg('E', "\0\0\0\0\0"sv) + msg('H', "");
}
std::string answer(std::string_view name) {
  return msg('1', "") + msg('2', "") + columns() + row(name) + msg('C', "SELECT 1\0"sv);
}
const std::string kSync = msg('S', ""), kReady = msg('Z', "I");

std::span<const std::byte> as_span(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// A Postgres mock of one request and its answer, as the recorder writes them.
testset::Mock pg_mock(const std::string& name, const std::string& request, const std::string& reply,
                      const std::string& test) {
  std::vector<mock::pg::Message> client, server;
  EXPECT_TRUE(mock::pg::split(request, true, client));
  EXPECT_TRUE(mock::pg::split(reply, false, server));
  testset::Mock m;
  m.name = name;
  m.kind = testset::MockKind::kPostgres;
  m.kind_name = "Postgres";
  testset::PacketMockSpec spec;
  spec.requests.push_back(mock::pg::request_value(client, mock::pg::segment_sql(client, {}), nullptr));
  spec.responses.push_back(mock::pg::response_value(server));
  m.spec = std::move(spec);
  m.metadata["reel.server"] = "127.0.0.1:5432";
  m.metadata["reel.test"] = test;
  m.connection_id = "0";
  return m;
}

// What the real recorder makes of node pg's two queries, the Sync sent before the answer came.
std::vector<testset::Mock> recorded() {
  auto rec = mock::make_postgres_recorder(*parse_endpoint("127.0.0.1:5432"), {});
  std::uint64_t ts = 10;
  auto c = [&](const std::string& b) { rec->data(Direction::kClientToServer, as_span(b), ts += 10); };
  auto s = [&](const std::string& b) { rec->data(Direction::kServerToClient, as_span(b), ts += 10); };
  c(flushed("1") + kSync);
  s(answer("alice") + kReady);
  c(flushed("2") + kSync);
  s(answer("bob") + kReady);
  rec->close(false, ts += 10);
  std::vector<testset::Mock> mocks;
  for (auto& call : rec->take()) {
    mocks.push_back(std::move(call.mock));
    mocks.back().name = "mock-" + std::to_string(mocks.size() - 1);
    mocks.back().metadata["reel.test"] = "test-" + std::to_string(mocks.size());
  }
  return mocks;
}

TEST(SelfCheck, RealRecordingReplaysToItself) {
  auto mocks = recorded();
  ASSERT_EQ(mocks.size(), 2u);
  CheckReport r = check_mocks(mocks);
  EXPECT_EQ(r.replayed, 2u);
  EXPECT_TRUE(r.problems.empty()) << r.problems.front().what;
}

// How reel's recorder paired node pg before the Flush fix: the Flush ended a request, the Sync
// became one of its own and took the next query's answer.
TEST(SelfCheck, CatchesAnswerPairedWithTheWrongRequest) {
  std::vector<testset::Mock> mocks = {
      pg_mock("mock-0", flushed("1"), answer("alice") + kReady, "test-1"),
      pg_mock("mock-1", kSync, answer("bob") + kReady, "test-1"),
      pg_mock("mock-2", flushed("2"), kReady, "test-2"),
  };
  CheckReport r = check_mocks(mocks);
  ASSERT_EQ(r.problems.size(), 3u);
  // The Flush request took the Sync's ReadyForQuery...
  EXPECT_EQ(r.problems[0].mock, "mock-0");
  EXPECT_EQ(r.problems[0].what, "paired wrong: ReadyForQuery cannot answer a Flush");
  // ...the Sync took the next query's answer...
  EXPECT_EQ(r.problems[1].mock, "mock-1");
  EXPECT_EQ(r.problems[1].test, "test-1");
  EXPECT_EQ(r.problems[1].what, "paired wrong: ParseComplete cannot answer a Sync");
  // ...and that query kept only a ReadyForQuery.
  EXPECT_EQ(r.problems[2].mock, "mock-2");
  EXPECT_EQ(r.problems[2].what, "paired wrong: ReadyForQuery cannot answer a Parse");
  EXPECT_EQ(r.replayed, 0u);
}

TEST(SelfCheck, CatchesAnswerThatStopsShort) {
  CheckReport r = check_mocks({pg_mock("mock-0", flushed("1") + kSync, answer("alice"), "test-1")});
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].what, "paired wrong: the answer ends before ReadyForQuery");
}

TEST(SelfCheck, CatchesCallNothingMatches) {
  // A recorded answer reel cannot read back (no payload): the responder can never use it.
  testset::Mock m = pg_mock("mock-0", msg('Q', cstr("SELECT 1")), row("1") + kReady, "test-3");
  std::get<testset::PacketMockSpec>(m.spec).responses.front() = testset::Value::mapping();
  CheckReport r = check_mocks({m});
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].test, "test-3");
  EXPECT_EQ(r.problems[0].what, "its request matches no recorded call (SELECT 1)");
}

}  // namespace
}  // namespace reel::record
