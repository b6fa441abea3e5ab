// Plays a PostgreSQL server from Postgres mocks: refuses TLS, trusts any login, and answers each
// request (a Query, or an extended batch through Sync) with the recorded answer of the mock
// that fits it best. At a Flush inside a batch it sends the part of that answer the server owed
// by then (protocols/postgres/conversation.h), the rest at the Sync.
#include <cctype>
#include <random>

#include "mock/common.h"
#include "mock/postgres_wire.h"
#include "mock/protocols.h"
#include "mock/sql_text.h"
#include "protocols/postgres/conversation.h"
#include "protocols/postgres/decode.h"
#include "protocols/postgres/parse.h"
#include "testset/yaml_value.h"

namespace reel::mock {

namespace {

namespace pp = protocols::postgres;
using pg::Message;
using testset::Value;

// What a mock recorded, read back once per responder.
struct Recorded {
  bool usable = false;
  std::string unusable;  // why not, for the user
  bool startup = false;
  std::vector<std::vector<Message>> requests;  // client segments
  std::vector<std::string> responses;          // server segments, wire bytes
  // One request and one answer (no COPY): the answer's messages, and how many of them the
  // first k client messages are owed (owed[k]), to answer a Flush with the right part.
  std::vector<Message> answer;
  std::vector<std::size_t> owed;
  std::vector<std::string> canon;              // first segment, canonical
  std::string tags;
  std::string sql;  // normalized
};

const std::string* text_at(const Value& v, std::string_view key) {
  const Value* f = v.find(key);
  return f && f->is_scalar() ? &f->text : nullptr;
}

// One turn as the matcher compares it.
struct Shape {
  std::vector<std::string> canon;
  std::string tags;
  std::string sql;
};

Shape shape_of(const std::vector<Message>& msgs, const std::string& sql) {
  Shape s;
  for (const auto& m : msgs) {
    s.canon.push_back(pg::canonical(m));
    s.tags.push_back(m.tag == pp::kUntyped ? '0' : m.tag);
  }
  s.sql = normalize_sql(sql, SqlDialect::kPostgres);
  return s;
}

Recorded read_mock(const testset::Mock& mock) {
  Recorded r;
  const auto* spec = std::get_if<testset::PacketMockSpec>(&mock.spec);
  if (!spec || spec->requests.empty()) {
    r.unusable = "no requests";
    return r;
  }
  if (auto it = mock.metadata.find("reel.truncated"); it != mock.metadata.end()) {
    r.unusable = "recorded cut short (reel.truncated)";
    return r;
  }
  // A packet's messages from its payload, or rebuilt from Keploy's decoded fields.
  auto messages = [&](const Value& packet, bool client, std::vector<Message>& out) -> bool {
    if (const std::string* payload = text_at(packet, "payload")) {
      std::string bytes;
      if (testset::base64_decode(*payload, bytes) && pg::split(bytes, client, out)) return true;
      r.unusable = fmt::format("line {}: a payload that is not whole PostgreSQL messages", packet.line);
      return false;
    }
    auto rebuilt = pg::from_keploy(packet, client);
    if (!rebuilt) {
      r.unusable = fmt::format("line {}: {}", packet.line, rebuilt.error().message);
      return false;
    }
    out = std::move(*rebuilt);
    return true;
  };
  for (const Value& packet : spec->requests) {
    std::vector<Message> msgs;
    if (const std::string* id = text_at(packet, "identifier"); id && *id == "StartupRequest") {
      r.startup = true;
    }
    bool ok = messages(packet, true, msgs);
    if (!ok && packet.find("password_message")) ok = true;  // redacted: never compared
    if (!ok && r.startup) ok = true;  // start-up: reel answers any login itself
    if (!ok) return r;
    for (const auto& m : msgs) r.startup = r.startup || m.tag == pp::kUntyped;
    r.requests.push_back(std::move(msgs));
  }
  for (const Value& packet : spec->responses) {
    std::vector<Message> msgs;
    if (!messages(packet, false, msgs)) {
      if (r.startup) continue;  // its parameters are a nicety: defaults stand in
      return r;
    }
    r.responses.push_back(pg::wire(msgs));
  }
  r.unusable.clear();
  if (r.responses.empty()) {
    r.unusable = "no answer";
    return r;
  }
  std::string sql;
  if (const Value* q = spec->requests.front().find("query"); q && q->is_mapping()) {
    if (const std::string* s = text_at(*q, "string")) sql = *s;
  }
  if (r.requests.size() == 1 && r.responses.size() == 1) {
    if (!pg::split(r.responses.front(), false, r.answer)) return r;
    std::string client, server;
    for (const auto& m : r.requests.front()) client.push_back(m.tag);
    for (const auto& m : r.answer) server.push_back(m.tag);
    r.owed = pp::answer_owed(client, server);
  }
  Shape s = shape_of(r.requests.front(), sql);
  r.canon = std::move(s.canon);
  r.tags = std::move(s.tags);
  r.sql = std::move(s.sql);
  r.usable = true;
  return r;
}

// The transaction status of the last ReadyForQuery in `bytes`, or `current`.
char tx_status(std::string_view bytes, char current) {
  if (bytes.size() < 6) return current;
  std::string_view z = bytes.substr(bytes.size() - 6);
  if (z.substr(0, 5) == std::string_view("Z\0\0\0\x05", 5)) return z[5];
  return current;
}

class PostgresResponder final : public Responder {
 public:
  explicit PostgresResponder(const Context& ctx) : ctx_(ctx) { limits_.max_frame = 64 << 20; }

  Output feed(std::span<const std::byte> bytes) override {
    Output out;
    if (!in_.add(bytes)) return out;
    while (!out.close && !in_.empty()) {
      Message m;
      state_.encryption_reply_expected = false;  // we answer SSLRequest at once
      auto res = pp::parse_frame(protocols::MessageType::kRequest, in_.view(), m, state_, limits_);
      if (res.state == protocols::ParseState::kInvalid) {
        out.bytes +=
            pg::wire(pg::error_response("08P01", "reel: invalid PostgreSQL message", "FATAL"));
        out.close = true;
        out.rejected = true;
        break;
      }
      in_.consume(res.consumed);
      if (res.state != protocols::ParseState::kParsed) break;
      handle(std::move(m), out);
    }
    return out;
  }

 private:
  void handle(Message m, Output& out) {
    if (m.tag == pp::kUntyped) return handle_untyped(m, out);
    if (copy_ && (m.tag == 'd' || m.tag == 'c' || m.tag == 'f')) {
      if (m.tag != 'd') copy_done(out);
      return;
    }
    switch (m.tag) {
      case 'X':
        out.close = true;
        return;
      case 'p':  // we never ask for a password
        return;
      default:
        break;
    }
    char tag = m.tag;
    turn_.push_back(std::move(m));
    if (tag == 'H') answer(out, false);
    if (pp::closes_request(tag)) answer(out, true);
  }

  void handle_untyped(const Message& m, Output& out) {
    std::uint32_t code = pp::request_code(m);
    if (code == pp::kSslRequest || code == pp::kGssEncRequest) {
      out.bytes += 'N';
    } else if ((code >> 16) == 3) {
      out.bytes += startup_answer(m);
    } else {
      out.close = true;  // CancelRequest, or a protocol we do not speak
    }
  }

  const Recorded& recorded(const testset::Mock& mock) {
    auto it = cache_.find(&mock);
    if (it == cache_.end()) it = cache_.emplace(&mock, read_mock(mock)).first;
    return it->second;
  }

  // How a recorded request fits the live one so far: all of it once the live one is complete
  // (Sync, Query), or its beginning at a Flush.
  static Fit fit(const Recorded& r, const Shape& live, bool complete) {
    std::size_t k = live.canon.size();
    if (!r.usable || r.startup || r.canon.size() < k) return Fit::kNone;
    if (complete && r.canon.size() != k) return Fit::kNone;
    if (!complete && r.owed.empty()) return Fit::kNone;  // COPY: answered at its end only
    if (std::equal(live.canon.begin(), live.canon.end(), r.canon.begin())) return Fit::kExact;
    if (r.tags.compare(0, k, live.tags) == 0 && !live.sql.empty() && r.sql == live.sql) {
      return Fit::kStructural;
    }
    return Fit::kNone;
  }

  // The client reached a Flush (`complete` false) or the end of its request: send what the
  // server owed by now, from the mock picked for this request (picked again if the request
  // went another way than that mock's).
  void answer(Output& out, bool complete) {
    std::string sql = pg::segment_sql(turn_, statements_);
    Shape live = shape_of(turn_, sql);
    if (!failed_ && !(open_ && fit(*open_, live, complete) != Fit::kNone)) open_ = pick(live, complete);
    if (failed_ || !open_) {
      miss(out, live, sql, complete);
    } else if (open_->owed.empty()) {
      out.bytes += open_->responses.front();  // COPY: the rest follows the client's data
      tx_ = tx_status(open_->responses.front(), tx_);
      if (open_->requests.size() > 1 && open_->responses.size() > 1) copy_ = open_;
    } else {
      std::size_t k = std::min(turn_.size(), open_->owed.size() - 1);
      std::size_t from = open_->owed[std::min(answered_, k)], to = open_->owed[k];
      std::string bytes;
      for (std::size_t i = from; i < to; ++i) bytes += pg::wire(open_->answer[i]);
      tx_ = tx_status(bytes, tx_);
      out.bytes += bytes;
    }
    answered_ = turn_.size();
    if (!complete) return;
    pg::learn(turn_, statements_);
    turn_.clear();
    open_ = nullptr;
    answered_ = 0;
    failed_ = false;
  }

  const Recorded* pick(const Shape& live, bool complete) {
    if (!ctx_.pool) return nullptr;
    auto chosen = ctx_.pool->pick(testset::MockKind::kPostgres, ctx_.server,
                                  [&](const testset::Mock& m) { return fit(recorded(m), live, complete); });
    return chosen && chosen->mock && chosen->fit != Fit::kNone ? &recorded(*chosen->mock) : nullptr;
  }

  // Nothing recorded fits: the protocol's error once, then (as a server would after an error)
  // nothing until the Sync, which gets ReadyForQuery. A Sync with nothing before it that is
  // still owed an answer (after an error, or a Flush answered in full) needs no mock.
  void miss(Output& out, const Shape& live, const std::string& sql, bool complete) {
    bool only_sync_owed = complete && turn_.back().tag == 'S' && answered_ + 1 == turn_.size();
    if (!failed_ && !only_sync_owed && complete && answered_ == 0 && answer_by_protocol(out, live))
      return;
    if (!failed_ && !only_sync_owed) {
      std::string what = sql.empty() ? "[" + live.tags + "]" : one_line(sql);
      std::string closest = unusable_for(live);
      out.bytes += pg::wire(pg::error_response("XX000", sql_miss_message(what, closest)));
      if (tx_ != 'I') tx_ = 'E';
      failed_ = true;
      if (ctx_.pool) {
        ctx_.pool->record_unmatched(Unmatched{ctx_.pool->current_test(),
                                              testset::MockKind::kPostgres, ctx_.server, what,
                                              closest});
      }
    }
    if (complete) out.bytes += pg::wire(pg::ready_for_query(tx_));
  }

  // A statement whose answer follows from its text (state_statement_tag: BEGIN, SET, CREATE
  // TABLE...) and that nothing recorded, in a recording that joined the app's pooled
  // connections (kMetaJoined): answered as a server would. Such a recording never saw the app's
  // start-up, and a fresh app at replay still runs it (its schema set-up, its session
  // settings). A recording that saw every start-up keeps such a statement unmatched: the app
  // changed what it sets up. A simple Query, or an extended turn of
  // Parse/Bind/Describe/Execute/Close through Sync. False when it is not such a statement.
  bool answer_by_protocol(Output& out, const Shape& live) {
    if (!ctx_.pool || !ctx_.pool->joined(testset::MockKind::kPostgres, ctx_.server)) return false;
    std::optional<std::string> tag = state_statement_tag(live.sql, SqlDialect::kPostgres);
    if (!tag) return false;
    bool ends = *tag == "COMMIT" || *tag == "ROLLBACK";
    std::string upper = live.sql;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    bool to_savepoint = *tag == "ROLLBACK" && upper.find(" TO ") != upper.npos;
    if (tx_ == 'E' && !ends) return false;  // an aborted transaction refuses all but its end
    if (tx_ == 'E') tag = "ROLLBACK";       // COMMIT of an aborted transaction rolls it back
    std::vector<Message> answer;
    for (const Message& m : turn_) {
      switch (m.tag) {
        case 'Q':
        case 'E':
          answer.push_back(pg::typed('C', *tag + '\0'));
          break;
        case 'P':
          answer.push_back(pg::typed('1', ""));
          break;
        case 'B':
          answer.push_back(pg::typed('2', ""));
          break;
        case 'C':
          answer.push_back(pg::typed('3', ""));
          break;
        case 'D':
          if (!m.payload.empty() && m.payload[0] == 'S')
            answer.push_back(pg::typed('t', std::string(2, '\0')));  // no parameters
          answer.push_back(pg::typed('n', ""));                       // no rows described
          break;
        case 'S':
          break;
        default:
          return false;
      }
    }
    if (*tag == "BEGIN" || *tag == "START TRANSACTION") tx_ = tx_ == 'I' ? 'T' : tx_;
    if (ends) tx_ = to_savepoint ? 'T' : 'I';
    answer.push_back(pg::ready_for_query(tx_));
    out.bytes += pg::wire(answer);
    return true;
  }

  // A recorded call for the same SQL that reel could not read back (Keploy's decoded form with
  // a field reel does not know): its name and why, so the miss is not called unrecorded.
  std::string unusable_for(const Shape& live) {
    if (!ctx_.pool || live.sql.empty()) return "";
    for (const testset::Mock* m : ctx_.pool->all_of(testset::MockKind::kPostgres)) {
      const Recorded& r = recorded(*m);
      if (r.usable || r.unusable.empty()) continue;
      const auto* spec = std::get_if<testset::PacketMockSpec>(&m->spec);
      if (!spec || spec->requests.empty()) continue;
      const Value* q = spec->requests.front().find("query");
      const std::string* text = q && q->is_mapping() ? text_at(*q, "string") : nullptr;
      if (text && normalize_sql(*text, SqlDialect::kPostgres) == live.sql)
        return m->name + ": " + r.unusable;
    }
    return "";
  }

  // COPY FROM STDIN: the client's data is done; the rest of the recorded answer follows.
  void copy_done(Output& out) {
    for (std::size_t i = 1; i < copy_->responses.size(); ++i) out.bytes += copy_->responses[i];
    tx_ = tx_status(out.bytes, tx_);
    copy_ = nullptr;
  }

  // The recorded start-up answer that suits this client best: same server, same user and
  // database; nullptr when none was recorded.
  const Recorded* startup_mock(const Message& startup) {
    if (!ctx_.pool) return nullptr;
    auto params = pp::startup_params(startup);
    std::string server = ctx_.server.to_string();
    const Recorded* best = nullptr;
    int best_score = -1;
    for (const testset::Mock* mock : ctx_.pool->all_of(testset::MockKind::kPostgres)) {
      const Recorded& r = recorded(*mock);
      if (!r.startup || r.responses.empty()) continue;
      int score = 0;
      if (auto it = mock->metadata.find(std::string(kMetaServer));
          it != mock->metadata.end() && it->second == server) {
        score += 2;
      }
      for (const auto& seg : r.requests) {
        for (const auto& m : seg) {
          if (m.tag == pp::kUntyped && pp::startup_params(m) == params) score += 1;
        }
      }
      if (score > best_score) {
        best = &r;
        best_score = score;
      }
    }
    return best;
  }

  std::string startup_answer(const Message& startup) {
    std::string params, key;
    if (const Recorded* r = startup_mock(startup)) {
      for (const auto& bytes : r->responses) {
        std::vector<Message> msgs;
        if (!pg::split(bytes, false, msgs)) continue;
        for (const auto& m : msgs) {
          if (m.tag == 'S') params += pg::wire(m);
          if (m.tag == 'K') key = pg::wire(m);
        }
      }
    }
    if (params.empty()) params = default_params(startup);
    if (key.empty()) {
      std::random_device rd;
      std::string p;
      for (int i = 0; i < 8; ++i) p.push_back(static_cast<char>(rd()));
      key = pg::wire(pg::typed('K', std::move(p)));
    }
    tx_ = 'I';
    return pg::wire(pg::typed('R', std::string(4, '\0'))) + params + key +
           pg::wire(pg::ready_for_query('I'));
  }

  static std::string default_params(const Message& startup) {
    std::vector<std::pair<std::string, std::string>> out = {{"application_name", ""},
                                                            {"client_encoding", "UTF8"},
                                                            {"DateStyle", "ISO, MDY"},
                                                            {"integer_datetimes", "on"},
                                                            {"IntervalStyle", "postgres"},
                                                            {"is_superuser", "off"},
                                                            {"server_encoding", "UTF8"},
                                                            {"server_version", "16.0"},
                                                            {"session_authorization", ""},
                                                            {"standard_conforming_strings", "on"},
                                                            {"TimeZone", "UTC"}};
    for (const auto& [key, value] : pp::startup_params(startup)) {
      for (auto& [name, v] : out) {
        if ((key == "user" && name == "session_authorization") || key == name) v = value;
      }
    }
    std::string bytes;
    for (const auto& [name, value] : out) {
      bytes += pg::wire(pg::typed('S', name + '\0' + value + '\0'));
    }
    return bytes;
  }

  Context ctx_;
  protocols::Limits limits_;
  pp::State state_;
  FrameBuffer in_;
  std::vector<Message> turn_;        // the request so far
  const Recorded* open_ = nullptr;  // the mock answering it
  std::size_t answered_ = 0;        // client messages of turn_ answered so far
  bool failed_ = false;             // an error was sent: nothing more until the Sync
  pg::Statements statements_;
  std::map<const testset::Mock*, Recorded> cache_;
  const Recorded* copy_ = nullptr;
  char tx_ = 'I';
};

}  // namespace

std::string postgres_mock_problem(const testset::Mock& mock) {
  Recorded r = read_mock(mock);
  return r.usable || r.startup ? "" : r.unusable;
}

std::unique_ptr<Responder> make_postgres_responder(const Responder::Context& ctx) {
  return std::make_unique<PostgresResponder>(ctx);
}

}  // namespace reel::mock
