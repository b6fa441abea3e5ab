// libFuzzer target: mock::dns_answer, a DNS query (one UDP datagram) answered from a MockPool of
// recorded mocks of every kind (mock_fixture.h).
#include <cstdint>
#include <string>

#include "mock_fixture.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace reel;
  mock::MockPool pool(fuzz::fixture_mocks(), {});
  auto answer = mock::dns_answer(pool, {reinterpret_cast<const std::byte*>(data), size},
                                 fuzz::endpoint(100, 40000), fuzz::fixture_resolver());
  std::size_t sink = answer ? std::hash<std::string>()(*answer) : 0;
  for (const auto& miss : pool.take_unmatched()) sink += miss.summary.size() + miss.closest.size();
  asm volatile("" : : "r"(sink));
  return 0;
}
