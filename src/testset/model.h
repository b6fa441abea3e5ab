// reel's on-disk test sets, modelled on Keploy's `api.keploy.io/v1beta1` YAML:
//
//   DIR/test-set-N/tests/test-K.yaml   one test case each (kind: Http or gRPC)
//   DIR/test-set-N/mocks.yaml          every outbound call, one YAML document per mock
//
// Field names and order follow Keploy's Go structs (pkg/models: HTTPSchema, HTTPReq, HTTPResp,
// GenericSchema, RedisSchema, DNSSchema, mysql.Spec, postgres.Spec), so files travel both ways.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "testset/timestamp.h"
#include "testset/yaml_value.h"

namespace reel::testset {

inline constexpr std::string_view kVersion = "api.keploy.io/v1beta1";

// Keploy keeps one value per header name in a Go map, written in byte order of the names.
// Repeated headers are joined with ", " when converting from the wire.
using HeaderMap = std::map<std::string, std::string>;
// Case-insensitive lookup; nullptr when absent.
const std::string* find_header(const HeaderMap& headers, std::string_view name);

struct HttpRequest {
  std::string method;
  int proto_major = 1;
  int proto_minor = 1;
  std::string url;  // absolute: http://host:port/path?query
  std::map<std::string, std::string> url_params;
  HeaderMap header;
  std::string body;  // bytes; written as !!binary when not UTF-8
  Timestamp timestamp;

  friend bool operator==(const HttpRequest&, const HttpRequest&) = default;
};

struct HttpResponse {
  int status_code = 0;
  HeaderMap header;
  std::string body;
  std::string status_message;
  int proto_major = 0;
  int proto_minor = 0;
  Timestamp timestamp;

  friend bool operator==(const HttpResponse&, const HttpResponse&) = default;
};

// Keploy's assertions.noise: field path -> values. A path is "header.<Name>", "body" (the whole
// body) or "body.<key>.<key>..." (JSON, array elements by index). An empty list ignores the
// field; a non-empty one ignores it only while both sides fully match one of the regexes.
using NoiseMap = std::map<std::string, std::vector<std::string>>;

// Keploy's OutputBinary: {type, data}. type "binary" means data is base64 on disk; anything
// else ("string") means data is the text itself. `data` here is always the decoded bytes.
struct Chunk {
  std::string data;
  friend bool operator==(const Chunk&, const Chunk&) = default;
};

// gRPC, in Keploy's GrpcSpec shape (kind "gRPC"), extended to every message of a stream.
// Header names are lower case (HTTP/2); a repeated name keeps its values joined with ", ".
struct GrpcHeaders {
  std::map<std::string, std::string> pseudo;    // ":method", ":path", ":status", ...
  std::map<std::string, std::string> ordinary;  // "content-type", "grpc-status", metadata
  friend bool operator==(const GrpcHeaders&, const GrpcHeaders&) = default;
};

// One length-prefixed message. `data` is the protobuf (or other) payload with any grpc-encoding
// undone, so it compares and reads the same whether it travelled compressed or not; replay
// compresses it again with the stream's grpc-encoding when `compressed`.
struct GrpcMessage {
  bool compressed = false;       // the compressed flag as sent
  std::uint32_t wire_length = 0;  // the length prefix as sent (compressed size when compressed)
  std::string data;
  friend bool operator==(const GrpcMessage&, const GrpcMessage&) = default;
};

struct GrpcRequest {
  GrpcHeaders headers;
  std::vector<GrpcMessage> messages;  // in stream order: one for unary, any for streaming
  Timestamp timestamp;
  friend bool operator==(const GrpcRequest&, const GrpcRequest&) = default;
};

struct GrpcResponse {
  GrpcHeaders headers;  // for a trailers-only answer, the status is here and trailers are empty
  std::vector<GrpcMessage> messages;
  GrpcHeaders trailers;  // grpc-status, grpc-message, trailing metadata
  Timestamp timestamp;
  friend bool operator==(const GrpcResponse&, const GrpcResponse&) = default;
};

// The call's gRPC status: the trailers' grpc-status, else the headers' (trailers-only); -1
// when neither has a number.
int grpc_status(const GrpcResponse& resp);

enum class TestKind : std::uint8_t { kHttp, kGrpc };

struct TestCase {
  std::string version = std::string(kVersion);
  TestKind kind = TestKind::kHttp;
  std::string name;  // "test-1"; the file is tests/<name>.yaml
  std::map<std::string, std::string> metadata;
  HttpRequest req;    // kind kHttp (proto_major 2: sent over HTTP/2)
  HttpResponse resp;
  GrpcRequest grpc_req;    // kind kGrpc
  GrpcResponse grpc_resp;
  std::vector<Chunk> objects;
  NoiseMap noise;
  std::int64_t created = 0;  // unix seconds
  std::uint16_t app_port = 0;
  std::string curl;  // regenerated from `req` when empty

  friend bool operator==(const TestCase&, const TestCase&) = default;
};

enum class MockKind : std::uint8_t {
  kHttp,
  kGeneric,
  kRedis,
  kPostgres,
  kMySql,
  kDns,
  kGrpc,
  kUnknown
};

// "Http", "Generic", "Redis", "Postgres", "MySQL", "DNS", "gRPC"; kUnknown has no fixed name.
std::string_view mock_kind_name(MockKind kind);
// Exact Keploy kind string to enum ("PostgresV2" is a Postgres too); kUnknown otherwise.
MockKind mock_kind_from_name(std::string_view name);

struct HttpMockSpec {
  HttpRequest req;
  HttpResponse resp;
  std::int64_t created = 0;
  friend bool operator==(const HttpMockSpec&, const HttpMockSpec&) = default;
};

// One side's bytes of a Generic or Redis exchange, in wire order.
struct Payload {
  std::string origin;  // "client" or "server"
  std::vector<Chunk> message;
  friend bool operator==(const Payload&, const Payload&) = default;
};

// Generic and Redis: raw byte exchanges.
struct PayloadMockSpec {
  std::vector<Payload> requests;
  std::vector<Payload> responses;
  friend bool operator==(const PayloadMockSpec&, const PayloadMockSpec&) = default;
};

// Postgres and MySQL: decoded packets, kept as YAML trees in Keploy's shapes (MySQL:
// {header: {header: {payload_length, sequence_id}, packet_type}, message: {...}}; Postgres v1:
// {identifier, header, query: {string}, ...}). The packet writers own their shape.
struct PacketMockSpec {
  std::vector<Value> requests;
  std::vector<Value> responses;
  std::int64_t created = 0;
  friend bool operator==(const PacketMockSpec&, const PacketMockSpec&) = default;
};

struct DnsMockSpec {
  std::string name;  // question
  std::uint16_t qtype = 1;
  std::uint16_t qclass = 1;
  int rcode = 0;
  bool authoritative = false;
  bool recursion_available = false;
  bool truncated = false;
  std::vector<std::string> answers;  // zone-file lines: "example.com.\t300\tIN\tA\t1.2.3.4"
  std::vector<std::string> ns;
  std::vector<std::string> extra;
  friend bool operator==(const DnsMockSpec&, const DnsMockSpec&) = default;
};

// gRPC: one call (an HTTP/2 stream whose content-type is application/grpc*).
struct GrpcMockSpec {
  GrpcRequest req;
  GrpcResponse resp;
  friend bool operator==(const GrpcMockSpec&, const GrpcMockSpec&) = default;
};

// A kind reel does not model: the whole spec, written back untouched.
struct OpaqueMockSpec {
  Value spec;
  friend bool operator==(const OpaqueMockSpec&, const OpaqueMockSpec&) = default;
};

using MockSpec = std::variant<HttpMockSpec, PayloadMockSpec, PacketMockSpec, DnsMockSpec,
                              GrpcMockSpec, OpaqueMockSpec>;

struct Mock {
  std::string version = std::string(kVersion);
  MockKind kind = MockKind::kUnknown;
  std::string kind_name;  // as in the file; defaults to mock_kind_name(kind) when written
  std::string name;       // "mock-0"; assigned by the writer when empty
  // Keploy keys: "type" ("config": connection set-up and session-wide, "mocks": during a
  // test), "connID", "operation", "requestOperation", "responseOperation", ...
  std::map<std::string, std::string> metadata;
  MockSpec spec;
  Timestamp req_timestamp;
  Timestamp res_timestamp;
  std::string connection_id;  // top-level connectionId

  friend bool operator==(const Mock&, const Mock&) = default;
};

}  // namespace reel::testset
