#include "trace/pipeline.h"

#include <algorithm>

namespace reel::trace {

capture::TrackerOptions tracker_options(const TraceOptions& o, std::uint64_t max_body,
                                        Summary& summary) {
  capture::TrackerOptions topts;
  topts.limits.max_body = max_body;
  if (o.format == "pretty" && !o.verbose) {
    topts.limits.max_body = std::min<std::uint64_t>(max_body, 4096);
    topts.limits.http1_contents = false;
    summary.set_depth("lines only: HTTP/1 headers and bodies read for framing and sizes, not kept "
                      "(-v or --format json keep them)");
  }
  return topts;
}

Pipeline::Pipeline(capture::TrackerOptions options, const Filter& filter, Sink& sink,
                   Summary& summary, std::uint64_t count_limit)
    : tracker_(std::move(options)),
      filter_(filter),
      sink_(sink),
      summary_(summary),
      count_limit_(count_limit) {}

void Pipeline::on_exchange(const capture::ConnectionInfo& conn, protocols::Exchange& exchange) {
  capture::ExchangeView t(conn, exchange);
  if (done() || !filter_.matches(t)) return;
  sink_.write(t);
  summary_.add(t);
  written_ = true;
}

}  // namespace reel::trace
