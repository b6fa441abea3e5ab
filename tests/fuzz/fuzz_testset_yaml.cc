// libFuzzer target: the test-set YAML reader (testset/codec.h). The input is one file, read as a
// test case, as a mocks.yaml and as a mocks.yaml cut short; whatever parses is encoded again and
// the encoding read back, so the writer sees every shape the reader accepts.
#include <cstdint>
#include <string_view>

#include "testset/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace reel::testset;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::size_t sink = 0;
  if (auto test = parse_test_case(text, "fuzz/tests/test-1.yaml")) {
    std::string again = encode_test_case(*test);
    sink += again.size() + parse_test_case(again, "again.yaml").has_value();
  }
  if (auto file = parse_mocks(text, "fuzz/mocks.yaml")) {
    std::string again;
    for (const Mock& m : file->mocks) again += "---\n" + encode_mock(m);
    sink += file->unknown_count() + parse_mocks(again, "again.yaml").has_value();
  }
  if (auto recovered = parse_mocks_recovering(text, "fuzz/mocks.yaml")) {
    if (recovered->good_bytes > size) __builtin_trap();  // a prefix of the input
    sink += recovered->file.mocks.size() + recovered->warning.size();
  }
  asm volatile("" : : "r"(sink));
  return 0;
}
