// The table `reel trace` prints at exit: per request shape count, errors and latency percentiles,
// and the capture's own health (events lost, bytes in gaps), so a quiet trace is never mistaken
// for a complete one.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include "capture/capture.h"
#include "capture/tracker.h"

namespace reel::trace {

class Summary {
 public:
  void add(capture::ExchangeView t);
  std::uint64_t shown() const { return shown_; }
  // What the capture kept of each message, said under the capture line ("" says nothing).
  void set_depth(std::string depth) { depth_ = std::move(depth); }
  void print(std::FILE* out, const capture::CaptureCounters& kernel,
             const capture::TrackerStats& tracker) const;

  struct Endpoint {
    std::uint64_t count = 0;
    std::uint64_t errors = 0;
    std::uint64_t timed = 0;  // exchanges with a latency, of which `latencies_ns` is a sample
    std::vector<std::uint64_t> latencies_ns;
  };
  // "http1 GET /users/:id", "postgres Query SELECT * FROM t WHERE id = $1", "redis GET user:*":
  // the shape an exchange is counted under; its raw values stay in the exchange lines.
  static std::string endpoint_key(const protocols::Exchange& ex);

  // Shapes kept apart; exchanges of further shapes are counted in one row, so that traffic with
  // ever new paths or statements cannot grow the table without end.
  static constexpr std::size_t kMaxShapes = 1000;
  static constexpr std::string_view kOtherShapes = "(other shapes)";

 private:
  // The row of a (protocol, gRPC or not, method, target) as last seen in each slot: a busy trace
  // repeats a few endpoints, and their shape is not worked out again for each exchange.
  struct Recent {
    protocols::Protocol protocol = protocols::Protocol::kUnknown;
    bool grpc = false;
    std::string method, target;
    Endpoint* row = nullptr;
  };
  static constexpr std::size_t kRecent = 64, kRecentTarget = 256;  // slots; longest target kept
  Endpoint& row_of(const protocols::Exchange& ex);

  std::unordered_map<std::string, Endpoint> endpoints_;
  std::vector<Recent> recent_ = std::vector<Recent>(kRecent);
  std::uint64_t shown_ = 0;
  std::string depth_;
  std::uint64_t partial_headers_ = 0;  // HTTP/2 exchanges some of whose header fields were unknown
  std::uint64_t random_ = 0x9e3779b97f4a7c15ull;  // reservoir sampling
};

// The q-quantile (0..1) of `v` (sorted in place); 0 for an empty vector.
std::uint64_t percentile(std::vector<std::uint64_t>& v, double q);

// A latency with three significant digits in the unit that needs no more: "870ns", "87.0µs",
// "999µs", "1.00ms", "12.3ms", "1.25s" (whole seconds past 999 s).
std::string format_latency(std::uint64_t ns);
// The same appended to `out`, with no allocation; returns the characters (not bytes) written.
std::size_t append_latency(std::string& out, std::uint64_t ns);

}  // namespace reel::trace
