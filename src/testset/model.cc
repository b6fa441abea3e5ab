#include "testset/model.h"

#include <array>
#include <utility>

#include "protocols/text.h"

namespace reel::testset {

namespace {

constexpr std::array<std::pair<MockKind, std::string_view>, 7> kKindNames{{
    {MockKind::kHttp, "Http"},
    {MockKind::kGeneric, "Generic"},
    {MockKind::kRedis, "Redis"},
    {MockKind::kPostgres, "Postgres"},
    {MockKind::kMySql, "MySQL"},
    {MockKind::kDns, "DNS"},
    {MockKind::kGrpc, "gRPC"},
}};

}  // namespace

const std::string* find_header(const HeaderMap& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (protocols::iequals(key, name)) return &value;
  }
  return nullptr;
}

std::string_view mock_kind_name(MockKind kind) {
  for (const auto& [k, name] : kKindNames) {
    if (k == kind) return name;
  }
  return "Unknown";
}

int grpc_status(const GrpcResponse& resp) {
  for (const auto* h : {&resp.trailers.ordinary, &resp.headers.ordinary}) {
    auto it = h->find("grpc-status");
    if (it == h->end()) continue;
    std::int64_t code = 0;
    if (protocols::parse_int64(it->second, code) && code >= 0 && code < 1000) return int(code);
    return -1;
  }
  return -1;
}

MockKind mock_kind_from_name(std::string_view name) {
  if (name == "PostgresV2") return MockKind::kPostgres;
  for (const auto& [kind, n] : kKindNames) {
    if (n == name) return kind;
  }
  return MockKind::kUnknown;
}

}  // namespace reel::testset
