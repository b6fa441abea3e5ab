#include "trace/summary.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "protocols/sql_shape.h"
#include "trace/shape.h"

namespace reel::trace {

namespace {

constexpr std::size_t kMaxSamples = 10'000;  // per shape; beyond, a uniform sample of them all
constexpr std::size_t kMaxKey = 512;         // bytes of a shape kept apart; the table shows 64
constexpr int kKeyColumns = 64, kLatencyColumns = 10;

// Characters of `text`: UTF-8 code points, as a terminal counts them.
std::size_t width(std::string_view text) {
  std::size_t n = 0;
  for (char c : text) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

// `text` cut to `columns` characters ("..." saying so), left-aligned in them.
std::string column(std::string_view text, std::size_t columns) {
  std::string out;
  if (width(text) > columns) {
    std::size_t chars = 0, i = 0;
    for (; i < text.size(); i++)
      if ((static_cast<unsigned char>(text[i]) & 0xc0) != 0x80 && chars++ == columns - 3) break;
    out.assign(text.substr(0, i)).append("...");
  } else {
    out.assign(text);
  }
  out.append(columns - std::min(columns, width(out)), ' ');
  return out;
}

std::string latency_column(std::vector<std::uint64_t>& v, double q) {
  std::string text;
  std::size_t chars = 1;
  if (v.empty())
    text = "-";
  else
    chars = append_latency(text, percentile(v, q));
  return std::string(kLatencyColumns - std::min<std::size_t>(kLatencyColumns, chars), ' ') + text;
}

}  // namespace

std::uint64_t percentile(std::vector<std::uint64_t>& v, double q) {
  if (v.empty()) return 0;
  std::size_t i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i];
}

std::size_t append_latency(std::string& out, std::uint64_t ns) {
  struct Unit {
    std::uint64_t scale;
    std::string_view name;
  };
  static constexpr Unit kUnits[] = {
      {1, "ns"}, {1'000, "µs"}, {1'000'000, "ms"}, {1'000'000'000, "s"}};
  static constexpr std::uint64_t kPow10[] = {1, 10, 100};
  std::size_t from = out.size();
  for (const Unit& u : kUnits) {
    bool last = u.scale == kUnits[3].scale;
    for (int d = u.scale == 1 ? 0 : 2; d >= 0; d--) {
      // ns * 10^d / scale, rounded half up, without overflowing near UINT64_MAX.
      std::uint64_t r =
          ns / u.scale * kPow10[d] + (ns % u.scale * kPow10[d] + u.scale / 2) / u.scale;
      if (r >= 1000 && !(last && d == 0)) continue;
      char digits[24];
      out.append(digits, std::to_chars(digits, digits + sizeof digits, r / kPow10[d]).ptr);
      if (d > 0) {
        std::uint64_t frac = r % kPow10[d];
        out += '.';
        if (d == 2) out += static_cast<char>('0' + frac / 10);
        out += static_cast<char>('0' + frac % 10);
      }
      out += u.name;
      return width(std::string_view(out).substr(from));
    }
  }
  return 0;  // not reached: seconds take any value
}

std::string format_latency(std::uint64_t ns) {
  std::string out;
  append_latency(out, ns);
  return out;
}

std::string Summary::endpoint_key(const protocols::Exchange& ex) {
  using protocols::Protocol;
  bool grpc = protocols::is_grpc_call(ex);
  std::string method = ex.method, shape;
  switch (ex.protocol) {
    case Protocol::kHttp1:
    case Protocol::kHttp2:
      shape = grpc ? ex.target : path_shape(ex.target);
      break;
    case Protocol::kPostgres:
      shape = protocols::sql_shape(ex.target, protocols::SqlDialect::kPostgres);
      break;
    case Protocol::kMysql:
      shape = protocols::sql_shape(ex.target, protocols::SqlDialect::kMysql);
      break;
    case Protocol::kRedis:
      for (auto& c : method) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
      if (!ex.target.empty()) shape = redis_key_shape(ex.target);
      break;
    default:
      shape = ex.target;
  }
  if (shape.size() > kMaxKey) shape.resize(kMaxKey);
  for (auto& c : shape)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  std::string_view protocol =
      grpc ? std::string_view("grpc") : protocols::protocol_name(ex.protocol);
  std::string key;
  key.reserve(protocol.size() + method.size() + shape.size() + 2);
  key.append(protocol).append(1, ' ').append(method);
  if (!shape.empty()) key.append(1, ' ').append(shape);
  return key;
}

Summary::Endpoint& Summary::row_of(const protocols::Exchange& ex) {
  // A shape is a function of these four alone; the table only grows, so a row found stays right.
  bool grpc = protocols::is_grpc_call(ex);
  Recent* slot = nullptr;
  if (ex.target.size() <= kRecentTarget) {
    std::size_t h = std::hash<std::string_view>()(ex.target) + ex.method.size() * 31 +
                    static_cast<std::size_t>(ex.protocol) * 7 + grpc;
    slot = &recent_[h % kRecent];
    if (slot->row && slot->protocol == ex.protocol && slot->grpc == grpc &&
        slot->method == ex.method && slot->target == ex.target)
      return *slot->row;
  }
  std::string key = endpoint_key(ex);
  auto it = endpoints_.find(key);
  if (it == endpoints_.end()) {
    if (endpoints_.size() >= kMaxShapes) key = kOtherShapes;
    it = endpoints_.try_emplace(std::move(key)).first;
  }
  if (slot) *slot = {ex.protocol, grpc, ex.method, ex.target, &it->second};
  return it->second;
}

void Summary::add(capture::ExchangeView t) {
  shown_++;
  if (protocols::headers_partial(t.exchange)) partial_headers_++;
  Endpoint& e = row_of(t.exchange);
  e.count++;
  if (!t.exchange.error.empty() || t.exchange.status >= 500 || !t.exchange.has_response) e.errors++;
  if (t.exchange.latency_ns == 0) return;
  e.timed++;
  if (e.latencies_ns.size() < kMaxSamples) {
    e.latencies_ns.push_back(t.exchange.latency_ns);
    return;
  }
  // Reservoir sampling: every latency seen has the same chance to be among those kept.
  random_ += 0x9e3779b97f4a7c15ull;  // splitmix64
  std::uint64_t z = random_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  std::uint64_t j = (z ^ (z >> 31)) % e.timed;
  if (j < kMaxSamples) e.latencies_ns[j] = t.exchange.latency_ns;
}

void Summary::print(std::FILE* out, const capture::CaptureCounters& k,
                    const capture::TrackerStats& s) const {
  std::vector<std::pair<std::string, Endpoint>> rows(endpoints_.begin(), endpoints_.end());
  std::sort(rows.begin(), rows.end(), [](auto& a, auto& b) {
    return a.second.count != b.second.count ? a.second.count > b.second.count : a.first < b.first;
  });
  std::fprintf(out, "\n%-*s %8s %7s %10s %10s %10s\n", kKeyColumns, "ENDPOINT", "COUNT", "ERRORS",
               "P50", "P90", "P99");
  for (auto& [key, e] : rows) {
    auto& lat = e.latencies_ns;
    std::fprintf(out, "%s %8llu %7llu %s %s %s\n", column(key, kKeyColumns).c_str(),
                 static_cast<unsigned long long>(e.count),
                 static_cast<unsigned long long>(e.errors), latency_column(lat, 0.5).c_str(),
                 latency_column(lat, 0.9).c_str(), latency_column(lat, 0.99).c_str());
  }
  std::fprintf(out,
               "\ncapture: %llu exchanges on %llu connections, %llu bytes; lost: %llu events "
               "(%llu bytes) in the kernel, %llu bytes in gaps (%llu past --max-body per call); "
               "%llu frames unparsable\n",
               static_cast<unsigned long long>(s.exchanges),
               static_cast<unsigned long long>(s.connections),
               static_cast<unsigned long long>(s.bytes),
               static_cast<unsigned long long>(k.by_kind[CAP_CNT_LOST]),
               static_cast<unsigned long long>(k.by_kind[CAP_CNT_LOST_BYTES]),
               static_cast<unsigned long long>(s.bytes_lost),
               static_cast<unsigned long long>(k.by_kind[CAP_CNT_CAPPED_BYTES]),
               static_cast<unsigned long long>(s.invalid_frames));
  if (!depth_.empty()) std::fprintf(out, "depth: %s\n", depth_.c_str());
  if (partial_headers_ > 0) {
    // Said apart, so that a missing path or header is not taken for one the app did not send.
    std::fprintf(out,
                 "partial headers: %llu exchanges (HTTP/2 connections joined mid-flight or with "
                 "bytes lost: header fields naming HPACK table entries never seen are not shown)\n",
                 static_cast<unsigned long long>(partial_headers_));
  }
}

}  // namespace reel::trace
