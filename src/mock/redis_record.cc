// Redis calls become Redis mocks in Keploy's shape: one command and its replies per mock, a
// pipelined burst split per command. Which replies answer which command is the tracer's model
// (protocols/redis/conversation.h): in order, one per channel for the subscribe family (until
// the count reaches 0 for a bare UNSUBSCRIBE), pushes and pub/sub messages answering none.
#include <deque>

#include "mock/common.h"
#include "mock/protocols.h"
#include "mock/redis_common.h"
#include "protocols/redis/conversation.h"
#include "protocols/redis/parse.h"

namespace reel::mock {

namespace {

using redis::Split;

// Commands that set up the connection rather than do the app's work.
bool is_setup_command(const std::string& cmd) {
  return cmd == "HELLO" || cmd == "AUTH" || cmd == "SELECT" || cmd == "CLIENT" ||
         cmd == "READONLY" || cmd == "PING";
}

struct Command {
  redis::Value value;
  std::uint64_t first_ns = 0;
  std::vector<std::string> replies;
  std::uint64_t last_ns = 0;
  bool startup = false;
};

class RedisRecorder final : public CallRecorder {
 public:
  RedisRecorder(const Endpoint& server, const RecordOptions& o) : server_(server), options_(o) {}

  void data(Direction dir, std::span<const std::byte> bytes, std::uint64_t ts_ns) override {
    if (dir == Direction::kClientToServer) {
      if (requests_.empty()) request_start_ns_ = ts_ns;
      requests_.append(text_of(bytes));
      read_commands();
    } else {
      responses_.append(text_of(bytes));
      read_replies(ts_ns);
    }
  }

  void close(bool, std::uint64_t ts_ns) override {
    read_commands();
    read_replies(ts_ns);
    while (!waiting_.empty()) finish(true);
    conversation_ = {};
  }

  protocols::Protocol protocol() const override { return protocols::Protocol::kRedis; }

 private:
  void read_commands() {
    while (!requests_.empty()) {
      redis::Value v;
      std::size_t n = 0;
      Split s = redis::next_value(requests_, true, v, n);
      if (s == Split::kNeedsMore) return;
      if (s == Split::kInvalid) {
        invalid_++;
        if (!resync(requests_, protocols::MessageType::kRequest)) return;
        continue;
      }
      requests_.erase(0, n);
      Command c;
      c.first_ns = request_start_ns_;
      std::string cmd = v.args.empty() ? std::string() : redis::upper(v.args[0]);
      c.startup = at_start_ && is_setup_command(cmd);
      if (!c.startup) at_start_ = false;
      c.value = std::move(v);
      waiting_.push_back(std::move(c));
    }
  }

  void read_replies(std::uint64_t ts_ns) {
    while (!responses_.empty()) {
      redis::Value v;
      std::size_t n = 0;
      Split s = redis::next_value(responses_, false, v, n);
      if (s == Split::kNeedsMore) return;
      if (s == Split::kInvalid) {
        invalid_++;
        if (!resync(responses_, protocols::MessageType::kResponse)) return;
        continue;
      }
      responses_.erase(0, n);
      // A push, a pub/sub message or a MONITOR line answers no command; nor does a reply with
      // no command waiting.
      if (waiting_.empty() || protocols::redis::is_push(redis::view_of(v), conversation_)) {
        continue;
      }
      Command& c = waiting_.front();
      bool done =
          protocols::redis::take_reply(redis::view_of(c.value), redis::view_of(v), conversation_);
      c.replies.push_back(std::move(v.bytes));
      c.last_ns = ts_ns;
      if (done) finish(false);
    }
  }

  // Drops bytes up to the next plausible value start; false when none is in sight yet.
  bool resync(std::string& buf, protocols::MessageType type) {
    std::size_t at = protocols::redis::find_frame_boundary(type, protocols::as_bytes(buf).subspan(1),
                                                           protocols::redis::State{});
    if (at == protocols::kNoBoundary) {
      buf.clear();
      return false;
    }
    buf.erase(0, at + 1);
    return true;
  }

  void finish(bool unanswered) {
    Command c = std::move(waiting_.front());
    waiting_.pop_front();
    std::string request = c.value.bytes;
    std::string cmd = c.value.args.empty() ? std::string() : redis::upper(c.value.args[0]);
    if (options_.redactor && (cmd == "AUTH" || cmd == "HELLO")) {
      options_.redactor->redact_redis(request);
    }
    testset::ByteExchange x;
    x.requests = {std::move(request)};
    x.responses = std::move(c.replies);
    x.request_ns = c.first_ns;
    x.response_ns = c.last_ns;
    x.startup = c.startup;
    RecordedCall call;
    call.mock = testset::payload_mock(x, testset::MockKind::kRedis, options_.convert);
    call.request_ns = c.first_ns;
    call.response_ns = c.last_ns;
    call.startup = c.startup;
    call.summary = redis::summary_of(c.value.args);
    label_call(call, protocols::Protocol::kRedis, server_);
    if (unanswered) call.mock.metadata["reel.unanswered"] = "true";
    done_.push_back(std::move(call));
  }

  Endpoint server_;
  RecordOptions options_;
  std::string requests_, responses_;
  std::uint64_t request_start_ns_ = 0;
  std::deque<Command> waiting_;
  protocols::redis::Conversation conversation_;  // which replies answer which command
  bool at_start_ = true;
};

}  // namespace

std::unique_ptr<CallRecorder> make_redis_recorder(const Endpoint& server, const RecordOptions& o) {
  return std::make_unique<RedisRecorder>(server, o);
}

}  // namespace reel::mock
