// Pairs MySQL commands with their responses. The connection opens with the server's greeting,
// the client's handshake response and any authentication round trips (one "Connect" exchange);
// then each command (sequence 0) is answered by packets whose end the command and the packets
// themselves determine (see response.h). COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA and COM_QUIT
// get no answer.
#pragma once

#include <deque>
#include <vector>

#include "protocols/exchange.h"
#include "protocols/mysql/types.h"

namespace reel::protocols::mysql {

void stitch(std::deque<Packet>& requests, std::deque<Packet>& responses, StitchState& state,
            const Limits& limits, bool flush, std::vector<Exchange>& out);

}  // namespace reel::protocols::mysql
