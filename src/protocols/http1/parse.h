// HTTP/1.x framing on llhttp: keep-alive, pipelining, chunked bodies, HEAD, 1xx, 101 and CONNECT
// tunnels, and bodies that end at close.
#pragma once

#include <cstddef>
#include <span>

#include "protocols/http1/types.h"

namespace reel::protocols::http1 {

// Parses the next message from `data`. llhttp streams, so kNeedsMore consumes all of `data` into
// `state`; kParsed consumes exactly the message's bytes.
ParseResult parse_frame(MessageType type, std::span<const std::byte> data, Message& frame,
                        State& state, const Limits& limits);

// The peer closed its side: a response whose body runs to the close is complete now.
// kParsed with the message, or kNeedsMore when nothing was pending.
ParseResult finish_frame(MessageType type, Message& frame, State& state, const Limits& limits);

// Offset of the first plausible message start (request line or status line) in `data`, or
// kNoBoundary.
std::size_t find_frame_boundary(MessageType type, std::span<const std::byte> data,
                                const State& state);

// Bytes before the next frame were lost: forget the partial message of that direction.
void on_gap(MessageType type, State& state);

}  // namespace reel::protocols::http1
