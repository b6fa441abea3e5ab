// One connection's protocol decoder: frames both byte streams with the protocol's parser, pairs
// the frames with its stitcher, and hands out Exchanges. Owns everything per connection that the
// pure parse/stitch functions need, and handles what every protocol shares: frame timing, gaps
// and resync, skipping the tail of oversized frames, and caps on held frames.
//
// Some protocols couple the directions (a HEAD response has no body; after SSLRequest the client
// waits for the server's one-byte answer), so whenever a connection has new bytes, feed both
// sides, requests first, then take_exchanges().
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "protocols/exchange.h"
#include "protocols/types.h"

namespace reel::protocols {

// Arrival time of the byte at `offset` into the span given to Decoder::feed.
using TimeAt = std::function<std::uint64_t(std::size_t offset)>;

struct DecoderOptions {
  Limits limits;
  // Each feed() is one whole datagram (DNS over UDP) rather than a piece of a byte stream.
  bool datagrams = false;
};

struct DecoderStats {
  std::uint64_t frames = 0;
  std::uint64_t invalid = 0;          // parse failures (each followed by a resync)
  std::uint64_t bytes_skipped = 0;    // bytes thrown away while resyncing
  std::uint64_t bytes_truncated = 0;  // tails of cut frames skipped as they arrived (or were lost)
  std::uint64_t gaps = 0;             // on_gap calls
  std::uint64_t frames_dropped = 0;   // frames evicted past Limits::max_pending
  std::uint64_t exchanges = 0;
};

class Decoder {
 public:
  virtual ~Decoder() = default;

  virtual Protocol protocol() const = 0;
  // Frames what it can from the front of `data`, the readable bytes sent by one side. Returns
  // how many bytes to consume (at most data.size()); bytes it needs again next time it leaves.
  virtual std::size_t feed(MessageType type, std::span<const std::byte> data,
                           const TimeAt& time_at) = 0;
  // `lost` bytes of that side's stream are missing before the next data fed.
  virtual void on_gap(MessageType type, std::uint64_t lost) = 0;
  // That side closed: a message that ends at close (HTTP body without length) is complete.
  virtual void on_close(MessageType type, std::uint64_t ts_ns) = 0;
  // Appends the exchanges paired so far. `flush` (connection closed or idle) also emits
  // requests without responses and responses without requests.
  virtual void take_exchanges(std::vector<Exchange>& out, bool flush) = 0;
  virtual const DecoderStats& stats() const = 0;
};

// kUnknown and kTls give the raw decoder (client burst paired with the following server burst).
std::unique_ptr<Decoder> make_decoder(Protocol protocol, const DecoderOptions& options = {});

}  // namespace reel::protocols
