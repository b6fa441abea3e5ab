// Wall-clock text for trace lines and recordings: the calendar part is cached per second, so the
// milliseconds and a change of second must still show.
#include <gtest/gtest.h>

#include "core/clock.h"

namespace reel {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

TEST(Clock, Iso8601KeepsMillisecondsWithinACachedSecond) {
  std::int64_t t = 1'790'000'000 * kSecond;  // 2026-09-21T14:13:20Z
  EXPECT_EQ(iso8601_utc(t), "2026-09-21T14:13:20.000Z");
  EXPECT_EQ(iso8601_utc(t + 7'000'000), "2026-09-21T14:13:20.007Z");
  EXPECT_EQ(iso8601_utc(t + 999'999'999), "2026-09-21T14:13:20.999Z");
  EXPECT_EQ(iso8601_utc(t + kSecond + 120'000'000), "2026-09-21T14:13:21.120Z");
  EXPECT_EQ(iso8601_utc(t - kSecond), "2026-09-21T14:13:19.000Z");
  EXPECT_EQ(iso8601_utc(0), "1970-01-01T00:00:00.000Z");
}

TEST(Clock, LocalClockFollowsTheSecond) {
  std::int64_t t = 1'790'000'000 * kSecond;
  std::string a = local_clock(t + 5'000'000), b = local_clock(t + kSecond + 6'000'000);
  ASSERT_EQ(a.size(), 12u) << a;
  EXPECT_EQ(a.substr(8), ".005");
  EXPECT_EQ(b.substr(8), ".006");
  EXPECT_NE(a.substr(0, 8), b.substr(0, 8));
  EXPECT_EQ(local_clock(t + 5'000'000), a);
}

}  // namespace
}  // namespace reel
