// libFuzzer target: the reel.yaml parser (testset/config.h), including the regexes it compiles.
#include <cstdint>
#include <string_view>

#include "testset/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = reel::testset::parse_reel_config(text, "reel.yaml");
  std::size_t sink = config ? config->noise.global.size() + config->redact.headers.size() +
                                  config->file_mode
                            : config.error().message.size();
  asm volatile("" : : "r"(sink));
  return 0;
}
