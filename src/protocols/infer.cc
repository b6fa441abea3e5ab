#include "protocols/infer.h"

#include <array>
#include <string_view>

#include "protocols/byte_reader.h"
#include "protocols/dns/parse.h"
#include "protocols/http2/types.h"
#include "protocols/postgres/types.h"
#include "protocols/text.h"

namespace reel::protocols {

namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }

bool is_tls(std::string_view d) {
  // A handshake record (22) of TLS 1.0-1.3 ("3.1" to "3.4" on the wire; ClientHello may say 3.0).
  if (d.size() >= 3 && d[0] == '\x16' && d[1] == '\x03' && static_cast<std::uint8_t>(d[2]) <= 4)
    return true;
  // Joined mid-connection: a change-cipher-spec, alert or application-data record (20, 21, 23)
  // of version 3.1-3.4 whose length fits a record (at most 2^14 + 2048).
  ByteReader r(d);
  std::uint8_t type = 0, major = 0, minor = 0;
  std::uint16_t len = 0;
  return r.u8(type) && (type == 20 || type == 21 || type == 23) && r.u8(major) && major == 3 &&
         r.u8(minor) && minor >= 1 && minor <= 4 && r.be16(len) && len > 0 &&
         len <= (1u << 14) + 2048;
}

bool is_http1(std::string_view d, MessageType sender) {
  if (sender == MessageType::kResponse) return d.starts_with("HTTP/1.");
  static constexpr std::array<std::string_view, 9> kMethods = {
      "GET ", "POST ", "PUT ", "DELETE ", "HEAD ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "};
  for (std::string_view m : kMethods) {
    if (d.starts_with(m)) return true;
  }
  return false;
}

// Flags RFC 9113 section 6 defines for each frame type, DATA to CONTINUATION.
constexpr std::array<std::uint8_t, 10> kHttp2Flags = {0x09, 0x2d, 0,    0, 0x01,
                                                     0x0c, 0x01, 0,    0, 0x04};

// Joined mid-connection: no preface, no first SETTINGS, but frames. Every header must be one
// RFC 9113 allows (a defined type and only its flags, the reserved bit clear, stream 0 exactly
// for connection frames, the fixed lengths), at least one frame whole, and the frames must end
// with the data or run past it. A big-endian 24-bit length is what rules out the other
// protocols: their first bytes make lengths far past what was read.
bool is_http2_frames(std::string_view d) {
  std::size_t pos = 0;
  int whole = 0;
  while (d.size() - pos >= http2::kFrameHeader) {
    auto b = [&](std::size_t i) { return static_cast<std::uint8_t>(d[pos + i]); };
    std::uint32_t length = b(0) << 16 | b(1) << 8 | b(2);
    std::uint8_t type = b(3), flags = b(4);
    std::uint32_t stream = (b(5) & 0x7f) << 24 | b(6) << 16 | b(7) << 8 | b(8);
    if (type >= kHttp2Flags.size() || (flags & ~kHttp2Flags[type]) || (b(5) & 0x80)) return false;
    bool connection = type == http2::kSettings || type == http2::kPing || type == http2::kGoaway;
    if (connection != (stream == 0) && type != http2::kWindowUpdate) return false;
    if ((type == http2::kPriority && length != 5) || (type == http2::kRstStream && length != 4) ||
        (type == http2::kPing && length != 8) || (type == http2::kWindowUpdate && length != 4) ||
        (type == http2::kSettings && length % 6 != 0) || (type == http2::kGoaway && length < 8))
      return false;
    if (d.size() - pos - http2::kFrameHeader < length) break;
    pos += http2::kFrameHeader + length;
    whole++;
  }
  return whole > 0;
}

bool is_http2(std::string_view d, MessageType sender) {
  if (sender == MessageType::kRequest && d.starts_with(http2::kPreface)) return true;
  // A server opens with SETTINGS (type 4, no ACK flag, stream 0) of whole 6-byte entries.
  static constexpr std::string_view kSettingsTail("\x04\x00\x00\x00\x00\x00", 6);
  if (d.size() >= http2::kFrameHeader && d[0] == 0 && d[1] == 0 &&
      static_cast<std::uint8_t>(d[2]) % 6 == 0 && d.substr(3, 6) == kSettingsTail)
    return true;
  return is_http2_frames(d);
}

// Joined mid-connection, the client's side: a whole simple Query, or a Parse, whose SQL is text.
bool is_postgres_statement(std::string_view d) {
  ByteReader r(d);
  std::uint8_t tag = 0;
  std::uint32_t len = 0;
  std::string_view body;
  if (!r.u8(tag) || (tag != 'Q' && tag != 'P') || !r.be32(len) || len < 6 || len > 1u << 24 ||
      !r.bytes(len - 4, body))
    return false;
  ByteReader b(body);
  std::string_view name, sql;
  if (tag == 'P' && (!b.cstring(name) || !is_text(name))) return false;
  if (!b.cstring(sql) || sql.empty() || !is_text(sql)) return false;
  if (tag == 'Q') return b.empty();
  std::uint16_t params = 0;
  return b.be16(params) && b.remaining() == params * 4u;
}

// Joined mid-connection, the server's side: whole backend messages of known types, up to a
// ReadyForQuery ('Z', length 5, status I, T or E).
bool is_postgres_answer(std::string_view d) {
  static constexpr std::string_view kBackend = "123ACDEGHIKNRSTVWZcdnstv";
  ByteReader r(d);
  while (!r.empty()) {
    std::uint8_t tag = 0;
    std::uint32_t len = 0;
    std::string_view body;
    if (!r.u8(tag) || kBackend.find(static_cast<char>(tag)) == kBackend.npos || !r.be32(len) ||
        len < 4 || !r.bytes(len - 4, body))
      return false;
    if (tag == 'Z') return len == 5 && (body[0] == 'I' || body[0] == 'T' || body[0] == 'E');
  }
  return false;
}

bool is_postgres(std::string_view d, MessageType sender) {
  ByteReader r(d);
  if (sender == MessageType::kResponse) {
    // An authentication request opens every server side: 'R', length, a known method code.
    std::uint8_t tag = 0;
    std::uint32_t len = 0;
    std::uint32_t code = 0;
    if (r.u8(tag) && tag == 'R' && r.be32(len) && len >= 8 && len < 4096 && r.be32(code) &&
        code <= 12)
      return true;
    return is_postgres_answer(d);
  }
  if (is_postgres_statement(d)) return true;
  std::uint32_t len = 0;
  std::uint32_t code = 0;
  if (!r.be32(len) || !r.be32(code)) return false;
  if (code == postgres::kSslRequest || code == postgres::kGssEncRequest) return len == 8;
  if (code == postgres::kCancelRequest) return len == 16;
  return code == postgres::kProtocolV3 && len > 8 && len <= 10000;
}

bool is_mysql(std::string_view d, MessageType sender) {
  ByteReader r(d);
  std::uint32_t len = 0;
  std::uint8_t seq = 0;
  std::uint8_t first = 0;
  if (!r.le24(len) || !r.u8(seq) || !r.u8(first) || len < 2) return false;
  if (sender == MessageType::kResponse) {
    // The greeting: protocol 10 then a printable, NUL-terminated server version.
    std::string_view version;
    return seq == 0 && first == 10 && r.cstring(version) && !version.empty() &&
           version.size() < 64 && is_text(version) && digit(version[0]);
  }
  // Joined mid-connection: a COM_QUERY whose SQL is text.
  std::string_view rest = r.rest().substr(0, len - 1);
  return seq == 0 && first == 0x03 && !rest.empty() && is_text(rest);
}

bool is_redis(std::string_view d, MessageType sender) {
  if (d.size() < 4) return false;
  std::size_t eol = d.find("\r\n");
  if (eol == std::string_view::npos || eol < 1) return false;
  std::string_view first = d.substr(1, eol - 1);
  std::int64_t n = 0;
  if (sender == MessageType::kRequest) {
    // Clients send arrays of bulk strings: "*2\r\n$3\r\nGET\r\n...".
    return d[0] == '*' && parse_int64(first, n) && n > 0 && d.substr(eol + 2).starts_with("$");
  }
  switch (d[0]) {
    case '+':
    case '-':
      return is_text(first);
    case ':':
    case '$':
    case '*':
    case '%':
    case '>':
      return parse_int64(first, n);
    default:
      return false;
  }
}

bool is_dns(std::string_view d, bool datagram) {
  if (!datagram) {
    ByteReader r(d);
    std::uint16_t len = 0;
    if (!r.be16(len) || len < 12 || len > d.size() - 2) return false;
    d = d.substr(2, len);
  }
  dns::Message m;
  Limits limits;
  limits.max_items = 4;
  return dns::parse_message(d, m, limits) && m.opcode == 0 && m.counts[0] == 1;
}

}  // namespace

Protocol infer_protocol(std::span<const std::byte> data, MessageType sender, bool datagram) {
  std::string_view d = as_chars(data);
  if (datagram) return is_dns(d, true) ? Protocol::kDns : Protocol::kUnknown;
  if (is_tls(d)) return Protocol::kTls;
  if (is_http1(d, sender)) return Protocol::kHttp1;
  if (is_http2(d, sender)) return Protocol::kHttp2;
  if (is_postgres(d, sender)) return Protocol::kPostgres;
  if (is_mysql(d, sender)) return Protocol::kMysql;
  if (is_redis(d, sender)) return Protocol::kRedis;
  if (is_dns(d, false)) return Protocol::kDns;
  return Protocol::kUnknown;
}

}  // namespace reel::protocols
