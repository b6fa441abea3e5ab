#include "core/clock.h"

#include <time.h>

#include <ctime>

#include <fmt/format.h>

namespace reel {

namespace {
std::int64_t read_ns(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string format(std::int64_t real_ns, const char* pattern, bool utc) {
  time_t secs = real_ns / 1'000'000'000;
  tm parts;
  if (utc)
    gmtime_r(&secs, &parts);
  else
    localtime_r(&secs, &parts);
  char buf[40];
  std::strftime(buf, sizeof buf, pattern, &parts);
  return fmt::format("{}.{:03}", buf, (real_ns / 1'000'000) % 1000);
}
}  // namespace

std::uint64_t monotonic_ns() { return static_cast<std::uint64_t>(read_ns(CLOCK_MONOTONIC)); }

std::int64_t mono_to_real_offset_ns() { return read_ns(CLOCK_REALTIME) - read_ns(CLOCK_MONOTONIC); }

std::string iso8601_utc(std::int64_t real_ns) { return format(real_ns, "%Y-%m-%dT%H:%M:%S", true) + "Z"; }

std::string local_clock(std::int64_t real_ns) { return format(real_ns, "%H:%M:%S", false); }

}  // namespace reel
