// MySQL packet framing. The 3-byte length is checked before anything is held: payloads past
// Limits::max_frame are cut and their tail skipped.
#pragma once

#include <cstddef>
#include <span>

#include "protocols/mysql/types.h"

namespace reel::protocols::mysql {

ParseResult parse_frame(MessageType type, std::span<const std::byte> data, Packet& frame,
                        State& state, const Limits& limits);

// Offset of the first header that looks like the start of a command (requests: sequence 0 and
// a known command byte) or of a reply (responses: sequence 1 and OK/ERR/EOF or a column
// count), followed by a plausible header when in view; kNoBoundary when none.
std::size_t find_frame_boundary(MessageType type, std::span<const std::byte> data,
                                const State& state);

// The 32-byte SSLRequest a client sends instead of its handshake response to start TLS.
bool is_ssl_request(const Packet& p);

}  // namespace reel::protocols::mysql
