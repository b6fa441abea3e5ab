#include "mock/common.h"

#include "protocols/text.h"

namespace reel::mock {

void label_call(RecordedCall& call, protocols::Protocol protocol, const Endpoint& server) {
  auto& md = call.mock.metadata;
  md[std::string(kMetaType)] = call.startup ? "config" : "mocks";
  md[std::string(kMetaServer)] = server.to_string();
  md[std::string(kMetaProtocol)] = std::string(protocols::protocol_name(protocol));
}

namespace {

std::string joined(const std::vector<testset::Payload>& payloads) {
  std::string out;
  for (const auto& p : payloads) {
    for (const auto& c : p.message) out += c.data;
  }
  return out;
}

}  // namespace

std::string joined_requests(const testset::Mock& mock) {
  const auto* p = std::get_if<testset::PayloadMockSpec>(&mock.spec);
  return p ? joined(p->requests) : std::string();
}

std::string joined_responses(const testset::Mock& mock) {
  const auto* p = std::get_if<testset::PayloadMockSpec>(&mock.spec);
  return p ? joined(p->responses) : std::string();
}

std::string short_summary(std::string_view text) {
  constexpr std::size_t kMax = 120;
  return protocols::render_value(text, kMax);
}

std::string sql_miss_message(std::string_view what, std::string_view closest) {
  if (closest.empty()) return "reel: no recorded answer for: " + std::string(what);
  return "reel: the answer recorded for: " + std::string(what) + " cannot be replayed (" +
         std::string(closest) + ")";
}

}  // namespace reel::mock
