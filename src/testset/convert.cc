#include "testset/convert.h"

#include <fmt/format.h>

#include "protocols/http2/grpc.h"
#include "protocols/text.h"

namespace reel::testset {

namespace {

Timestamp at(std::uint64_t capture_ns, const ConvertOptions& o) {
  if (capture_ns == 0) return {};
  return Timestamp{static_cast<std::int64_t>(capture_ns) + o.clock_to_unix_ns, o.utc_offset_s};
}

// Keploy keeps one value per name; repeated headers are joined as RFC 9110 allows. HTTP/2's
// pseudo-headers are not headers: the method, URL and status say the same.
HeaderMap header_map(const protocols::Headers& headers) {
  HeaderMap out;
  for (const auto& [name, value] : headers) {
    if (name.starts_with(':')) continue;
    auto [it, inserted] = out.try_emplace(name, value);
    if (!inserted) it->second += ", " + value;
  }
  return out;
}

void set_version(const protocols::Exchange& e, int& major, int& minor) {
  auto it = e.fields.find("http.version");
  std::string_view v = it == e.fields.end() ? "1.1" : std::string_view(it->second);
  if (v.starts_with("HTTP/")) v.remove_prefix(5);
  major = v.size() >= 1 && v[0] >= '0' && v[0] <= '9' ? v[0] - '0' : 1;
  minor = v.size() >= 3 && v[2] >= '0' && v[2] <= '9' ? v[2] - '0' : major >= 2 ? 0 : 1;
}

std::string url_of(const protocols::Exchange& e, const ConvertOptions& o) {
  if (e.target.starts_with("http://") || e.target.starts_with("https://")) return e.target;
  std::string host = std::string(protocols::find_header(e.request_headers, ":authority"));
  if (host.empty()) host = std::string(protocols::find_header(e.request_headers, "Host"));
  if (host.empty()) host = e.host;
  if (host.empty()) host = fmt::format("localhost:{}", o.app_port);
  return fmt::format("{}://{}{}", o.scheme, host, e.target.empty() ? "/" : e.target);
}

Result<void> check(const protocols::Exchange& e) {
  if (e.protocol != protocols::Protocol::kHttp1 && e.protocol != protocols::Protocol::kHttp2) {
    return fail_msg("cannot store a {} exchange as an HTTP test or mock",
                    protocols::protocol_name(e.protocol));
  }
  if (!e.has_request || !e.has_response) {
    return fail_msg("HTTP exchange {} {} has no {}", e.method, e.target,
                    e.has_request ? "response" : "request");
  }
  return {};
}

struct HttpPair {
  HttpRequest req;
  HttpResponse resp;
};

HttpPair convert_pair(const protocols::Exchange& e, const ConvertOptions& o) {
  HttpPair p;
  p.req.method = e.method;
  set_version(e, p.req.proto_major, p.req.proto_minor);
  p.req.url = url_of(e, o);
  p.req.header = header_map(e.request_headers);
  p.req.body = e.request_body.data;
  p.req.timestamp = at(e.request_time.first_ns, o);
  p.resp.status_code = e.status;
  p.resp.header = header_map(e.response_headers);
  p.resp.body = e.response_body.data;
  p.resp.status_message = e.status_text;
  set_version(e, p.resp.proto_major, p.resp.proto_minor);
  p.resp.timestamp = at(e.response_time.last_ns, o);
  return p;
}

void mark_partial(const protocols::Exchange& e, std::map<std::string, std::string>& metadata) {
  if (e.gap) metadata["gap"] = "true";
  bool req = e.request_body.truncated(), resp = e.response_body.truncated();
  if (req || resp) metadata["truncated"] = req && resp ? "both" : req ? "request" : "response";
}

// Headers then trailers: the exchange keeps both in one list and counts the trailers.
std::pair<protocols::Headers, protocols::Headers> split_trailers(const protocols::Headers& all,
                                                                 const protocols::Exchange& e,
                                                                 std::string_view field) {
  auto it = e.fields.find(std::string(field));
  std::int64_t n = 0;
  if (it != e.fields.end() && !protocols::parse_int64(it->second, n)) n = 0;
  std::size_t trailers = std::min<std::size_t>(static_cast<std::size_t>(std::max<std::int64_t>(n, 0)),
                                               all.size());
  auto cut = all.end() - static_cast<std::ptrdiff_t>(trailers);
  return {protocols::Headers(all.begin(), cut), protocols::Headers(cut, all.end())};
}

GrpcHeaders grpc_headers(const protocols::Headers& headers) {
  GrpcHeaders out;
  for (const auto& [name, value] : headers) {
    auto& into = name.starts_with(':') ? out.pseudo : out.ordinary;
    auto [it, inserted] = into.try_emplace(protocols::to_lower(name), value);
    if (!inserted) it->second += ", " + value;
  }
  return out;
}

// The length-prefixed messages of one direction's DATA bytes, decompressed.
Result<std::vector<GrpcMessage>> grpc_messages(const protocols::Body& body,
                                               std::string_view encoding, std::string_view side) {
  if (body.truncated()) {
    return fail_msg("the {} ({} bytes) was cut at {} bytes by the capture limit", side,
                    body.size, body.data.size());
  }
  std::vector<GrpcMessage> out;
  std::string_view rest = body.data;
  while (!rest.empty()) {
    if (rest.size() < 5) return fail_msg("the {} ends inside a message prefix", side);
    GrpcMessage m;
    m.compressed = rest[0] != 0;
    m.wire_length = (std::uint32_t(std::uint8_t(rest[1])) << 24) |
                    (std::uint32_t(std::uint8_t(rest[2])) << 16) |
                    (std::uint32_t(std::uint8_t(rest[3])) << 8) | std::uint32_t(std::uint8_t(rest[4]));
    rest.remove_prefix(5);
    if (rest.size() < m.wire_length) {
      return fail_msg("the {} ends inside message {} ({} of {} bytes)", side, out.size() + 1,
                      rest.size(), m.wire_length);
    }
    std::string_view payload = rest.substr(0, m.wire_length);
    rest.remove_prefix(m.wire_length);
    if (m.compressed) {
      auto plain = protocols::grpc::decompress(payload, encoding, kMaxGrpcMessage);
      if (!plain) {
        return fail_msg("message {} of the {} is compressed with grpc-encoding '{}', which reel "
                        "cannot undo (gzip, deflate)",
                        out.size() + 1, side, encoding);
      }
      m.data = std::move(*plain);
    } else {
      m.data = std::string(payload);
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

bool is_grpc(const protocols::Exchange& e) {
  return e.protocol == protocols::Protocol::kHttp2 &&
         (protocols::istarts_with(protocols::find_header(e.request_headers, "content-type"),
                                  "application/grpc") ||
          protocols::istarts_with(protocols::find_header(e.response_headers, "content-type"),
                                  "application/grpc"));
}

Result<GrpcMockSpec> grpc_call_from_exchange(const protocols::Exchange& e,
                                             const ConvertOptions& o) {
  if (!is_grpc(e)) return fail_msg("{} {} is not a gRPC call", e.method, e.target);
  if (!e.has_request || !e.has_response) {
    return fail_msg("gRPC call {} has no {}", e.target, e.has_request ? "response" : "request");
  }
  if (e.fields.contains("http2.headers_partial")) {
    return fail_msg("gRPC call {}: its headers were only partly decoded (the connection was "
                    "joined mid-flight)", e.target);
  }
  GrpcMockSpec call;
  auto [req_headers, req_trailers] = split_trailers(e.request_headers, e, "http2.request_trailers");
  auto [resp_headers, resp_trailers] =
      split_trailers(e.response_headers, e, "http2.response_trailers");
  call.req.headers = grpc_headers(req_headers);
  call.resp.headers = grpc_headers(resp_headers);
  call.resp.trailers = grpc_headers(resp_trailers);
  auto encoding = [](const GrpcHeaders& h) {
    auto it = h.ordinary.find("grpc-encoding");
    return it == h.ordinary.end() ? std::string("identity") : it->second;
  };
  call.req.messages = REEL_TRY(
              grpc_messages(e.request_body, encoding(call.req.headers), "request"));
  call.resp.messages = REEL_TRY(
              grpc_messages(e.response_body, encoding(call.resp.headers), "response"));
  call.req.timestamp = at(e.request_time.first_ns, o);
  call.resp.timestamp = at(e.response_time.last_ns, o);
  return call;
}

Result<TestCase> test_case_from_exchange(const protocols::Exchange& e, const ConvertOptions& o) {
  REEL_TRY(check(e));
  if (is_grpc(e)) {
    TestCase test;
    test.kind = TestKind::kGrpc;
    GrpcMockSpec call = REEL_TRY(grpc_call_from_exchange(e, o));
    test.grpc_req = std::move(call.req);
    test.grpc_resp = std::move(call.resp);
    mark_partial(e, test.metadata);
    Timestamp done =
        test.grpc_resp.timestamp.is_zero() ? test.grpc_req.timestamp : test.grpc_resp.timestamp;
    test.created = done.unix_seconds();
    test.app_port = o.app_port;
    return test;
  }
  HttpPair p = convert_pair(e, o);
  TestCase test;
  test.req = std::move(p.req);
  test.resp = std::move(p.resp);
  mark_partial(e, test.metadata);
  Timestamp done = test.resp.timestamp.is_zero() ? test.req.timestamp : test.resp.timestamp;
  test.created = done.unix_seconds();
  test.app_port = o.app_port;
  return test;
}

Result<Mock> http_mock_from_exchange(const protocols::Exchange& e, const ConvertOptions& o) {
  REEL_TRY(check(e));
  if (is_grpc(e)) {
    GrpcMockSpec call = REEL_TRY(grpc_call_from_exchange(e, o));
    Mock mock;
    mock.kind = MockKind::kGrpc;
    mock.kind_name = mock_kind_name(mock.kind);
    auto path = call.req.headers.pseudo.find(":path");
    mock.metadata = {{"type", "mocks"}};
    if (path != call.req.headers.pseudo.end()) mock.metadata["operation"] = path->second;
    mark_partial(e, mock.metadata);
    mock.req_timestamp = call.req.timestamp;
    mock.res_timestamp = call.resp.timestamp;
    mock.spec = std::move(call);
    return mock;
  }
  HttpPair p = convert_pair(e, o);
  Mock mock;
  mock.kind = MockKind::kHttp;
  mock.kind_name = mock_kind_name(mock.kind);
  // Keploy's HTTP client mocks carry these three.
  mock.metadata = {{"name", "Http"}, {"operation", e.method}, {"type", "HTTP_CLIENT"}};
  mark_partial(e, mock.metadata);
  mock.req_timestamp = p.req.timestamp;
  mock.res_timestamp = p.resp.timestamp;
  HttpMockSpec spec{std::move(p.req), std::move(p.resp), 0};
  spec.created =
      (mock.res_timestamp.is_zero() ? mock.req_timestamp : mock.res_timestamp).unix_seconds();
  mock.spec = std::move(spec);
  return mock;
}

Mock payload_mock(const ByteExchange& x, MockKind kind, const ConvertOptions& o) {
  Mock mock;
  mock.kind = kind;
  mock.kind_name = mock_kind_name(kind);
  mock.metadata["type"] = x.startup ? "config" : "mocks";
  if (!x.connection_id.empty()) mock.metadata["connID"] = x.connection_id;
  mock.connection_id = x.connection_id;
  PayloadMockSpec spec;
  // Keploy stores one payload per read, each holding that read's bytes.
  for (const auto& chunk : x.requests) spec.requests.push_back({"client", {{chunk}}});
  for (const auto& chunk : x.responses) spec.responses.push_back({"server", {{chunk}}});
  mock.spec = std::move(spec);
  mock.req_timestamp = at(x.request_ns, o);
  mock.res_timestamp = at(x.response_ns, o);
  return mock;
}

}  // namespace reel::testset
