#include "testset/convert.h"

#include <fmt/format.h>
#include <zlib.h>

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

// Appends the messages of `rest` to `out` up to the first that cannot be read whole.
Result<void> split_into(std::string_view rest, std::string_view encoding, std::string_view side,
                        std::vector<GrpcMessage>& out) {
  while (!rest.empty()) {
    if (rest.size() < 5) return fail_msg("the {} ends inside a message prefix", side);
    GrpcMessage m;
    m.compressed = rest[0] != 0;
    for (int i = 1; i <= 4; i++) m.wire_length = (m.wire_length << 8) | std::uint8_t(rest[i]);
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
  return {};
}

std::string grpc_encoding(const GrpcHeaders& h) {
  auto it = h.ordinary.find("grpc-encoding");
  return it == h.ordinary.end() ? std::string("identity") : it->second;
}

// A gRPC exchange as a call; with `strict`, fails on the first thing that keeps it from
// replaying faithfully, else keeps what could be read (the messages that arrived whole).
Result<GrpcMockSpec> grpc_call(const protocols::Exchange& e, const ConvertOptions& o,
                               bool strict) {
  if (strict && (!e.has_request || !e.has_response)) {
    return fail_msg("gRPC call {} has no {}", e.target, e.has_request ? "response" : "request");
  }
  if (strict && protocols::headers_partial(e)) {
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
  call.req.timestamp = at(e.request_time.first_ns, o);
  call.resp.timestamp = at(e.response_time.last_ns, o);
  struct Side {
    const protocols::Body& body;
    const GrpcHeaders& headers;
    std::vector<GrpcMessage>& into;
    std::string_view name;
  };
  for (const Side& side : {Side{e.request_body, call.req.headers, call.req.messages, "request"},
                           Side{e.response_body, call.resp.headers, call.resp.messages,
                                "response"}}) {
    if (strict && side.body.truncated()) {
      return fail_msg("the {} ({} bytes) was cut at {} bytes by the capture limit", side.name,
                      side.body.size, side.body.data.size());
    }
    auto read = split_into(side.body.data, grpc_encoding(side.headers), side.name, side.into);
    if (strict && !read) return std::unexpected(read.error());
  }
  return call;
}

}  // namespace

Result<std::vector<GrpcMessage>> grpc_split_messages(std::string_view body,
                                                     std::string_view encoding,
                                                     std::string_view side) {
  std::vector<GrpcMessage> out;
  REEL_TRY(split_into(body, encoding, side, out));
  return out;
}

std::optional<std::string> grpc_compress(std::string_view data, std::string_view encoding) {
  int bits = encoding == "gzip" ? 15 + 16 : encoding == "deflate" ? 15 : 0;
  if (bits == 0) return std::nullopt;
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return std::nullopt;
  }
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return std::nullopt;
  return out;
}

Result<std::string> grpc_frame_messages(const std::vector<GrpcMessage>& messages,
                                        std::string_view encoding) {
  std::string out;
  for (std::size_t i = 0; i < messages.size(); i++) {
    const GrpcMessage& m = messages[i];
    std::optional<std::string> packed;
    if (m.compressed) {
      packed = grpc_compress(m.data, encoding);
      if (!packed) {
        return fail_msg("message {} travelled compressed, but its grpc-encoding '{}' is not one "
                        "reel can compress (gzip, deflate)",
                        i + 1, encoding);
      }
    }
    std::string_view payload = packed ? std::string_view(*packed) : std::string_view(m.data);
    if (payload.size() > 0xffffffffu) return fail_msg("message {} is over 4 GiB", i + 1);
    auto n = static_cast<std::uint32_t>(payload.size());
    out += static_cast<char>(m.compressed ? 1 : 0);
    for (int shift : {24, 16, 8, 0}) out += static_cast<char>((n >> shift) & 0xff);
    out += payload;
  }
  return out;
}

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
  return grpc_call(e, o, true);
}

GrpcMockSpec grpc_call_as_seen(const protocols::Exchange& e, const ConvertOptions& o) {
  return *grpc_call(e, o, false);
}

Mock grpc_mock(GrpcMockSpec call) {
  Mock mock;
  mock.kind = MockKind::kGrpc;
  mock.kind_name = mock_kind_name(mock.kind);
  mock.metadata = {{"type", "mocks"}};
  auto path = call.req.headers.pseudo.find(":path");
  if (path != call.req.headers.pseudo.end()) mock.metadata["operation"] = path->second;
  mock.req_timestamp = call.req.timestamp;
  mock.res_timestamp = call.resp.timestamp;
  mock.spec = std::move(call);
  return mock;
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
    Mock mock = grpc_mock(REEL_TRY(grpc_call_from_exchange(e, o)));
    mark_partial(e, mock.metadata);
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
