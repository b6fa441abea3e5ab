// libFuzzer target: Keploy's decoded mocks (no payload), as `reel test` and `reel mock` load
// them: each PostgreSQL and MySQL mock is rebuilt into wire messages (mock/postgres_keploy.cc,
// mock/mysql_keploy.cc) when asked why it cannot be replayed, then a fixed client conversation
// of each protocol is answered from the pool, so the rebuilt answers are sent too.
// Seeds (corpus/keploy_mocks/): postgres_both_shapes (the decoded mocks of
// tests/unit/mock_postgres_test.cc, in both of Keploy's shapes), postgres_users_service and
// mysql_users_service (the recordings of tests/e2e/keploy_{postgres,mysql}.sh after to_keploy.py).
#include <cstdint>
#include <string>
#include <string_view>

#include "mock/protocols.h"
#include "mock_fixture.h"
#include "testset/codec.h"

namespace {

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}
std::string pg(char tag, std::string_view payload) {
  return std::string(1, tag) + be32(static_cast<std::uint32_t>(payload.size() + 4)) + std::string(payload);
}
std::string my(std::uint8_t seq, std::string_view payload) {
  std::size_t n = payload.size();
  return std::string{static_cast<char>(n), static_cast<char>(n >> 8), static_cast<char>(n >> 16),
                     static_cast<char>(seq)} + std::string(payload);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace reel;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto file = testset::parse_mocks(text, "fuzz/mocks.yaml");
  if (!file) return 0;
  std::size_t sink = 0;
  for (const auto& m : file->mocks) {
    if (m.kind == testset::MockKind::kPostgres) sink += mock::postgres_mock_problem(m).size();
    if (m.kind == testset::MockKind::kMySql) sink += mock::mysql_mock_problem(m).size();
  }
  mock::MockPool pool(file->mocks, {});
  using namespace std::literals;
  // PostgreSQL: start-up, a simple query, an extended batch with a Flush.
  {
    mock::Responder::Context ctx{&pool, fuzz::endpoint(100, 40000), fuzz::endpoint(3, 5432)};
    auto r = mock::make_postgres_responder(ctx);
    std::string startup = "\x00\x03\x00\x00user\0postgres\0database\0postgres\0\0"s;
    startup = be32(static_cast<std::uint32_t>(startup.size() + 4)) + startup;
    for (const std::string& msg :
         {startup, pg('Q', "SELECT 1\0"sv),
          pg('P', "\0SELECT name FROM users WHERE id = $1\0\0\0"sv) +
              pg('B', "\0\0\0\0\0\x01\0\0\0\x01" "7\0\0"sv) + pg('D', "P\0"sv) +
              pg('E', "\0\0\0\0\0"sv) + pg('H', "") + pg('S', "")}) {
      auto out = r->feed(fuzz::as_span(msg));
      sink += out.bytes.size();
      if (out.close) break;
    }
  }
  // MySQL: the greeting, a login, a query, a prepare and an execute of statement 1.
  {
    mock::Responder::Context ctx{&pool, fuzz::endpoint(100, 40001), fuzz::endpoint(7, 3306)};
    auto r = mock::make_mysql_responder(ctx);
    sink += r->greeting().size();
    std::string login = "\x0d\xa2\x0b\x00\x00\x00\x00\x01\x21"s + std::string(23, '\0') + "app\0"s + "\0"s;
    for (const std::string& msg :
         {my(1, login), my(0, "\x03SELECT 1"sv), my(0, "\x16SELECT name FROM users WHERE id = ?"sv),
          my(0, "\x17\x01\0\0\0\0\x01\0\0\0\0\x01\x08\0\x07\0\0\0\0\0\0\0"sv)}) {
      auto out = r->feed(fuzz::as_span(msg));
      sink += out.bytes.size();
      if (out.close) break;
    }
  }
  for (const auto& miss : pool.take_unmatched()) sink += miss.summary.size() + miss.closest.size();
  asm volatile("" : : "r"(sink));
  return 0;
}
