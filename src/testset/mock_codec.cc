// Mock documents. Keploy's Go structs name keys inconsistently (Generic and Redis spec fields
// have no yaml tags, so Go lower-cases them: genericrequests, reqtimestampmock; Http and DNS
// tag theirs reqTimestampMock). We write each kind exactly as Keploy does and read any case.
#include <limits>

#include "testset/codec.h"
#include "testset/grpc_codec.h"
#include "testset/http_codec.h"
#include "testset/yaml_emit.h"

namespace reel::testset {

namespace {

constexpr std::int64_t kMaxInt = std::numeric_limits<std::int64_t>::max();

struct PacketKeys {
  std::string_view requests, responses;
};

// Keploy's Postgres v1 parser writes postgresrequests; PostgresV2 and MySQL write requests.
PacketKeys packet_keys(const Mock& mock) {
  if (mock.kind == MockKind::kPostgres && mock.kind_name != "PostgresV2") {
    return {"postgresrequests", "postgresresponses"};
  }
  return {"requests", "responses"};
}

void add_timestamps(Value& spec, const Mock& mock, bool camel, bool omit_zero) {
  if (!omit_zero || !mock.req_timestamp.is_zero()) {
    spec.add(camel ? "reqTimestampMock" : "reqtimestampmock", timestamp_value(mock.req_timestamp));
  }
  if (!omit_zero || !mock.res_timestamp.is_zero()) {
    spec.add(camel ? "resTimestampMock" : "restimestampmock", timestamp_value(mock.res_timestamp));
  }
}

void add_dns(Value& spec, const DnsMockSpec& dns) {
  Value req = Value::mapping();
  req.add("name", Value::string(dns.name));
  req.add("qtype", Value::integer(dns.qtype));
  req.add("qclass", Value::integer(dns.qclass));
  Value resp = Value::mapping();
  resp.add("rcode", Value::integer(dns.rcode));
  resp.add("authoritative", Value::boolean(dns.authoritative));
  resp.add("recursionAvailable", Value::boolean(dns.recursion_available));
  resp.add("truncated", Value::boolean(dns.truncated));
  auto list = [&](std::string_view key, const std::vector<std::string>& items) {
    if (items.empty()) return;
    Value& l = resp.add(std::string(key), Value::sequence());
    for (const auto& s : items) l.push(Value::string(s));
  };
  list("answers", dns.answers);
  list("ns", dns.ns);
  list("extra", dns.extra);
  spec.add("request", std::move(req));
  spec.add("response", std::move(resp));
}

struct SpecWriter {
  const Mock& mock;
  Value& spec;

  void operator()(const HttpMockSpec& http) {
    spec.add("req", request_value(http.req));
    spec.add("resp", response_value(http.resp));
    spec.add("objects", Value::sequence());
    if (http.created != 0) spec.add("created", Value::integer(http.created));
    add_timestamps(spec, mock, true, true);
  }
  void operator()(const PayloadMockSpec& p) {
    bool redis = mock.kind == MockKind::kRedis;
    spec.add(redis ? "redisrequests" : "genericrequests", payloads_value(p.requests));
    spec.add(redis ? "redisresponses" : "genericresponses", payloads_value(p.responses));
    add_timestamps(spec, mock, false, false);
  }
  void operator()(const PacketMockSpec& p) {
    PacketKeys keys = packet_keys(mock);
    Value& requests = spec.add(std::string(keys.requests), Value::sequence());
    for (const auto& v : p.requests) requests.push(v);
    Value& responses = spec.add(std::string(keys.responses), Value::sequence());
    for (const auto& v : p.responses) responses.push(v);
    if (p.created != 0) spec.add("created", Value::integer(p.created));
    add_timestamps(spec, mock, false, false);
  }
  void operator()(const DnsMockSpec& dns) {
    add_dns(spec, dns);
    add_timestamps(spec, mock, true, true);
  }
  void operator()(const GrpcMockSpec& grpc) {
    spec.add("grpcReq", grpc_request_value(grpc.req));
    spec.add("grpcResp", grpc_response_value(grpc.resp));
    add_timestamps(spec, mock, true, true);
  }
  void operator()(const OpaqueMockSpec&) {}
};

Result<MockSpec> http_spec_from(const Value& spec, const Decoder& in) {
  HttpMockSpec http;
  http.req = REEL_TRY(request_from(*REEL_TRY(in.member(spec, "spec", "req")), in, "spec.req"));
  http.resp = REEL_TRY(response_from(*REEL_TRY(in.member(spec, "spec", "resp")), in, "spec.resp"));
  http.created = REEL_TRY(in.integer_at(spec, "spec", "created", 0, kMaxInt));
  return http;
}

Result<MockSpec> payload_spec_from(const Value& spec, const Decoder& in, bool redis) {
  std::string_view req_key = redis ? "redisrequests" : "genericrequests";
  std::string_view resp_key = redis ? "redisresponses" : "genericresponses";
  PayloadMockSpec p;
  p.requests = REEL_TRY(payloads_from(spec.find(req_key), in, join_path("spec", req_key)));
  p.responses = REEL_TRY(payloads_from(spec.find(resp_key), in, join_path("spec", resp_key)));
  return p;
}

Result<std::vector<Value>> packets_from(const Value& spec, const Decoder& in, std::string_view key,
                                        std::string_view fallback) {
  const Value* list = spec.find(key);
  std::string_view used = key;
  if (list == nullptr) {
    list = spec.find(fallback);
    used = fallback;
  }
  if (list == nullptr || list->is_null()) return std::vector<Value>{};
  if (!list->is_sequence()) return in.fail(*list, join_path("spec", used), "a list of packets");
  return list->items;
}

Result<MockSpec> packet_spec_from(const Value& spec, const Decoder& in) {
  PacketMockSpec p;
  p.requests = REEL_TRY(packets_from(spec, in, "requests", "postgresrequests"));
  p.responses = REEL_TRY(packets_from(spec, in, "responses", "postgresresponses"));
  p.created = REEL_TRY(in.integer_at(spec, "spec", "created", 0, kMaxInt));
  return p;
}

Result<MockSpec> dns_spec_from(const Value& spec, const Decoder& in) {
  DnsMockSpec dns;
  const Value& req = *REEL_TRY(in.member(spec, "spec", "request"));
  dns.name = REEL_TRY(in.text_at(req, "spec.request", "name"));
  dns.qtype =
      static_cast<std::uint16_t>(REEL_TRY(in.integer_at(req, "spec.request", "qtype", 0, 65535)));
  dns.qclass =
      static_cast<std::uint16_t>(REEL_TRY(in.integer_at(req, "spec.request", "qclass", 0, 65535)));
  const Value& resp = *REEL_TRY(in.member(spec, "spec", "response"));
  constexpr std::string_view kResp = "spec.response";
  dns.rcode = static_cast<int>(REEL_TRY(in.integer_at(resp, kResp, "rcode", 0, 65535)));
  auto flag = [&](std::string_view key) -> Result<bool> {
    const Value* v = REEL_TRY(in.optional(resp, kResp, key));
    return v ? in.boolean(*v, join_path(kResp, key)) : false;
  };
  dns.authoritative = REEL_TRY(flag("authoritative"));
  dns.recursion_available = REEL_TRY(flag("recursionAvailable"));
  dns.truncated = REEL_TRY(flag("truncated"));
  auto list = [&](std::string_view key) -> Result<std::vector<std::string>> {
    const Value* v = REEL_TRY(in.optional(resp, kResp, key));
    return v ? in.string_list(*v, join_path(kResp, key)) : std::vector<std::string>{};
  };
  dns.answers = REEL_TRY(list("answers"));
  dns.ns = REEL_TRY(list("ns"));
  dns.extra = REEL_TRY(list("extra"));
  return dns;
}

Result<MockSpec> grpc_spec_from(const Value& spec, const Decoder& in) {
  GrpcMockSpec grpc;
  grpc.req = REEL_TRY(
      grpc_request_from(*REEL_TRY(in.member(spec, "spec", "grpcReq")), in, "spec.grpcReq"));
  grpc.resp = REEL_TRY(
      grpc_response_from(*REEL_TRY(in.member(spec, "spec", "grpcResp")), in, "spec.grpcResp"));
  return grpc;
}

Result<MockSpec> spec_from(const Mock& mock, const Value& spec, const Decoder& in) {
  switch (mock.kind) {
    case MockKind::kHttp:
      return http_spec_from(spec, in);
    case MockKind::kGeneric:
      return payload_spec_from(spec, in, false);
    case MockKind::kRedis:
      return payload_spec_from(spec, in, true);
    case MockKind::kPostgres:
    case MockKind::kMySql:
      return packet_spec_from(spec, in);
    case MockKind::kDns:
      return dns_spec_from(spec, in);
    case MockKind::kGrpc:
      return grpc_spec_from(spec, in);
    case MockKind::kUnknown:
      break;
  }
  return OpaqueMockSpec{spec};
}

}  // namespace

std::size_t MockFile::unknown_count() const {
  std::size_t n = 0;
  for (const auto& [kind, count] : unknown_kinds) n += count;
  return n;
}

Value mock_to_value(const Mock& mock) {
  Value doc = Value::mapping();
  doc.add("version", Value::string(mock.version));
  std::string kind =
      mock.kind_name.empty() ? std::string(mock_kind_name(mock.kind)) : mock.kind_name;
  doc.add("kind", Value::string(kind));
  doc.add("name", Value::string(mock.name));
  if (const auto* opaque = std::get_if<OpaqueMockSpec>(&mock.spec)) {
    doc.add("spec", opaque->spec);
  } else {
    Value& spec = doc.add("spec", Value::mapping());
    spec.add("metadata", string_map_value(mock.metadata));
    std::visit(SpecWriter{mock, spec}, mock.spec);
  }
  if (!mock.connection_id.empty()) doc.add("connectionId", Value::string(mock.connection_id));
  return doc;
}

std::string encode_mock(const Mock& mock) {
  std::string out;
  emit_yaml(mock_to_value(mock), out);
  return out;
}

Result<Mock> mock_from_value(const Value& doc, const Decoder& in) {
  if (!doc.is_mapping()) return in.fail(doc, "", "a mock mapping (version, kind, name, spec)");
  Mock mock;
  mock.kind_name = REEL_TRY(in.text(*REEL_TRY(in.member(doc, "", "kind")), "kind"));
  mock.kind = mock_kind_from_name(mock.kind_name);
  mock.version = REEL_TRY(in.text_at(doc, "", "version"));
  mock.name = REEL_TRY(in.text_at(doc, "", "name"));
  mock.connection_id = REEL_TRY(in.text_at(doc, "", "connectionId"));
  const Value& spec = *REEL_TRY(in.member(doc, "", "spec"));
  if (!spec.is_mapping()) return in.fail(spec, "spec", "a mapping");
  if (mock.kind != MockKind::kUnknown) {
    mock.metadata = REEL_TRY(in.string_map_at(spec, "spec", "metadata"));
    mock.req_timestamp = REEL_TRY(in.timestamp_at(spec, "spec", "reqTimestampMock"));
    mock.res_timestamp = REEL_TRY(in.timestamp_at(spec, "spec", "resTimestampMock"));
  }
  mock.spec = REEL_TRY(spec_from(mock, spec, in));
  return mock;
}

Result<MockFile> parse_mocks(std::string_view yaml, std::string_view source) {
  std::vector<Value> docs = REEL_TRY(parse_yaml(yaml, source));
  Decoder in(source);
  MockFile file;
  for (const Value& doc : docs) {
    if (doc.is_null()) continue;  // an empty document, e.g. a trailing "---"
    Mock mock = REEL_TRY(mock_from_value(doc, in));
    if (mock.kind == MockKind::kUnknown) file.unknown_kinds[mock.kind_name]++;
    file.mocks.push_back(std::move(mock));
  }
  return file;
}

Result<RecoveredMocks> parse_mocks_recovering(std::string_view yaml, std::string_view source) {
  auto whole = parse_mocks(yaml, source);
  if (whole) return RecoveredMocks{std::move(*whole), yaml.size(), {}};
  std::size_t sep = yaml.rfind("\n---\n");
  if (sep == std::string_view::npos) return std::unexpected(whole.error());
  std::string_view prefix = yaml.substr(0, sep + 1);
  auto head = parse_mocks(prefix, source);
  if (!head) return std::unexpected(whole.error());
  std::string warning = fmt::format("{}: the last mock was cut short (a crash or a full disk while "
                                    "recording?) and is ignored: {}",
                                    source, whole.error().message);
  return RecoveredMocks{std::move(*head), prefix.size(), std::move(warning)};
}

}  // namespace reel::testset
