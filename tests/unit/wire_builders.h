// Bytes on the wire, built by hand for the protocol and mock tests: integers in either byte
// order, PostgreSQL messages and MySQL packets.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace reel::wire {

inline std::string be16(std::uint16_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v)}; }
inline std::string be32(std::uint32_t v) {
  return be16(static_cast<std::uint16_t>(v >> 16)) + be16(static_cast<std::uint16_t>(v));
}
// The low `n` bytes of `v`, least significant first.
inline std::string le(std::uint64_t v, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += static_cast<char>(v >> (8 * i));
  return out;
}
inline std::string cstr(std::string_view s) { return std::string(s) + '\0'; }

// PostgreSQL: a typed message, and an untyped one (startup, SSLRequest).
inline std::string msg(char tag, std::string_view payload) {
  return tag + be32(static_cast<std::uint32_t>(payload.size() + 4)) + std::string(payload);
}
inline std::string untyped(std::string_view payload) {
  return be32(static_cast<std::uint32_t>(payload.size() + 4)) + std::string(payload);
}

// MySQL: a packet with its sequence id, and a short length-encoded string.
inline std::string packet(std::uint8_t seq, std::string_view payload) {
  return le(payload.size(), 3) + static_cast<char>(seq) + std::string(payload);
}
inline std::string lenenc(std::string_view s) { return static_cast<char>(s.size()) + std::string(s); }

}  // namespace reel::wire
