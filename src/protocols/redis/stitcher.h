// Pairs Redis commands with replies: first in, first out (pipelines included), except that
// pub/sub messages, RESP3 pushes and MONITOR lines stand alone, and (P|S)(UN)SUBSCRIBE collect
// one reply per channel.
#pragma once

#include <deque>
#include <vector>

#include "protocols/exchange.h"
#include "protocols/redis/types.h"

namespace reel::protocols::redis {

void stitch(std::deque<Frame>& requests, std::deque<Frame>& responses, StitchState& state,
            const Limits& limits, bool flush, std::vector<Exchange>& out);

}  // namespace reel::protocols::redis
