#include "protocols/dns/parse.h"

#include "protocols/byte_reader.h"
#include "protocols/dns/wire.h"

namespace reel::protocols::dns {

namespace {

constexpr std::size_t kHeader = 12;

bool read_header(std::string_view msg, Message& out) {
  ByteReader r(msg);
  if (!r.be16(out.id) || !r.be16(out.flags)) return false;
  for (std::uint16_t& count : out.counts) {
    if (!r.be16(count)) return false;
  }
  out.response = (out.flags & 0x8000) != 0;
  out.opcode = static_cast<std::uint8_t>((out.flags >> 11) & 0xf);
  out.truncated = (out.flags & 0x0200) != 0;
  out.rcode = static_cast<std::uint8_t>(out.flags & 0xf);
  return true;
}

bool read_question(std::string_view msg, std::size_t& pos, Question& q) {
  if (!read_name(msg, pos, q.name)) return false;
  ByteReader r(msg.substr(pos));
  if (!r.be16(q.type) || !r.be16(q.klass)) return false;
  pos += 4;
  return true;
}

bool read_record(std::string_view msg, std::size_t& pos, Record& rr, const Limits& limits) {
  if (!read_name(msg, pos, rr.name)) return false;
  ByteReader r(msg.substr(pos));
  std::uint16_t rdlen = 0;
  if (!r.be16(rr.type) || !r.be16(rr.klass) || !r.be32(rr.ttl) || !r.be16(rdlen)) return false;
  if (!r.skip(rdlen)) return false;
  pos += 10;
  rr.data = render_rdata(msg, pos, rdlen, rr.type, limits);
  pos += rdlen;
  return true;
}

// Reads `count` records; keeps at most Limits::max_items of them.
bool read_section(std::string_view msg, std::size_t& pos, std::uint16_t count,
                  std::vector<Record>& out, const Limits& limits) {
  for (std::uint16_t i = 0; i < count; ++i) {
    Record rr;
    if (!read_record(msg, pos, rr, limits)) return false;
    if (out.size() < limits.max_items) out.push_back(std::move(rr));
  }
  return true;
}

// Plausible header for resync: a standard query or answer with a handful of questions.
bool plausible(std::string_view msg) {
  Message m;
  return msg.size() >= kHeader && read_header(msg, m) && m.opcode <= 5 && m.counts[0] <= 16 &&
         ((m.flags >> 4) & 0x7) == 0;
}

}  // namespace

bool parse_message(std::string_view msg, Message& out, const Limits& limits) {
  if (!read_header(msg, out)) return false;
  std::size_t pos = kHeader;
  for (std::uint16_t i = 0; i < out.counts[0]; ++i) {
    Question q;
    if (!read_question(msg, pos, q)) return false;
    if (out.questions.size() < limits.max_items) out.questions.push_back(std::move(q));
  }
  return read_section(msg, pos, out.counts[1], out.answers, limits) &&
         read_section(msg, pos, out.counts[2], out.authority, limits) &&
         read_section(msg, pos, out.counts[3], out.additional, limits);
}

ParseResult parse_frame(MessageType, std::span<const std::byte> data, Message& frame, State& state,
                        const Limits& limits) {
  std::string_view text = as_chars(data);
  if (!state.tcp) {
    if (!parse_message(text, frame, limits)) return {ParseState::kInvalid, 0};
    return {ParseState::kParsed, text.size()};
  }
  ByteReader r(text);
  std::uint16_t len = 0;
  if (!r.be16(len)) return {};
  if (len < kHeader) return {ParseState::kInvalid, 0};
  if (text.size() < 2u + len) return {};
  // The length prefix keeps the stream aligned even when the message inside is bad.
  frame.malformed = !parse_message(text.substr(2, len), frame, limits);
  return {ParseState::kParsed, 2u + len};
}

std::size_t find_frame_boundary(MessageType, std::span<const std::byte> data, const State& state) {
  std::string_view text = as_chars(data);
  if (!state.tcp) return text.empty() ? kNoBoundary : 0;
  for (std::size_t i = 0; i + 2 + kHeader <= text.size(); ++i) {
    ByteReader r(text.substr(i));
    std::uint16_t len = 0;
    r.be16(len);
    if (len >= kHeader && plausible(text.substr(i + 2, kHeader))) return i;
  }
  return kNoBoundary;
}

}  // namespace reel::protocols::dns
