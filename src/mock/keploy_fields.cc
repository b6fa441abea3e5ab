#include "mock/keploy_fields.h"

#include <cerrno>
#include <cstdlib>

namespace reel::mock::keploy {

const Value* member(const Value* v, std::string_view key) {
  return v && v->is_mapping() ? v->find(key) : nullptr;
}

const Value* any(const Value* v, std::initializer_list<std::string_view> keys) {
  for (auto k : keys) {
    if (const Value* f = member(v, k)) return f;
  }
  return nullptr;
}

std::optional<std::uint64_t> number(const Value* v) {
  if (!v || !v->is_scalar() || v->text.empty()) return std::nullopt;
  const std::string& t = v->text;
  char* end = nullptr;
  errno = 0;
  std::uint64_t n = t[0] == '-' ? static_cast<std::uint64_t>(std::strtoll(t.c_str(), &end, 10))
                                : std::strtoull(t.c_str(), &end, 10);
  if (errno != 0 || end != t.c_str() + t.size()) return std::nullopt;
  return n;
}

std::optional<std::string> bytes_of(const Value* v) {
  if (!v || v->is_null()) return std::nullopt;
  if (v->is_scalar()) return v->text;
  if (!v->is_sequence()) return std::nullopt;
  std::string out;
  for (const Value& b : v->items) {
    auto n = number(&b);
    if (!n || *n > 255) return std::nullopt;
    out.push_back(static_cast<char>(*n));
  }
  return out;
}

}  // namespace reel::mock::keploy
