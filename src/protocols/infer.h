// Guesses a connection's protocol from the first bytes one side sent. Cheap checks on structure
// that real peers always produce (a request line, a startup packet, a greeting), never on
// ports, so a service on an odd port is still recognised.
#pragma once

#include <cstddef>
#include <span>

#include "protocols/types.h"

namespace reel::protocols {

// `data`: the first bytes `sender` sent on the connection; `datagram`: it is one UDP datagram.
// kUnknown when nothing matches, which may change with more bytes: callers retry as bytes come
// (a few hundred are plenty) and then fall back to the raw decoder.
Protocol infer_protocol(std::span<const std::byte> data, MessageType sender, bool datagram = false);

}  // namespace reel::protocols
