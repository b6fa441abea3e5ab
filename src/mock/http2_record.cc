// HTTP/2 calls out of the app: the repo's HTTP/2 decoder (frames, HPACK, one exchange per
// stream) pairs them, and testset converts each stream: gRPC into a gRPC mock, anything else
// into an Http mock with proto_major 2. Connection-level frames (SETTINGS, PING, WINDOW_UPDATE,
// GOAWAY) belong to no stream, so they never become calls; nor do server pushes, which the app
// never asked for.
#include <spdlog/spdlog.h>

#include "mock/common.h"
#include "mock/protocols.h"
#include "protocols/decoder.h"
#include "protocols/http2/grpc.h"
#include "protocols/text.h"
#include "testset/convert.h"

namespace reel::mock {

namespace {

using protocols::MessageType;

testset::Timestamp at(std::uint64_t capture_ns, const testset::ConvertOptions& o) {
  if (capture_ns == 0) return {};
  return {static_cast<std::int64_t>(capture_ns) + o.clock_to_unix_ns, o.utc_offset_s};
}

std::size_t trailer_count(const protocols::Exchange& e, const std::string& field) {
  std::int64_t n = 0;
  auto it = e.fields.find(field);
  if (it == e.fields.end() || !protocols::parse_int64(it->second, n) || n < 0) return 0;
  return static_cast<std::size_t>(n);
}

// Headers [from, to) of `all`, pseudo-headers apart, names lower case.
testset::GrpcHeaders grpc_headers(const protocols::Headers& all, std::size_t from, std::size_t to) {
  testset::GrpcHeaders out;
  for (std::size_t i = from; i < std::min(to, all.size()); ++i) {
    const auto& [name, value] = all[i];
    auto& into = name.starts_with(':') ? out.pseudo : out.ordinary;
    auto [it, inserted] = into.try_emplace(protocols::to_lower(name), value);
    if (!inserted) it->second += ", " + value;
  }
  return out;
}

// The messages of a body that arrived whole and could be decompressed, in order.
std::vector<testset::GrpcMessage> whole_messages(std::string_view rest,
                                                 const testset::GrpcHeaders& headers) {
  auto enc = headers.ordinary.find("grpc-encoding");
  std::string_view encoding = enc == headers.ordinary.end() ? "identity" : enc->second;
  std::vector<testset::GrpcMessage> out;
  while (rest.size() >= 5) {
    testset::GrpcMessage m;
    m.compressed = rest[0] != 0;
    for (int i = 1; i < 5; ++i) m.wire_length = (m.wire_length << 8) | std::uint8_t(rest[i]);
    if (rest.size() - 5 < m.wire_length) break;
    std::string_view payload = rest.substr(5, m.wire_length);
    rest.remove_prefix(5 + m.wire_length);
    if (m.compressed) {
      auto plain = protocols::grpc::decompress(payload, encoding, testset::kMaxGrpcMessage);
      if (!plain) break;
      m.data = std::move(*plain);
    } else {
      m.data = std::string(payload);
    }
    out.push_back(std::move(m));
  }
  return out;
}

// A gRPC stream that cannot replay faithfully (a cut body, headers only partly decoded), kept
// so that it is listed: what could be read of it, never to be replayed as if whole.
testset::Mock partial_grpc_mock(const protocols::Exchange& e, const testset::ConvertOptions& o) {
  testset::GrpcMockSpec call;
  std::size_t req_end =
      e.request_headers.size() -
      std::min(e.request_headers.size(), trailer_count(e, "http2.request_trailers"));
  std::size_t resp_end =
      e.response_headers.size() -
      std::min(e.response_headers.size(), trailer_count(e, "http2.response_trailers"));
  call.req.headers = grpc_headers(e.request_headers, 0, req_end);
  call.resp.headers = grpc_headers(e.response_headers, 0, resp_end);
  call.resp.trailers = grpc_headers(e.response_headers, resp_end, e.response_headers.size());
  call.req.messages = whole_messages(e.request_body.data, call.req.headers);
  call.resp.messages = whole_messages(e.response_body.data, call.resp.headers);
  call.req.timestamp = at(e.request_time.first_ns, o);
  call.resp.timestamp = at(e.response_time.last_ns, o);
  testset::Mock mock;
  mock.kind = testset::MockKind::kGrpc;
  mock.kind_name = testset::mock_kind_name(mock.kind);
  mock.metadata = {{"type", "mocks"}, {"operation", e.target}};
  mock.req_timestamp = call.req.timestamp;
  mock.res_timestamp = call.resp.timestamp;
  mock.spec = std::move(call);
  return mock;
}

class Http2Recorder final : public CallRecorder {
 public:
  Http2Recorder(const Endpoint& server, const RecordOptions& o) : server_(server), options_(o) {
    protocols::DecoderOptions d;
    d.limits.max_body = o.max_message;
    d.limits.max_frame = std::max(d.limits.max_frame, o.max_message);
    decoder_ = protocols::make_decoder(protocols::Protocol::kHttp2, d);
  }

  void data(Direction dir, std::span<const std::byte> bytes, std::uint64_t ts_ns) override {
    MessageType type =
        dir == Direction::kClientToServer ? MessageType::kRequest : MessageType::kResponse;
    if (bytes.empty()) {
      pump();
      decoder_->on_close(type, ts_ns);
    } else {
      side(type).add(bytes, ts_ns);
      pump();
    }
    drain(false);
  }

  void close(bool, std::uint64_t ts_ns) override {
    pump();
    decoder_->on_close(MessageType::kRequest, ts_ns);
    decoder_->on_close(MessageType::kResponse, ts_ns);
    drain(true);
  }

  protocols::Protocol protocol() const override { return protocols::Protocol::kHttp2; }
  std::uint64_t invalid_frames() const override { return decoder_->stats().invalid; }

 private:
  TimedBytes& side(MessageType t) { return t == MessageType::kRequest ? requests_ : responses_; }

  // Requests first, as the decoder asks.
  void pump() {
    for (MessageType t : {MessageType::kRequest, MessageType::kResponse}) {
      TimedBytes& p = side(t);
      if (p.bytes.empty()) continue;
      std::size_t used = decoder_->feed(t, protocols::as_bytes(p.bytes),
                                        [&p](std::size_t off) { return p.time_at(off); });
      p.consume(std::min(used, p.bytes.size()));
    }
  }

  void drain(bool flush) {
    std::vector<protocols::Exchange> out;
    decoder_->take_exchanges(out, flush);
    for (auto& e : out) add(std::move(e));
  }

  void add(protocols::Exchange e) {
    if (!e.has_request || e.fields.contains("http2.pushed")) return;
    bool unanswered = !e.has_response;
    e.has_response = true;  // convert wants both sides; the missing one stays empty
    bool grpc = testset::is_grpc(e);
    RecordedCall call;
    call.summary = short_summary((grpc ? "grpc " : "h2 " + e.method + " ") + e.target);
    auto mock = testset::http_mock_from_exchange(e, options_.convert);
    if (mock) {
      call.mock = std::move(*mock);
    } else if (grpc) {
      spdlog::warn("recording {} to {}: kept but not replayable: {}", call.summary,
                   server_.to_string(), mock.error().message);
      call.mock = partial_grpc_mock(e, options_.convert);
      call.mock.metadata["reel.truncated"] = "true";
      call.mock.metadata["reel.problem"] = mock.error().message;
    } else {
      spdlog::warn("recording {} to {}: dropped: {}", call.summary, server_.to_string(),
                   mock.error().message);
      return;
    }
    call.request_ns = e.request_time.first_ns;
    call.response_ns = unanswered ? e.request_time.last_ns : e.response_time.last_ns;
    label_call(call, protocols::Protocol::kHttp2, server_);
    auto& md = call.mock.metadata;
    if (unanswered) md["reel.unanswered"] = "true";
    if (md.contains("truncated") || e.fields.contains("http2.headers_partial")) {
      md["reel.truncated"] = "true";
    }
    if (auto rst = e.fields.find("http2.rst_stream"); rst != e.fields.end()) {
      md["reel.rst_stream"] = rst->second;  // replay resets the stream after the answer too
    }
    done_.push_back(std::move(call));
  }

  Endpoint server_;
  RecordOptions options_;
  std::unique_ptr<protocols::Decoder> decoder_;
  TimedBytes requests_, responses_;
};

}  // namespace

std::unique_ptr<CallRecorder> make_http2_recorder(const Endpoint& server, const RecordOptions& o) {
  return std::make_unique<Http2Recorder>(server, o);
}

}  // namespace reel::mock
