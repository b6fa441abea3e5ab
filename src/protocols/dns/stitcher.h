// Pairs DNS queries with answers by message id (and question, when both carry one): resolvers
// send several queries at once and answers come back in any order.
#pragma once

#include <deque>
#include <vector>

#include "protocols/dns/types.h"
#include "protocols/exchange.h"

namespace reel::protocols::dns {

void stitch(std::deque<Message>& requests, std::deque<Message>& responses, StitchState& state,
            const Limits& limits, bool flush, std::vector<Exchange>& out);

}  // namespace reel::protocols::dns
