// One request paired with its response, whatever the protocol: the unit every sink (terminal,
// JSON lines, HAR, test cases, mocks) consumes. Plain data on purpose: writers read it directly.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocols/types.h"

namespace reel::protocols {

// A payload kept up to a cap. `size` is the true size on the wire (after HTTP de-chunking), so a
// sink can say "truncated" instead of passing a prefix off as the whole.
struct Body {
  std::string data;
  std::uint64_t size = 0;

  bool truncated() const { return size > data.size(); }
  // Appends what fits under `cap` and counts all of it.
  void append(std::string_view bytes, std::size_t cap);
};

// HTTP headers in wire order, duplicates kept (Set-Cookie).
using Headers = std::vector<std::pair<std::string, std::string>>;

struct Exchange {
  Protocol protocol = Protocol::kUnknown;
  bool has_request = false;
  bool has_response = false;
  bool gap = false;  // bytes of this exchange, or just before it, were lost: do not trust it whole
  Timing request_time;
  Timing response_time;
  // Whole exchange as observed: first request byte to last response byte (0 without both sides).
  std::uint64_t latency_ns = 0;
  std::uint64_t request_size = 0;   // wire bytes
  std::uint64_t response_size = 0;  // wire bytes

  // Request summary. method: HTTP method, Redis command, "Query"/"Execute" (Postgres),
  // "COM_QUERY" (MySQL), query type (DNS). target: path and query, SQL statement, key, name.
  std::string method;
  std::string target;
  std::string host;  // HTTP Host, database name
  Headers request_headers;
  Body request_body;

  // Response summary. status: HTTP status, DNS rcode, MySQL/Postgres error code when numeric.
  // status_text: HTTP reason, command tag ("SELECT 3"), "OK", "NOERROR". error: set only when
  // the server answered with an error.
  int status = 0;
  std::string status_text;
  std::string error;
  Headers response_headers;
  Body response_body;

  // Protocol-specific facts, named "<protocol>.<field>" (e.g. "pg.rows", "http.version").
  // Transparent: looked up by string_view, no key string built per lookup.
  std::map<std::string, std::string, std::less<>> fields;

  // Sets latency_ns from the two timings.
  void finish_timing();
};

// A gRPC call (told from the HTTP/2 it runs on by its message counts).
bool is_grpc_call(const Exchange& e);
// HTTP/2 header fields naming HPACK table entries never seen (joined mid-flight, bytes lost).
bool headers_partial(const Exchange& e);

// Case-insensitive lookup of the first header named `name`; empty when absent.
std::string_view find_header(const Headers& headers, std::string_view name);

}  // namespace reel::protocols
