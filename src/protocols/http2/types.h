// HTTP/2 frames (RFC 9113) and per-connection parse and stitch state. HPACK (RFC 7541) is
// decoded with libnghttp2's inflater, one per direction; no nghttp2 session is driven, since a
// passive observer must not answer, ack or enforce flow control.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/exchange.h"
#include "protocols/types.h"

struct nghttp2_hd_inflater;

namespace reel::protocols::http2 {

inline constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
inline constexpr std::size_t kFrameHeader = 9;

enum FrameType : std::uint8_t {
  kData = 0,
  kHeaders = 1,
  kPriority = 2,
  kRstStream = 3,
  kSettings = 4,
  kPushPromise = 5,
  kPing = 6,
  kGoaway = 7,
  kWindowUpdate = 8,
  kContinuation = 9,
};

inline constexpr std::uint8_t kFlagEndStream = 0x1;  // DATA, HEADERS
inline constexpr std::uint8_t kFlagAck = 0x1;        // SETTINGS, PING
inline constexpr std::uint8_t kFlagEndHeaders = 0x4;
inline constexpr std::uint8_t kFlagPadded = 0x8;
inline constexpr std::uint8_t kFlagPriority = 0x20;

// One HTTP/2 frame, or the client preface. A HEADERS or PUSH_PROMISE frame comes with its
// CONTINUATION frames already joined and its header block decoded.
struct Frame : FrameBase {
  bool preface = false;
  std::uint8_t type = 0;
  std::uint8_t flags = 0;
  std::uint32_t stream_id = 0;
  bool end_stream = false;
  Headers headers;                    // HEADERS, PUSH_PROMISE
  bool headers_partial = false;       // some fields could not be decoded (HPACK table unknown)
  bool headers_truncated = false;     // more than Limits::max_headers
  std::string data;                   // DATA payload without padding, cut at Limits::max_frame
  std::uint64_t data_size = 0;        // true DATA payload size
  std::uint32_t error_code = 0;       // RST_STREAM, GOAWAY
  std::uint32_t promised_stream = 0;  // PUSH_PROMISE
  std::uint32_t last_stream = 0;      // GOAWAY
};

// Owns one nghttp2_hd_inflater.
class Inflater {
 public:
  Inflater();
  Inflater(Inflater&& other) noexcept;
  Inflater& operator=(Inflater&& other) noexcept;
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
  ~Inflater();

  nghttp2_hd_inflater* get() const { return inflater_; }

 private:
  nghttp2_hd_inflater* inflater_ = nullptr;
};

// One direction: its HPACK decoder and whether that decoder's table matches the sender's.
struct DirectionState {
  Inflater hpack;    // used while `synced`
  Inflater partial;  // decodes single static-table and literal fields once out of sync
  bool started = false;
  // The table is known: this side was seen from its first byte (client preface, the server's
  // first SETTINGS) and nothing was lost since.
  bool synced = false;
  std::size_t table_limit = 4096;         // SETTINGS_HEADER_TABLE_SIZE the receiver allowed
  std::uint32_t orphan_continuation = 0;  // stream whose over-long header block was dropped
};

struct State {
  DirectionState request;
  DirectionState response;
};

// Splits a gRPC stream's bytes into length-prefixed messages as DATA frames arrive.
struct GrpcMessage {
  bool compressed = false;
  std::uint32_t length = 0;
  std::string payload;  // at most Limits::max_body
};

struct GrpcSplitter {
  std::string prefix;  // bytes of the 5-byte prefix read so far
  std::uint64_t remaining = 0;
  bool in_message = false;
  std::uint64_t count = 0;
  std::vector<GrpcMessage> messages;  // the first Limits::max_items
  std::size_t kept = 0;
  bool cut = false;  // a message was cut or dropped

  void feed(std::string_view bytes, const Limits& limits);
};

// One direction of one stream.
struct HalfStream {
  bool seen = false;
  bool ended = false;
  bool partial = false;
  bool truncated = false;
  bool gap = false;
  Timing time;
  std::uint64_t wire = 0;
  Headers headers;
  Headers trailers;
  Body body;
  GrpcSplitter grpc;
  std::string interim;  // 1xx statuses, "100,103"
};

struct Stream {
  HalfStream request;
  HalfStream response;
  bool pushed = false;
  std::uint32_t reset = 0;  // RST_STREAM error code + 1, 0 when none
};

struct StitchState {
  std::map<std::uint32_t, Stream> streams;
  std::set<std::uint32_t> closed;  // recently finished streams: late frames for them are dropped
};

}  // namespace reel::protocols::http2
