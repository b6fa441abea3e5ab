#include "core/clock.h"

#include <time.h>

#include <ctime>
#include <string_view>

namespace reel {

namespace {
std::int64_t read_ns(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// The calendar part of a second, formatted once: at 100k lines a second, localtime_r and
// strftime cost more than the rest of a trace line. One cache per pattern and thread.
struct SecondCache {
  std::int64_t secs = -1;
  char text[40] = {};
  std::size_t len = 0;
};

// The second from the cache, then ".mmm", then `suffix`: one string, built in one allocation.
std::string format(std::int64_t real_ns, const char* pattern, bool utc, SecondCache& cache,
                   std::string_view suffix = {}) {
  std::int64_t secs = real_ns / 1'000'000'000;
  if (secs != cache.secs) {
    time_t t = static_cast<time_t>(secs);
    tm parts;
    if (utc)
      gmtime_r(&t, &parts);
    else
      localtime_r(&t, &parts);
    cache.len = std::strftime(cache.text, sizeof cache.text, pattern, &parts);
    cache.secs = secs;
  }
  auto ms = static_cast<unsigned>((real_ns / 1'000'000) % 1000);
  char frac[4] = {'.', char('0' + ms / 100), char('0' + ms / 10 % 10), char('0' + ms % 10)};
  std::string out;
  out.reserve(cache.len + sizeof frac + suffix.size());
  out.append(cache.text, cache.len).append(frac, sizeof frac).append(suffix);
  return out;
}
}  // namespace

std::uint64_t monotonic_ns() { return static_cast<std::uint64_t>(read_ns(CLOCK_MONOTONIC)); }

std::int64_t mono_to_real_offset_ns() { return read_ns(CLOCK_REALTIME) - read_ns(CLOCK_MONOTONIC); }

std::string iso8601_utc(std::int64_t real_ns) {
  thread_local SecondCache cache;
  return format(real_ns, "%Y-%m-%dT%H:%M:%S", true, cache, "Z");
}

std::string local_clock(std::int64_t real_ns) {
  thread_local SecondCache cache;
  return format(real_ns, "%H:%M:%S", false, cache);
}

}  // namespace reel
