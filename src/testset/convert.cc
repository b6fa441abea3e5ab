#include "testset/convert.h"

#include "protocols/text.h"

namespace reel::testset {

namespace {

Timestamp at(std::uint64_t capture_ns, const ConvertOptions& o) {
  if (capture_ns == 0) return {};
  return Timestamp{static_cast<std::int64_t>(capture_ns) + o.clock_to_unix_ns, o.utc_offset_s};
}

// Keploy keeps one value per name; repeated headers are joined as RFC 9110 allows.
HeaderMap header_map(const protocols::Headers& headers) {
  HeaderMap out;
  for (const auto& [name, value] : headers) {
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
  minor = v.size() >= 3 && v[2] >= '0' && v[2] <= '9' ? v[2] - '0' : 1;
}

std::string url_of(const protocols::Exchange& e, const ConvertOptions& o) {
  if (e.target.starts_with("http://") || e.target.starts_with("https://")) return e.target;
  std::string host = std::string(protocols::find_header(e.request_headers, "Host"));
  if (host.empty()) host = e.host;
  if (host.empty()) host = fmt::format("localhost:{}", o.app_port);
  return fmt::format("{}://{}{}", o.scheme, host, e.target.empty() ? "/" : e.target);
}

Result<void> check(const protocols::Exchange& e) {
  if (e.protocol != protocols::Protocol::kHttp1) {
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

}  // namespace

Result<TestCase> test_case_from_exchange(const protocols::Exchange& e, const ConvertOptions& o) {
  REEL_TRY(check(e));
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
