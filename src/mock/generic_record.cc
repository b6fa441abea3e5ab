// Unknown protocols: each client burst and the server burst that follows it make one Generic
// mock, one payload per read as Keploy keeps them. Bytes the server sends before the client says
// anything (a greeting) make a mock with no request.
#include "mock/common.h"
#include "mock/protocols.h"

namespace reel::mock {

namespace {

class GenericRecorder final : public CallRecorder {
 public:
  GenericRecorder(const Endpoint& server, const RecordOptions& o) : server_(server), options_(o) {}

  void data(Direction dir, std::span<const std::byte> bytes, std::uint64_t ts_ns) override {
    if (bytes.empty()) return;
    bool client = dir == Direction::kClientToServer;
    if (client && !current_.responses.empty()) finish(false);
    auto& side = client ? current_.requests : current_.responses;
    std::size_t& held = client ? request_bytes_ : response_bytes_;
    if (held + bytes.size() > options_.max_message) {
      truncated_ = true;
      bytes = bytes.first(options_.max_message - std::min(held, options_.max_message));
    }
    if (!bytes.empty()) side.emplace_back(text_of(bytes));
    held += bytes.size();
    if (client && current_.request_ns == 0) current_.request_ns = ts_ns;
    if (!client) {
      if (current_.request_ns == 0) current_.request_ns = ts_ns;
      current_.response_ns = ts_ns;
    }
  }

  void close(bool, std::uint64_t) override {
    if (!current_.requests.empty() || !current_.responses.empty()) finish(true);
  }

  protocols::Protocol protocol() const override { return protocols::Protocol::kUnknown; }

 private:
  void finish(bool at_close) {
    bool unanswered = at_close && current_.responses.empty();
    std::string first = current_.requests.empty() ? std::string() : current_.requests.front();
    RecordedCall call;
    // A greeting belongs to the connection, not to whatever test is running.
    call.startup = current_.requests.empty();
    current_.startup = call.startup;
    call.mock = testset::payload_mock(current_, testset::MockKind::kGeneric, options_.convert);
    call.request_ns = current_.request_ns;
    call.response_ns = current_.response_ns;
    call.summary = call.startup ? "(server greeting)"
                                : fmt::format("{} bytes: {}", request_bytes_,
                                              short_summary(std::string_view(first).substr(0, 16)));
    label_call(call, protocols::Protocol::kUnknown, server_);
    if (unanswered) call.mock.metadata["reel.unanswered"] = "true";
    if (truncated_) call.mock.metadata["reel.truncated"] = "true";
    done_.push_back(std::move(call));
    current_ = {};
    request_bytes_ = response_bytes_ = 0;
    truncated_ = false;
  }

  Endpoint server_;
  RecordOptions options_;
  testset::ByteExchange current_;
  std::size_t request_bytes_ = 0, response_bytes_ = 0;
  bool truncated_ = false;
};

}  // namespace

std::unique_ptr<CallRecorder> make_generic_recorder(const Endpoint& server,
                                                    const RecordOptions& o) {
  return std::make_unique<GenericRecorder>(server, o);
}

}  // namespace reel::mock
