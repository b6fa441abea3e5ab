// Records a PostgreSQL client connection as Postgres mocks, one per request as
// protocols/postgres/conversation.h cuts them: the start-up phase (through the first
// ReadyForQuery), each simple Query, and each extended-protocol batch through its Sync (Flushes
// inside it included, whether the client waited at them or not), with the server's answer.
#include <atomic>
#include <deque>

#include "mock/common.h"
#include "mock/postgres_wire.h"
#include "mock/protocols.h"
#include "mock/sql_text.h"
#include "protocols/postgres/conversation.h"
#include "protocols/postgres/decode.h"
#include "protocols/postgres/parse.h"

namespace reel::mock {

namespace {

namespace pp = protocols::postgres;
using pg::Message;
using protocols::MessageType;
using protocols::ParseState;

std::atomic<std::uint64_t> g_connections{0};

struct Segment {
  bool client = true;
  std::vector<Message> msgs;
};

struct Turn {
  std::vector<Segment> segments;
  std::uint64_t first_ns = 0, last_ns = 0;
  std::string sql;  // of the first client segment, fixed when the client ends its turn
  bool startup = false;
  bool closed = false;    // the client ended its part (Query, Sync, FunctionCall)
  bool copy_in = false;   // the server asked for COPY data
  bool answered = false;  // the server has said something
  bool truncated = false;
  bool gap = false;
  std::string unseen_statement;  // a Bind of a statement prepared before reel joined

  void add(bool client, Message m, std::uint64_t first, std::uint64_t last) {
    // A request the client sent in parts (a Flush, the answer so far, then its Sync) is still
    // one request and one answer; only COPY and start-up alternate for real.
    bool pipelined = client && !startup && !copy_in && segments.size() == 2;
    if (pipelined) {
      segments.front().msgs.push_back(std::move(m));
      last_ns = std::max(last_ns, last);
      return;
    }
    if (segments.empty() || segments.back().client != client) segments.push_back({client, {}});
    if (first_ns == 0 && client) first_ns = first;
    if (!client) answered = true;
    last_ns = std::max(last_ns, last);
    truncated = truncated || m.truncated;
    segments.back().msgs.push_back(std::move(m));
  }
};

class PostgresRecorder final : public CallRecorder {
 public:
  PostgresRecorder(const Endpoint& server, const RecordOptions& o)
      : server_(server.to_string()),
        options_(o),
        conn_id_(std::to_string(g_connections.fetch_add(1))) {
    limits_.max_frame = o.max_message;
  }

  void data(Direction dir, std::span<const std::byte> bytes, std::uint64_t ts_ns) override {
    FrameBuffer& side = dir == Direction::kClientToServer ? client_ : server_side_;
    if (!side.add(bytes, ts_ns)) return;
    drain(ts_ns);
  }

  void close(bool, std::uint64_t ts_ns) override {
    drain(ts_ns);
    while (!turns_.empty()) finish();
  }

  protocols::Protocol protocol() const override { return protocols::Protocol::kPostgres; }

 private:
  void drain(std::uint64_t ts_ns) {
    for (bool progress = true; progress;) {
      progress = parse_one(client_, MessageType::kRequest, ts_ns);
      progress = parse_one(server_side_, MessageType::kResponse, ts_ns) || progress;
    }
  }

  bool parse_one(FrameBuffer& side, MessageType type, std::uint64_t ts_ns) {
    if (side.empty()) return false;
    Message m;
    auto res = pp::parse_frame(type, side.view(), m, state_, limits_);
    if (state_.encrypted) encrypted_ = true;
    if (res.state == ParseState::kInvalid) {
      invalid_++;
      resync(side, type);
      return !side.empty();
    }
    side.consume(res.consumed);
    if (res.state != ParseState::kParsed) return false;
    std::uint64_t first = side.frame_start(ts_ns);
    if (type == MessageType::kRequest) {
      on_client(std::move(m), first, ts_ns);
    } else {
      on_server(std::move(m), first, ts_ns);
    }
    return true;
  }

  // Bytes that are not PostgreSQL: skip to the next plausible message, and say so.
  void resync(FrameBuffer& side, MessageType type) {
    std::size_t at = pp::find_frame_boundary(type, side.view(), state_);
    side.consume(at == protocols::kNoBoundary ? side.bytes.size() : std::max<std::size_t>(at, 1));
    if (!turns_.empty()) turns_.front().gap = true;
  }

  bool startup_open() const { return !turns_.empty() && turns_.front().startup; }

  void on_client(Message m, std::uint64_t first, std::uint64_t last) {
    char tag = m.tag;
    if (tag == pp::kUntyped && !startup_open()) {
      while (!turns_.empty()) finish();
      turns_.push_back(Turn{});
      turns_.back().startup = true;
    }
    if (tag == pp::kUntyped || startup_open()) {
      turns_.front().add(true, std::move(m), first, last);
      return;
    }
    if (!turns_.empty() && turns_.front().copy_in && (tag == 'd' || tag == 'c' || tag == 'f')) {
      turns_.front().copy_in = tag == 'd';
      turns_.front().add(true, std::move(m), first, last);
      return;
    }
    if (tag == 'X') return;  // Terminate: nothing to mock
    if (turns_.empty() || turns_.back().closed) turns_.push_back(Turn{});
    Turn& t = turns_.back();
    if (tag == 'B' && t.unseen_statement.empty()) {
      std::string name = pp::bind_msg(m, limits_).statement;
      if (!name.empty() && !statements_.count(name)) t.unseen_statement = name;
    }
    pg::learn({m}, statements_);
    t.add(true, std::move(m), first, last);
    if (pp::closes_request(tag)) {
      t.closed = true;
      t.sql = pg::segment_sql(t.segments.front().msgs, statements_);
    }
  }

  void on_server(Message m, std::uint64_t first, std::uint64_t last) {
    if (turns_.empty()) return;  // unsolicited: a notice or notification between turns
    Turn& t = turns_.front();
    char tag = m.tag;
    t.add(false, std::move(m), first, last);
    if (tag == 'G') t.copy_in = true;
    if (tag == 'Z') finish();
  }

  void finish() {
    Turn t = std::move(turns_.front());
    turns_.pop_front();
    if (t.segments.empty()) return;
    if (!t.closed && !t.startup && t.segments.front().client) {
      t.sql = pg::segment_sql(t.segments.front().msgs, statements_);
    }
    done_.push_back(to_call(t));
  }

  RecordedCall to_call(const Turn& t) const {
    RecordedCall call;
    testset::Mock& mock = call.mock;
    mock.kind = testset::MockKind::kPostgres;
    mock.kind_name = "Postgres";
    testset::PacketMockSpec spec;
    bool first_client = true;
    for (const auto& seg : t.segments) {
      if (seg.client) {
        std::string sql = first_client ? t.sql : std::string();
        first_client = false;
        spec.requests.push_back(pg::request_value(seg.msgs, sql, options_.redactor));
      } else {
        spec.responses.push_back(pg::response_value(seg.msgs));
      }
    }
    mock.spec = std::move(spec);
    auto& meta = mock.metadata;
    meta[std::string(kMetaType)] = t.startup ? "config" : "mocks";
    meta[std::string(kMetaServer)] = server_;
    meta[std::string(kMetaProtocol)] = "postgres";
    meta["connID"] = conn_id_;
    if (t.truncated) meta["reel.truncated"] = "true";
    if (!t.answered) meta["reel.unanswered"] = "true";
    if (t.gap) meta["gap"] = "true";
    if (!t.unseen_statement.empty())
      meta[std::string(kMetaUnreplayable)] =
          "statement \"" + t.unseen_statement +
          "\" was prepared before reel joined the connection: its SQL and columns were never seen";
    if (t.startup && encrypted_) meta["reel.encrypted"] = "true";
    mock.connection_id = conn_id_;
    call.request_ns = t.first_ns;
    call.response_ns = t.answered ? t.last_ns : t.first_ns;
    mock.req_timestamp = stamp(call.request_ns);
    mock.res_timestamp = stamp(call.response_ns);
    call.startup = t.startup;
    call.summary = summary(t);
    return call;
  }

  testset::Timestamp stamp(std::uint64_t ns) const {
    if (ns == 0) return {};
    return {static_cast<std::int64_t>(ns) + options_.convert.clock_to_unix_ns,
            options_.convert.utc_offset_s};
  }

  static std::string summary(const Turn& t) {
    if (t.startup) {
      std::string out = "startup";
      for (const auto& seg : t.segments) {
        for (const auto& m : seg.msgs) {
          if (!seg.client || m.tag != pp::kUntyped) continue;
          for (const auto& [key, value] : pp::startup_params(m)) {
            if (key == "user" || key == "database") out += " " + key + "=" + value;
          }
        }
      }
      return one_line(out);
    }
    if (!t.sql.empty()) return one_line(t.sql);
    return t.segments.front().client ? "[" + pg::tags(t.segments.front().msgs) + "]" : "?";
  }

  std::string server_;
  RecordOptions options_;
  std::string conn_id_;
  protocols::Limits limits_;
  pp::State state_;
  FrameBuffer client_, server_side_;
  std::deque<Turn> turns_;
  pg::Statements statements_;
  bool encrypted_ = false;
};

}  // namespace

std::unique_ptr<CallRecorder> make_postgres_recorder(const Endpoint& server,
                                                     const RecordOptions& o) {
  return std::make_unique<PostgresRecorder>(server, o);
}

}  // namespace reel::mock
