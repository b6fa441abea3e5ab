#include "testset/json_paths.h"

namespace reel::testset {

namespace {

// Nesting depth of `text` counted on brackets outside strings: a cheap check before handing the
// text to a parser whose tree the walkers then recurse into.
std::size_t max_depth(std::string_view text) {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '{' || c == '[') deepest = std::max(deepest, ++depth);
    if ((c == '}' || c == ']') && depth > 0) depth--;
  }
  return deepest;
}

void walk(const Json& v, std::string& path, std::string_view key, std::vector<JsonLeaf>& out) {
  auto descend = [&](std::string_view segment, std::string_view child_key, const Json& child) {
    std::size_t len = path.size();
    path += '.';
    path += segment;
    walk(child, path, child_key, out);
    path.resize(len);
  };
  if (v.is_object() && !v.empty()) {
    for (const auto& [k, child] : v.items()) descend(k, k, child);
  } else if (v.is_array() && !v.empty()) {
    for (std::size_t i = 0; i < v.size(); i++) descend(std::to_string(i), key, v[i]);
  } else {
    out.push_back({path, std::string(key), &v});
  }
}

}  // namespace

std::optional<Json> parse_json_body(std::string_view body) {
  std::size_t start = body.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos || (body[start] != '{' && body[start] != '[')) {
    return std::nullopt;
  }
  if (max_depth(body) > kMaxJsonDepth) return std::nullopt;
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::vector<JsonLeaf> json_leaves(const Json& root, std::string_view prefix) {
  std::vector<JsonLeaf> out;
  std::string path(prefix);
  walk(root, path, "", out);
  return out;
}

std::string leaf_text(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace reel::testset
