// `reel test`: replay recorded test cases against a new build with every dependency served from
// mocks. `reel mock`: serve the mocks only, for the app's own test suite.
#pragma once

#include <optional>

#include "core/user.h"
#include <cstdint>
#include <string>
#include <vector>

namespace reel::replay {

struct TestCommandOptions {
  std::vector<std::string> command;
  std::optional<RunAs> user;  // --user: the command runs as this account
  std::string dir = "reel";
  std::vector<std::string> test_sets;  // empty: all
  double delay_s = 0;                  // wait this long instead of polling for readiness
  std::string health_url;              // poll this URL until it answers below 500
  std::string report;                  // "junit:FILE"
  bool json = false;                   // a JSON summary on stdout
  std::string config = "reel.yaml";
  std::uint16_t app_port = 0;          // default: the port the tests were recorded on
  double timeout_s = 10;               // per request
  double ready_timeout_s = 60;
};

struct MockCommandOptions {
  std::vector<std::string> command;
  std::optional<RunAs> user;  // --user: the command runs as this account
  std::string dir = "reel";
  std::vector<std::string> test_sets;  // empty: all
};

int run_test(const TestCommandOptions& opts);
int run_mock(const MockCommandOptions& opts);

}  // namespace reel::replay
