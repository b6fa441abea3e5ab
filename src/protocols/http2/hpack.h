// HPACK header blocks through libnghttp2's inflater. While a direction's table is known the whole
// block goes to its inflater; otherwise (joined mid-flight, bytes lost, a decode error) each field
// is decoded on its own when it needs no dynamic-table entry and skipped when it does.
#pragma once

#include <cstddef>
#include <string_view>

#include "protocols/http2/types.h"

namespace reel::protocols::http2 {

// Decodes `block` into frame.headers, setting headers_partial and headers_truncated.
void decode_block(DirectionState& dir, std::string_view block, Frame& frame, const Limits& limits);

// The receiver of this direction allows the sender's table to grow to `size` bytes.
void allow_table_size(DirectionState& dir, std::size_t size);

}  // namespace reel::protocols::http2
