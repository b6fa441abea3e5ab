// DNS framing and decoding: header, questions, resource records, names with compression
// pointers. Pointers must point strictly before the previous jump target, so a loop (or a very
// long chain) is rejected rather than followed.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "protocols/dns/types.h"

namespace reel::protocols::dns {

// Over TCP one length-prefixed message; over UDP (state.tcp false) `data` is one datagram.
ParseResult parse_frame(MessageType type, std::span<const std::byte> data, Message& frame,
                        State& state, const Limits& limits);

// Decodes one whole DNS message (no TCP length prefix); false when malformed.
bool parse_message(std::string_view msg, Message& out, const Limits& limits);

// TCP: the first offset whose length prefix and header look like a DNS message; kNoBoundary
// when none. UDP datagrams never need it.
std::size_t find_frame_boundary(MessageType type, std::span<const std::byte> data,
                                const State& state);

}  // namespace reel::protocols::dns
