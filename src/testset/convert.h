// From what capture and the proxy produce to what the writer stores: an HTTP exchange into the
// app becomes a test case, one out of the app an Http mock, and raw byte exchanges (unknown
// protocols, Redis) Generic or Redis mocks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "protocols/exchange.h"
#include "testset/model.h"

namespace reel::testset {

struct ConvertOptions {
  std::string scheme = "http";
  // Written as the test's app_port, and used in the URL when the request had no Host header.
  std::uint16_t app_port = 0;
  // Added to capture timestamps (Exchange::Timing, ByteExchange) to make Unix-epoch
  // nanoseconds; 0 when they already are wall-clock time.
  std::int64_t clock_to_unix_ns = 0;
  std::int32_t utc_offset_s = 0;  // the offset times are written in (Keploy writes local time)
};

// Fails on an exchange that is not HTTP (1.x or 2) or lacks a request or a response. An HTTP/2
// exchange carrying gRPC becomes a gRPC test case (TestKind::kGrpc) or a gRPC mock; any other
// HTTP/2 exchange an Http one with proto_major 2 (pseudo-headers folded into method, URL and
// status). An exchange with
// a gap or a truncated body is converted but marked in metadata ("gap": "true", "truncated":
// "request"/"response"/"both") so nothing passes a partial recording off as whole.
Result<TestCase> test_case_from_exchange(const protocols::Exchange& exchange,
                                         const ConvertOptions& options);
Result<Mock> http_mock_from_exchange(const protocols::Exchange& exchange,
                                     const ConvertOptions& options);

// An HTTP/2 exchange whose content-type is application/grpc*.
bool is_grpc(const protocols::Exchange& exchange);
// Such an exchange as one call: pseudo and ordinary headers apart, trailers apart, the DATA
// bytes split into messages and decompressed (grpc-encoding gzip or deflate). Fails, saying
// why, on what cannot replay faithfully: a body cut by the capture limit, a message cut short,
// an encoding reel cannot undo, headers only partly decoded.
Result<GrpcMockSpec> grpc_call_from_exchange(const protocols::Exchange& exchange,
                                             const ConvertOptions& options);
// Largest decompressed gRPC message kept (a bigger one fails the conversion).
inline constexpr std::size_t kMaxGrpcMessage = 64 * 1024 * 1024;

// One request/response round of an opaque byte stream: the client's writes, then the server's.
struct ByteExchange {
  std::vector<std::string> requests;  // chunks in wire order
  std::vector<std::string> responses;
  std::uint64_t request_ns = 0;   // first request byte, capture clock
  std::uint64_t response_ns = 0;  // last response byte, capture clock
  std::string connection_id;
  bool startup = false;  // connection set-up, session-wide: metadata type "config", else "mocks"
};

// kind: MockKind::kGeneric or MockKind::kRedis (same shape, Keploy keys differ).
Mock payload_mock(const ByteExchange& exchange, MockKind kind, const ConvertOptions& options);
inline Mock generic_mock(const ByteExchange& exchange, const ConvertOptions& options) {
  return payload_mock(exchange, MockKind::kGeneric, options);
}

}  // namespace reel::testset
