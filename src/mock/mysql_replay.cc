// Plays a MySQL server from MySQL mocks: greets (with the recorded greeting when there is one,
// TLS withdrawn), accepts any login, and answers each command with the recorded response of
// the mock that fits it best. A prepared statement keeps its recorded id (the replayed client
// sees what was recorded, and a recorded EXECUTE names it) unless this connection already uses
// that id for another statement: then it gets one of our own, so statements from different
// recorded connections never collide.
#include <random>

#include <fmt/format.h>

#include "mock/common.h"
#include "mock/mysql_wire.h"
#include "mock/protocols.h"
#include "mock/sql_text.h"
#include "protocols/mysql/decode.h"
#include "protocols/mysql/parse.h"

namespace reel::mock {

namespace {

namespace pm = protocols::mysql;
using my::Packet;
using testset::Value;

constexpr std::uint8_t kComPing = 0x0e;
constexpr std::uint8_t kComResetConnection = 0x1f;
// Server status flags of an OK packet.
constexpr std::uint16_t kInTransaction = 0x0001;
constexpr std::uint16_t kAutocommit = 0x0002;

struct Recorded {
  bool usable = false;
  std::string unusable;  // why not, for the user ("" for commands nobody answers)
  bool startup = false;
  std::string greeting;  // startup: the server's first packet, wire bytes
  std::uint8_t command = 0;
  std::string request;   // the command packet's payload
  std::string sql;       // normalized: the query, or the statement an id names
  std::string response;  // wire bytes
  std::string response_ok_eof;  // the same for a CLIENT_DEPRECATE_EOF client
  bool statement_unknown = false;  // Keploy's EXECUTE names only the id: found by the PREPARE
};

const Value* member(const Value* v, std::string_view key) {
  return v && v->is_mapping() ? v->find(key) : nullptr;
}

std::string packet_type(const Value& packet) {
  const Value* t = member(member(&packet, "header"), "packet_type");
  return t && t->is_scalar() ? t->text : "";
}

bool payload_of(const Value& packet, std::string& bytes) {
  const Value* p = member(&packet, "payload");
  return p && p->is_scalar() && testset::base64_decode(p->text, bytes);
}

// The connection phase, told by its packets: metadata type "config" means session-wide, which a
// query made outside any test is too.
bool connection_phase(const testset::PacketMockSpec& spec) {
  if (!spec.responses.empty() && packet_type(spec.responses[0]) == "HandshakeV10") return true;
  return spec.requests.empty() || !packet_type(spec.requests[0]).starts_with("COM_");
}

Recorded read_mock(const testset::Mock& mock) {
  Recorded r;
  const auto* spec = std::get_if<testset::PacketMockSpec>(&mock.spec);
  if (!spec) return r;
  if (mock.metadata.count("reel.truncated")) {
    r.unusable = "recorded cut short (reel.truncated)";
    return r;
  }
  r.startup = connection_phase(*spec);
  if (r.startup) {
    std::string bytes;
    if (!spec->responses.empty() && payload_of(spec->responses[0], bytes)) {
      r.greeting = bytes;
    } else if (!spec->responses.empty()) {
      r.greeting = my::keploy_greeting(spec->responses[0]);  // "": reel builds one
    }
    return r;
  }
  if (spec->requests.empty()) {
    r.unusable = "no request";
    return r;
  }
  // The command from its payload, or rebuilt from Keploy's decoded fields.
  const Value& req = spec->requests[0];
  std::string bytes;
  std::vector<Packet> packets;
  if (member(&req, "payload")) {
    if (!payload_of(req, bytes) || !my::split(bytes, packets) || packets.empty()) {
      r.unusable = fmt::format("line {}: a payload that is not whole MySQL packets", req.line);
      return r;
    }
    r.command = my::first_byte(packets[0]);
    r.request = packets[0].payload;
  } else {
    auto rebuilt = my::keploy_command(req);
    if (!rebuilt) {
      r.unusable = rebuilt.error().message;
      return r;
    }
    r.request = std::move(*rebuilt);
    r.command = static_cast<std::uint8_t>(r.request[0]);
    r.statement_unknown = my::has_statement_id(r.command);
  }
  const Value* query = member(member(&req, "message"), "query");
  if (query && query->is_scalar()) {
    r.sql = normalize_sql(query->text, SqlDialect::kMysql);
    r.statement_unknown = false;
  }
  if (my::unanswered(r.command) || r.command == pm::kComQuit) return r;  // nothing to send
  if (spec->responses.empty()) {
    r.unusable = "no response";
    return r;
  }
  for (const Value& v : spec->responses) {
    if (member(&v, "payload")) {
      if (!payload_of(v, bytes)) {
        r.unusable = fmt::format("line {}: a payload that is not base64", v.line);
        return r;
      }
      r.response += bytes;
      r.response_ok_eof += bytes;
      continue;
    }
    auto rebuilt = my::keploy_response(v);
    if (!rebuilt) {
      r.unusable = rebuilt.error().message;
      return r;
    }
    r.response += rebuilt->classic;
    r.response_ok_eof += rebuilt->ok_eof;
  }
  r.usable = !r.response.empty();
  return r;
}

class MysqlResponder final : public Responder {
 public:
  explicit MysqlResponder(const Context& ctx) : ctx_(ctx) { limits_.max_frame = 64 << 20; }

  std::string greeting() override {
    std::string g = recorded_greeting();
    if (g.empty()) {
      std::random_device rd;
      g = my::built_greeting(rd() & 0x7fffffff);
    }
    server_caps_ = my::greeting_caps(g);
    return g;
  }

  Output feed(std::span<const std::byte> bytes) override {
    Output out;
    if (!in_.add(bytes)) return out;
    while (!out.close && !in_.empty()) {
      Packet p;
      auto res = pm::parse_frame(protocols::MessageType::kRequest, in_.view(), p, state_, limits_);
      in_.consume(res.consumed);
      if (res.state != protocols::ParseState::kParsed) break;
      handle(p, out);
    }
    return out;
  }

 private:
  std::string recorded_greeting() {
    if (!ctx_.pool) return {};
    std::string server = ctx_.server.to_string();
    std::string best;
    for (const testset::Mock* mock : ctx_.pool->all_of(testset::MockKind::kMySql)) {
      const Recorded& r = recorded(*mock);
      std::string g = r.startup ? my::without_ssl(r.greeting) : std::string();
      if (g.empty()) continue;
      auto it = mock->metadata.find(std::string(kMetaServer));
      if (it != mock->metadata.end() && it->second == server) return g;
      if (best.empty()) best = g;
    }
    return best;
  }

  const Recorded& recorded(const testset::Mock& mock) {
    auto it = cache_.find(&mock);
    if (it == cache_.end()) {
      it = cache_.emplace(&mock, read_mock(mock)).first;
      if (it->second.statement_unknown) it->second.sql = prepared_sql(mock, it->second.request);
    }
    return it->second;
  }

  // The SQL of the statement a Keploy EXECUTE (or CLOSE...) names by id: the PREPARE whose
  // answer handed out that id, on the same recorded connection when Keploy noted one.
  std::string prepared_sql(const testset::Mock& mock, const std::string& request) {
    if (!ctx_.pool || request.size() < 5) return "";
    auto conn_of = [](const testset::Mock& m) {
      auto it = m.metadata.find("connID");
      return it == m.metadata.end() ? std::string() : it->second;
    };
    std::string conn = conn_of(mock);
    std::string id = request.substr(1, 4);
    for (const testset::Mock* m : ctx_.pool->all_of(testset::MockKind::kMySql)) {
      if (m == &mock || conn_of(*m) != conn) continue;
      const Recorded& p = recorded(*m);
      if (p.usable && p.command == pm::kComStmtPrepare && p.response.size() >= 9 &&
          p.response[4] == '\0' && p.response.compare(5, 4, id) == 0) {
        return p.sql;
      }
    }
    return "";
  }

  void handle(const Packet& p, Output& out) {
    if (!logged_in_) return login(p, out);
    if (p.seq != 0) return;  // the rest of a long command, or upload data: not replayed
    std::uint8_t command = my::first_byte(p);
    switch (command) {
      case pm::kComQuit:
        out.close = true;
        return;
      case pm::kComStmtClose:
        statements_.erase(pm::statement_id(p));
        return;
      case pm::kComStmtSendLongData:
        return;
      default:
        answer(p, command, out);
    }
  }

  void login(const Packet& p, Output& out) {
    if (pm::is_ssl_request(p)) {  // we offered no TLS
      out.bytes += my::err_packet(p.seq + 1, 1105, "HY000", "reel: TLS is not available");
      out.close = true;
      return;
    }
    pm::HandshakeResponse h = pm::handshake_response(p);
    auto seq = static_cast<std::uint8_t>(p.seq + 1);
    if (h.auth_plugin == "caching_sha2_password") {  // "fast auth succeeded", then OK
      out.bytes += std::string("\x02\x00\x00", 3) + static_cast<char>(seq++) + "\x01\x03";
    }
    out.bytes += my::ok_packet(seq);
    logged_in_ = true;
    std::uint32_t server = server_caps_ ? server_caps_ : h.capabilities;
    deprecate_eof_ = (h.capabilities & server & my::kClientDeprecateEof) != 0;
  }

  struct Live {
    std::uint8_t command = 0;
    std::string payload;
    std::string sql;   // as sent, or the statement's
    std::string norm;  // normalized
  };

  Fit fit(const testset::Mock& mock, const Live& live) {
    const Recorded& r = recorded(mock);
    if (!r.usable || r.startup || r.command != live.command) return Fit::kNone;
    bool by_id = my::has_statement_id(live.command);
    if (by_id) {
      if (live.norm.empty() || r.sql != live.norm) return Fit::kNone;
      // Same statement: the bytes after the id decide.
      bool same = r.request.size() >= 5 && live.payload.size() >= 5 &&
                  r.request.compare(5, std::string::npos, live.payload, 5) == 0;
      return same ? Fit::kExact : Fit::kStructural;
    }
    if (r.request == live.payload) return Fit::kExact;
    if (!live.norm.empty() && r.sql == live.norm) return Fit::kStructural;
    return Fit::kNone;
  }

  void answer(const Packet& p, std::uint8_t command, Output& out) {
    Live live{command, p.payload, "", ""};
    if (command == pm::kComQuery || command == pm::kComStmtPrepare) {
      live.sql = pm::query_text(p);
    } else if (my::has_statement_id(command)) {
      if (auto it = statements_.find(pm::statement_id(p)); it != statements_.end()) {
        live.sql = it->second;
      }
    }
    if (!live.sql.empty()) live.norm = normalize_sql(live.sql, SqlDialect::kMysql);
    std::optional<MockPool::Pick> pick;
    if (ctx_.pool) {
      pick = ctx_.pool->pick(testset::MockKind::kMySql, ctx_.server,
                             [&](const testset::Mock& m) { return fit(m, live); });
    }
    if (pick && pick->mock && pick->fit != Fit::kNone) {
      const Recorded& r = recorded(*pick->mock);
      std::string bytes = deprecate_eof_ ? r.response_ok_eof : r.response;
      if (command == pm::kComStmtPrepare && bytes.size() >= 9 && bytes[4] == '\0') {
        std::uint32_t id = statement_for(bytes, live.sql);
        for (int i = 0; i < 4; ++i) bytes[5 + i] = static_cast<char>(id >> (8 * i));
      }
      out.bytes += bytes;
      return;
    }
    if (command == kComPing) {  // liveness, not data: always fine
      out.bytes += my::ok_packet(1);
      return;
    }
    // Session state nothing recorded, in a recording that joined the app's pooled connections
    // (kMetaJoined: it never saw their set-up, and a fresh app at replay runs it): OK, as a
    // server would say.
    std::optional<std::string> tag;
    bool joined = ctx_.pool && ctx_.pool->joined(testset::MockKind::kMySql, ctx_.server);
    if (joined && command == pm::kComQuery) tag = state_statement_tag(live.norm, SqlDialect::kMysql);
    if (tag || (joined && (command == pm::kComInitDb || command == kComResetConnection))) {
      if (tag && (*tag == "BEGIN" || *tag == "START TRANSACTION")) status_ |= kInTransaction;
      if (tag && (*tag == "COMMIT" || *tag == "ROLLBACK") && live.norm.find(" TO ") == std::string::npos)
        status_ &= ~kInTransaction;
      if (command == kComResetConnection) status_ = kAutocommit;
      out.bytes += my::ok_packet(1, status_);
      return;
    }
    std::string what = live.sql.empty() ? pm::command_name(command) : one_line(live.sql);
    std::string closest = unusable_for(live);
    out.bytes += my::err_packet(1, 1105, "HY000", sql_miss_message(what, closest));
    if (ctx_.pool) {
      ctx_.pool->record_unmatched(Unmatched{ctx_.pool->current_test(), testset::MockKind::kMySql,
                                            ctx_.server, what, closest});
    }
  }

  // A recorded call for the same SQL that reel could not read back (Keploy's decoded form with
  // a field missing): its name and why, so the miss is not called unrecorded.
  std::string unusable_for(const Live& live) {
    if (!ctx_.pool || live.norm.empty()) return "";
    for (const testset::Mock* m : ctx_.pool->all_of(testset::MockKind::kMySql)) {
      const Recorded& r = recorded(*m);
      if (r.usable || r.unusable.empty()) continue;
      const auto* spec = std::get_if<testset::PacketMockSpec>(&m->spec);
      const Value* q = spec && !spec->requests.empty()
                           ? member(member(&spec->requests[0], "message"), "query")
                           : nullptr;
      if (q && q->is_scalar() && normalize_sql(q->text, SqlDialect::kMysql) == live.norm)
        return m->name + ": " + r.unusable;
    }
    return "";
  }

  // The id a PREPARE_OK (wire bytes) hands out for `sql` on this connection.
  std::uint32_t statement_for(const std::string& prepare_ok, const std::string& sql) {
    std::uint32_t id = 0;
    for (int i = 0; i < 4; ++i)
      id |= std::uint32_t{static_cast<unsigned char>(prepare_ok[5 + i])} << (8 * i);
    auto it = statements_.find(id);
    if (id == 0 || id == 0xffffffff || (it != statements_.end() && it->second != sql)) {
      while (statements_.count(next_statement_)) next_statement_++;
      id = next_statement_++;
    }
    statements_[id] = sql;
    return id;
  }

  Context ctx_;
  protocols::Limits limits_;
  pm::State state_;
  FrameBuffer in_;
  bool logged_in_ = false;
  std::uint32_t server_caps_ = 0;  // of the greeting we sent
  std::uint16_t status_ = kAutocommit;  // for the OKs reel answers by itself
  bool deprecate_eof_ = false;     // negotiated: result sets end in OK, no EOF after columns
  std::map<std::uint32_t, std::string> statements_;  // our ids -> SQL
  std::uint32_t next_statement_ = 1;
  std::map<const testset::Mock*, Recorded> cache_;
};

}  // namespace

std::string mysql_mock_problem(const testset::Mock& mock) {
  Recorded r = read_mock(mock);
  return r.usable || r.startup ? "" : r.unusable;
}

std::unique_ptr<Responder> make_mysql_responder(const Responder::Context& ctx) {
  return std::make_unique<MysqlResponder>(ctx);
}

}  // namespace reel::mock
