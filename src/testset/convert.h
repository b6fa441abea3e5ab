// From what capture and the proxy produce to what the writer stores: an HTTP exchange into the
// app becomes a test case, one out of the app an Http mock, and raw byte exchanges (unknown
// protocols, Redis) Generic or Redis mocks.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
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
// What could be read of a gRPC exchange that cannot replay faithfully: its headers as decoded
// and the messages that arrived whole, so that it can be listed, never replayed as if whole.
GrpcMockSpec grpc_call_as_seen(const protocols::Exchange& exchange, const ConvertOptions& options);
// A call as a gRPC mock (metadata type "mocks", operation its :path).
Mock grpc_mock(GrpcMockSpec call);
// Largest decompressed gRPC message kept (a bigger one fails the conversion).
inline constexpr std::size_t kMaxGrpcMessage = 64 * 1024 * 1024;

// gRPC's length-prefixed messages, one way and the other; recorder, mock server, self-check and
// `reel test` all frame and split with these.
// The DATA bytes of one direction as messages, each decompressed with `encoding` (the stream's
// grpc-encoding) when its flag says so. Fails, naming `side` ("request") and the message, on
// bytes that end inside a message or an encoding reel cannot undo (it knows gzip, deflate).
Result<std::vector<GrpcMessage>> grpc_split_messages(std::string_view body,
                                                     std::string_view encoding,
                                                     std::string_view side);
// Each message behind its 5-byte prefix, compressed again with `encoding` where it travelled
// compressed. Fails when that encoding is not one reel can produce (gzip, deflate).
Result<std::string> grpc_frame_messages(const std::vector<GrpcMessage>& messages,
                                        std::string_view encoding);
// gzip ("gzip") or zlib ("deflate") compression; nullopt for any other encoding.
std::optional<std::string> grpc_compress(std::string_view data, std::string_view encoding);

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
