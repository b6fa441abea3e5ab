#include "protocols/exchange.h"

#include "protocols/text.h"

namespace reel::protocols {

std::string_view protocol_name(Protocol protocol) {
  switch (protocol) {
    case Protocol::kHttp1:
      return "http1";
    case Protocol::kHttp2:
      return "http2";
    case Protocol::kRedis:
      return "redis";
    case Protocol::kPostgres:
      return "postgres";
    case Protocol::kMysql:
      return "mysql";
    case Protocol::kDns:
      return "dns";
    case Protocol::kTls:
      return "tls";
    case Protocol::kRaw:
      return "raw";
    case Protocol::kUnknown:
      break;
  }
  return "unknown";
}

void Body::append(std::string_view bytes, std::size_t cap) {
  size += bytes.size();
  append_capped(data, bytes, cap);
}

// Both are HTTP/2 facts: the protocol test spares every other exchange a lookup by name.
bool is_grpc_call(const Exchange& e) {
  return e.protocol == Protocol::kHttp2 && e.fields.contains("grpc.request_messages");
}

bool headers_partial(const Exchange& e) {
  return e.protocol == Protocol::kHttp2 && e.fields.contains("http2.headers_partial");
}

void Exchange::finish_timing() {
  latency_ns = 0;
  if (has_request && has_response && response_time.last_ns >= request_time.first_ns) {
    latency_ns = response_time.last_ns - request_time.first_ns;
  }
}

std::string_view find_header(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return value;
  }
  return {};
}

}  // namespace reel::protocols
