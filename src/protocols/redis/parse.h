// RESP2/RESP3 framing: one top-level value per frame, pipelined or not, plus inline commands.
#pragma once

#include <cstddef>
#include <span>

#include "protocols/redis/types.h"

namespace reel::protocols::redis {

// Requests are RESP arrays or inline command lines; responses are any RESP2/RESP3 value.
// Nesting deeper than 32, lines longer than 64 KiB and bulk lengths over 512 MiB are invalid.
// A top-level bulk string longer than Limits::max_frame is cut (its tail skipped by the caller).
ParseResult parse_frame(MessageType type, std::span<const std::byte> data, Frame& frame,
                        State& state, const Limits& limits);

// Offset of the first line start that looks like a RESP value (for requests, an array header),
// or kNoBoundary.
std::size_t find_frame_boundary(MessageType type, std::span<const std::byte> data,
                                const State& state);

}  // namespace reel::protocols::redis
