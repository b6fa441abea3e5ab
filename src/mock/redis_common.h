// RESP framing shared by the Redis recorder and responder: whole top-level values as raw bytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "protocols/redis/conversation.h"
#include "protocols/types.h"

namespace reel::mock::redis {

struct Value {
  std::string bytes;              // exactly as on the wire
  std::vector<std::string> args;  // top-level elements (a command and its arguments)
  char type = 0;                  // RESP type byte, 'i' for an inline command
};

// What the pairing model (protocols/redis/conversation.h) needs of a value; it points into `v`.
protocols::redis::ValueView view_of(const Value& v);

enum class Split { kValue, kNeedsMore, kInvalid };

// Frames the value at the front of `data` (commands when `request`). kInvalid on bytes that are
// not RESP; the caller resyncs or gives up.
Split next_value(std::string_view data, bool request, Value& out, std::size_t& consumed);

// All whole values in `data`, in order (a recorded request may hold a pipelined burst).
std::vector<Value> split_all(std::string_view data, bool request);

std::string upper(std::string_view s);
// "GET k": the command and its first argument, for people.
std::string summary_of(const std::vector<std::string>& args);

}  // namespace reel::mock::redis
