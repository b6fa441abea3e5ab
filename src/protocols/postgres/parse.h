// PostgreSQL framing: the untyped startup messages, the one-byte SSL answer, and typed
// messages (tag, 4-byte length). Lengths are checked before anything is held: a 2 GB length
// costs Limits::max_frame bytes at most, the rest is skipped.
#pragma once

#include <cstddef>
#include <span>

#include "protocols/postgres/types.h"

namespace reel::protocols::postgres {

ParseResult parse_frame(MessageType type, std::span<const std::byte> data, Message& frame,
                        State& state, const Limits& limits);

// Offset of the first typed message with a known tag and a plausible length whose successor,
// when in view, also starts with a known tag; kNoBoundary when none.
std::size_t find_frame_boundary(MessageType type, std::span<const std::byte> data,
                                const State& state);

// After a gap the startup phase is over, whatever it was.
void on_gap(MessageType type, State& state);

bool is_frontend_tag(char tag);
bool is_backend_tag(char tag);

}  // namespace reel::protocols::postgres
