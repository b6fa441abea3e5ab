// libFuzzer target: protoscope, the text Keploy keeps gRPC messages in (decoded_data;
// protocols/http2/protoscope.h), and the JSON view of protobuf (protobuf_json.h). The input is
// read as protoscope text, and as message bytes: whatever scans must write and scan back to the
// same bytes, and any bytes at all must survive protoscope_write -> protoscope_scan.
#include <cstdint>
#include <string>
#include <string_view>

#include "protocols/http2/protobuf_json.h"
#include "protocols/http2/protoscope.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace reel::protocols::grpc;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::size_t sink = 0;
  if (auto bytes = protoscope_scan(input)) {
    auto again = protoscope_scan(protoscope_write(*bytes));
    if (!again || *again != *bytes) __builtin_trap();
    sink += bytes->size();
  } else {
    sink += bytes.error().message.size();
  }
  std::string text = protoscope_write(input);
  auto back = protoscope_scan(text);
  if (!back || *back != input) __builtin_trap();
  if (auto json = protobuf_json(input)) sink += json->dump().size();
  asm volatile("" : : "r"(sink));
  return 0;
}
