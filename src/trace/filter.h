// Which exchanges `reel trace` shows: --protocol, --method, --path, --status, --host,
// --min-latency. Parsed once at start (bad input is an error naming the flag), applied per exchange.
// --status takes HTTP statuses (404, 5xx) and gRPC status codes, by number (0-16) or name
// (NOT_FOUND, any case): a gRPC call matches a code by its grpc-status, an HTTP status by the
// HTTP/2 :status, and 5xx by any error, as every non-HTTP/1 exchange does.
#pragma once

#include <cstdint>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "capture/tracker.h"
#include "core/result.h"

namespace reel::trace {

struct FilterOptions {
  std::string protocols;  // "http,pgsql,redis,mysql,dns"
  std::string method;
  std::string path;       // regex, searched in the target (path, statement, key, name)
  std::string status;     // "5xx", "404", "4xx,500"; gRPC: "5", "NOT_FOUND", "0,deadline_exceeded"
  std::string host;       // substring of Host, or of the server's address
  std::string min_latency;
};

class Filter {
 public:
  static Result<Filter> parse(const FilterOptions& o);
  bool matches(capture::ExchangeView t) const;
  bool wants_protocol(protocols::Protocol p) const;

 private:
  std::set<protocols::Protocol> protocols_;
  std::string method_;
  std::optional<std::regex> path_;
  std::vector<std::pair<int, int>> status_ranges_;  // HTTP statuses
  std::set<int> grpc_codes_;                        // gRPC status codes, matched on grpc-status
  std::string host_;
  std::uint64_t min_latency_ns_ = 0;
};

// "10ms", "1.5s", "250us", "2m" -> nanoseconds.
Result<std::uint64_t> parse_duration_ns(std::string_view text);
// "1024", "64k", "1m" -> bytes.
Result<std::uint64_t> parse_size(std::string_view text);

}  // namespace reel::trace
