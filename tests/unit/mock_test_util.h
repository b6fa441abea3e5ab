// Helpers shared by the mock unit tests.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mock/mock.h"

namespace reel::mock::testing {

inline std::span<const std::byte> bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

inline Endpoint ep(std::string_view text) { return *parse_endpoint(text); }

// Feeds a conversation (client, server, client, ...) to a recorder; returns every call.
inline std::vector<RecordedCall> record(CallRecorder& r,
                                        const std::vector<std::pair<Direction, std::string>>& talk) {
  std::uint64_t t = 1'000'000;
  for (const auto& [dir, data] : talk) r.data(dir, bytes(data), t += 1000);
  r.close(false, t + 1000);
  return r.take();
}

inline std::vector<testset::Mock> mocks_of(const std::vector<RecordedCall>& calls) {
  std::vector<testset::Mock> out;
  for (const auto& c : calls) out.push_back(c.mock);
  return out;
}

constexpr auto kUp = Direction::kClientToServer;
constexpr auto kDown = Direction::kServerToClient;

}  // namespace reel::mock::testing
