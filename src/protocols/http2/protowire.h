// Protobuf wire-format primitives shared by the schema-less views of a message (protoscope text,
// JSON): varints as the wire has them and UTF-8 as Go's utf8.Valid defines it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace reel::protocols::protowire {

enum WireType : std::uint8_t {
  kVarint = 0,
  kI64 = 1,
  kLen = 2,
  kSGroup = 3,
  kEGroup = 4,
  kI32 = 5
};

struct Varint {
  std::uint64_t value = 0;
  int extra = 0;  // redundant trailing bytes (a "long form" encoding); 0 when minimal
};

// Reads a varint off the front of `in` (at most 10 bytes, the tenth 0 or 1); false when `in`
// does not start with one.
inline bool read_varint(std::string_view& in, Varint& out) {
  out = {};
  int zeros = 0;
  for (std::size_t i = 0; i < 10; i++) {
    if (i >= in.size()) return false;
    auto b = static_cast<std::uint8_t>(in[i]);
    if (i == 9 && b > 1) return false;
    out.value |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
    zeros = (b & 0x7f) == 0 ? zeros + 1 : 0;
    if ((b & 0x80) == 0) {
      in.remove_prefix(i + 1);
      out.extra = out.value == 0 ? zeros - 1 : zeros;
      return true;
    }
  }
  return false;
}

inline bool read_fixed(std::string_view& in, std::size_t n, std::uint64_t& out) {
  if (in.size() < n) return false;
  out = 0;
  for (std::size_t i = 0; i < n; i++) out |= std::uint64_t(std::uint8_t(in[i])) << (8 * i);
  in.remove_prefix(n);
  return true;
}

// The code point of the well-formed UTF-8 sequence at s[i] and its length, or length 0 (overlong
// forms, surrogates and values past U+10FFFF are not UTF-8).
struct Rune {
  char32_t cp = 0;
  std::size_t len = 0;
};
inline Rune decode_rune(std::string_view s, std::size_t i) {
  auto at = [&](std::size_t k) { return static_cast<std::uint8_t>(s[i + k]); };
  auto cont = [&](std::size_t k) { return i + k < s.size() && (at(k) & 0xc0) == 0x80; };
  std::uint8_t b = at(0);
  if (b < 0x80) return {b, 1};
  if (b >= 0xc2 && b <= 0xdf && cont(1)) return {char32_t((b & 0x1f) << 6 | (at(1) & 0x3f)), 2};
  if (b >= 0xe0 && b <= 0xef && cont(1) && cont(2)) {
    char32_t cp = (b & 0x0f) << 12 | (at(1) & 0x3f) << 6 | (at(2) & 0x3f);
    if (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)) return {};
    return {cp, 3};
  }
  if (b >= 0xf0 && b <= 0xf4 && cont(1) && cont(2) && cont(3)) {
    char32_t cp = (b & 0x07) << 18 | (at(1) & 0x3f) << 12 | (at(2) & 0x3f) << 6 | (at(3) & 0x3f);
    if (cp < 0x10000 || cp > 0x10ffff) return {};
    return {cp, 4};
  }
  return {};
}

inline bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = decode_rune(s, i).len;
    if (n == 0) return false;
    i += n;
  }
  return true;
}

}  // namespace reel::protocols::protowire
