// Values of MySQL's binary protocol (prepared statement parameters and result rows).
#include <cstdio>
#include <cstring>

#include "protocols/mysql/decode.h"
#include "protocols/text.h"

namespace reel::protocols::mysql {

namespace {

bool integer(ByteReader& r, std::size_t size, bool is_unsigned, std::string& out) {
  std::uint64_t raw = 0;
  std::uint8_t b8 = 0;
  std::uint16_t b16 = 0;
  std::uint32_t b32 = 0;
  switch (size) {
    case 1:
      if (!r.u8(b8)) return false;
      raw = b8;
      break;
    case 2:
      if (!r.le16(b16)) return false;
      raw = b16;
      break;
    case 4:
      if (!r.le32(b32)) return false;
      raw = b32;
      break;
    default:
      if (!r.le64(raw)) return false;
      break;
  }
  if (is_unsigned) {
    out = std::to_string(raw);
    return true;
  }
  // Sign-extend from `size` bytes.
  unsigned shift = static_cast<unsigned>(64 - 8 * size);
  auto value = static_cast<std::int64_t>(raw << shift) >> shift;
  out = std::to_string(value);
  return true;
}

bool floating(ByteReader& r, bool is_double, std::string& out) {
  char buf[64];
  if (is_double) {
    std::uint64_t bits = 0;
    if (!r.le64(bits)) return false;
    double d = 0;
    std::memcpy(&d, &bits, sizeof d);
    std::snprintf(buf, sizeof buf, "%.17g", d);
  } else {
    std::uint32_t bits = 0;
    if (!r.le32(bits)) return false;
    float f = 0;
    std::memcpy(&f, &bits, sizeof f);
    std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(f));
  }
  out = buf;
  return true;
}

// DATE, DATETIME, TIMESTAMP: a length (0, 4, 7 or 11) then the parts that are not zero.
bool datetime(ByteReader& r, std::string& out) {
  std::uint8_t len = 0;
  std::uint16_t year = 0;
  std::uint8_t month = 0, day = 0, hour = 0, minute = 0, second = 0;
  std::uint32_t micro = 0;
  if (!r.u8(len) || (len != 0 && len != 4 && len != 7 && len != 11)) return false;
  if (len >= 4 && !(r.le16(year) && r.u8(month) && r.u8(day))) return false;
  if (len >= 7 && !(r.u8(hour) && r.u8(minute) && r.u8(second))) return false;
  if (len == 11 && !r.le32(micro)) return false;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04u-%02u-%02u %02u:%02u:%02u", year, month, day, hour, minute,
                second);
  out = buf;
  if (len == 11) out += "." + std::to_string(micro);
  return true;
}

// TIME: a length (0, 8 or 12), sign, days, then hours, minutes, seconds, microseconds.
bool time_value(ByteReader& r, std::string& out) {
  std::uint8_t len = 0;
  std::uint8_t negative = 0, hour = 0, minute = 0, second = 0;
  std::uint32_t days = 0, micro = 0;
  if (!r.u8(len) || (len != 0 && len != 8 && len != 12)) return false;
  if (len >= 8 && !(r.u8(negative) && r.le32(days) && r.u8(hour) && r.u8(minute) && r.u8(second))) {
    return false;
  }
  if (len == 12 && !r.le32(micro)) return false;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s%u %02u:%02u:%02u", negative ? "-" : "", days, hour, minute,
                second);
  out = buf;
  if (len == 12) out += "." + std::to_string(micro);
  return true;
}

}  // namespace

bool binary_value(ByteReader& r, std::uint8_t type, bool is_unsigned, std::string& out,
                  const Limits& limits) {
  switch (type) {
    case 0x06:
      out = "NULL";
      return true;
    case 0x01:
      return integer(r, 1, is_unsigned, out);  // TINY
    case 0x02:
    case 0x0d:
      return integer(r, 2, is_unsigned, out);  // SHORT, YEAR
    case 0x03:
    case 0x09:
      return integer(r, 4, is_unsigned, out);  // LONG, INT24
    case 0x08:
      return integer(r, 8, is_unsigned, out);  // LONGLONG
    case 0x04:
      return floating(r, false, out);  // FLOAT
    case 0x05:
      return floating(r, true, out);  // DOUBLE
    case 0x07:
    case 0x0a:
    case 0x0c:
      return datetime(r, out);  // TIMESTAMP, DATE, DATETIME
    case 0x0b:
      return time_value(r, out);  // TIME
    default:
      break;  // strings, decimals, blobs, JSON, BIT, GEOMETRY: length-encoded bytes
  }
  std::uint64_t len = 0;
  std::string_view bytes;
  if (!r.lenenc(len) || !r.bytes(len, bytes)) return false;
  out = render_value(bytes, limits.max_field);
  return true;
}

}  // namespace reel::protocols::mysql
