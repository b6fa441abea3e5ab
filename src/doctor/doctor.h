// `reel doctor`: what works on this machine, what will not, and the fix for each failure.
#pragma once

#include <string>
#include <vector>

namespace reel {

enum class CheckStatus { kOk, kWarn, kFail };

struct CheckResult {
  std::string name;
  CheckStatus status;
  std::string detail;
  std::string fix;  // empty when ok
  std::string needed_by;  // which reel commands depend on it
};

std::vector<CheckResult> run_checks();

// Prints the table; returns 0 when nothing failed.
int run_doctor(bool json);

}  // namespace reel
