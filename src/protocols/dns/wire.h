// Pieces of the DNS wire format shared by the parser: names and record data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocols/types.h"

namespace reel::protocols::dns {

// Reads the name at `pos` in the whole message `msg`, following compression pointers, and moves
// `pos` past it (past the first pointer when there is one). False on a loop, a forward or
// out-of-range pointer, a reserved label type, or a name over 255 bytes.
bool read_name(std::string_view msg, std::size_t& pos, std::string& out);

// Presentation form of `rdlen` bytes of record data at `pos` for record type `type`.
std::string render_rdata(std::string_view msg, std::size_t pos, std::size_t rdlen,
                         std::uint16_t type, const Limits& limits);

}  // namespace reel::protocols::dns
