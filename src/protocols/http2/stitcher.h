// Pairs HTTP/2 frames into one Exchange per stream: request HEADERS (or a PUSH_PROMISE), DATA
// and trailers from the client, response HEADERS, DATA and trailers from the server, however
// many streams are interleaved. gRPC streams also get their messages split and decoded.
#pragma once

#include <deque>
#include <vector>

#include "protocols/exchange.h"
#include "protocols/http2/types.h"

namespace reel::protocols::http2 {

// Moves every frame out of `requests` and `responses` and emits each stream once the server
// ended it or either side reset it. `flush` also emits streams still open.
void stitch(std::deque<Frame>& requests, std::deque<Frame>& responses, StitchState& state,
            const Limits& limits, bool flush, std::vector<Exchange>& out);

}  // namespace reel::protocols::http2
