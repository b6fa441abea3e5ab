// The table `reel trace` prints at exit: per endpoint count, errors and latency percentiles, and
// the capture's own health (events lost, bytes in gaps), so a quiet trace is never mistaken for a
// complete one.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "capture/capture.h"
#include "capture/tracker.h"

namespace reel::trace {

class Summary {
 public:
  void add(const capture::TracedExchange& t);
  std::uint64_t shown() const { return shown_; }
  void print(std::FILE* out, const capture::CaptureCounters& kernel,
             const capture::TrackerStats& tracker) const;

  struct Endpoint {
    std::uint64_t count = 0;
    std::uint64_t errors = 0;
    std::vector<std::uint64_t> latencies_ns;
  };
  // "http GET /users", "postgres Query SELECT ...": the key an exchange is counted under.
  static std::string endpoint_key(const protocols::Exchange& ex);

 private:
  std::map<std::string, Endpoint> endpoints_;
  std::uint64_t shown_ = 0;
  std::uint64_t partial_headers_ = 0;  // HTTP/2 exchanges some of whose header fields were unknown
};

// The q-quantile (0..1) of `v` (sorted in place); 0 for an empty vector.
std::uint64_t percentile(std::vector<std::uint64_t>& v, double q);

}  // namespace reel::trace
