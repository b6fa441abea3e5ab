// Turns PostgreSQL messages into exchanges, paired as conversation.h says (the one pairing
// model the recorder and responder use too): a simple Query, an extended-query cycle
// (Parse/Bind/Describe/Execute/Flush... up to Sync), or the start-up and authentication
// conversation is answered by everything the server sends up to ReadyForQuery. SSLRequest is
// answered by one byte; Terminate and CancelRequest get no answer.
#pragma once

#include <deque>
#include <vector>

#include "protocols/exchange.h"
#include "protocols/postgres/types.h"

namespace reel::protocols::postgres {

void stitch(std::deque<Message>& requests, std::deque<Message>& responses, StitchState& state,
            const Limits& limits, bool flush, std::vector<Exchange>& out);

}  // namespace reel::protocols::postgres
