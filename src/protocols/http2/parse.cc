#include "protocols/http2/parse.h"

#include <string>

#include "protocols/byte_reader.h"
#include "protocols/http2/hpack.h"

namespace reel::protocols::http2 {

namespace {

// Frame types past the last one in use (PRIORITY_UPDATE, RFC 9218) are taken for garbage: a
// passive reader cannot tell an unknown extension from misaligned bytes.
constexpr std::uint8_t kLastKnownType = 0x10;
// Longest frame a resync accepts as plausible (SETTINGS_MAX_FRAME_SIZE is rarely raised).
constexpr std::uint32_t kPlausibleLength = 1 << 20;
constexpr std::uint16_t kSettingsHeaderTableSize = 1;

struct Header {
  std::uint32_t length = 0;
  std::uint8_t type = 0;
  std::uint8_t flags = 0;
  std::uint32_t stream = 0;
};

Header read_header(std::string_view d) {
  auto b = [&](std::size_t i) { return static_cast<std::uint8_t>(d[i]); };
  return {static_cast<std::uint32_t>(b(0) << 16 | b(1) << 8 | b(2)), b(3), b(4),
          static_cast<std::uint32_t>((b(5) & 0x7f) << 24 | b(6) << 16 | b(7) << 8 | b(8))};
}

// What RFC 9113 section 6 requires of each frame type's length and stream id.
bool valid(const Header& h) {
  switch (h.type) {
    case kData:
    case kHeaders:
    case kContinuation:
    case kPushPromise:
      return h.stream != 0;
    case kPriority:
      return h.stream != 0 && h.length == 5;
    case kRstStream:
      return h.stream != 0 && h.length == 4;
    case kSettings:
      return h.stream == 0 && h.length % 6 == 0 && (!(h.flags & kFlagAck) || h.length == 0);
    case kPing:
      return h.stream == 0 && h.length == 8;
    case kGoaway:
      return h.stream == 0 && h.length >= 8;
    case kWindowUpdate:
      return h.length == 4;
    default:
      return h.type <= kLastKnownType;
  }
}

DirectionState& direction(MessageType type, State& state) {
  return type == MessageType::kRequest ? state.request : state.response;
}
DirectionState& opposite(MessageType type, State& state) {
  return type == MessageType::kRequest ? state.response : state.request;
}

// Strips the pad length byte and the padding of a PADDED frame; false when they do not fit.
bool unpad(const Header& h, std::string_view& payload) {
  if (!(h.flags & kFlagPadded)) return true;
  if (payload.empty()) return false;
  auto pad = static_cast<std::uint8_t>(payload[0]);
  if (pad >= payload.size()) return false;
  payload = payload.substr(1, payload.size() - 1 - pad);
  return true;
}

void read_settings(MessageType type, State& state, std::string_view payload) {
  ByteReader r(payload);
  std::uint16_t id = 0;
  std::uint32_t value = 0;
  while (r.be16(id) && r.be32(value)) {
    // The sender of SETTINGS decodes what the other side sends.
    if (id == kSettingsHeaderTableSize) allow_table_size(opposite(type, state), value);
  }
}

// Joins a header block's CONTINUATION frames. kParsed with `consumed` covering them all;
// kNeedsMore until they have all arrived; kInvalid if another frame interrupts them.
ParseState join_block(std::string_view d, std::size_t pos, std::uint32_t stream, std::string& block,
                      std::size_t& consumed, const Limits& limits) {
  while (true) {
    if (d.size() - pos < kFrameHeader) return ParseState::kNeedsMore;
    Header h = read_header(d.substr(pos));
    if (h.type != kContinuation || h.stream != stream) return ParseState::kInvalid;
    if (d.size() - pos - kFrameHeader < h.length) {
      if (pos + kFrameHeader + h.length > limits.max_frame) return ParseState::kParsed;  // too long
      return ParseState::kNeedsMore;
    }
    block.append(d.substr(pos + kFrameHeader, h.length));
    pos += kFrameHeader + h.length;
    consumed = pos;
    if (h.flags & kFlagEndHeaders) return ParseState::kParsed;
  }
}

}  // namespace

ParseResult parse_frame(MessageType type, std::span<const std::byte> data, Frame& frame,
                        State& state, const Limits& limits) {
  std::string_view d = as_chars(data);
  DirectionState& dir = direction(type, state);
  if (type == MessageType::kRequest && !dir.started) {
    std::size_t n = std::min(d.size(), kPreface.size());
    if (d.substr(0, n) == kPreface.substr(0, n)) {
      if (n < kPreface.size()) return {ParseState::kNeedsMore, 0};
      dir.started = dir.synced = true;
      frame.preface = true;
      return {ParseState::kParsed, kPreface.size()};
    }
  }
  if (d.size() < kFrameHeader) return {ParseState::kNeedsMore, 0};
  Header h = read_header(d);
  if (!valid(h)) return {ParseState::kInvalid, 0};
  std::uint64_t total = kFrameHeader + std::uint64_t{h.length};
  bool cut = total > limits.max_frame;
  if (d.size() < (cut ? limits.max_frame : total)) return {ParseState::kNeedsMore, 0};
  std::string_view payload =
      d.substr(kFrameHeader, std::min<std::uint64_t>(h.length, d.size() - kFrameHeader));
  if (cut) payload = payload.substr(0, limits.max_frame - kFrameHeader);
  std::uint64_t consumed = total;

  if (!dir.started && type == MessageType::kResponse && h.type == kSettings &&
      !(h.flags & kFlagAck)) {
    dir.synced = true;  // a server's first frame: its table is empty
  }
  frame.type = h.type;
  frame.flags = h.flags;
  frame.stream_id = h.stream;
  switch (h.type) {
    case kData: {
      std::uint64_t padding = 0;
      if (h.flags & kFlagPadded) {
        if (payload.empty() || static_cast<std::uint8_t>(payload[0]) >= h.length) {
          return {ParseState::kInvalid, 0};
        }
        padding = 1 + static_cast<std::uint8_t>(payload[0]);
        payload.remove_prefix(1);
        std::uint64_t body = h.length - padding;
        if (payload.size() > body) payload = payload.substr(0, body);
      }
      frame.end_stream = h.flags & kFlagEndStream;
      frame.data = std::string(payload);
      frame.data_size = h.length - padding;
      break;
    }
    case kHeaders:
    case kPushPromise: {
      if (cut || !unpad(h, payload)) {
        if (!cut) return {ParseState::kInvalid, 0};
        forget_table(dir);
        dir.orphan_continuation = (h.flags & kFlagEndHeaders) ? 0 : h.stream;
        frame.headers_partial = true;
        break;
      }
      ByteReader r(payload);
      if (h.type == kHeaders && (h.flags & kFlagPriority) && !r.skip(5)) {
        return {ParseState::kInvalid, 0};
      }
      if (h.type == kPushPromise) {
        std::uint32_t promised = 0;
        if (!r.be32(promised)) return {ParseState::kInvalid, 0};
        frame.promised_stream = promised & 0x7fffffff;
      }
      frame.end_stream = h.type == kHeaders && (h.flags & kFlagEndStream);
      std::string block(r.rest());
      if (!(h.flags & kFlagEndHeaders)) {
        std::size_t end = 0;
        ParseState s = join_block(d, total, h.stream, block, end, limits);
        if (s == ParseState::kNeedsMore) return {ParseState::kNeedsMore, 0};
        if (s == ParseState::kInvalid) return {ParseState::kInvalid, 0};
        if (end == 0 || block.size() > limits.max_header_bytes) {
          // The block is longer than we hold: drop it and what is left of it.
          forget_table(dir);
          dir.orphan_continuation = end == 0 ? h.stream : 0;
          frame.headers_partial = true;
          if (end != 0) consumed = end;
          break;
        }
        consumed = end;
      }
      decode_block(dir, block, frame, limits);
      break;
    }
    case kContinuation:
      // Only one whose HEADERS was lost or dropped reaches here; its fields are beyond reach.
      if (h.stream == dir.orphan_continuation && (h.flags & kFlagEndHeaders)) {
        dir.orphan_continuation = 0;
      }
      forget_table(dir);
      break;
    case kRstStream:
    case kGoaway: {
      ByteReader r(payload);
      std::uint32_t last = 0;
      if (h.type == kGoaway) r.be32(last);
      r.be32(frame.error_code);
      frame.last_stream = last & 0x7fffffff;
      break;
    }
    case kSettings:
      if (!(h.flags & kFlagAck)) read_settings(type, state, payload);
      break;
    default:
      break;  // PRIORITY, PING, WINDOW_UPDATE and extensions carry nothing for the exchanges
  }
  dir.started = true;
  return {ParseState::kParsed, consumed};
}

std::size_t find_frame_boundary(MessageType type, std::span<const std::byte> data, const State&) {
  std::string_view d = as_chars(data);
  for (std::size_t i = 0; i + kFrameHeader <= d.size(); ++i) {
    if (type == MessageType::kRequest && d.substr(i).starts_with(kPreface)) return i;
    Header h = read_header(d.substr(i));
    if (h.length > kPlausibleLength || !valid(h) || h.type > kContinuation) continue;
    if (static_cast<std::uint8_t>(d[i + 5]) & 0x80) continue;  // the reserved bit is always 0
    std::uint64_t next = i + kFrameHeader + std::uint64_t{h.length};
    if (next + kFrameHeader <= d.size()) {
      // A second frame header right after makes a chance match unlikely.
      Header n = read_header(d.substr(next));
      if (n.length > kPlausibleLength || !valid(n) || n.type > kContinuation) continue;
    }
    return i;
  }
  return kNoBoundary;
}

void on_gap(MessageType type, State& state) {
  DirectionState& dir = direction(type, state);
  dir.started = true;
  forget_table(dir);
  dir.orphan_continuation = 0;
}

}  // namespace reel::protocols::http2
