// HTTP/2 framing: the client preface, then 9-byte-header frames. HEADERS and PUSH_PROMISE are
// returned once their CONTINUATION frames have all arrived, with the header block decoded.
#pragma once

#include <cstddef>
#include <span>

#include "protocols/http2/types.h"

namespace reel::protocols::http2 {

ParseResult parse_frame(MessageType type, std::span<const std::byte> data, Frame& frame,
                        State& state, const Limits& limits);

// Offset of the first plausible frame header (or client preface) in `data`, or kNoBoundary.
std::size_t find_frame_boundary(MessageType type, std::span<const std::byte> data,
                                const State& state);

// Bytes of that direction were lost: its HPACK table can no longer be trusted.
void on_gap(MessageType type, State& state);

}  // namespace reel::protocols::http2
