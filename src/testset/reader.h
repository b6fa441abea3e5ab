// Loads test sets from disk: ours, or recorded by Keploy.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/result.h"
#include "testset/model.h"

namespace reel::testset {

struct SkippedTest {
  std::string file;
  std::string kind;  // e.g. "GraphQL": a test kind reel does not replay
};

struct TestSet {
  std::string name;  // directory name, "test-set-0"
  std::filesystem::path dir;
  std::vector<TestCase> tests;  // by number: test-2 before test-10
  std::vector<Mock> mocks;      // mocks.yaml order, unknown kinds included (opaque)
  std::map<std::string, std::size_t> unknown_mock_kinds;
  std::vector<SkippedTest> skipped_tests;

  std::size_t unknown_mock_count() const;
};

// Test set directory names under `root` ("test-set-*" holding tests/ or mocks.yaml), by number.
Result<std::vector<std::string>> list_test_sets(const std::filesystem::path& root);

// DIR/tests/*.yaml and DIR/mocks.yaml. Fails on the first file that is not valid, naming
// file:line and what was expected. Hidden files (leftover temporaries) are not read.
Result<TestSet> load_test_set(const std::filesystem::path& dir);

// Orders "test-2" before "test-10": by the number after the last '-', then by name.
bool numbered_less(const std::string& a, const std::string& b);

}  // namespace reel::testset
