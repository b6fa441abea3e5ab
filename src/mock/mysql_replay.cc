// Plays a MySQL server from MySQL mocks: greets (with the recorded greeting when there is one,
// TLS withdrawn), accepts any login, and answers each command with the recorded response of
// the mock that fits it best. A prepared statement keeps its recorded id (the replayed client
// sees what was recorded, and a recorded EXECUTE names it) unless this connection already uses
// that id for another statement: then it gets one of our own, so statements from different
// recorded connections never collide.
#include <random>

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

struct Recorded {
  bool usable = false;
  bool startup = false;
  std::string greeting;  // startup: the server's first packet, wire bytes
  std::uint8_t command = 0;
  std::string request;   // the command packet's payload
  std::string sql;       // normalized: the query, or the statement an id names
  std::string response;  // wire bytes
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
  if (!spec || mock.metadata.count("reel.truncated")) return r;
  r.startup = connection_phase(*spec);
  if (r.startup) {
    std::string bytes;
    if (!spec->responses.empty() && payload_of(spec->responses[0], bytes)) r.greeting = bytes;
    return r;
  }
  std::string bytes;
  std::vector<Packet> packets;
  if (spec->requests.empty() || spec->responses.empty() || !payload_of(spec->requests[0], bytes) ||
      !my::split(bytes, packets) || packets.empty()) {
    return r;  // Keploy's decoded-only packets: nothing we can send back
  }
  r.command = my::first_byte(packets[0]);
  r.request = packets[0].payload;
  const Value* query = member(member(&spec->requests[0], "message"), "query");
  if (query && query->is_scalar()) r.sql = normalize_sql(query->text, SqlDialect::kMysql);
  for (const Value& v : spec->responses) {
    if (!payload_of(v, bytes)) return r;
    r.response += bytes;
  }
  r.usable = !r.response.empty();
  return r;
}

class MysqlResponder final : public Responder {
 public:
  explicit MysqlResponder(const Context& ctx) : ctx_(ctx) { limits_.max_frame = 64 << 20; }

  std::string greeting() override {
    std::string recorded = recorded_greeting();
    if (!recorded.empty()) return recorded;
    std::random_device rd;
    return my::built_greeting(rd() & 0x7fffffff);
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
    if (it == cache_.end()) it = cache_.emplace(&mock, read_mock(mock)).first;
    return it->second;
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
      std::string bytes = recorded(*pick->mock).response;
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
    std::string what = live.sql.empty() ? pm::command_name(command) : one_line(live.sql);
    out.bytes += my::err_packet(1, 1105, "HY000", "reel: no recorded answer for: " + what);
    if (ctx_.pool) {
      ctx_.pool->record_unmatched(
          Unmatched{ctx_.pool->current_test(), testset::MockKind::kMySql, ctx_.server, what, ""});
    }
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
  std::map<std::uint32_t, std::string> statements_;  // our ids -> SQL
  std::uint32_t next_statement_ = 1;
  std::map<const testset::Mock*, Recorded> cache_;
};

}  // namespace

std::unique_ptr<Responder> make_mysql_responder(const Responder::Context& ctx) {
  return std::make_unique<MysqlResponder>(ctx);
}

}  // namespace reel::mock
