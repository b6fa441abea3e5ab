// A bounds-checked cursor over a message. Every read reports failure instead of running past the
// end, so decoders of hostile input stay short and safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace reel::protocols {

class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : data_(data) {}

  std::size_t remaining() const { return data_.size() - pos_; }
  std::size_t position() const { return pos_; }
  bool empty() const { return remaining() == 0; }
  std::string_view rest() const { return data_.substr(pos_); }

  bool u8(std::uint8_t& out) { return fixed(1, out, false); }
  bool be16(std::uint16_t& out) { return fixed(2, out, false); }
  bool be32(std::uint32_t& out) { return fixed(4, out, false); }
  bool le16(std::uint16_t& out) { return fixed(2, out, true); }
  bool le24(std::uint32_t& out) { return fixed(3, out, true); }
  bool le32(std::uint32_t& out) { return fixed(4, out, true); }
  bool le64(std::uint64_t& out) { return fixed(8, out, true); }

  bool skip(std::size_t n) {
    if (n > remaining()) return false;
    pos_ += n;
    return true;
  }
  bool bytes(std::size_t n, std::string_view& out) {
    if (n > remaining()) return false;
    out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  // Up to the next NUL, which is consumed; false when there is none.
  bool cstring(std::string_view& out) {
    std::size_t end = data_.find('\0', pos_);
    if (end == std::string_view::npos) return false;
    out = data_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return true;
  }
  // MySQL length-encoded integer; `is_null` set for the 0xfb NULL marker.
  bool lenenc(std::uint64_t& out, bool* is_null = nullptr);

 private:
  template <typename T>
  bool fixed(std::size_t n, T& out, bool little_endian) {
    if (n > remaining()) return false;
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < n; ++i) {
      auto b = static_cast<std::uint64_t>(static_cast<unsigned char>(data_[pos_ + i]));
      if (little_endian) {
        value |= b << (8 * i);
      } else {
        value = (value << 8) | b;
      }
    }
    pos_ += n;
    out = static_cast<T>(value);
    return true;
  }

  std::string_view data_;
  std::size_t pos_ = 0;
};

inline bool ByteReader::lenenc(std::uint64_t& out, bool* is_null) {
  if (is_null) *is_null = false;
  std::uint8_t first = 0;
  if (!u8(first)) return false;
  if (first < 0xfb) {
    out = first;
    return true;
  }
  if (first == 0xfb) {
    if (!is_null) return false;
    *is_null = true;
    out = 0;
    return true;
  }
  if (first == 0xfc) return fixed(2, out, true);
  if (first == 0xfd) return fixed(3, out, true);
  if (first == 0xfe) return fixed(8, out, true);
  return false;  // 0xff: an ERR packet, never a length
}

}  // namespace reel::protocols
