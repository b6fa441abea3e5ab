#include "protocols/postgres/parse.h"

#include <string_view>

#include "protocols/byte_reader.h"

namespace reel::protocols::postgres {

namespace {

// PostgreSQL itself refuses startup packets over 10000 bytes.
constexpr std::uint32_t kMaxStartup = 10000;
// A length accepted while resyncing: larger ones are more likely garbage than a real message.
constexpr std::uint32_t kMaxResyncLength = 16 * 1024 * 1024;

bool is_startup_code(std::uint32_t code) {
  return (code >> 16) == 3 || code == kCancelRequest || code == kSslRequest ||
         code == kGssEncRequest;
}

// Fills `frame` with a message whose payload starts at `header` bytes into `data`.
ParseResult take(std::string_view data, std::size_t header, char tag, std::uint32_t length,
                 Message& frame, const Limits& limits) {
  std::uint64_t body = length - 4;
  std::uint64_t total = header + body;
  std::uint64_t keep = body;
  if (body > limits.max_frame) keep = limits.max_frame;
  if (data.size() < header + keep) return {ParseState::kNeedsMore, 0};
  frame.tag = tag;
  frame.length = length;
  frame.payload.assign(data.substr(header, keep));
  frame.truncated = keep < body;
  return {ParseState::kParsed, total};
}

ParseResult parse_untyped(std::string_view data, Message& frame, State& state,
                          const Limits& limits) {
  ByteReader r(data);
  std::uint32_t length = 0;
  std::uint32_t code = 0;
  r.be32(length);
  r.be32(code);
  if (length < 8 || length > kMaxStartup || !is_startup_code(code)) {
    state.startup = false;  // we joined an established connection
    return {ParseState::kInvalid, 0};
  }
  ParseResult res = take(data, 4, kUntyped, length, frame, limits);
  if (res.state != ParseState::kParsed) return res;
  if (code == kSslRequest || code == kGssEncRequest) {
    state.encryption_reply_expected = true;
  } else {
    state.startup = false;
  }
  return res;
}

ParseResult parse_typed(MessageType type, std::string_view data, Message& frame,
                        const Limits& limits) {
  if (data.size() < 5) return {ParseState::kNeedsMore, 0};
  char tag = data[0];
  bool known = type == MessageType::kRequest ? is_frontend_tag(tag) : is_backend_tag(tag);
  ByteReader r(data.substr(1));
  std::uint32_t length = 0;
  r.be32(length);
  if (!known || length < 4 || length > 0x7fffffff) return {ParseState::kInvalid, 0};
  return take(data, 5, tag, length, frame, limits);
}

ParseResult parse_encryption_reply(std::string_view data, Message& frame, State& state) {
  char answer = data[0];
  if (answer != 'S' && answer != 'N' && answer != 'G') return {ParseState::kInvalid, 0};
  state.encryption_reply_expected = false;
  state.encrypted = answer != 'N';
  frame.tag = kEncryptionReply;
  frame.payload.assign(1, answer);
  return {ParseState::kParsed, 1};
}

}  // namespace

bool is_frontend_tag(char tag) {
  return std::string_view("BCcdDEfFHpPQSX").find(tag) != std::string_view::npos;
}

bool is_backend_tag(char tag) {
  return std::string_view("123AcCdDEGHIKnNRsStTvVWZ").find(tag) != std::string_view::npos;
}

ParseResult parse_frame(MessageType type, std::span<const std::byte> data, Message& frame,
                        State& state, const Limits& limits) {
  std::string_view text = as_chars(data);
  if (state.encrypted) {
    state.encrypted_bytes += text.size();
    return {ParseState::kNeedsMore, text.size()};
  }
  if (text.empty()) return {};
  if (type == MessageType::kResponse) {
    if (state.encryption_reply_expected && text[0] != 'E') {
      return parse_encryption_reply(text, frame, state);
    }
    return parse_typed(type, text, frame, limits);
  }
  // The client sends nothing more until the server has answered SSLRequest.
  if (state.encryption_reply_expected) return {ParseState::kNeedsMore, 0};
  // Start-up messages begin with their length's high byte, 0 (they are under 10000 bytes);
  // no typed message does. A typed one may be shorter than 8 bytes: lib/pq's ";" is 7.
  if (state.startup && text[0] != '\0') state.startup = false;
  if (state.startup) {
    if (text.size() < 8) return {ParseState::kNeedsMore, 0};
    ParseResult res = parse_untyped(text, frame, state, limits);
    if (res.state != ParseState::kInvalid) return res;
  }
  return parse_typed(type, text, frame, limits);
}

std::size_t find_frame_boundary(MessageType type, std::span<const std::byte> data, const State&) {
  std::string_view text = as_chars(data);
  auto known = [type](char tag) {
    return type == MessageType::kRequest ? is_frontend_tag(tag) : is_backend_tag(tag);
  };
  for (std::size_t i = 0; i + 5 <= text.size(); ++i) {
    if (!known(text[i])) continue;
    ByteReader r(text.substr(i + 1));
    std::uint32_t length = 0;
    r.be32(length);
    if (length < 4 || length > kMaxResyncLength) continue;
    std::size_t next = i + 1 + length;
    if (next < text.size() && !known(text[next])) continue;
    return i;
  }
  return kNoBoundary;
}

void on_gap(MessageType type, State& state) {
  state.encryption_reply_expected = false;
  if (type == MessageType::kRequest) state.startup = false;
}

}  // namespace reel::protocols::postgres
