// Pairs HTTP/1.x requests with responses: first in, first out, which is what keep-alive and
// pipelining guarantee on one connection.
#pragma once

#include <deque>
#include <vector>

#include "protocols/exchange.h"
#include "protocols/http1/types.h"

namespace reel::protocols::http1 {

// Moves every pairable message out of `requests` and `responses` into `out`. Interim (1xx)
// responses are folded into the exchange they precede. A response that started before its
// candidate request is an orphan (its request was lost). `flush` also emits what is unpaired.
void stitch(std::deque<Message>& requests, std::deque<Message>& responses, StitchState& state,
            const Limits& limits, bool flush, std::vector<Exchange>& out);

}  // namespace reel::protocols::http1
