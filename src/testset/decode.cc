#include "testset/decode.h"

#include <charconv>

namespace reel::testset {

namespace {

std::string describe(const Value& v) {
  switch (v.type) {
    case Value::Type::kNull:
      return "nothing";
    case Value::Type::kSequence:
      return "a sequence";
    case Value::Type::kMapping:
      return "a mapping";
    case Value::Type::kScalar:
      break;
  }
  if (v.style == Value::Style::kBinary) return "binary data";
  constexpr std::size_t kShown = 40;
  std::string shown = v.text.substr(0, kShown);
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return fmt::format("\"{}{}\"", shown, v.text.size() > kShown ? "..." : "");
}

}  // namespace

std::string join_path(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return fmt::format("{}.{}", path, key);
}

std::unexpected<Error> Decoder::fail(const Value& v, std::string_view path,
                                     std::string_view what) const {
  return fail_msg("{}:{}: {}: expected {}, found {}", source_, v.line,
                  path.empty() ? "document" : path, what, describe(v));
}

Result<const Value*> Decoder::optional(const Value& map, std::string_view path,
                                       std::string_view key) const {
  if (map.is_null()) return nullptr;
  if (!map.is_mapping()) return fail(map, path, "a mapping");
  return map.find(key);
}

Result<const Value*> Decoder::member(const Value& map, std::string_view path,
                                     std::string_view key) const {
  const Value* v = REEL_TRY(optional(map, path, key));
  if (v == nullptr) {
    return fail_msg("{}:{}: {}: expected a field '{}', found none", source_, map.line,
                    path.empty() ? "document" : path, key);
  }
  return v;
}

Result<std::string> Decoder::text(const Value& v, std::string_view path) const {
  if (v.is_null()) return std::string();
  if (!v.is_scalar()) return fail(v, path, "a single value");
  return v.text;
}

Result<std::int64_t> Decoder::integer(const Value& v, std::string_view path, std::int64_t min,
                                      std::int64_t max) const {
  if (v.is_null()) return 0;
  std::string what = fmt::format("an integer from {} to {}", min, max);
  if (!v.is_scalar()) return fail(v, path, what);
  std::int64_t n = 0;
  const char* end = v.text.data() + v.text.size();
  auto [p, ec] = std::from_chars(v.text.data(), end, n);
  if (ec != std::errc() || p != end || n < min || n > max) return fail(v, path, what);
  return n;
}

Result<bool> Decoder::boolean(const Value& v, std::string_view path) const {
  if (v.is_null()) return false;
  if (v.is_scalar() && (v.text == "true" || v.text == "True" || v.text == "TRUE")) return true;
  if (v.is_scalar() && (v.text == "false" || v.text == "False" || v.text == "FALSE")) return false;
  return fail(v, path, "true or false");
}

Result<Timestamp> Decoder::timestamp(const Value& v, std::string_view path) const {
  if (v.is_null()) return Timestamp{};
  if (v.is_scalar()) {
    if (auto t = Timestamp::parse(v.text)) return *t;
  }
  return fail(v, path, "an RFC 3339 time such as 2024-10-23T18:54:48.241172136+05:30");
}

Result<std::map<std::string, std::string>> Decoder::string_map(const Value& v,
                                                               std::string_view path) const {
  std::map<std::string, std::string> out;
  if (v.is_null()) return out;
  if (!v.is_mapping()) return fail(v, path, "a mapping of names to values");
  for (const auto& [key, value] : v.members) {
    out[key] = REEL_TRY(text(value, join_path(path, key)));
  }
  return out;
}

Result<std::vector<std::string>> Decoder::string_list(const Value& v, std::string_view path) const {
  std::vector<std::string> out;
  if (v.is_null()) return out;
  if (!v.is_sequence()) return fail(v, path, "a list of values");
  for (std::size_t i = 0; i < v.items.size(); i++) {
    out.push_back(REEL_TRY(text(v.items[i], fmt::format("{}[{}]", path, i))));
  }
  return out;
}

Result<std::string> Decoder::text_at(const Value& map, std::string_view path,
                                     std::string_view key) const {
  const Value* v = REEL_TRY(optional(map, path, key));
  return v ? text(*v, join_path(path, key)) : std::string();
}

Result<std::int64_t> Decoder::integer_at(const Value& map, std::string_view path,
                                         std::string_view key, std::int64_t min,
                                         std::int64_t max) const {
  const Value* v = REEL_TRY(optional(map, path, key));
  return v ? integer(*v, join_path(path, key), min, max) : 0;
}

Result<Timestamp> Decoder::timestamp_at(const Value& map, std::string_view path,
                                        std::string_view key) const {
  const Value* v = REEL_TRY(optional(map, path, key));
  return v ? timestamp(*v, join_path(path, key)) : Timestamp{};
}

Result<std::map<std::string, std::string>> Decoder::string_map_at(const Value& map,
                                                                  std::string_view path,
                                                                  std::string_view key) const {
  const Value* v = REEL_TRY(optional(map, path, key));
  return v ? string_map(*v, join_path(path, key)) : std::map<std::string, std::string>{};
}

}  // namespace reel::testset
