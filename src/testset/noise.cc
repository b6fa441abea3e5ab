#include "testset/noise.h"

#include <algorithm>

#include "protocols/http2/protobuf_json.h"
#include "protocols/text.h"
#include "testset/json_paths.h"

namespace reel::testset {

namespace {

// Header names are case-insensitive; paths are compared in this form.
std::string normalize(std::string_view path) {
  if (path.size() > 7 && protocols::istarts_with(path, "header.")) {
    return "header." + protocols::to_lower(path.substr(7));
  }
  return std::string(path);
}

std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (true) {
    std::size_t dot = path.find('.', pos);
    out.push_back(path.substr(pos, dot == std::string_view::npos ? dot : dot - pos));
    if (dot == std::string_view::npos) return out;
    pos = dot + 1;
  }
}

// True when `pattern` matches `path` or one of its ancestors ("body.a" covers "body.a.b").
bool glob_covers(const std::vector<std::string_view>& pattern, std::size_t p,
                 const std::vector<std::string_view>& path, std::size_t i) {
  if (p == pattern.size()) return true;
  if (pattern[p] == "**") {
    for (std::size_t k = i; k <= path.size(); k++) {
      if (glob_covers(pattern, p + 1, path, k)) return true;
    }
    return false;
  }
  if (i == path.size()) return false;
  if (pattern[p] != "*" && pattern[p] != path[i]) return false;
  return glob_covers(pattern, p + 1, path, i + 1);
}

Result<std::regex> compile_regex(const std::string& text, std::string_view what) {
  // libstdc++ reads a back-reference or repeat count into a long without checking for overflow
  // (undefined behaviour the reel_config fuzzer found), and builds one state per repeat: refuse
  // such numbers past 4 digits first. Digits elsewhere are literal and may be as long as they like.
  auto digits_at = [&](std::size_t i) {
    std::size_t j = i;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') j++;
    return j - i;
  };
  bool in_count = false;
  for (std::size_t i = 0; i < text.size(); i++) {
    std::size_t n = 0;
    if (text[i] == '\\' && i + 1 < text.size()) {
      n = digits_at(i + 1);  // \N: a back-reference; any other escape is one character
      i += n ? n : 1;
    } else if (text[i] == '{') {
      in_count = true;
    } else if (text[i] == '}') {
      in_count = false;
    } else if (in_count) {
      n = digits_at(i);
      if (n) i += n - 1;
    }
    if (n > 4)
      return fail_msg("noise {} '{}': a repeat count or back-reference of more than 4 digits", what,
                      text);
  }
  try {
    return std::regex(text, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return fail_msg("noise {} '{}' is not a valid regular expression: {}", what, text, e.what());
  }
}

// libstdc++'s regex matcher recurses per character: values past this length never match a
// value regex rather than risk the stack on a large body.
constexpr std::size_t kMaxRegexInput = 4096;

bool full_match(const std::regex& re, std::string_view text) {
  if (text.size() > kMaxRegexInput) return false;
  try {
    return std::regex_match(text.begin(), text.end(), re);
  } catch (const std::regex_error&) {  // too complex for std::regex: not a match
    return false;
  }
}

}  // namespace

struct NoiseSet::Compiled {
  std::string path;  // normalized; "" for regex rules
  std::vector<std::string_view> pattern;
  bool glob = false;
  std::optional<std::regex> path_regex;
  std::vector<std::regex> values;  // empty: the field is noise whatever its value

  bool covers(const std::string& normalized) const {
    if (path_regex) return full_match(*path_regex, normalized);
    if (glob) return glob_covers(pattern, 0, segments(normalized), 0);
    return normalized == path || (normalized.size() > path.size() && normalized.starts_with(path) &&
                                  normalized[path.size()] == '.');
  }
  bool values_match(std::string_view expected, std::string_view actual) const {
    if (values.empty()) return true;
    return std::any_of(values.begin(), values.end(), [&](const std::regex& re) {
      return full_match(re, expected) && full_match(re, actual);
    });
  }
};

NoiseSet::NoiseSet() = default;
NoiseSet::~NoiseSet() = default;
NoiseSet::NoiseSet(NoiseSet&&) noexcept = default;
NoiseSet& NoiseSet::operator=(NoiseSet&&) noexcept = default;

Result<NoiseSet> NoiseSet::compile(const NoiseMap& noise, const std::vector<NoiseRule>& rules) {
  NoiseSet set;
  REEL_TRY(set.add(noise));
  REEL_TRY(set.add(rules));
  return set;
}

Result<void> NoiseSet::add(const NoiseMap& noise) {
  for (const auto& [path, values] : noise) {
    auto c = std::make_unique<Compiled>();
    c->path = normalize(path);
    for (const auto& v : values) c->values.push_back(REEL_TRY(compile_regex(v, "value")));
    rules_.push_back(std::move(c));
  }
  return {};
}

Result<void> NoiseSet::add(const std::vector<NoiseRule>& rules) {
  for (const auto& rule : rules) {
    auto c = std::make_unique<Compiled>();
    if (!rule.path_regex.empty()) {
      c->path_regex = REEL_TRY(compile_regex(rule.path_regex, "path_regex"));
    } else {
      c->path = normalize(rule.path);
      c->glob = c->path.find('*') != std::string::npos;
    }
    if (!rule.value_regex.empty())
      c->values.push_back(REEL_TRY(compile_regex(rule.value_regex, "value")));
    rules_.push_back(std::move(c));
  }
  // `pattern` views into `path`: taken after the moves above so they stay valid.
  for (auto& c : rules_) {
    if (c->glob) c->pattern = segments(c->path);
  }
  return {};
}

bool NoiseSet::ignores(std::string_view path, std::string_view expected,
                       std::string_view actual) const {
  std::string normalized = normalize(path);
  return std::any_of(rules_.begin(), rules_.end(), [&](const auto& c) {
    return c->covers(normalized) && c->values_match(expected, actual);
  });
}

bool NoiseSet::ignores_absent(std::string_view path) const {
  std::string normalized = normalize(path);
  return std::any_of(rules_.begin(), rules_.end(),
                     [&](const auto& c) { return c->values.empty() && c->covers(normalized); });
}

std::vector<std::string> response_paths(const HttpResponse& resp) {
  std::vector<std::string> out;
  for (const auto& [name, value] : resp.header) out.push_back("header." + name);
  if (auto json = parse_json_body(resp.body)) {
    for (const auto& leaf : json_leaves(*json, "body")) out.push_back(leaf.path);
  } else if (!resp.body.empty()) {
    out.push_back("body");
  }
  return out;
}

void merge_noise(NoiseMap& into, const NoiseMap& from) {
  for (const auto& [path, values] : from) {
    auto [it, inserted] = into.try_emplace(path, values);
    if (inserted) continue;
    // An unconditional entry (no regexes) wins over conditional ones.
    if (it->second.empty() || values.empty()) {
      it->second.clear();
      continue;
    }
    for (const auto& v : values) {
      if (std::find(it->second.begin(), it->second.end(), v) == it->second.end()) {
        it->second.push_back(v);
      }
    }
  }
}

namespace {

// Concrete paths among `paths` each rule names.
Result<NoiseMap> rules_over(const std::vector<std::string>& paths,
                            const std::vector<NoiseRule>& rules) {
  NoiseMap out;
  for (const auto& rule : rules) {
    // Which paths the rule names is decided without its value regex; the regex travels with
    // each path into the test file, where replay applies it.
    NoiseSet covers = REEL_TRY(NoiseSet::compile({}, {{rule.path, rule.path_regex, ""}}));
    std::vector<std::string> values;
    if (!rule.value_regex.empty()) {
      REEL_TRY(NoiseSet::compile({}, {rule}));  // reports a bad value regex
      values.push_back(rule.value_regex);
    }
    if (rule.path_regex.empty() && rule.path.find('*') == std::string::npos) {
      merge_noise(out, {{rule.path, values}});  // a plain path is kept even if absent now
      continue;
    }
    for (const auto& path : paths) {
      if (covers.ignores_absent(path)) merge_noise(out, {{path, values}});
    }
  }
  return out;
}

}  // namespace

Result<NoiseMap> noise_from_rules(const HttpResponse& resp, const std::vector<NoiseRule>& rules) {
  return rules_over(response_paths(resp), rules);
}

Result<NoiseMap> grpc_noise_from_rules(const GrpcResponse& resp,
                                       const std::vector<NoiseRule>& rules) {
  return rules_over(grpc_response_paths(resp), rules);
}

std::vector<std::string> grpc_response_paths(const GrpcResponse& resp) {
  std::vector<std::string> out;
  for (const auto* part : {&resp.headers.pseudo, &resp.headers.ordinary})
    for (const auto& [name, value] : *part) out.push_back("header." + name);
  for (const auto* part : {&resp.trailers.pseudo, &resp.trailers.ordinary})
    for (const auto& [name, value] : *part) out.push_back("trailer." + name);
  for (std::size_t i = 0; i < resp.messages.size(); i++) {
    std::string at = "messages." + std::to_string(i);
    if (auto json = protocols::grpc::protobuf_json(resp.messages[i].data)) {
      Json fields(*json);
      for (const auto& leaf : json_leaves(fields, at)) out.push_back(leaf.path);
    } else {
      out.push_back(at);
    }
  }
  return out;
}

Result<NoiseMap> compute_grpc_noise(const GrpcResponse& resp, const NoiseConfig& config,
                                    std::string_view test_set) {
  NoiseMap out;
  if (config.auto_detect) {
    out = detect_grpc_noise(resp);
    for (const auto& path : config.grpc_defaults) merge_noise(out, {{path, {}}});
  }
  merge_noise(out, REEL_TRY(grpc_noise_from_rules(resp, config.global)));
  if (auto it = config.test_sets.find(std::string(test_set)); it != config.test_sets.end()) {
    merge_noise(out, REEL_TRY(grpc_noise_from_rules(resp, it->second)));
  }
  return out;
}

Result<NoiseMap> compute_noise(const HttpResponse& resp, const NoiseConfig& config,
                               std::string_view test_set) {
  NoiseMap out;
  if (config.auto_detect) out = detect_noise(resp);
  merge_noise(out, REEL_TRY(noise_from_rules(resp, config.global)));
  if (auto it = config.test_sets.find(std::string(test_set)); it != config.test_sets.end()) {
    merge_noise(out, REEL_TRY(noise_from_rules(resp, it->second)));
  }
  return out;
}

}  // namespace reel::testset
