// The clocks reel mixes: kernel events carry CLOCK_MONOTONIC (bpf_ktime_get_ns); people and
// files want wall-clock time.
#pragma once

#include <cstdint>
#include <string>

namespace reel {

std::uint64_t monotonic_ns();
// CLOCK_REALTIME - CLOCK_MONOTONIC now: add it to a kernel timestamp to get wall-clock time.
std::int64_t mono_to_real_offset_ns();
// "2026-11-22T00:12:03.123Z"
std::string iso8601_utc(std::int64_t real_ns);
// "00:12:03.123" in local time.
std::string local_clock(std::int64_t real_ns);

}  // namespace reel
