// libFuzzer target: the http2 decoder (frame splitting, HPACK in and out of sync, stream
// stitching, gRPC message splitting and protobuf rendering) fed through stream buffers.
#include "decoder_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reel::fuzz::fuzz_decoder(reel::protocols::Protocol::kHttp2, data, size);
  return 0;
}
