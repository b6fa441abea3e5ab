// One fuzz harness for every protocol decoder, driven the way the capture engine drives it.
//
// Input: a flags byte, then operations. Each operation byte holds the direction (bit 0), the
// kind (bits 1-3) and a time step (bits 4-7):
//   kind 0-2  data in order:     length byte, bytes
//   kind 3    data out of order: offset byte, length byte, bytes (at position + offset)
//   kind 4    lost range:        length byte
//   kind 5    close that side
//   kind 6    take exchanges
//   kind 7    give up on a hole at the head
// Flags: bit 0 UDP datagrams (DNS only), bit 1 tiny limits, bit 2 tiny stream buffers, bit 3
// lines only (no HTTP/1 contents kept, response headers not reported: reel trace's default).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "capture/stream_buffer.h"
#include "fuzz_input.h"
#include "protocols/decoder.h"
#include "protocols/infer.h"

namespace reel::fuzz {

namespace detail {

using protocols::Exchange;
using protocols::MessageType;

inline MessageType side(int dir) { return dir ? MessageType::kResponse : MessageType::kRequest; }

inline void pump(protocols::Decoder& decoder, capture::StreamBuffer& b, MessageType type) {
  while (true) {
    if (b.gap().kind == capture::GapKind::kLost) b.skip_gap();
    if (std::uint64_t lost = b.take_loss()) decoder.on_gap(type, lost);
    auto data = b.readable();
    if (data.empty()) return;
    std::uint64_t base = b.position();
    std::size_t n =
        decoder.feed(type, data, [&](std::size_t off) { return b.time_at(base + off); });
    if (n > data.size()) __builtin_trap();  // the decoder must never over-consume
    if (n == 0) return;
    b.consume(n);
  }
}

inline std::uint64_t digest(std::string_view text) { return std::hash<std::string_view>()(text); }

inline void check_body(const protocols::Body& body, const protocols::Limits& limits) {
  if (body.data.size() > limits.max_body) __builtin_trap();  // caps hold
  if (body.data.size() > body.size) __builtin_trap();        // the true size is never smaller
}

// Reads every byte of every exchange, so sanitizers see anything built from freed or
// uninitialised memory, and checks the caps.
inline std::uint64_t touch(const std::vector<Exchange>& exchanges,
                           const protocols::Limits& limits) {
  std::uint64_t sum = 0;
  for (const Exchange& e : exchanges) {
    check_body(e.request_body, limits);
    check_body(e.response_body, limits);
    sum += digest(e.method) + digest(e.target) + digest(e.host) + digest(e.status_text) +
           digest(e.error) + digest(e.request_body.data) + digest(e.response_body.data) +
           e.latency_ns + static_cast<std::uint64_t>(e.status);
    for (const auto& [k, v] : e.fields) sum += digest(k) + digest(v);
    for (const auto& [k, v] : e.request_headers) sum += digest(k) + digest(v);
    for (const auto& [k, v] : e.response_headers) sum += digest(k) + digest(v);
  }
  return sum;
}

inline protocols::DecoderOptions options_for(protocols::Protocol protocol, std::uint8_t flags) {
  protocols::DecoderOptions options;
  options.datagrams = protocol == protocols::Protocol::kDns && (flags & 1);
  if (flags & 2) {
    options.limits.max_body = 16;
    options.limits.max_frame = 64;
    options.limits.max_header_bytes = 128;
    options.limits.max_headers = 4;
    options.limits.max_items = 4;
    options.limits.max_field = 8;
    options.limits.max_pending = 4;
  }
  if (flags & 8) options.limits.http1_contents = false;
  return options;
}

// Everything one fuzz input drives: a decoder, its two stream buffers, the clock.
struct Session {
  explicit Session(protocols::Protocol protocol, std::uint8_t flags)
      : options(options_for(protocol, flags)),
        decoder(protocols::make_decoder(protocol, options)),
        buffers{capture::StreamBuffer(buffer_options(flags)),
                capture::StreamBuffer(buffer_options(flags))} {}

  static capture::StreamBufferOptions buffer_options(std::uint8_t flags) {
    if (flags & 4) return {.max_bytes = 512, .max_chunks = 8, .reorder_window = 64};
    return {};
  }

  void data(int dir, std::span<const std::byte> bytes) {
    if (!inferred) {
      inferred = true;
      auto guess = protocols::infer_protocol(bytes, side(dir), options.datagrams);
      sink += static_cast<std::uint64_t>(guess);
    }
    if (options.datagrams) {
      decoder->feed(side(dir), bytes, [&](std::size_t) { return now; });
      return;
    }
    buffers[dir].add(pos[dir], bytes, now);
    pos[dir] += bytes.size();
  }

  void take(bool flush) {
    out.clear();
    decoder->take_exchanges(out, flush);
    sink += touch(out, options.limits);
  }

  protocols::DecoderOptions options;
  std::unique_ptr<protocols::Decoder> decoder;
  capture::StreamBuffer buffers[2];
  std::uint64_t pos[2] = {0, 0};
  std::uint64_t now = 1;
  std::vector<Exchange> out;
  std::uint64_t sink = 0;
  bool inferred = false;
};

inline void apply(Session& s, FuzzInput& in, std::uint8_t op) {
  int dir = op & 1;
  s.now += op >> 4;
  switch ((op >> 1) & 7) {
    case 3: {
      std::uint8_t offset = in.byte();
      s.buffers[dir].add(s.pos[dir] + offset, in.take(in.byte()), s.now);
      break;
    }
    case 4: {
      std::uint8_t n = in.byte();
      s.buffers[dir].add_lost(s.pos[dir], n, s.now);
      s.pos[dir] += n;
      break;
    }
    case 5:
      s.decoder->on_close(side(dir), s.now);
      break;
    case 6:
      s.take(false);
      break;
    case 7:
      s.buffers[dir].skip_gap();
      break;
    default:
      s.data(dir, in.take(in.byte()));
      break;
  }
}

}  // namespace detail

inline void fuzz_decoder(protocols::Protocol protocol, const std::uint8_t* data, std::size_t size) {
  using namespace detail;
  FuzzInput in(data, size);
  Session s(protocol, in.byte());
  while (!in.empty()) {
    apply(s, in, in.byte());
    pump(*s.decoder, s.buffers[0], MessageType::kRequest);
    pump(*s.decoder, s.buffers[1], MessageType::kResponse);
  }
  s.decoder->on_close(MessageType::kRequest, s.now);
  s.decoder->on_close(MessageType::kResponse, s.now);
  s.take(true);
  asm volatile("" : : "r"(s.sink));
}

}  // namespace reel::fuzz
