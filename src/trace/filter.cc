#include "trace/filter.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "protocols/http2/grpc.h"
#include "protocols/text.h"

namespace reel::trace {

namespace {

std::vector<std::string_view> split_commas(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    auto c = s.find(',');
    if (c != 0) out.push_back(s.substr(0, c));
    if (c == std::string_view::npos) break;
    s.remove_prefix(c + 1);
  }
  return out;
}

std::optional<protocols::Protocol> protocol_named(std::string_view n) {
  using protocols::Protocol;
  if (n == "http" || n == "http1") return Protocol::kHttp1;
  if (n == "http2" || n == "h2" || n == "grpc") return Protocol::kHttp2;
  if (n == "pgsql" || n == "postgres" || n == "postgresql") return Protocol::kPostgres;
  if (n == "redis") return Protocol::kRedis;
  if (n == "mysql") return Protocol::kMysql;
  if (n == "dns") return Protocol::kDns;
  if (n == "tls") return Protocol::kTls;
  if (n == "raw" || n == "unknown") return Protocol::kUnknown;
  return std::nullopt;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// A gRPC status code given by number (0-16) or name ("NOT_FOUND", "deadline_exceeded").
std::optional<int> grpc_code(std::string_view s) {
  for (int code = 0; code <= 16; code++) {
    std::string number = std::to_string(code);
    if (s == number || iequals(s, protocols::grpc::status_name(number))) return code;
  }
  return std::nullopt;
}

Result<std::pair<int, int>> status_range(std::string_view s) {
  if (s.size() == 3 && (s[1] == 'x' || s[1] == 'X') && (s[2] == 'x' || s[2] == 'X') && s[0] >= '1' &&
      s[0] <= '5') {
    int h = (s[0] - '0') * 100;
    return std::pair{h, h + 99};
  }
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 100 || v > 599)
    return fail_msg("--status: '{}' is not a status like 404 or 5xx, nor a gRPC code like 5 or "
                    "NOT_FOUND",
                    s);
  return std::pair{v, v};
}

}  // namespace

Result<std::uint64_t> parse_duration_ns(std::string_view text) {
  double v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  std::string_view unit(p, text.data() + text.size() - p);
  if (text.empty() || ec != std::errc() || v < 0)
    return fail_msg("'{}' is not a duration like 10ms, 1.5s or 2m", text);
  double scale = 0;
  if (unit == "ns") scale = 1;
  else if (unit == "us") scale = 1e3;
  else if (unit == "ms") scale = 1e6;
  else if (unit == "s" || unit.empty()) scale = 1e9;
  else if (unit == "m") scale = 60e9;
  else if (unit == "h") scale = 3600e9;
  else return fail_msg("'{}' has an unknown unit (ns, us, ms, s, m, h)", text);
  return static_cast<std::uint64_t>(std::llround(v * scale));
}

Result<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  std::string_view unit(p, text.data() + text.size() - p);
  if (text.empty() || ec != std::errc()) return fail_msg("'{}' is not a size like 4096, 64k or 1m", text);
  if (unit.empty() || unit == "b") return v;
  if (unit == "k" || unit == "K" || unit == "KiB") return v << 10;
  if (unit == "m" || unit == "M" || unit == "MiB") return v << 20;
  return fail_msg("'{}' has an unknown unit (k, m)", text);
}

Result<Filter> Filter::parse(const FilterOptions& o) {
  Filter f;
  for (auto name : split_commas(o.protocols)) {
    auto p = protocol_named(name);
    if (!p) return fail_msg("--protocol: unknown protocol '{}' (http, pgsql, redis, mysql, dns)", name);
    f.protocols_.insert(*p);
  }
  f.method_ = o.method;
  if (!o.path.empty()) {
    try {
      f.path_.emplace(o.path, std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      return fail_msg("--path: '{}' is not a valid regular expression: {}", o.path, e.what());
    }
  }
  for (auto s : split_commas(o.status)) {
    if (auto code = grpc_code(s))
      f.grpc_codes_.insert(*code);
    else
      f.status_ranges_.push_back(REEL_TRY(status_range(s)));
  }
  f.host_ = o.host;
  if (!o.min_latency.empty())
    f.min_latency_ns_ = REEL_TRY(with_context(parse_duration_ns(o.min_latency), "--min-latency"));
  return f;
}

bool Filter::wants_protocol(protocols::Protocol p) const {
  if (p == protocols::Protocol::kRaw) p = protocols::Protocol::kUnknown;
  return protocols_.empty() || protocols_.count(p);
}

bool Filter::matches(capture::ExchangeView t) const {
  const auto& ex = t.exchange;
  if (!wants_protocol(ex.protocol)) return false;
  if (!method_.empty() && !iequals(ex.method, method_)) return false;
  if (path_ && !std::regex_search(ex.target, *path_)) return false;
  if (!status_ranges_.empty() || !grpc_codes_.empty()) {
    bool hit = std::any_of(status_ranges_.begin(), status_ranges_.end(), [&](auto r) {
      return ex.status >= r.first && ex.status <= r.second;
    });
    auto grpc_status = ex.fields.find("grpc.status");
    std::int64_t code = -1;
    if (grpc_status != ex.fields.end() && protocols::parse_int64(grpc_status->second, code))
      hit = hit || grpc_codes_.count(static_cast<int>(code));
    // Non-HTTP protocols have no 5xx: an error answer counts as one.
    bool error_wanted = std::any_of(status_ranges_.begin(), status_ranges_.end(),
                                    [](auto r) { return r.first >= 500; });
    if (!hit && !(ex.protocol != protocols::Protocol::kHttp1 && error_wanted && !ex.error.empty()))
      return false;
  }
  if (!host_.empty()) {
    const Endpoint& server = t.conn.server ? t.conn.local : t.conn.remote;
    if (ex.host.find(host_) == std::string::npos && server.to_string().find(host_) == std::string::npos)
      return false;
  }
  if (ex.latency_ns < min_latency_ns_) return false;
  return true;
}

}  // namespace reel::trace
