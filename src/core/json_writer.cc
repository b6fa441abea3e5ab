#include "core/json_writer.h"

#include <charconv>
#include <cmath>

#include "core/encoding.h"

namespace reel {

void JsonWriter::comma() {
  if (need_comma_) out_ += ',';
}

JsonWriter& JsonWriter::begin_object() {
  comma();
  out_ += '{';
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  out_ += '}';
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  comma();
  out_ += '[';
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  out_ += ']';
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view k) {
  comma();
  escaped(k);
  out_ += ':';
  need_comma_ = false;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view s) {
  comma();
  escaped(s);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::uint64_t v) {
  comma();
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, p);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::int64_t v) {
  comma();
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, p);
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(double v) {
  comma();
  if (!std::isfinite(v)) {
    out_ += "null";
  } else {
    char buf[32];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, p);
  }
  need_comma_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(bool v) {
  comma();
  out_ += v ? "true" : "false";
  need_comma_ = true;
  return *this;
}

template <bool kPrintableOnly>
bool JsonWriter::escape(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out_ += '"';
  std::size_t i = plain_ascii_prefix(s, true), run = 0;  // [run, i) is copied verbatim
  auto flush = [&] { out_.append(s.data() + run, i - run); };
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      i += 1 + plain_ascii_prefix(s.substr(i + 1), true);
      continue;
    }
    if (c >= 0x80) {
      if (std::size_t n = utf8_sequence_length(s, i)) {
        i += n;
        continue;
      }
    }
    if (kPrintableOnly && c != '"' && c != '\\' && c != '\n' && c != '\r' && c != '\t')
      return false;  // a control byte, DEL, or a byte that is not UTF-8
    flush();
    switch (c) {
      case '"': out_ += "\\\""; break;
      case '\\': out_ += "\\\\"; break;
      case '\n': out_ += "\\n"; break;
      case '\r': out_ += "\\r"; break;
      case '\t': out_ += "\\t"; break;
      case 0x7f: out_ += '\x7f'; break;  // valid in a JSON string as it is
      default:
        if (c < 0x20) {
          out_ += "\\u00";
          out_ += kHex[c >> 4];
          out_ += kHex[c & 15];
        } else {
          out_ += "\xef\xbf\xbd";  // U+FFFD for a byte that is not UTF-8
        }
    }
    run = ++i;
  }
  flush();
  out_ += '"';
  return true;
}

bool JsonWriter::text_field(std::string_view k, std::string_view s) {
  std::size_t mark = out_.size();
  bool need_comma = need_comma_;
  key(k);
  if (!escape<true>(s)) {
    out_.resize(mark);
    need_comma_ = need_comma;
    return false;
  }
  need_comma_ = true;
  return true;
}

}  // namespace reel
