// HTTP/1.x frames and per-connection parse state.
#pragma once

#include <llhttp.h>

#include <cstdint>
#include <deque>
#include <string>

#include "protocols/exchange.h"
#include "protocols/types.h"

namespace reel::protocols::http1 {

struct Message : FrameBase {
  bool is_request = false;
  std::string method;  // requests: "GET"
  std::string url;     // requests: "/path?query"
  int status = 0;      // responses
  std::string reason;  // responses: "OK"
  int version_major = 1;
  int version_minor = 1;
  Headers headers;
  Body body;  // de-chunked
  bool chunked = false;
  bool upgrade = false;  // request asked for, or response granted, a protocol switch or tunnel
  bool keep_alive = true;
  bool headers_truncated = false;  // more than Limits::max_headers
};

// One direction's llhttp parser and the message it is building. llhttp keeps only small state
// and hands us header and body pieces as they pass, so a 1 GB body costs max_body bytes.
struct DirectionState {
  llhttp_t parser{};
  bool ready = false;
  Message current;
  std::string field;  // header name being read
  std::string value;  // header value being read
  bool in_value = false;
  bool keep_value = true;  // while in_value: false for a header nothing reads (value not copied)
  std::size_t header_bytes = 0;
  bool in_head = false;  // between a message's first byte and the end of its headers
  // A request asked to switch protocols (Upgrade, CONNECT): what follows it is HTTP only if the
  // server declines, so the request side waits for the response.
  bool awaiting_upgrade = false;
};

// What the response parser must know about the request it answers: a HEAD response has no body
// and a 2xx to CONNECT opens a tunnel.
struct InFlight {
  std::uint8_t method = HTTP_GET;
  bool upgrade = false;
};

struct State {
  DirectionState request;
  DirectionState response;
  std::deque<InFlight> in_flight;
  bool upgrade_declined = false;  // the server answered an upgrade request without switching
  bool tunnel = false;            // after 101 or CONNECT 2xx: both directions are opaque bytes
  std::uint64_t tunnel_bytes = 0;
};

struct StitchState {
  std::string interim;  // 1xx statuses seen before the final response, "100,103"
};

}  // namespace reel::protocols::http1
