// HTTP/1.x calls out of the app become Http mocks: the repo's llhttp decoder frames and pairs
// them, testset converts each exchange, and bodies are kept whole up to max_message.
#include "mock/common.h"
#include "mock/protocols.h"
#include "testset/convert.h"

namespace reel::mock {

namespace {

class HttpRecorder final : public DecodingRecorder {
 public:
  HttpRecorder(const Endpoint& server, const RecordOptions& o)
      : DecodingRecorder(protocols::Protocol::kHttp1, server, o) {}

 private:
  void add(protocols::Exchange e) override {
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
};

}  // namespace

std::unique_ptr<CallRecorder> make_http_recorder(const Endpoint& server, const RecordOptions& o) {
  return std::make_unique<HttpRecorder>(server, o);
}

}  // namespace reel::mock
