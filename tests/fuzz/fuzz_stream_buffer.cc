// libFuzzer target: the stream buffer against a model. Every byte at stream position p is
// pattern(p), so whatever the buffer hands out must match the pattern at its position, however
// chunks were reordered, repeated, overlapped, lost or evicted; and the caps must hold.
//
// Input: a flags byte (tiny caps), then operations: an op byte (kind in bits 0-2), then
//   kind 0-2 add:       offset byte (relative to the read head, signed), length byte
//   kind 3   add far:   two offset bytes, length byte
//   kind 4   add lost:  offset byte, length byte
//   kind 5   consume:   length byte
//   kind 6   skip gap
//   kind 7   take loss
#include <cstdint>
#include <vector>

#include "capture/stream_buffer.h"
#include "fuzz_input.h"

namespace {

using reel::capture::StreamBuffer;

std::byte pattern(std::uint64_t pos) {
  return static_cast<std::byte>((pos * 131 + (pos >> 8)) & 0xff);
}

void add(StreamBuffer& b, std::uint64_t pos, std::size_t len, std::uint64_t ts) {
  std::vector<std::byte> bytes(len);
  for (std::size_t i = 0; i < len; ++i) bytes[i] = pattern(pos + i);
  b.add(pos, bytes, ts);
}

void check(const StreamBuffer& b, const reel::capture::StreamBufferOptions& o) {
  auto r = b.readable();
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (r[i] != pattern(b.position() + i)) __builtin_trap();
  }
  if (b.buffered_bytes() > o.max_bytes) __builtin_trap();
  if (!r.empty() && b.gap().kind != reel::capture::GapKind::kNone) __builtin_trap();
  if (b.time_at(b.position()) > b.last_activity_ns()) __builtin_trap();
}

// A position near the read head: `offset` bytes after it, or before it when negative.
std::uint64_t near_head(const StreamBuffer& b, std::int8_t offset) {
  std::uint64_t head = b.position();
  if (offset < 0 && head < static_cast<std::uint64_t>(-offset)) return 0;
  return head + offset;
}

void apply(StreamBuffer& b, reel::fuzz::FuzzInput& in, std::uint8_t op, std::uint64_t ts) {
  switch (op & 7) {
    case 3: {
      std::uint64_t far = (std::uint64_t{in.byte()} << 8 | in.byte()) * 64;
      add(b, b.position() + far, in.byte(), ts);
      break;
    }
    case 4: {
      std::uint64_t pos = near_head(b, static_cast<std::int8_t>(in.byte()));
      b.add_lost(pos, in.byte(), ts);
      break;
    }
    case 5:
      b.consume(in.byte());
      break;
    case 6:
      b.skip_gap();
      break;
    case 7:
      b.take_loss();
      break;
    default: {
      std::uint64_t pos = near_head(b, static_cast<std::int8_t>(in.byte()));
      add(b, pos, in.byte(), ts);
      break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reel::fuzz::FuzzInput in(data, size);
  reel::capture::StreamBufferOptions options;
  if (in.byte() & 1) options = {.max_bytes = 256, .max_chunks = 4, .reorder_window = 32};
  StreamBuffer b(options);
  for (std::uint64_t ts = 1; !in.empty(); ++ts) {
    std::uint64_t head = b.position();
    apply(b, in, in.byte(), ts);
    if (b.position() < head) __builtin_trap();  // the head never moves back
    check(b, options);
  }
  return 0;
}
