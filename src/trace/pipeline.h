// What `reel trace` does with each capture event: the tracker pairs bytes into exchanges, the
// filter picks among them, the sink writes them and the summary counts them. One object, so that
// bench/consumer.cc measures exactly the path the command runs.
#pragma once

#include <cstdint>
#include <utility>

#include "capture/tracker.h"
#include "trace/command.h"
#include "trace/filter.h"
#include "trace/sinks.h"
#include "trace/summary.h"

namespace reel::trace {

// How much of each message the tracker keeps for these options: one pretty line per exchange
// shows no body and no header, so only what statements, keys and the line's fields need is kept
// (sizes are still counted whole, framing is read the same). Sets the summary's depth line.
capture::TrackerOptions tracker_options(const TraceOptions& o, std::uint64_t max_body,
                                        Summary& summary);

class Pipeline final : capture::ExchangeHandler {
 public:
  Pipeline(capture::TrackerOptions options, const Filter& filter, Sink& sink, Summary& summary,
           std::uint64_t count_limit);

  // One event in; the exchanges it completes are written (to the sink's buffered file) in
  // batches, straight from the tracker: no copy of an exchange on the way.
  void on_event(const capture::Event& e) { tracker_.on_event(e, *this); }
  // Writes every exchange completed so far; true when one was written since the last call (the
  // caller then flushes its file).
  bool emit() {
    tracker_.deliver(*this);
    return std::exchange(written_, false);
  }
  void expire_idle(std::uint64_t now_ns) { tracker_.expire_idle(now_ns, *this); }
  // At exit: every connection's unfinished exchanges.
  void flush_all() { tracker_.flush_all(*this); }
  // --count exchanges were shown.
  bool done() const { return count_limit_ && summary_.shown() >= count_limit_; }
  const capture::Tracker& tracker() const { return tracker_; }

 private:
  void on_exchange(const capture::ConnectionInfo& conn, protocols::Exchange& exchange) override;

  capture::Tracker tracker_;
  const Filter& filter_;
  Sink& sink_;
  Summary& summary_;
  std::uint64_t count_limit_;
  bool written_ = false;
};

}  // namespace reel::trace
