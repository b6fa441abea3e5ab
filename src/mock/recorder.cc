// CallRecorder::create: holds a connection's first bytes until their protocol is known, then
// hands them to that protocol's recorder.
#include <vector>

#include "mock/common.h"
#include "mock/protocols.h"
#include "protocols/infer.h"

namespace reel::mock {

namespace {

// Past this many unrecognised bytes on one side nothing will recognise the rest either.
constexpr std::size_t kInferLimit = 512;

class InferringRecorder final : public CallRecorder {
 public:
  InferringRecorder(const Endpoint& server, const RecordOptions& options)
      : server_(server), options_(options) {}

  void data(Direction dir, std::span<const std::byte> bytes, std::uint64_t ts_ns) override {
    if (inner_) {
      inner_->data(dir, bytes, ts_ns);
      collect();
      return;
    }
    held_.push_back({dir, std::string(text_of(bytes)), ts_ns});
    if (bytes.empty()) {
      decide(guess());  // a side closed: no more bytes will make it clearer
      return;
    }
    (dir == Direction::kClientToServer ? client_ : server_bytes_).append(text_of(bytes));
    protocols::Protocol p = guess();
    if (p != protocols::Protocol::kUnknown || give_up()) decide(p);
  }

  void close(bool reset, std::uint64_t ts_ns) override {
    if (!inner_) decide(guess());
    inner_->close(reset, ts_ns);
    collect();
  }

  protocols::Protocol protocol() const override {
    return inner_ ? inner_->protocol() : protocols::Protocol::kUnknown;
  }

 private:
  struct Held {
    Direction dir;
    std::string bytes;
    std::uint64_t ts;
  };

  protocols::Protocol guess() const {
    using protocols::MessageType;
    using protocols::Protocol;
    Protocol p = Protocol::kUnknown;
    if (!client_.empty()) p = protocols::infer_protocol(protocols::as_bytes(client_),
                                                        MessageType::kRequest);
    if (p == Protocol::kUnknown && !server_bytes_.empty()) {
      p = protocols::infer_protocol(protocols::as_bytes(server_bytes_), MessageType::kResponse);
    }
    return p;
  }

  // Unknown for good: one side sent plenty, or the server answered what the client said.
  bool give_up() const {
    bool answered = !client_.empty() && !server_bytes_.empty();
    return answered || client_.size() >= kInferLimit || server_bytes_.size() >= kInferLimit;
  }

  void decide(protocols::Protocol p) {
    using protocols::Protocol;
    switch (p) {
      case Protocol::kHttp1:
        inner_ = make_http_recorder(server_, options_);
        break;
      case Protocol::kHttp2:
        inner_ = make_http2_recorder(server_, options_);
        break;
      case Protocol::kRedis:
        inner_ = make_redis_recorder(server_, options_);
        break;
      case Protocol::kPostgres:
        inner_ = make_postgres_recorder(server_, options_);
        break;
      case Protocol::kMysql:
        inner_ = make_mysql_recorder(server_, options_);
        break;
      default:
        break;
    }
    if (!inner_) inner_ = make_generic_recorder(server_, options_);
    for (auto& h : held_) inner_->data(h.dir, protocols::as_bytes(h.bytes), h.ts);
    held_.clear();
    client_.clear();
    server_bytes_.clear();
    collect();
  }

  void collect() {
    for (auto& call : inner_->take()) done_.push_back(std::move(call));
  }

 public:
  std::uint64_t invalid_frames() const override { return inner_ ? inner_->invalid_frames() : 0; }

 private:

  Endpoint server_;
  RecordOptions options_;
  std::unique_ptr<CallRecorder> inner_;
  std::vector<Held> held_;
  std::string client_, server_bytes_;
};

}  // namespace

std::unique_ptr<CallRecorder> CallRecorder::create(const Endpoint& /*client*/,
                                                   const Endpoint& server,
                                                   const RecordOptions& options) {
  return std::make_unique<InferringRecorder>(server, options);
}

}  // namespace reel::mock
