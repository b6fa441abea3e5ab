#include "protocols/mysql/parse.h"

#include <string_view>

#include "protocols/byte_reader.h"

namespace reel::protocols::mysql {

namespace {

constexpr std::size_t kHeader = 4;
constexpr std::uint32_t kMaxResyncLength = 1 << 20;

struct Header {
  std::uint32_t length = 0;
  std::uint8_t seq = 0;
};

bool read_header(std::string_view data, std::size_t at, Header& h) {
  if (data.size() < at + kHeader) return false;
  ByteReader r(data.substr(at, kHeader));
  return r.le24(h.length) && r.u8(h.seq);
}

bool known_command(std::uint8_t c) { return c >= 0x01 && c <= 0x1f; }

// A reply's first byte: OK, ERR, EOF, LOCAL INFILE, or a small column count.
bool reply_start(std::uint8_t c) {
  return c == 0x00 || c == 0xff || c == 0xfe || c == 0xfb || c < 0x40;
}

}  // namespace

bool is_ssl_request(const Packet& p) {
  if (p.seq != 1 || p.length != 32 || p.payload.size() != 32) return false;
  ByteReader r(p.payload);
  std::uint32_t caps = 0;
  r.le32(caps);
  if ((caps & kClientSsl) == 0) return false;
  for (std::size_t i = 9; i < 32; ++i) {
    if (p.payload[i] != '\0') return false;  // the 23 reserved bytes
  }
  return true;
}

ParseResult parse_frame(MessageType type, std::span<const std::byte> data, Packet& frame,
                        State& state, const Limits& limits) {
  std::string_view text = as_chars(data);
  if (state.encrypted) {
    state.encrypted_bytes += text.size();
    return {ParseState::kNeedsMore, text.size()};
  }
  Header h;
  if (!read_header(text, 0, h)) return {};
  std::uint64_t keep = std::min<std::uint64_t>(h.length, limits.max_frame);
  if (text.size() < kHeader + keep) return {};
  frame.length = h.length;
  frame.seq = h.seq;
  frame.payload.assign(text.substr(kHeader, keep));
  frame.truncated = keep < h.length;
  if (type == MessageType::kRequest && is_ssl_request(frame)) state.encrypted = true;
  return {ParseState::kParsed, kHeader + std::uint64_t{h.length}};
}

std::size_t find_frame_boundary(MessageType type, std::span<const std::byte> data, const State&) {
  std::string_view text = as_chars(data);
  bool request = type == MessageType::kRequest;
  for (std::size_t i = 0; i + kHeader < text.size(); ++i) {
    Header h;
    read_header(text, i, h);
    if (h.length == 0 || h.length > kMaxResyncLength) continue;
    auto first = static_cast<std::uint8_t>(text[i + kHeader]);
    if (request ? (h.seq != 0 || !known_command(first)) : (h.seq != 1 || !reply_start(first))) {
      continue;
    }
    std::size_t next = i + kHeader + h.length;
    Header n;
    if (next < text.size() && read_header(text, next, n) && !request &&
        n.seq != static_cast<std::uint8_t>(h.seq + 1) && n.seq != 1) {
      continue;
    }
    return i;
  }
  return kNoBoundary;
}

}  // namespace reel::protocols::mysql
