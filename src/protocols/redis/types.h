// Redis (RESP2 and RESP3) frames and stitch state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocols/exchange.h"
#include "protocols/redis/conversation.h"
#include "protocols/types.h"

namespace reel::protocols::redis {

struct Frame : FrameBase {
  // RESP type byte of the top-level value ('*', '+', '-', '$', ':', '>', ...), or 'i' for an
  // inline command ("PING\r\n" typed into telnet).
  char type = 0;
  // Top-level array/set/push/map elements as plain strings (a command and its arguments; the
  // kind and channel of a pub/sub message), each at most Limits::max_field, at most max_items.
  std::vector<std::string> args;
  std::uint64_t arg_count = 0;  // true number of top-level elements
  Body text;                    // the whole value rendered for people; commands space-separated
  bool error = false;           // '-' simple error or '!' bulk error
  bool null = false;            // '_' or a RESP2 null bulk/array
};

// RESP framing needs no memory between frames.
struct State {};

struct StitchState {
  Conversation conversation;  // which replies answer which command (conversation.h)
  // A command with several replies ((P|S)SUBSCRIBE a b c) collects them here.
  std::optional<Exchange> collecting;
};

}  // namespace reel::protocols::redis
