// Records a MySQL/MariaDB client connection as MySQL mocks: the connection phase (greeting,
// handshake response, auth exchange, OK) as one config mock, then one mock per command with its
// whole response, whose end the protocol reader in protocols/mysql tells.
#include <atomic>
#include <deque>

#include "mock/common.h"
#include "mock/mysql_wire.h"
#include "mock/protocols.h"
#include "mock/sql_text.h"
#include "protocols/mysql/decode.h"
#include "protocols/mysql/parse.h"
#include "protocols/mysql/response.h"

namespace reel::mock {

namespace {

namespace pm = protocols::mysql;
using my::Packet;
using protocols::MessageType;
using protocols::ParseState;
using testset::Value;

std::atomic<std::uint64_t> g_connections{0};

struct Turn {
  bool startup = false;
  std::uint8_t command = 0;
  std::vector<Value> requests;
  std::vector<Value> responses;  // connection phase: one per packet
  std::vector<Packet> answer;    // a command's response packets, one Value at the end
  std::string summary;
  std::string response_type;
  std::uint64_t first_ns = 0, last_ns = 0;
  bool answered = false;
  bool truncated = false;
  std::uint32_t unseen_statement = 0;  // executed, prepared before reel joined (ids start at 1)

  void saw(const Packet& p, std::uint64_t first, std::uint64_t last, bool client) {
    if (first_ns == 0) first_ns = first;
    last_ns = std::max(last_ns, last);
    answered = answered || !client;
    truncated = truncated || p.truncated;
  }
};

void drop_member(Value& v, std::string_view key) {
  std::erase_if(v.members, [&](const auto& m) { return m.first == key; });
}

class MysqlRecorder final : public CallRecorder {
 public:
  MysqlRecorder(const Endpoint& server, const RecordOptions& o)
      : server_(server.to_string()),
        options_(o),
        conn_id_(std::to_string(g_connections.fetch_add(1))) {
    limits_.max_frame = o.max_message;
  }

  void data(Direction dir, std::span<const std::byte> bytes, std::uint64_t ts_ns) override {
    bool client = dir == Direction::kClientToServer;
    FrameBuffer& side = client ? client_ : server_side_;
    if (!side.add(bytes, ts_ns)) return;
    while (parse_one(side, client, ts_ns)) {
    }
  }

  void close(bool, std::uint64_t) override {
    while (!turns_.empty()) finish();
  }

  protocols::Protocol protocol() const override { return protocols::Protocol::kMysql; }

 private:
  enum class Phase : std::uint8_t { kGreeting, kAuth, kCommand };
  bool parse_one(FrameBuffer& side, bool client, std::uint64_t ts_ns) {
    if (side.empty()) return false;
    Packet p;
    auto type = client ? MessageType::kRequest : MessageType::kResponse;
    auto res = pm::parse_frame(type, side.view(), p, state_, limits_);
    if (state_.encrypted) encrypted_ = true;
    side.consume(res.consumed);
    if (res.state != ParseState::kParsed) return false;
    std::uint64_t first = side.frame_start(ts_ns);
    if (client) {
      on_client(std::move(p), first, ts_ns);
    } else {
      on_server(std::move(p), first, ts_ns);
    }
    return true;
  }

  void on_server(Packet p, std::uint64_t first, std::uint64_t last) {
    if (phase_ == Phase::kGreeting) {
      Turn t;
      t.startup = true;
      t.summary = "connect";
      t.saw(p, first, last, false);
      bool greeting = p.seq == 0 && my::first_byte(p) == 0x0a;
      t.responses.push_back(my::server_handshake_value(p, greeting));
      if (greeting) {
        pm::Greeting g = pm::greeting(p);
        pm::learn_greeting(g, stitch_);
        t.summary = "connect " + g.server_version;
      }
      turns_.push_back(std::move(t));
      phase_ = Phase::kAuth;
      if (!greeting) finish();
      return;
    }
    if (turns_.empty()) return;
    Turn& t = turns_.front();
    t.saw(p, first, last, false);
    if (t.startup) {
      t.responses.push_back(my::server_handshake_value(p, false));
      if (pm::is_ok(p) || pm::is_err(p)) {
        phase_ = Phase::kCommand;
        finish();
      }
      return;
    }
    if (!reading_) {
      pm::start_response(reader_, t.command);
      scratch_ = protocols::Exchange{};
      reading_ = true;
    }
    switch (pm::feed_response(reader_, p, stitch_, scratch_, limits_)) {
      case pm::Progress::kMore:
        t.answer.push_back(std::move(p));
        return;
      case pm::Progress::kDone:
        t.answer.push_back(std::move(p));
        finish();
        return;
      case pm::Progress::kEndedBefore:
        finish();
        if (!turns_.empty()) on_server(std::move(p), first, last);
        return;
    }
  }

  void on_client(Packet p, std::uint64_t first, std::uint64_t last) {
    bool redact = options_.redactor && options_.redactor->enabled();
    if (phase_ == Phase::kAuth && !turns_.empty() && turns_.front().startup) {
      Turn& t = turns_.front();
      bool handshake = t.requests.empty();
      t.saw(p, first, last, true);
      if (handshake) {
        pm::HandshakeResponse h = pm::handshake_response(p);
        pm::learn_handshake_response(h, stitch_);
        if (!h.user.empty()) t.summary += " " + h.user + "@" + h.database;
      }
      t.requests.push_back(my::client_handshake_value(p, handshake, options_.redactor));
      return;
    }
    phase_ = Phase::kCommand;
    std::uint8_t command = my::first_byte(p);
    if (p.seq != 0) {  // LOCAL INFILE data, or COM_CHANGE_USER's auth exchange
      if (turns_.empty()) return;
      Turn& t = turns_.back();
      t.saw(p, first, last, true);
      bool secret = t.command == pm::kComChangeUser;
      t.requests.push_back(secret ? my::client_handshake_value(p, false, options_.redactor)
                                  : my::packet_value({p}, "LocalInfileData", Value::mapping()));
      return;
    }
    if (command == pm::kComStmtClose) stitch_.statements.erase(pm::statement_id(p));
    if (my::unanswered(command)) return;
    Turn t;
    t.command = command;
    t.saw(p, first, last, true);
    std::string sql;
    std::vector<std::string> params;
    if (command == pm::kComQuery || command == pm::kComStmtPrepare) {
      sql = pm::query_text(p);
    } else if (my::has_statement_id(command)) {
      if (auto it = stitch_.statements.find(pm::statement_id(p)); it != stitch_.statements.end()) {
        sql = it->second.query;
        if (command == pm::kComStmtExecute) params = pm::execute_params(p, it->second, limits_);
      } else if (command == pm::kComStmtExecute) {
        t.unseen_statement = pm::statement_id(p);
      }
    }
    Value v = my::command_value(p, my::has_statement_id(command) ? sql : "", params);
    if (command == pm::kComChangeUser && redact) drop_member(v, "payload");
    t.requests.push_back(std::move(v));
    t.summary = sql.empty() ? pm::command_name(command) : one_line(sql);
    turns_.push_back(std::move(t));
    if (turns_.size() == 1) start_front();
  }

  void start_front() {
    reading_ = false;
    stitch_.preparing.reset();
    if (turns_.empty() || turns_.front().startup) return;
    const Value& req = turns_.front().requests.front();
    if (turns_.front().command == pm::kComStmtPrepare) {
      const Value* m = req.find("message");
      const Value* q = m ? m->find("query") : nullptr;
      stitch_.preparing = q ? q->text : std::string();
    }
  }

  void finish() {
    Turn t = std::move(turns_.front());
    turns_.pop_front();
    start_front();
    if (!t.answer.empty()) {
      t.responses.push_back(my::response_value(t.answer, t.command));
      const Value* type = t.responses.back().find("header")->find("packet_type");
      t.response_type = type ? type->text : "";
    }
    done_.push_back(to_call(std::move(t)));
  }

  RecordedCall to_call(Turn t) const {
    RecordedCall call;
    testset::Mock& mock = call.mock;
    mock.kind = testset::MockKind::kMySql;
    mock.kind_name = "MySQL";
    auto& meta = mock.metadata;
    meta["connID"] = conn_id_;
    if (!t.startup) {
      meta["requestOperation"] = pm::command_name(t.command);
      if (!t.response_type.empty()) meta["responseOperation"] = t.response_type;
    }
    meta[std::string(kMetaType)] = t.startup ? "config" : "mocks";
    meta[std::string(kMetaServer)] = server_;
    meta[std::string(kMetaProtocol)] = "mysql";
    if (t.truncated) meta["reel.truncated"] = "true";
    if (!t.answered || (t.responses.empty() && !t.startup)) meta["reel.unanswered"] = "true";
    if (t.unseen_statement)
      meta[std::string(kMetaUnreplayable)] =
          "statement " + std::to_string(t.unseen_statement) +
          " was prepared before reel joined the connection: its SQL and columns were never seen";
    if (t.startup && encrypted_) meta["reel.encrypted"] = "true";
    mock.connection_id = conn_id_;
    call.request_ns = t.first_ns;
    call.response_ns = t.answered ? t.last_ns : t.first_ns;
    mock.req_timestamp = stamp(call.request_ns);
    mock.res_timestamp = stamp(call.response_ns);
    testset::PacketMockSpec spec;
    spec.requests = std::move(t.requests);
    spec.responses = std::move(t.responses);
    if (!mock.req_timestamp.is_zero()) spec.created = mock.req_timestamp.unix_seconds();
    mock.spec = std::move(spec);
    call.startup = t.startup;
    call.summary = std::move(t.summary);
    return call;
  }

  testset::Timestamp stamp(std::uint64_t ns) const {
    if (ns == 0) return {};
    return {static_cast<std::int64_t>(ns) + options_.convert.clock_to_unix_ns,
            options_.convert.utc_offset_s};
  }

  std::string server_;
  RecordOptions options_;
  std::string conn_id_;
  protocols::Limits limits_;
  pm::State state_;
  FrameBuffer client_, server_side_;
  Phase phase_ = Phase::kGreeting;
  std::deque<Turn> turns_;
  pm::StitchState stitch_;
  pm::ResponseReader reader_;
  protocols::Exchange scratch_;  // what the response reader notes; not used
  bool reading_ = false;
  bool encrypted_ = false;
};

}  // namespace

std::unique_ptr<CallRecorder> make_mysql_recorder(const Endpoint& server, const RecordOptions& o) {
  return std::make_unique<MysqlRecorder>(server, o);
}

}  // namespace reel::mock
