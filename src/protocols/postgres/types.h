// PostgreSQL wire protocol (v3) frames and state.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "protocols/types.h"

namespace reel::protocols::postgres {

// Tag of the client's untyped startup-phase messages (StartupMessage, SSLRequest,
// GSSENCRequest, CancelRequest): their payload starts with the 4-byte request code.
inline constexpr char kUntyped = '\0';
// Tag given to the server's one-byte answer to SSLRequest/GSSENCRequest; the byte ('S', 'N',
// 'G') is the payload.
inline constexpr char kEncryptionReply = '\x01';

inline constexpr std::uint32_t kProtocolV3 = 196608;
inline constexpr std::uint32_t kCancelRequest = 80877102;
inline constexpr std::uint32_t kSslRequest = 80877103;
inline constexpr std::uint32_t kGssEncRequest = 80877104;

struct Message : FrameBase {
  char tag = 0;
  std::uint32_t length = 0;  // as declared: includes the 4 length bytes, not the tag
  std::string payload;       // what follows the length, at most Limits::max_frame
  bool truncated = false;    // longer than Limits::max_frame: payload is a prefix
};

struct State {
  bool startup = true;  // the client's next message may be an untyped startup-phase one
  bool encryption_reply_expected = false;  // the server's next byte answers SSL/GSSENCRequest
  bool encrypted = false;  // TLS or GSS negotiated: both streams are opaque from here on
  std::uint64_t encrypted_bytes = 0;
};

struct StitchState {
  // Prepared statement name -> query, so Bind/Execute of a named statement shows its SQL.
  std::map<std::string, std::string> statements;
};

}  // namespace reel::protocols::postgres
