// Keploy's project file, keploy.yml, read by `reel test` when present, so that a Keploy project
// runs under reel without restating it: `command` (the app), `port` (where tests go),
// `test.delay` (seconds before the first test), `test.selectedTests` (which test sets) and
// `test.globalNoise` (global and per-test-set noise: `body`/`header` field -> value regexes).
// Other keys are Keploy's own (proxy and DNS ports, telemetry...) and are ignored. Flags given
// to reel win over the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "testset/noise.h"

namespace reel::testset {

struct KeployConfig {
  std::string command;  // as written: run through /bin/sh -c
  std::uint16_t port = 0;
  std::optional<double> delay_s;
  std::vector<std::string> test_sets;  // selectedTests' keys
  NoiseConfig noise;                   // global and test_sets; auto_detect untouched
};

Result<KeployConfig> parse_keploy_config(std::string_view yaml, std::string_view source);
// nullopt when `path` does not exist.
Result<std::optional<KeployConfig>> load_keploy_config(const std::filesystem::path& path);

}  // namespace reel::testset
