// The parse entry points on hostile input: truncations and byte flips of real files, and known
// YAML abuse. Each must return a value or an error: never crash, hang or throw. (A libFuzzer
// target over parse_test_case/parse_mocks belongs in tests/fuzz; this is its seed run.)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "testset/codec.h"
#include "testset/config.h"

namespace reel::testset {
namespace {

namespace fs = std::filesystem;

const fs::path kSamples = fs::path(__FILE__).parent_path().parent_path() / "data/keploy/test-set-0";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void parse_everything(const std::string& input) {
  (void)parse_test_case(input, "fuzz.yaml");
  (void)parse_mocks(input, "fuzz.yaml");
  (void)parse_reel_config(input, "fuzz.yaml");
}

std::vector<std::string> seeds() {
  return {slurp(kSamples / "tests" / "test-1.yaml"), slurp(kSamples / "tests" / "test-2.yaml"),
          slurp(kSamples / "tests" / "test-3.yaml"), slurp(kSamples / "mocks.yaml")};
}

TEST(TestsetFuzz, TruncationsOfRealFiles) {
  for (const auto& seed : seeds()) {
    for (std::size_t n = 0; n < seed.size(); n += 13) parse_everything(seed.substr(0, n));
  }
}

TEST(TestsetFuzz, RandomByteFlips) {
  std::mt19937 rng(20241105);
  constexpr std::string_view kInteresting = ":-[]{}&*!|>'\"%@`#,?\n\t \\\x00\xff";
  for (const auto& seed : seeds()) {
    for (int round = 0; round < 300; round++) {
      std::string input = seed;
      int flips = 1 + static_cast<int>(rng() % 8);
      for (int k = 0; k < flips; k++) {
        std::size_t at = rng() % input.size();
        input[at] =
            rng() % 2 ? kInteresting[rng() % kInteresting.size()] : static_cast<char>(rng() % 256);
      }
      parse_everything(input);
    }
  }
}

TEST(TestsetFuzz, KnownYamlAbuse) {
  std::vector<std::string> inputs = {
      "",
      "---\n---\n---\n",
      "\xef\xbb\xbf",
      std::string(1, '\0'),
      "&a [*a]",
      "a: *undefined\n",
      "!!binary ====\n",
      "kind: Http\nspec: !!binary '@@@'\n",
      "? [a, b]\n: c\n",
      "kind: Http\nspec:\n  req:\n    proto_major: 99999999999999999999999\n  resp: {}\n",
      "kind: Http\nspec:\n  req: {timestamp: 9999-99-99T99:99:99Z}\n  resp: {}\n",
      "kind: Generic\nspec:\n  genericrequests: [{message: [{type: binary, data: '%%%'}]}]\n",
      std::string(5000, '[') + std::string(5000, ']'),
      std::string(5000, '{') + std::string(5000, '}'),
      std::string(20000, '-') + " a",
  };
  std::string nested = "a:\n";
  for (int i = 1; i < 400; i++)
    nested += std::string(static_cast<std::size_t>(i) * 2, ' ') + "a:\n";
  inputs.push_back(nested);
  for (const auto& input : inputs) parse_everything(input);
}

}  // namespace
}  // namespace reel::testset
