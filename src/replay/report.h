// Replay reports: the terminal, Keploy-style YAML under DIR/reports, JUnit XML, JSON.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"
#include "replay/results.h"

namespace reel::replay {

// One line per test as it finishes; the diff under a failure.
void print_test(std::FILE* out, const TestResult& r, bool color);
void print_summary(std::FILE* out, const std::vector<SetResult>& sets, bool color);

// DIR/reports/test-run-N/ (N one past the highest), one <set>-report.yaml per set. Returns the
// run directory.
Result<std::filesystem::path> write_yaml_reports(const std::filesystem::path& root,
                                                 const std::vector<SetResult>& sets);
Result<void> write_junit(const std::filesystem::path& file, const std::vector<SetResult>& sets);
std::string json_summary(const std::vector<SetResult>& sets);

}  // namespace reel::replay
