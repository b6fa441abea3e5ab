#include "trace/shape.h"

#include <algorithm>

namespace reel::trace {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// A segment that names one resource among many: digits, a UUID, a long hex id.
bool is_id(std::string_view seg) {
  if (seg.empty()) return false;
  if (std::all_of(seg.begin(), seg.end(), is_digit)) return true;
  if (seg.size() == 36) {
    bool uuid = true;
    for (std::size_t i = 0; i < 36 && uuid; i++)
      uuid = (i == 8 || i == 13 || i == 18 || i == 23) ? seg[i] == '-' : is_hex(seg[i]);
    if (uuid) return true;
  }
  return seg.size() >= 16 && std::all_of(seg.begin(), seg.end(), is_hex);
}

}  // namespace

std::string path_shape(std::string_view target) {
  target = target.substr(0, target.find_first_of("?#"));
  std::string out;
  out.reserve(target.size());
  while (true) {
    auto slash = target.find('/');
    std::string_view seg = target.substr(0, slash);
    out += is_id(seg) ? std::string_view(":id") : seg;
    if (slash == std::string_view::npos) break;
    out += '/';
    target.remove_prefix(slash + 1);
  }
  return out;
}

std::string redis_key_shape(std::string_view key) {
  constexpr std::size_t kShort = 24;
  auto colon = key.rfind(':');
  if (colon != std::string_view::npos) return std::string(key.substr(0, colon + 1)) + "*";
  return key.size() <= kShort ? std::string(key) : "*";
}

}  // namespace reel::trace
