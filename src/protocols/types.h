// Vocabulary shared by every protocol parser: what a parse call returns, frame timing, limits.
//
// Parsers here are pure: they read a byte span and an explicit per-connection state, never a
// socket, a map or a file. They must not depend on anything in src/ but this folder, because the
// clang fuzz build compiles them on their own (and clang 14 cannot compile core/result.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace reel::protocols {

enum class Protocol : std::uint8_t {
  kUnknown,
  kHttp1,
  kHttp2,
  kRedis,
  kPostgres,
  kMysql,
  kDns,
  kTls,
  kRaw
};

// "unknown", "http1", "http2", "redis", "postgres", "mysql", "dns", "tls", "raw".
std::string_view protocol_name(Protocol protocol);

// Who sent the bytes: requests come from the connection's client, responses from its server.
enum class MessageType : std::uint8_t { kRequest, kResponse };

enum class ParseState : std::uint8_t { kParsed, kNeedsMore, kInvalid };

struct ParseResult {
  ParseState state = ParseState::kNeedsMore;
  // Bytes to drop from the front of the input. With kParsed it can exceed the input's size: the
  // frame was longer than Limits::max_frame, was cut there, and the rest is to be skipped as it
  // arrives. With kNeedsMore it is non-zero only for streaming parsers (HTTP) that keep what they
  // took in their state.
  std::uint64_t consumed = 0;
};

// Arrival times (ns, the capture's clock) of a message's first and last byte.
struct Timing {
  std::uint64_t first_ns = 0;
  std::uint64_t last_ns = 0;
};

// Fields every frame carries; the decoder fills them, parsers leave them alone.
struct FrameBase {
  Timing time;
  bool after_gap = false;       // bytes were lost just before this frame
  std::uint64_t wire_size = 0;  // bytes on the wire, any skipped tail included
};

// Bounds on what one connection may make us hold. Traffic is hostile: every length read off the
// wire is checked against one of these before anything is allocated for it.
struct Limits {
  std::size_t max_body = 64 * 1024;     // body bytes kept per message (true size still counted)
  // Every HTTP/1 header kept, and bodies up to max_body. Off where no output shows them (a trace
  // line): only the request headers an exchange's own fields come from (Host, Content-Encoding,
  // Upgrade) are kept, no response header and no body; framing, sizes and everything else are the
  // same, only copies are saved.
  bool http1_contents = true;
  std::size_t max_frame = 1024 * 1024;  // longer frames are cut here and their tail skipped
  std::size_t max_header_bytes = 64 * 1024;  // HTTP request/status line plus headers
  std::size_t max_headers = 128;             // headers kept per HTTP message
  std::size_t max_items = 256;               // rows, arguments, records, columns kept per message
  std::size_t max_field = 4096;              // bytes kept of one argument, value or name
  std::size_t max_pending = 1024;            // frames held per direction waiting for a partner
};

// find_frame_boundary's answer when no plausible frame start was found.
inline constexpr std::size_t kNoBoundary = static_cast<std::size_t>(-1);

inline std::string_view as_chars(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
inline std::span<const std::byte> as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

}  // namespace reel::protocols
