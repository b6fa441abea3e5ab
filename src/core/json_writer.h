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

 private:
  void comma();
  void escaped(std::string_view s);

  std::string& out_;
  bool need_comma_ = false;
};

}  // namespace reel
