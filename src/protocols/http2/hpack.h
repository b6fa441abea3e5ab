// HPACK header blocks through libnghttp2's inflater. While a direction's table is known the whole
// block goes to its inflater; otherwise (joined mid-flight, bytes lost, a decode error) each field
// is decoded on its own when it names no table entry from before that moment, and skipped when
// it does.
#pragma once

#include <cstddef>
#include <string_view>

#include "protocols/http2/types.h"

namespace reel::protocols::http2 {

// Decodes `block` into frame.headers, setting headers_partial and headers_truncated.
void decode_block(DirectionState& dir, std::string_view block, Frame& frame, const Limits& limits);

// Fields of this direction were lost (bytes, or a block too long to keep): the entries they added
// to the sender's table are unknown, so neither table of ours can be trusted.
void forget_table(DirectionState& dir);

// The receiver of this direction allows the sender's table to grow to `size` bytes.
void allow_table_size(DirectionState& dir, std::size_t size);

}  // namespace reel::protocols::http2
