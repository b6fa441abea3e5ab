// Where `reel trace` writes exchanges: aligned coloured lines for people, JSON lines for tools,
// a HAR 1.2 file for Chrome DevTools.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "capture/tracker.h"

namespace reel::trace {

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void write(capture::ExchangeView t) = 0;
  // Called once at exit (HAR writes its whole document here).
  virtual void finish() {}
};

struct SinkOptions {
  std::FILE* out = stdout;
  bool color = false;
  bool verbose = false;                // bodies in pretty output
  std::int64_t mono_to_real_ns = 0;    // capture timestamps are CLOCK_MONOTONIC
};

std::unique_ptr<Sink> make_pretty_sink(const SinkOptions& o);
std::unique_ptr<Sink> make_json_sink(const SinkOptions& o);
std::unique_ptr<Sink> make_har_sink(const SinkOptions& o);

}  // namespace reel::trace
