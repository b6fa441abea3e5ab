#include "testset/config.h"

#include <system_error>

#include "testset/atomic_file.h"
#include "testset/decode.h"

namespace reel::testset {

namespace {

// Fails on a key of `map` not in `known`, naming the ones that are.
Result<void> known_keys(const Value& map, const Decoder& in, std::string_view path,
                        std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : map.members) {
    bool ok = false;
    for (auto k : known) ok = ok || k == key;
    if (ok) continue;
    std::string list;
    for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    return fail_msg("{}:{}: {}: unknown setting '{}' (known: {})", in.source(), value.line, path,
                    key, list);
  }
  return {};
}

Result<NoiseRule> rule_from(const Value& v, const Decoder& in, const std::string& path) {
  NoiseRule rule;
  if (v.is_scalar()) {
    rule.path = v.text;
  } else if (v.is_mapping()) {
    REEL_TRY(known_keys(v, in, path, {"path", "path_regex", "value"}));
    rule.path = REEL_TRY(in.text_at(v, path, "path"));
    rule.path_regex = REEL_TRY(in.text_at(v, path, "path_regex"));
    rule.value_regex = REEL_TRY(in.text_at(v, path, "value"));
  } else {
    return in.fail(v, path, "a path, or a mapping with path or path_regex (and value)");
  }
  if (rule.path.empty() == rule.path_regex.empty()) {
    return in.fail(v, path, "exactly one of path and path_regex");
  }
  // Compiling now reports a bad regex with its file and line instead of at replay.
  if (auto ok = NoiseSet::compile({}, {rule}); !ok) {
    return fail_msg("{}:{}: {}: {}", in.source(), v.line, path, ok.error().message);
  }
  return rule;
}

Result<std::vector<NoiseRule>> rules_from(const Value* v, const Decoder& in,
                                          const std::string& path) {
  std::vector<NoiseRule> rules;
  if (v == nullptr || v->is_null()) return rules;
  if (!v->is_sequence()) return in.fail(*v, path, "a list of noise rules");
  for (std::size_t i = 0; i < v->items.size(); i++) {
    rules.push_back(REEL_TRY(rule_from(v->items[i], in, fmt::format("{}[{}]", path, i))));
  }
  return rules;
}

Result<NoiseConfig> noise_from(const Value& v, const Decoder& in) {
  NoiseConfig noise;
  if (v.is_null()) return noise;
  if (!v.is_mapping()) return in.fail(v, "noise", "a mapping with auto, global, test_sets");
  REEL_TRY(known_keys(v, in, "noise", {"auto", "global", "test_sets"}));
  if (const Value* a = v.find("auto")) noise.auto_detect = REEL_TRY(in.boolean(*a, "noise.auto"));
  noise.global = REEL_TRY(rules_from(v.find("global"), in, "noise.global"));
  if (const Value* sets = v.find("test_sets"); sets && !sets->is_null()) {
    if (!sets->is_mapping()) return in.fail(*sets, "noise.test_sets", "a mapping of test sets");
    for (const auto& [name, rules] : sets->members) {
      noise.test_sets[name] = REEL_TRY(rules_from(&rules, in, "noise.test_sets." + name));
    }
  }
  return noise;
}

Result<RedactionConfig> redact_from(const Value& v, const Decoder& in) {
  RedactionConfig redact;
  if (v.is_null()) return redact;
  if (!v.is_mapping()) return in.fail(v, "redact", "a mapping with enabled, headers, fields");
  REEL_TRY(known_keys(v, in, "redact", {"enabled", "headers", "fields"}));
  if (const Value* e = v.find("enabled"))
    redact.enabled = REEL_TRY(in.boolean(*e, "redact.enabled"));
  if (const Value* h = v.find("headers"))
    redact.headers = REEL_TRY(in.string_list(*h, "redact.headers"));
  if (const Value* f = v.find("fields"))
    redact.fields = REEL_TRY(in.string_list(*f, "redact.fields"));
  return redact;
}

Result<mode_t> mode_from(const Value& v, const Decoder& in) {
  if (!v.is_mapping()) return in.fail(v, "files", "a mapping with mode");
  REEL_TRY(known_keys(v, in, "files", {"mode"}));
  const Value* m = v.find("mode");
  if (m == nullptr) return mode_t{0640};
  std::string text = REEL_TRY(in.text(*m, "files.mode"));
  mode_t mode = 0;
  bool ok = text.size() >= 3 && text.size() <= 4;
  for (char c : text) {
    ok = ok && c >= '0' && c <= '7';
    mode = mode * 8 + static_cast<mode_t>(c - '0');
  }
  // Used exactly as given (reel never opens it further), but no setuid, setgid or sticky bits.
  if (!ok || (mode & 0600) != 0600 || (mode & ~mode_t{0777}) != 0) {
    return in.fail(*m, "files.mode",
                   "an octal file mode the owner can read and write, e.g. \"0640\" or \"0600\"");
  }
  return mode;
}

}  // namespace

Result<ReelConfig> parse_reel_config(std::string_view yaml, std::string_view source) {
  std::vector<Value> docs = REEL_TRY(parse_yaml(yaml, source));
  ReelConfig config;
  if (docs.empty() || docs[0].is_null()) return config;
  Decoder in(source);
  const Value& root = docs[0];
  if (!root.is_mapping()) return in.fail(root, "", "a mapping of settings");
  if (const Value* n = root.find("noise")) config.noise = REEL_TRY(noise_from(*n, in));
  if (const Value* r = root.find("redact")) config.redact = REEL_TRY(redact_from(*r, in));
  if (const Value* f = root.find("files"); f && !f->is_null()) {
    config.file_mode = REEL_TRY(mode_from(*f, in));
  }
  return config;
}

Result<ReelConfig> load_reel_config(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return ReelConfig{};
  std::string text = REEL_TRY(read_file(path, 16u << 20));
  return parse_reel_config(text, path.string());
}

}  // namespace reel::testset
