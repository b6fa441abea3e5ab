// A recording checks itself before `reel record` exits, so that a user learns at record time,
// not at replay, that it will not replay. The test set is read back from disk (what `reel test`
// will read), then:
// - every call is held against its protocol's pairing model: an answer the request cannot have
//   had (a ParseComplete answering a Sync) means the calls were paired wrong;
// - every call is replayed, connection by connection in recorded order, through the matcher and
//   responders that `reel test` and `reel mock` use: it must be answered by itself (or by a
//   call just like it), never by an error, nor by another call.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.h"
#include "testset/model.h"

namespace reel::record {

struct CheckProblem {
  std::string mock;     // "mock-7"
  std::string test;     // the test it belongs to; "" when session-wide
  std::string summary;  // the call: "Postgres 127.0.0.1:5432 SELECT ..."
  std::string what;     // why it will not replay as recorded
};

struct CheckReport {
  std::size_t replayed = 0;     // calls answered by themselves
  std::size_t by_protocol = 0;  // calls the responder answers without a mock (start-up)
  std::size_t skipped = 0;      // kinds not replayed here, or calls without an answer
  // Calls left unchecked to bound the time: each replayed call is rated against every recorded
  // one (as at replay), so huge recordings are checked connection by connection up to a budget.
  std::size_t over_budget = 0;
  std::vector<CheckProblem> problems;
};

CheckReport check_mocks(const std::vector<testset::Mock>& mocks);
// Reads the test set in `dir` as `reel test` would, then check_mocks.
Result<CheckReport> check_test_set(const std::filesystem::path& dir);

}  // namespace reel::record
