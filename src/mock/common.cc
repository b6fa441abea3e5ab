#include "mock/common.h"

#include <fmt/format.h>

#include "protocols/text.h"

namespace reel::mock {

void label_call(RecordedCall& call, protocols::Protocol protocol, const Endpoint& server) {
  auto& md = call.mock.metadata;
  md[std::string(kMetaType)] = call.startup ? "config" : "mocks";
  md[std::string(kMetaServer)] = server.to_string();
  md[std::string(kMetaProtocol)] = std::string(protocols::protocol_name(protocol));
}

namespace {

std::string joined(const std::vector<testset::Payload>& payloads) {
  std::string out;
  for (const auto& p : payloads) {
    for (const auto& c : p.message) out += c.data;
  }
  return out;
}

}  // namespace

std::string joined_requests(const testset::Mock& mock) {
  const auto* p = std::get_if<testset::PayloadMockSpec>(&mock.spec);
  return p ? joined(p->requests) : std::string();
}

std::string joined_responses(const testset::Mock& mock) {
  const auto* p = std::get_if<testset::PayloadMockSpec>(&mock.spec);
  return p ? joined(p->responses) : std::string();
}

std::string short_summary(std::string_view text) {
  constexpr std::size_t kMax = 120;
  return protocols::render_value(text, kMax);
}

std::string sql_miss_message(std::string_view what, std::string_view closest) {
  if (closest.empty()) return "reel: no recorded answer for: " + std::string(what);
  return "reel: the answer recorded for: " + std::string(what) + " cannot be replayed (" +
         std::string(closest) + ")";
}

std::string_view path_and_query(std::string_view url) {
  if (auto scheme = url.find("://"); scheme != std::string_view::npos && scheme < 8) {
    auto slash = url.find('/', scheme + 3);
    return slash == std::string_view::npos ? std::string_view("/") : url.substr(slash);
  }
  return url.empty() ? std::string_view("/") : url;
}

std::optional<nlohmann::json> as_json(std::string_view body) {
  auto start = body.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos || (body[start] != '{' && body[start] != '[')) {
    return std::nullopt;
  }
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

std::string json_shape(const nlohmann::json& j) {
  if (j.is_object()) {
    std::string s = "{";
    for (auto it = j.begin(); it != j.end(); ++it) {
      s += it.key() + ":" + json_shape(it.value()) + ",";
    }
    return s + "}";
  }
  if (j.is_array()) return "[" + (j.empty() ? std::string() : json_shape(j.front())) + "]";
  return "";
}

HttpLiveRequest http_live_request(std::string method, std::string_view url, std::string body) {
  HttpLiveRequest live{std::move(method), std::string(path_and_query(url)), std::move(body), {}};
  live.json = as_json(live.body);
  return live;
}

Fit http_fit(const testset::Mock& mock, const HttpLiveRequest& live) {
  const auto* spec = std::get_if<testset::HttpMockSpec>(&mock.spec);
  if (spec == nullptr || spec->req.method != live.method) return Fit::kNone;
  std::string_view pq = path_and_query(spec->req.url);
  if (path_only(pq) != path_only(live.pq)) return Fit::kNone;
  auto recorded = as_json(spec->req.body);
  bool same_body = recorded && live.json ? *recorded == *live.json : spec->req.body == live.body;
  if (pq == live.pq && same_body) return Fit::kExact;
  if (recorded && live.json && json_shape(*recorded) != json_shape(*live.json)) return Fit::kNone;
  return Fit::kStructural;
}

std::string http_closest(const MockPool& pool, const HttpLiveRequest& live) {
  for (const auto* m : pool.all_of(testset::MockKind::kHttp)) {
    const auto* spec = std::get_if<testset::HttpMockSpec>(&m->spec);
    if (spec == nullptr) continue;
    const auto& req = spec->req;
    if (path_only(path_and_query(req.url)) != path_only(live.pq)) continue;
    return fmt::format("{} ({} {}: {})", m->name, req.method, path_and_query(req.url),
                       req.method != live.method ? "other method" : "other body shape");
  }
  return {};
}

// ---------------------------------------------------------------------------- DecodingRecorder

void DecodingRecorder::TimedBytes::add(std::span<const std::byte> b, std::uint64_t ts) {
  bytes.append(text_of(b));
  ends.emplace_back(bytes.size(), ts);
}

std::uint64_t DecodingRecorder::TimedBytes::time_at(std::size_t offset) const {
  for (const auto& [end, ts] : ends) {
    if (offset < end) return ts;
  }
  return ends.empty() ? 0 : ends.back().second;
}

void DecodingRecorder::TimedBytes::consume(std::size_t n) {
  bytes.erase(0, n);
  while (!ends.empty() && ends.front().first <= n) ends.pop_front();
  for (auto& e : ends) e.first -= n;
}

DecodingRecorder::DecodingRecorder(protocols::Protocol protocol, const Endpoint& server,
                                   const RecordOptions& o)
    : server_(server), options_(o), protocol_(protocol) {
  protocols::DecoderOptions d;
  d.limits.max_body = o.max_message;
  d.limits.max_frame = std::max(d.limits.max_frame, o.max_message);
  decoder_ = protocols::make_decoder(protocol, d);
}

DecodingRecorder::~DecodingRecorder() = default;

void DecodingRecorder::data(Direction dir, std::span<const std::byte> bytes,
                            std::uint64_t ts_ns) {
  using protocols::MessageType;
  MessageType type =
      dir == Direction::kClientToServer ? MessageType::kRequest : MessageType::kResponse;
  if (bytes.empty()) {
    pump();
    decoder_->on_close(type, ts_ns);
  } else {
    (type == MessageType::kRequest ? requests_ : responses_).add(bytes, ts_ns);
    pump();
  }
  drain(false);
}

void DecodingRecorder::close(bool, std::uint64_t ts_ns) {
  pump();
  decoder_->on_close(protocols::MessageType::kRequest, ts_ns);
  decoder_->on_close(protocols::MessageType::kResponse, ts_ns);
  drain(true);
}

std::uint64_t DecodingRecorder::invalid_frames() const { return decoder_->stats().invalid; }

void DecodingRecorder::pump() {
  using protocols::MessageType;
  for (MessageType t : {MessageType::kRequest, MessageType::kResponse}) {
    TimedBytes& p = t == MessageType::kRequest ? requests_ : responses_;
    if (p.bytes.empty()) continue;
    std::size_t used = decoder_->feed(t, protocols::as_bytes(p.bytes),
                                      [&p](std::size_t off) { return p.time_at(off); });
    p.consume(std::min(used, p.bytes.size()));
  }
}

void DecodingRecorder::drain(bool flush) {
  std::vector<protocols::Exchange> out;
  decoder_->take_exchanges(out, flush);
  for (auto& e : out) add(std::move(e));
}

}  // namespace reel::mock
