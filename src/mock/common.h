// Small pieces the mock recorders and responders share.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "mock/mock.h"

namespace reel::mock {

inline std::string_view text_of(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Sets type ("config" for startup calls, else "mocks"), reel.server and reel.protocol.
void label_call(RecordedCall& call, protocols::Protocol protocol, const Endpoint& server);

// A Generic or Redis mock's request (or response) chunks joined in wire order.
std::string joined_requests(const testset::Mock& mock);
std::string joined_responses(const testset::Mock& mock);

// "GET /x" cut to a readable length, binary shown as hex.
std::string short_summary(std::string_view text);

}  // namespace reel::mock
