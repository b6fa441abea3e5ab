#include "testset/keploy_config.h"

#include <fstream>
#include <sstream>

#include "testset/yaml_value.h"

namespace reel::testset {

namespace {

// Keploy's noise map: {body: {field: [regex...]}, header: {Name: [regex...]}}.
Result<std::vector<NoiseRule>> noise_rules(const Value& v, std::string_view source) {
  std::vector<NoiseRule> out;
  if (v.is_null()) return out;
  if (!v.is_mapping()) return fail_msg("{}:{}: globalNoise: expected a mapping", source, v.line);
  for (const auto& [part, fields] : v.members) {
    if (part != "body" && part != "header")
      return fail_msg("{}:{}: globalNoise: '{}' is neither body nor header", source, fields.line, part);
    if (fields.is_null()) continue;
    if (!fields.is_mapping()) return fail_msg("{}:{}: globalNoise.{}: expected a mapping", source, fields.line, part);
    for (const auto& [field, values] : fields.members) {
      NoiseRule rule;
      rule.path = part + "." + field;
      std::string regex;
      for (const Value& r : values.items) regex += (regex.empty() ? "" : "|") + ("(?:" + r.text + ")");
      rule.value_regex = regex;
      out.push_back(std::move(rule));
    }
  }
  return out;
}

}  // namespace

Result<KeployConfig> parse_keploy_config(std::string_view yaml, std::string_view source) {
  auto docs = REEL_TRY(parse_yaml(yaml, source));
  KeployConfig c;
  if (docs.empty() || docs.front().is_null()) return c;
  const Value& root = docs.front();
  if (!root.is_mapping()) return fail_msg("{}: expected Keploy's keploy.yml mapping", source);
  if (const Value* cmd = root.find("command"); cmd && cmd->is_scalar()) c.command = cmd->text;
  if (const Value* port = root.find("port"); port && port->is_scalar() && !port->text.empty()) {
    int p = 0;
    try {
      p = std::stoi(port->text);
    } catch (...) {
      p = -1;
    }
    if (p < 0 || p > 65535) return fail_msg("{}:{}: port: '{}' is not a port", source, port->line, port->text);
    c.port = static_cast<std::uint16_t>(p);
  }
  const Value* test = root.find("test");
  if (!test || !test->is_mapping()) return c;
  if (const Value* d = test->find("delay"); d && d->is_scalar() && !d->text.empty()) {
    try {
      c.delay_s = std::stod(d->text);
    } catch (...) {
      return fail_msg("{}:{}: test.delay: '{}' is not a number of seconds", source, d->line, d->text);
    }
  }
  if (const Value* sel = test->find("selectedTests"); sel && sel->is_mapping()) {
    for (const auto& [name, tests] : sel->members) c.test_sets.push_back(name);
  }
  if (const Value* noise = test->find("globalNoise"); noise && noise->is_mapping()) {
    if (const Value* g = noise->find("global")) c.noise.global = REEL_TRY(noise_rules(*g, source));
    if (const Value* sets = noise->find("test-sets"); sets && sets->is_mapping()) {
      for (const auto& [name, rules] : sets->members)
        c.noise.test_sets[name] = REEL_TRY(noise_rules(rules, source));
    }
  }
  return c;
}

Result<std::optional<KeployConfig>> load_keploy_config(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<KeployConfig>{};
  std::ifstream in(path);
  if (!in) return fail_errno("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::optional<KeployConfig>(REEL_TRY(parse_keploy_config(ss.str(), path.string())));
}

}  // namespace reel::testset
