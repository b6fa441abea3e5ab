// How redirect events and the exit summary look: aligned text for people, JSON lines for tools.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "proxy/relay.h"
#include "redirect/redirector.h"

namespace reel {

class EventPrinter {
 public:
  EventPrinter(bool json, std::FILE* out);
  void print(const RedirectEvent& e);
  // One event as a line (without newline); public for tests.
  std::string format(const RedirectEvent& e) const;

 private:
  bool json_;
  std::FILE* out_;
  std::int64_t mono_to_real_ns_;  // CLOCK_REALTIME - CLOCK_MONOTONIC at start
};

void print_summary(std::FILE* out, const RedirectCounters& c, const RelayStats* relay);
void print_relay_summary(std::FILE* out, const RelayStats& s);

}  // namespace reel
