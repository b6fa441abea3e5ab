// Drives a protocol decoder the way the capture engine does: chunks at stream positions go
// into one StreamBuffer per direction, which feeds the decoder; gaps are reported to it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "capture/stream_buffer.h"
#include "protocols/decoder.h"

namespace reel::protocols::testing {

class Harness {
 public:
  explicit Harness(Protocol protocol, DecoderOptions options = {})
      : decoder_(make_decoder(protocol, options)) {}

  // `bytes` sent by the client (request) or the server (response), read at `ts` (default: a
  // clock that advances 1000 ns per call).
  Harness& client(std::string_view bytes, std::uint64_t ts = 0) {
    return add(MessageType::kRequest, bytes, ts);
  }
  Harness& server(std::string_view bytes, std::uint64_t ts = 0) {
    return add(MessageType::kResponse, bytes, ts);
  }
  // The kernel says `n` bytes of that side were not delivered.
  Harness& lose(MessageType type, std::uint64_t n) {
    Side& s = side(type);
    s.buffer.add_lost(s.pos, n, tick(0));
    s.pos += n;
    pump();
    return *this;
  }
  Harness& close(MessageType type) {
    decoder_->on_close(type, tick(0));
    return *this;
  }

  std::vector<Exchange> take(bool flush = false) {
    std::vector<Exchange> out;
    decoder_->take_exchanges(out, flush);
    return out;
  }
  Decoder& decoder() { return *decoder_; }

 private:
  struct Side {
    capture::StreamBuffer buffer;
    std::uint64_t pos = 0;
  };

  Side& side(MessageType type) { return type == MessageType::kRequest ? sides_[0] : sides_[1]; }
  std::uint64_t tick(std::uint64_t ts) { return now_ = ts ? ts : now_ + 1000; }

  Harness& add(MessageType type, std::string_view bytes, std::uint64_t ts) {
    Side& s = side(type);
    s.buffer.add(s.pos, as_bytes(bytes), tick(ts));
    s.pos += bytes.size();
    pump();
    return *this;
  }

  void pump() {
    for (MessageType type : {MessageType::kRequest, MessageType::kResponse}) {
      capture::StreamBuffer& b = side(type).buffer;
      while (true) {
        if (b.gap().kind == capture::GapKind::kLost) b.skip_gap();
        if (std::uint64_t lost = b.take_loss()) decoder_->on_gap(type, lost);
        auto data = b.readable();
        if (data.empty()) break;
        std::uint64_t base = b.position();
        std::size_t n =
            decoder_->feed(type, data, [&](std::size_t off) { return b.time_at(base + off); });
        if (n == 0) break;
        b.consume(n);
      }
    }
  }

  std::unique_ptr<Decoder> decoder_;
  Side sides_[2];
  std::uint64_t now_ = 0;
};

}  // namespace reel::protocols::testing
