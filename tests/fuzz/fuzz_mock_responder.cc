// libFuzzer target: a mock::Responder answering arbitrary client bytes from a MockPool of
// recorded mocks of every kind (mock_fixture.h).
//
// Input: a setup byte, then chunks (length byte, bytes) fed one by one until the responder says
// close. Setup: bits 0-2 the destination (mock_fixture.h fixture_servers(): http, redis,
// postgres, mysql, generic, nothing recorded, 3306 without reel.server), bits 3-4 the running
// test (none, "t1", "t2"), bit 6 one-byte chunks instead, bit 7 every mock recorded on a joined
// connection (reel.joined: start-ups and session set-up answered by the protocol).
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_input.h"
#include "mock_fixture.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace reel;
  static const auto servers = fuzz::fixture_servers();
  fuzz::FuzzInput in(data, size);
  std::uint8_t setup = in.byte();
  std::vector<testset::Mock> mocks = fuzz::fixture_mocks();
  if (setup & 0x80)
    for (auto& m : mocks) m.metadata[std::string(mock::kMetaJoined)] = "true";
  mock::MockPool pool(std::move(mocks), {});
  static const char* const kTests[] = {"", "t1", "t2", ""};
  pool.begin_test(kTests[(setup >> 3) & 3]);
  mock::Responder::Context ctx{&pool, fuzz::endpoint(100, 40000), servers[(setup & 7) % servers.size()]};
  auto responder = mock::Responder::create(ctx);
  std::size_t sink = responder->greeting().size();
  while (!in.empty()) {
    auto chunk = in.take((setup & 0x40) ? 1 : in.byte());
    auto out = responder->feed(chunk);
    sink += std::hash<std::string>()(out.bytes);
    if (out.close) break;
  }
  for (const auto& miss : pool.take_unmatched()) sink += miss.summary.size() + miss.closest.size();
  auto stats = pool.stats();
  sink += stats.exact + stats.structural + stats.unmatched;
  asm volatile("" : : "r"(sink));
  return 0;
}
