// Test case documents: Keploy's NetworkTrafficDoc {version, kind, name, spec, curl} with an
// HTTPSchema spec {metadata, req, resp, objects, assertions, created, app_port} (kind Http) or a
// GrpcSpec {metadata, grpcReq, grpcResp, app_port, created, assertions} (kind gRPC, no curl).
#include <limits>

#include "testset/codec.h"
#include "testset/grpc_codec.h"
#include "testset/http_codec.h"
#include "testset/yaml_emit.h"

namespace reel::testset {

namespace {

Value noise_value(const NoiseMap& noise) {
  Value map = Value::mapping();
  for (const auto& [path, values] : noise) {
    Value& list = map.add(path, Value::sequence());
    for (const auto& v : values) list.push(Value::string(v));
  }
  return map;
}

// Keploy has written noise both as a map (path: [regex...]) and, in older files, as a list.
Result<NoiseMap> noise_from(const Value& v, const Decoder& in, std::string_view path) {
  NoiseMap noise;
  if (v.is_sequence()) {
    for (const auto& entry : REEL_TRY(in.string_list(v, path))) noise[entry];
    return noise;
  }
  if (!v.is_mapping() && !v.is_null()) return in.fail(v, path, "a mapping of field paths");
  for (const auto& [key, values] : v.members) {
    noise[key] = REEL_TRY(in.string_list(values, join_path(path, key)));
  }
  return noise;
}

Result<NoiseMap> assertions_from(const Value& spec, const Decoder& in) {
  const Value* assertions = REEL_TRY(in.optional(spec, "spec", "assertions"));
  if (assertions == nullptr) return NoiseMap{};
  const Value* noise = REEL_TRY(in.optional(*assertions, "spec.assertions", "noise"));
  if (noise == nullptr) return NoiseMap{};
  return noise_from(*noise, in, "spec.assertions.noise");
}

Value grpc_test_value(const TestCase& test) {
  Value doc = Value::mapping();
  doc.add("version", Value::string(test.version));
  doc.add("kind", Value::string("gRPC"));
  doc.add("name", Value::string(test.name));
  Value& spec = doc.add("spec", Value::mapping());
  spec.add("metadata", string_map_value(test.metadata));
  spec.add("grpcReq", grpc_request_value(test.grpc_req));
  spec.add("grpcResp", grpc_response_value(test.grpc_resp));
  if (test.app_port != 0) spec.add("app_port", Value::integer(test.app_port));
  if (test.created != 0) spec.add("created", Value::integer(test.created));
  spec.add("assertions", Value::mapping()).add("noise", noise_value(test.noise));
  if (!test.curl.empty()) doc.add("curl", Value::string(test.curl));
  return doc;
}

// What a gRPC spec has beyond what test_case_from_value reads for every kind.
Result<void> grpc_spec_from(const Value& spec, const Decoder& in, TestCase& test) {
  test.grpc_req = REEL_TRY(
      grpc_request_from(*REEL_TRY(in.member(spec, "spec", "grpcReq")), in, "spec.grpcReq"));
  test.grpc_resp = REEL_TRY(
      grpc_response_from(*REEL_TRY(in.member(spec, "spec", "grpcResp")), in, "spec.grpcResp"));
  return {};
}

}  // namespace

Value test_case_to_value(const TestCase& test) {
  if (test.kind == TestKind::kGrpc) return grpc_test_value(test);
  Value doc = Value::mapping();
  doc.add("version", Value::string(test.version));
  doc.add("kind", Value::string("Http"));
  doc.add("name", Value::string(test.name));
  Value& spec = doc.add("spec", Value::mapping());
  spec.add("metadata", string_map_value(test.metadata));
  spec.add("req", request_value(test.req));
  spec.add("resp", response_value(test.resp));
  spec.add("objects", chunks_value(test.objects));
  spec.add("assertions", Value::mapping()).add("noise", noise_value(test.noise));
  if (test.created != 0) spec.add("created", Value::integer(test.created));
  if (test.app_port != 0) spec.add("app_port", Value::integer(test.app_port));
  doc.add("curl", Value::string(test.curl.empty() ? make_curl(test.req) : test.curl));
  return doc;
}

std::string encode_test_case(const TestCase& test) {
  std::string out;
  emit_yaml(test_case_to_value(test), out);
  return out;
}

Result<TestCase> test_case_from_value(const Value& doc, const Decoder& in) {
  if (!doc.is_mapping()) return in.fail(doc, "", "a test case mapping (version, kind, spec)");
  std::string kind = REEL_TRY(in.text(*REEL_TRY(in.member(doc, "", "kind")), "kind"));
  if (kind != "Http" && kind != "gRPC") {
    return fail_msg("{}:{}: kind: expected Http or gRPC (the kinds reel replays), found {}",
                    in.source(), doc.find("kind")->line, kind);
  }
  TestCase test;
  test.kind = kind == "gRPC" ? TestKind::kGrpc : TestKind::kHttp;
  test.version = REEL_TRY(in.text_at(doc, "", "version"));
  test.name = REEL_TRY(in.text_at(doc, "", "name"));
  test.curl = REEL_TRY(in.text_at(doc, "", "curl"));
  const Value& spec = *REEL_TRY(in.member(doc, "", "spec"));
  if (!spec.is_mapping()) return in.fail(spec, "spec", "a mapping with req and resp");
  test.metadata = REEL_TRY(in.string_map_at(spec, "spec", "metadata"));
  if (test.kind == TestKind::kGrpc) {
    REEL_TRY(grpc_spec_from(spec, in, test));
  } else {
    test.req = REEL_TRY(request_from(*REEL_TRY(in.member(spec, "spec", "req")), in, "spec.req"));
    test.resp =
        REEL_TRY(response_from(*REEL_TRY(in.member(spec, "spec", "resp")), in, "spec.resp"));
    if (const Value* objects = REEL_TRY(in.optional(spec, "spec", "objects"))) {
      test.objects = REEL_TRY(chunks_from(*objects, in, "spec.objects"));
    }
  }
  test.noise = REEL_TRY(assertions_from(spec, in));
  test.created =
      REEL_TRY(in.integer_at(spec, "spec", "created", 0, std::numeric_limits<std::int64_t>::max()));
  test.app_port =
      static_cast<std::uint16_t>(REEL_TRY(in.integer_at(spec, "spec", "app_port", 0, 65535)));
  return test;
}

Result<TestCase> parse_test_case(std::string_view yaml, std::string_view source) {
  std::vector<Value> docs = REEL_TRY(parse_yaml(yaml, source));
  if (docs.size() != 1) {
    return fail_msg("{}: expected exactly one YAML document (a test case), found {}", source,
                    docs.size());
  }
  return test_case_from_value(docs[0], Decoder(source));
}

}  // namespace reel::testset
