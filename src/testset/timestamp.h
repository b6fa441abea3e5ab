// Wall-clock instants as Keploy writes them: Go's time.Time in RFC 3339 with nanoseconds and the
// recording machine's UTC offset, e.g. 2024-10-23T18:54:48.241172136+05:30.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reel::testset {

struct Timestamp {
  std::int64_t unix_ns = 0;       // 0 means unset, written as Go's zero time
  std::int32_t utc_offset_s = 0;  // kept so a Keploy file is written back as it was read

  bool is_zero() const { return unix_ns == 0; }
  std::int64_t unix_seconds() const;

  // Go's RFC3339Nano: fraction without trailing zeros, "Z" for offset 0; unset is
  // "0001-01-01T00:00:00Z".
  std::string to_string() const;
  // RFC 3339 with 'T', 't' or ' ' between date and time, any fraction, "Z" or ±hh:mm.
  // Go's zero time (and any instant before 1678 or after 2261) reads as unset.
  static std::optional<Timestamp> parse(std::string_view text);

  friend bool operator==(const Timestamp&, const Timestamp&) = default;
};

}  // namespace reel::testset
