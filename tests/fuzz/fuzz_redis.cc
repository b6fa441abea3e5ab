// libFuzzer target: the redis decoder (framing, resync, pairing) fed through stream buffers.
#include "decoder_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reel::fuzz::fuzz_decoder(reel::protocols::Protocol::kRedis, data, size);
  return 0;
}
