#include "redirect/event_format.h"

#include <time.h>

#include <nlohmann/json.hpp>

#include "core/clock.h"

namespace reel {

EventPrinter::EventPrinter(bool json, std::FILE* out)
    : json_(json), out_(out), mono_to_real_ns_(mono_to_real_offset_ns()) {}

std::string EventPrinter::format(const RedirectEvent& e) const {
  std::int64_t real = static_cast<std::int64_t>(e.ts_ns) + mono_to_real_ns_;
  const char* kind = e.kind == REEL_EV_ORIGDST ? "origdst" : "connect";
  if (json_) {
    nlohmann::json j = {{"time", real / 1e9},
                        {"event", kind},
                        {"pid", e.pid},
                        {"comm", e.comm},
                        {"proto", e.udp ? "udp" : "tcp"},
                        {"original", e.original.to_string()},
                        {"action", action_name(e.action)}};
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return fmt::format("{}  {:>7} {:<16} {:<7} {} {:<40} {}", local_clock(real), e.pid, e.comm, kind,
                     e.udp ? "udp" : "tcp", e.original.to_string(), action_name(e.action));
}

void EventPrinter::print(const RedirectEvent& e) {
  std::fprintf(out_, "%s\n", format(e).c_str());
  std::fflush(out_);
}

void print_summary(std::FILE* out, const RedirectCounters& c, const RelayStats* relay) {
  std::fprintf(out, "\nreel redirect summary\n");
  std::fprintf(out, "  %-28s %12llu\n", "connections seen", static_cast<unsigned long long>(c.seen));
  for (int a = 0; a < REEL_ACT__COUNT; a++) {
    if (c.by_action[a] == 0 && a != REEL_ACT_REDIRECTED) continue;
    std::fprintf(out, "  %-28s %12llu\n", action_name(a),
                 static_cast<unsigned long long>(c.by_action[a]));
  }
  if (relay) print_relay_summary(out, *relay);
}

void print_relay_summary(std::FILE* out, const RelayStats& s) {
  std::fprintf(out, "  %-28s %12llu\n", "relay: accepted", static_cast<unsigned long long>(s.accepted));
  std::fprintf(out, "  %-28s %12llu\n", "relay: upstream failed",
               static_cast<unsigned long long>(s.upstream_failed));
  std::fprintf(out, "  %-28s %12llu\n", "relay: no original dst",
               static_cast<unsigned long long>(s.no_destination));
  if (s.shed)
    std::fprintf(out, "  %-28s %12llu\n", "relay: refused, out of fds",
                 static_cast<unsigned long long>(s.shed));
  std::fprintf(out, "  %-28s %12llu\n", "relay: bytes app->upstream",
               static_cast<unsigned long long>(s.bytes_up));
  std::fprintf(out, "  %-28s %12llu\n", "relay: bytes upstream->app",
               static_cast<unsigned long long>(s.bytes_down));
}

}  // namespace reel
