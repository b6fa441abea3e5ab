// libFuzzer target: protocol inference on arbitrary first bytes, and the raw decoder that shows
// unknown protocols as bursts.
#include "decoder_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using reel::protocols::MessageType;
  auto bytes = std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size);
  auto a = reel::protocols::infer_protocol(bytes, MessageType::kRequest);
  auto b = reel::protocols::infer_protocol(bytes, MessageType::kResponse);
  auto c = reel::protocols::infer_protocol(bytes, MessageType::kRequest, true);
  asm volatile("" : : "r"(a), "r"(b), "r"(c));
  reel::fuzz::fuzz_decoder(reel::protocols::Protocol::kUnknown, data, size);
  return 0;
}
