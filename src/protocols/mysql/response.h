// Follows one command's response packet by packet, so the stitcher knows where it ends: OK or
// ERR; a result set (column count, definitions, optional EOF, rows, EOF/OK), repeated while the
// server says more results exist; a prepared statement's definitions; a field list.
#pragma once

#include "protocols/exchange.h"
#include "protocols/mysql/decode.h"
#include "protocols/mysql/types.h"

namespace reel::protocols::mysql {

enum class Progress : std::uint8_t {
  kMore,        // the packet belongs to the response, which goes on
  kDone,        // the packet belongs to the response and ends it
  kEndedBefore  // the response ended before this packet (it starts the next one)
};

// What the connection phase negotiated and responses depend on (EOF or not, MariaDB's column
// definitions), learned in one place for trace and record alike.
void learn_greeting(const Greeting& g, StitchState& state);
void learn_handshake_response(const HandshakeResponse& h, StitchState& state);

void start_response(ResponseReader& reader, std::uint8_t command);

// Feeds the next server packet; records what it says in `e`. `eof_deprecated` is true, false or
// unknown (nullopt) as the handshake told.
Progress feed_response(ResponseReader& reader, const Packet& p, StitchState& state, Exchange& e,
                       const Limits& limits);

// With no packet after the last definition block: is the response over? Only when the
// handshake showed the server will send no EOF there.
bool ends_without_eof(const ResponseReader& reader, const StitchState& state);

}  // namespace reel::protocols::mysql
