#include "testset/timestamp.h"

#include <fmt/format.h>

#include <charconv>

namespace reel::testset {

namespace {

constexpr std::int64_t kNsPerSecond = 1'000'000'000;

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t year;
  unsigned month, day;
};

Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// Reads exactly `n` digits at `pos`.
bool digits(std::string_view s, std::size_t& pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  auto [p, ec] = std::from_chars(s.data() + pos, s.data() + pos + n, out);
  if (ec != std::errc() || p != s.data() + pos + n) return false;
  pos += n;
  return true;
}

bool expect(std::string_view s, std::size_t& pos, std::string_view chars) {
  if (pos >= s.size() || chars.find(s[pos]) == std::string_view::npos) return false;
  pos++;
  return true;
}

// Fraction after '.', as nanoseconds (digits past the ninth are dropped, as Go does).
bool fraction(std::string_view s, std::size_t& pos, std::int64_t& ns) {
  ns = 0;
  if (pos >= s.size() || s[pos] != '.') return true;
  pos++;
  int count = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
    if (count < 9) ns = ns * 10 + (s[pos] - '0');
    count++;
    pos++;
  }
  for (int k = count; k < 9; k++) ns *= 10;
  return count > 0;
}

bool zone(std::string_view s, std::size_t& pos, std::int32_t& offset) {
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    pos++;
    offset = 0;
    return true;
  }
  int sign = pos < s.size() && s[pos] == '-' ? -1 : 1;
  int hh = 0, mm = 0;
  if (!expect(s, pos, "+-") || !digits(s, pos, 2, hh) || !expect(s, pos, ":") ||
      !digits(s, pos, 2, mm) || hh > 23 || mm > 59)
    return false;
  offset = sign * (hh * 3600 + mm * 60);
  return true;
}

}  // namespace

std::int64_t Timestamp::unix_seconds() const { return floor_div(unix_ns, kNsPerSecond); }

std::string Timestamp::to_string() const {
  if (is_zero()) return "0001-01-01T00:00:00Z";
  std::int64_t local_s = unix_seconds() + utc_offset_s;
  std::int64_t ns = unix_ns - unix_seconds() * kNsPerSecond;
  std::int64_t days = floor_div(local_s, 86400);
  std::int64_t sod = local_s - days * 86400;
  Civil c = civil_from_days(days);
  std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", c.year, c.month, c.day,
                                sod / 3600, sod / 60 % 60, sod % 60);
  if (ns != 0) {
    std::string frac = fmt::format("{:09}", ns);
    while (frac.back() == '0') frac.pop_back();
    out += '.' + frac;
  }
  if (utc_offset_s == 0) return out + 'Z';
  int off = utc_offset_s < 0 ? -utc_offset_s : utc_offset_s;
  return out +
         fmt::format("{}{:02}:{:02}", utc_offset_s < 0 ? '-' : '+', off / 3600, off / 60 % 60);
}

std::optional<Timestamp> Timestamp::parse(std::string_view s) {
  std::size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  std::int64_t ns = 0;
  std::int32_t offset = 0;
  if (!digits(s, pos, 4, y) || !expect(s, pos, "-") || !digits(s, pos, 2, mo) ||
      !expect(s, pos, "-") || !digits(s, pos, 2, d) || !expect(s, pos, "Tt ") ||
      !digits(s, pos, 2, h) || !expect(s, pos, ":") || !digits(s, pos, 2, mi) ||
      !expect(s, pos, ":") || !digits(s, pos, 2, sec) || !fraction(s, pos, ns) ||
      !zone(s, pos, offset) || pos != s.size())
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  // int64 nanoseconds reach 1678..2261; Go's zero time (year 1) and anything outside is unset.
  if (y < 1678 || y > 2261) return Timestamp{};
  std::int64_t secs =
      days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 +
      mi * 60 + sec - offset;
  return Timestamp{secs * kNsPerSecond + ns, offset};
}

}  // namespace reel::testset
