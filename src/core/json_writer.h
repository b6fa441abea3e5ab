// A streaming JSON writer for hot paths (one line per traced exchange): appends straight into a
// string, no document tree. Strings must be UTF-8; invalid bytes are written as U+FFFD.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace reel {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(std::uint64_t v);
  JsonWriter& value(std::int64_t v);
  JsonWriter& value(int v) { return value(static_cast<std::int64_t>(v)); }
  JsonWriter& value(unsigned v) { return value(static_cast<std::uint64_t>(v)); }
  JsonWriter& value(double v);
  JsonWriter& value(bool v);

  template <typename T>
  JsonWriter& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }

  // The field k: s, when s is printable UTF-8 (encoding.h's is_printable_utf8); otherwise writes
  // nothing and returns false. One pass over s where checking first and then escaping took two.
  bool text_field(std::string_view k, std::string_view s);

 private:
  void comma();
  void escaped(std::string_view s) { (void)escape<false>(s); }
  // kPrintableOnly: stops and returns false at a byte that is_printable_utf8 refuses (out_ then
  // holds a partial string: the caller cuts it off); otherwise such bytes are escaped or U+FFFD.
  template <bool kPrintableOnly>
  bool escape(std::string_view s);

  std::string& out_;
  bool need_comma_ = false;
};

}  // namespace reel
