// Unknown protocols: shown, not dropped. A frame is whatever bytes were readable; an exchange is
// a burst from the client paired with the server's burst that follows it (by arrival time).
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <vector>

#include "protocols/exchange.h"
#include "protocols/types.h"

namespace reel::protocols::raw {

struct Chunk : FrameBase {
  std::string bytes;  // at most Limits::max_body
  std::uint64_t size = 0;
};

struct State {};
struct StitchState {};

// Takes all of `data` as one chunk (kNeedsMore only when it is empty).
ParseResult parse_frame(MessageType type, std::span<const std::byte> data, Chunk& frame,
                        State& state, const Limits& limits);
// Any byte can start a chunk.
std::size_t find_frame_boundary(MessageType type, std::span<const std::byte> data,
                                const State& state);
// A client burst is complete when the server starts answering, a server burst when the client
// speaks again (or at flush). Server bursts before any request stand alone (banners).
void stitch(std::deque<Chunk>& requests, std::deque<Chunk>& responses, StitchState& state,
            const Limits& limits, bool flush, std::vector<Exchange>& out);

}  // namespace reel::protocols::raw
