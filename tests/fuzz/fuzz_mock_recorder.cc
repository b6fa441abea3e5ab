// libFuzzer target: the record side, mock::CallRecorder, on an arbitrary two-way conversation.
// Every call it records is encoded as a mocks.yaml document and read back.
//
// Input: a setup byte, then operations. Setup: bits 0-2 the server (mock_fixture.h
// fixture_servers(), whose ports hint nothing to the recorder: it infers from the bytes), bit 3
// redact secrets, bit 4 a tiny max_message, bit 5 close with a reset. Each operation byte holds
// the direction (bit 0), the kind (bits 1-2) and a time step (bits 3-7):
//   kind 0-1  data:        length byte, bytes
//   kind 2    FIN:         that direction ends (empty data)
//   kind 3    take:        collect the calls so far
#include <cstdint>
#include <string>

#include "fuzz_input.h"
#include "mock_fixture.h"
#include "testset/codec.h"
#include "testset/redact.h"

namespace {

std::size_t check(const std::vector<reel::mock::RecordedCall>& calls) {
  std::size_t sink = 0;
  for (const auto& call : calls) {
    if (call.response_ns != 0 && call.response_ns < call.request_ns) __builtin_trap();
    std::string yaml = reel::testset::encode_mock(call.mock);
    auto back = reel::testset::parse_mocks(yaml, "recorded.yaml");
    sink += yaml.size() + call.summary.size() + (back ? back->mocks.size() : 0);
  }
  return sink;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace reel;
  static const auto servers = fuzz::fixture_servers();
  static const testset::Redactor redactor(std::string(testset::Redactor::kKeyBytes, 'k'));
  fuzz::FuzzInput in(data, size);
  std::uint8_t setup = in.byte();
  mock::RecordOptions options;
  if (setup & 8) options.redactor = &redactor;
  if (setup & 16) options.max_message = 64;
  auto rec = mock::CallRecorder::create(fuzz::endpoint(100, 40000),
                                        servers[(setup & 7) % servers.size()], options);
  std::uint64_t now = 1'000'000;
  std::size_t sink = 0;
  while (!in.empty()) {
    std::uint8_t op = in.byte();
    auto dir = (op & 1) ? Direction::kServerToClient : Direction::kClientToServer;
    now += op >> 3;
    switch ((op >> 1) & 3) {
      case 2:
        rec->data(dir, {}, now);
        break;
      case 3:
        sink += check(rec->take());
        break;
      default:
        rec->data(dir, in.take(in.byte()), now);
        break;
    }
  }
  rec->close(setup & 32, now + 1);
  sink += check(rec->take()) + rec->invalid_frames() + static_cast<std::size_t>(rec->protocol());
  asm volatile("" : : "r"(sink));
  return 0;
}
