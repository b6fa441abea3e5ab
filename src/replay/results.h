// What a replay found, per test and per test set: the input of every report.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mock/mock.h"
#include "testset/compare.h"
#include "testset/model.h"

namespace reel::replay {

struct TestResult {
  std::string name;
  std::string method, url;  // gRPC: "grpc" and the :path ("/pkg.Svc/Method")
  bool passed = false;
  std::string error;  // the request could not be replayed (app down, timeout); empty otherwise
  bool grpc = false;  // a gRPC test: the grpc_ fields hold its answers and verdict
  testset::ResponseDiff diff;
  testset::HttpResponse expected, actual;
  testset::GrpcDiff grpc_diff;
  testset::GrpcResponse grpc_expected, grpc_actual;
  std::vector<mock::Unmatched> unmatched;  // dependency calls no mock answered
  std::int64_t started_unix_ns = 0;
  std::uint64_t duration_ns = 0;
};

struct SetResult {
  std::string name;
  std::vector<TestResult> tests;
  std::string error;  // the set could not run (app did not start, ...)
  std::vector<mock::Unmatched> unmatched_outside;  // calls outside any test (start-up)
  mock::PoolStats mocks;
  std::uint64_t duration_ns = 0;

  std::size_t passed() const;
  std::size_t failed() const { return tests.size() - passed(); }
  bool ok() const { return error.empty() && failed() == 0; }
};

}  // namespace reel::replay
