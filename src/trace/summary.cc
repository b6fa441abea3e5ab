#include "trace/summary.h"

#include <algorithm>

namespace reel::trace {

namespace {
constexpr std::size_t kMaxSamples = 100'000;  // per endpoint; beyond it, every other one
}

std::uint64_t percentile(std::vector<std::uint64_t>& v, double q) {
  if (v.empty()) return 0;
  std::size_t i = static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return v[i];
}

std::string Summary::endpoint_key(const protocols::Exchange& ex) {
  std::string target = ex.target;
  if (ex.protocol == protocols::Protocol::kHttp1 || ex.protocol == protocols::Protocol::kHttp2)
    target = target.substr(0, target.find('?'));
  for (auto& c : target)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  if (target.size() > 60) target = target.substr(0, 57) + "...";
  std::string_view protocol = ex.fields.contains("grpc.request_messages")
                                  ? std::string_view("grpc")
                                  : protocols::protocol_name(ex.protocol);
  return fmt::format("{} {} {}", protocol, ex.method, target);
}

void Summary::add(const capture::TracedExchange& t) {
  shown_++;
  if (t.exchange.fields.contains("http2.headers_partial")) partial_headers_++;
  auto& e = endpoints_[endpoint_key(t.exchange)];
  e.count++;
  if (!t.exchange.error.empty() || t.exchange.status >= 500 || !t.exchange.has_response) e.errors++;
  if (t.exchange.latency_ns == 0) return;
  if (e.latencies_ns.size() < kMaxSamples || e.count % 2 == 0) {
    if (e.latencies_ns.size() >= kMaxSamples) e.latencies_ns[e.count % kMaxSamples] = t.exchange.latency_ns;
    else e.latencies_ns.push_back(t.exchange.latency_ns);
  }
}

void Summary::print(std::FILE* out, const capture::CaptureCounters& k,
                    const capture::TrackerStats& s) const {
  std::vector<std::pair<std::string, Endpoint>> rows(endpoints_.begin(), endpoints_.end());
  std::sort(rows.begin(), rows.end(), [](auto& a, auto& b) { return a.second.count > b.second.count; });
  std::fprintf(out, "\n%-64s %8s %7s %10s %10s %10s\n", "ENDPOINT", "COUNT", "ERRORS", "P50", "P90", "P99");
  for (auto& [key, e] : rows) {
    auto lat = e.latencies_ns;
    auto fmt_ms = [](std::uint64_t ns) { return fmt::format("{:.2f}ms", static_cast<double>(ns) / 1e6); };
    std::fprintf(out, "%-64.64s %8llu %7llu %10s %10s %10s\n", key.c_str(),
                 static_cast<unsigned long long>(e.count), static_cast<unsigned long long>(e.errors),
                 fmt_ms(percentile(lat, 0.5)).c_str(), fmt_ms(percentile(lat, 0.9)).c_str(),
                 fmt_ms(percentile(lat, 0.99)).c_str());
  }
  std::fprintf(out,
               "\ncapture: %llu exchanges on %llu connections, %llu bytes; lost: %llu events "
               "(%llu bytes) in the kernel, %llu bytes in gaps (%llu past --max-body per call); "
               "%llu frames unparsable\n",
               static_cast<unsigned long long>(s.exchanges), static_cast<unsigned long long>(s.connections),
               static_cast<unsigned long long>(s.bytes),
               static_cast<unsigned long long>(k.by_kind[CAP_CNT_LOST]),
               static_cast<unsigned long long>(k.by_kind[CAP_CNT_LOST_BYTES]),
               static_cast<unsigned long long>(s.bytes_lost),
               static_cast<unsigned long long>(k.by_kind[CAP_CNT_CAPPED_BYTES]),
               static_cast<unsigned long long>(s.invalid_frames));
  if (partial_headers_ > 0) {
    // Said apart, so that a missing path or header is not taken for one the app did not send.
    std::fprintf(out,
                 "partial headers: %llu exchanges (HTTP/2 connections joined mid-flight or with "
                 "bytes lost: header fields naming HPACK table entries never seen are not shown)\n",
                 static_cast<unsigned long long>(partial_headers_));
  }
}

}  // namespace reel::trace
