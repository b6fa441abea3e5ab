// HTTP/1.x calls out of the app become Http mocks: the repo's llhttp decoder frames and pairs
// them, testset converts each exchange, and bodies are kept whole up to max_message.
#include <deque>

#include "mock/common.h"
#include "mock/protocols.h"
#include "protocols/decoder.h"
#include "testset/convert.h"

namespace reel::mock {

namespace {

using protocols::MessageType;

// One direction's bytes not yet consumed by the decoder, with the arrival time of each piece.
struct Pending {
  std::string bytes;
  std::deque<std::pair<std::size_t, std::uint64_t>> ends;  // (end offset, arrival ns)

  void add(std::span<const std::byte> b, std::uint64_t ts) {
    bytes.append(text_of(b));
    ends.emplace_back(bytes.size(), ts);
  }
  std::uint64_t time_at(std::size_t offset) const {
    for (const auto& [end, ts] : ends) {
      if (offset < end) return ts;
    }
    return ends.empty() ? 0 : ends.back().second;
  }
  void consume(std::size_t n) {
    bytes.erase(0, n);
    while (!ends.empty() && ends.front().first <= n) ends.pop_front();
    for (auto& e : ends) e.first -= n;
  }
};

class HttpRecorder final : public CallRecorder {
 public:
  HttpRecorder(const Endpoint& server, const RecordOptions& o) : server_(server), options_(o) {
    protocols::DecoderOptions d;
    d.limits.max_body = o.max_message;
    d.limits.max_frame = std::max(d.limits.max_frame, o.max_message);
    decoder_ = protocols::make_decoder(protocols::Protocol::kHttp1, d);
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

  protocols::Protocol protocol() const override { return protocols::Protocol::kHttp1; }
  std::uint64_t invalid_frames() const override { return decoder_->stats().invalid; }

 private:
  Pending& side(MessageType t) { return t == MessageType::kRequest ? requests_ : responses_; }

  // Requests first: the response parser must know which request (HEAD?) it answers.
  void pump() {
    for (MessageType t : {MessageType::kRequest, MessageType::kResponse}) {
      Pending& p = side(t);
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
    if (!e.has_request) return;  // a response nobody asked for is not a call
    bool unanswered = !e.has_response;
    e.has_response = true;  // convert wants both sides; the missing one stays empty
    auto mock = testset::http_mock_from_exchange(e, options_.convert);
    if (!mock) return;
    RecordedCall call;
    call.mock = std::move(*mock);
    call.request_ns = e.request_time.first_ns;
    call.response_ns = unanswered ? e.request_time.last_ns : e.response_time.last_ns;
    call.summary = short_summary(e.method + " " + e.target);
    label_call(call, protocols::Protocol::kHttp1, server_);
    if (unanswered) call.mock.metadata["reel.unanswered"] = "true";
    if (call.mock.metadata.contains("truncated")) call.mock.metadata["reel.truncated"] = "true";
    done_.push_back(std::move(call));
  }

  Endpoint server_;
  RecordOptions options_;
  std::unique_ptr<protocols::Decoder> decoder_;
  Pending requests_, responses_;
};

}  // namespace

std::unique_ptr<CallRecorder> make_http_recorder(const Endpoint& server, const RecordOptions& o) {
  return std::make_unique<HttpRecorder>(server, o);
}

}  // namespace reel::mock
