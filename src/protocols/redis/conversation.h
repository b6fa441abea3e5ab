// How a Redis conversation pairs, written once: which server values answer which command, and
// which answer none. The tracer's stitcher cuts exchanges with it and the mock recorder cuts
// mocks with it.
//
// Commands are answered first in, first out, pipelined or not: one reply each (MULTI's OK, the
// QUEUED of each command inside, EXEC's array). A (P|S)(UN)SUBSCRIBE gets one confirmation per
// channel it names or, naming none, confirmations until the subscription count reaches 0; an
// error ends it. Values that answer no command stand alone: RESP3 pushes other than those
// confirmations (pub/sub messages, invalidations), RESP2 pub/sub messages while the connection
// is subscribed, and the lines MONITOR streams once it said OK.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace reel::protocols::redis {

// What pairing needs to know of one RESP value.
struct ValueView {
  char type = 0;                      // RESP type byte ('i' for an inline command)
  std::span<const std::string> args;  // top-level elements (a command and its arguments)
  std::uint64_t count = 0;            // true number of top-level elements
  std::string_view simple;            // a simple string's text ('+' values only)
};

// Pairing state of one connection.
struct Conversation {
  bool subscribed = false;  // in pub/sub mode: arrays may be messages
  bool monitor = false;     // MONITOR streams a simple string per command the server sees
  // Replies the front command still waits for: 0 before its first, -1 until a confirmation's
  // subscription count reaches 0.
  std::int64_t replies_left = 0;
};

// True when `reply` answers no command: a push, a pub/sub message or a MONITOR line.
bool is_push(const ValueView& reply, const Conversation& c);

// Takes `reply` (not a push) as the next reply to `command`, the oldest unanswered command;
// true when that command has all its replies.
bool take_reply(const ValueView& command, const ValueView& reply, Conversation& c);

}  // namespace reel::protocols::redis
