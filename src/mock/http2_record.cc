// HTTP/2 calls out of the app: the repo's HTTP/2 decoder (frames, HPACK, one exchange per
// stream) pairs them, and testset converts each stream: gRPC into a gRPC mock, anything else
// into an Http mock with proto_major 2. Connection-level frames (SETTINGS, PING, WINDOW_UPDATE,
// GOAWAY) belong to no stream, so they never become calls; nor do server pushes, which the app
// never asked for.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "mock/common.h"
#include "mock/protocols.h"
#include "testset/convert.h"

namespace reel::mock {

namespace {

class Http2Recorder final : public DecodingRecorder {
 public:
  Http2Recorder(const Endpoint& server, const RecordOptions& o)
      : DecodingRecorder(protocols::Protocol::kHttp2, server, o) {}

 private:
  void add(protocols::Exchange e) override {
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
      // Kept so that it is listed: what could be read of it, never replayed as if whole.
      call.mock = testset::grpc_mock(testset::grpc_call_as_seen(e, options_.convert));
      call.mock.metadata["reel.truncated"] = "true";
      call.mock.metadata["reel.problem"] = mock.error().message;
    } else {
      spdlog::warn("recording {} to {}: dropped: {}", call.summary, server_.to_string(),
                   mock.error().message);
      return;
    }
    call.request_ns = e.request_time.first_ns;
    call.response_ns = unanswered ? e.request_time.last_ns : e.response_time.last_ns;
    // A stream whose answer was read before its request (joined mid-flight, or frames out of
    // any order a peer would send): the call still ends no earlier than it began.
    call.response_ns = std::max(call.response_ns, call.request_ns);
    label_call(call, protocols::Protocol::kHttp2, server_);
    auto& md = call.mock.metadata;
    if (unanswered) md["reel.unanswered"] = "true";
    if (md.contains("truncated") || protocols::headers_partial(e)) {
      md["reel.truncated"] = "true";
    }
    if (protocols::headers_partial(e))
      md[std::string(kMetaUnreplayable)] = std::string(kJoinedMidFlight);
    if (auto rst = e.fields.find("http2.rst_stream"); rst != e.fields.end()) {
      md["reel.rst_stream"] = rst->second;  // replay resets the stream after the answer too
    }
    done_.push_back(std::move(call));
  }
};

}  // namespace

std::unique_ptr<CallRecorder> make_http2_recorder(const Endpoint& server, const RecordOptions& o) {
  return std::make_unique<Http2Recorder>(server, o);
}

}  // namespace reel::mock
