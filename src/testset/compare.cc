#include "testset/compare.h"

#include <array>

#include "protocols/text.h"
#include "testset/json_paths.h"

namespace reel::testset {

namespace {

constexpr std::array<std::string_view, 4> kFramingHeaders = {"content-length", "transfer-encoding",
                                                             "connection", "keep-alive"};

bool framing(std::string_view name) {
  for (auto h : kFramingHeaders) {
    if (protocols::iequals(name, h)) return true;
  }
  return false;
}

void compare_headers(const HttpResponse& e, const HttpResponse& a, const NoiseSet& noise,
                     std::vector<FieldDiff>& out) {
  for (const auto& [name, value] : e.header) {
    if (framing(name)) continue;
    std::string path = "header." + name;
    const std::string* got = find_header(a.header, name);
    if (got == nullptr) {
      if (!noise.ignores_absent(path)) out.push_back({FieldDiff::Kind::kMissing, path, value, ""});
    } else if (*got != value && !noise.ignores(path, value, *got)) {
      out.push_back({FieldDiff::Kind::kChanged, path, value, *got});
    }
  }
}

class JsonComparer {
 public:
  JsonComparer(const NoiseSet& noise, std::vector<FieldDiff>& out) : noise_(noise), out_(out) {}

  void compare(const Json& e, const Json& a, std::string& path, std::size_t depth) {
    if (e == a) return;
    if (depth < kMaxJsonDepth && e.is_object() && a.is_object()) return objects(e, a, path, depth);
    if (depth < kMaxJsonDepth && e.is_array() && a.is_array()) return arrays(e, a, path, depth);
    std::string et = leaf_text(e), at = leaf_text(a);
    if (noise_.ignores(path, et, at)) return;
    out_.push_back({FieldDiff::Kind::kChanged, path, e.dump(), a.dump()});
  }

 private:
  void child(const Json* e, const Json* a, std::string& path, std::string_view key,
             std::size_t depth) {
    std::size_t len = path.size();
    path += '.';
    path += key;
    if (e && a) {
      compare(*e, *a, path, depth + 1);
    } else if (!noise_.ignores_absent(path)) {
      out_.push_back({e ? FieldDiff::Kind::kMissing : FieldDiff::Kind::kUnexpected, path,
                      e ? e->dump() : "", a ? a->dump() : ""});
    }
    path.resize(len);
  }

  void objects(const Json& e, const Json& a, std::string& path, std::size_t depth) {
    for (const auto& [key, value] : e.items()) {
      auto it = a.find(key);
      child(&value, it == a.end() ? nullptr : &*it, path, key, depth);
    }
    for (const auto& [key, value] : a.items()) {
      if (!e.contains(key)) child(nullptr, &value, path, key, depth);
    }
  }

  void arrays(const Json& e, const Json& a, std::string& path, std::size_t depth) {
    for (std::size_t i = 0; i < std::max(e.size(), a.size()); i++) {
      child(i < e.size() ? &e[i] : nullptr, i < a.size() ? &a[i] : nullptr, path, std::to_string(i),
            depth);
    }
  }

  const NoiseSet& noise_;
  std::vector<FieldDiff>& out_;
};

void compare_bodies(const HttpResponse& e, const HttpResponse& a, const NoiseSet& noise,
                    ResponseDiff& diff) {
  if (noise.ignores_absent("body")) return;
  std::optional<Json> expected = parse_json_body(e.body);
  std::optional<Json> actual = expected ? parse_json_body(a.body) : std::nullopt;
  if (expected && actual) {
    diff.body_json = true;
    std::string path = "body";
    JsonComparer(noise, diff.body).compare(*expected, *actual, path, 0);
    return;
  }
  if (e.body != a.body && !noise.ignores("body", e.body, a.body)) {
    diff.body.push_back({FieldDiff::Kind::kChanged, "body", e.body, a.body});
    diff.expected_body = e.body;
    diff.actual_body = a.body;
  }
}

}  // namespace

ResponseDiff compare_responses(const HttpResponse& expected, const HttpResponse& actual,
                               const NoiseSet& noise) {
  ResponseDiff diff;
  diff.expected_status = expected.status_code;
  diff.actual_status = actual.status_code;
  compare_headers(expected, actual, noise, diff.headers);
  compare_bodies(expected, actual, noise, diff);
  return diff;
}

}  // namespace reel::testset
