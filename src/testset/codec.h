// Test cases and mocks to and from Keploy-shaped YAML. Pure: text in, text out; files are the
// reader's and writer's business. parse_* never throw or crash on any input (fuzz entry points).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "testset/decode.h"
#include "testset/model.h"
#include "testset/yaml_value.h"

namespace reel::testset {

// tests/<name>.yaml, in Keploy's field order.
std::string encode_test_case(const TestCase& test);
// One mocks.yaml document, without the "---" separator, ending in a newline.
std::string encode_mock(const Mock& mock);

// `source` names the text in errors ("test-set-0/tests/test-1.yaml").
Result<TestCase> parse_test_case(std::string_view yaml, std::string_view source);

struct MockFile {
  std::vector<Mock> mocks;  // file order; unknown kinds included as OpaqueMockSpec
  std::map<std::string, std::size_t> unknown_kinds;  // kind name -> count
  std::size_t unknown_count() const;
};
Result<MockFile> parse_mocks(std::string_view yaml, std::string_view source);

// parse_mocks, except that a last document cut short (a crash, a full disk, in the middle of an
// append) is dropped with a warning instead of failing the whole file: the writer appends a
// test's mocks before writing the test, so such a tail belongs to no test on disk. A broken
// document anywhere else is still an error naming its file and line.
struct RecoveredMocks {
  MockFile file;
  std::size_t good_bytes = 0;  // length of the prefix that parsed (the whole text when intact)
  std::string warning;         // set when a tail was dropped
};
Result<RecoveredMocks> parse_mocks_recovering(std::string_view yaml, std::string_view source);

// The Value layer, for callers that build or inspect documents themselves.
Value test_case_to_value(const TestCase& test);
Value mock_to_value(const Mock& mock);
Result<TestCase> test_case_from_value(const Value& doc, const Decoder& in);
Result<Mock> mock_from_value(const Value& doc, const Decoder& in);

// Keploy's `curl` field: a shell command replaying `req` (Content-Length left to curl).
std::string make_curl(const HttpRequest& req);

}  // namespace reel::testset
