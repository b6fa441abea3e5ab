#include "protocols/mysql/stitcher.h"

#include <string>

#include "protocols/mysql/decode.h"
#include "protocols/mysql/parse.h"
#include "protocols/mysql/response.h"
#include "protocols/text.h"

namespace reel::protocols::mysql {

namespace {

bool is_greeting(const Packet& p) {
  return p.seq == 0 && !p.payload.empty() && p.payload[0] == '\x0a' && greeting(p).valid;
}

bool no_response(std::uint8_t command) {
  return command == kComQuit || command == kComStmtClose || command == kComStmtSendLongData;
}

std::uint8_t command_of(const Packet& q) {
  return q.payload.empty() ? 0 : static_cast<std::uint8_t>(q.payload[0]);
}

Exchange new_exchange() {
  Exchange e;
  e.protocol = Protocol::kMysql;
  return e;
}

void add_request_packet(const Packet& q, Exchange& e) {
  if (!e.has_request) e.request_time.first_ns = q.time.first_ns;
  e.has_request = true;
  e.request_time.last_ns = q.time.last_ns;
  e.request_size += q.wire_size;
  e.gap = e.gap || q.after_gap;
  if (q.truncated) e.fields["mysql.request_truncated"] = "true";
}

void add_response_packet(const Packet& r, Exchange& e) {
  if (!e.has_response) e.response_time.first_ns = r.time.first_ns;
  e.has_response = true;
  e.response_time.last_ns = r.time.last_ns;
  e.response_size += r.wire_size;
  e.gap = e.gap || r.after_gap;
  if (r.truncated) e.fields["mysql.response_truncated"] = "true";
}

void emit(StitchState& state, std::vector<Exchange>& out) {
  Exchange& e = *state.current;
  if (state.rows > 0 || e.fields.count("mysql.columns")) {
    e.fields["mysql.rows"] = std::to_string(state.rows);
  }
  e.finish_timing();
  out.push_back(std::move(e));
  state.current.reset();
  state.rows = 0;
}

void start_handshake(const Packet& greeting_packet, StitchState& state) {
  Greeting g = greeting(greeting_packet);
  state.current = new_exchange();
  Exchange& e = *state.current;
  e.method = "Connect";
  e.fields["mysql.server_version"] = g.server_version;
  e.fields["mysql.connection_id"] = std::to_string(g.connection_id);
  if (!g.auth_plugin.empty()) e.fields["mysql.auth_plugin"] = g.auth_plugin;
  learn_greeting(g, state);
  add_response_packet(greeting_packet, e);
}

void client_handshake(const Packet& q, StitchState& state) {
  Exchange& e = *state.current;
  if (is_ssl_request(q)) {
    e.fields["mysql.tls"] = "true";
  } else {
    HandshakeResponse h = handshake_response(q);
    e.target = h.user + "@" + h.database;
    e.host = h.database;
    e.fields["mysql.user"] = h.user;
    if (!h.auth_plugin.empty()) e.fields["mysql.auth_plugin"] = h.auth_plugin;
    learn_handshake_response(h, state);
  }
}

// Greeting, handshake response, auth round trips, then OK or ERR. True once commands follow.
bool handshake(std::deque<Packet>& requests, std::deque<Packet>& responses, StitchState& state,
               bool flush, std::vector<Exchange>& out) {
  using Phase = StitchState::Phase;
  if (state.phase == Phase::kUnknown) {
    if (requests.empty() && responses.empty()) return false;
    bool greeted = !responses.empty() && is_greeting(responses.front());
    state.phase = greeted ? Phase::kHandshake : Phase::kCommand;  // else: joined mid-connection
    if (greeted) {
      start_handshake(responses.front(), state);
      responses.pop_front();
    }
  }
  if (state.phase != Phase::kHandshake) return true;
  Exchange& e = *state.current;
  while (!requests.empty() && requests.front().seq != 0) {
    if (!e.has_request) client_handshake(requests.front(), state);
    add_request_packet(requests.front(), e);
    requests.pop_front();
  }
  bool done = e.fields.count("mysql.tls") > 0;  // the rest is encrypted
  while (!done && !responses.empty()) {
    Packet& r = responses.front();
    add_response_packet(r, e);
    if (is_err(r)) {
      Err err = err_packet(r);
      e.status = err.code;
      e.error = "ERROR " + std::to_string(err.code) + " (" + err.sql_state + "): " + err.message;
    }
    done = is_ok(r) || is_err(r);
    responses.pop_front();
  }
  if (!done && !flush) return false;
  if (e.error.empty() && done) e.status_text = "OK";
  state.phase = Phase::kCommand;
  emit(state, out);
  return true;
}

void begin_command(const Packet& q, StitchState& state, const Limits& limits) {
  state.current = new_exchange();
  Exchange& e = *state.current;
  add_request_packet(q, e);
  std::uint8_t cmd = command_of(q);
  e.method = command_name(cmd);
  std::string_view arg = q.payload.size() > 1 ? std::string_view(q.payload).substr(1) : "";
  if (cmd == kComQuery || cmd == kComStmtPrepare) {
    e.target = capped(query_text(q), limits.max_body);
    if (cmd == kComStmtPrepare) state.preparing = query_text(q);
  } else if (cmd == kComStmtExecute || cmd == kComStmtClose) {
    std::uint32_t id = statement_id(q);
    e.fields["mysql.statement_id"] = std::to_string(id);
    auto it = state.statements.find(id);
    if (it != state.statements.end()) {
      e.target = capped(it->second.query, limits.max_body);
      std::string params;
      for (const std::string& p : execute_params(q, it->second, limits)) {
        params += (params.empty() ? "" : ", ") + p;
      }
      if (!params.empty()) e.fields["mysql.params"] = capped(params, limits.max_body);
      if (cmd == kComStmtClose) state.statements.erase(it);
    }
  } else if (cmd == kComInitDb || cmd == kComFieldList) {
    e.target = capped(arg.substr(0, arg.find('\0')), limits.max_field);
    if (cmd == kComInitDb) e.host = e.target;
  }
  start_response(state.reader, cmd);
}

// Feeds server packets to the front command's response; true when that response is complete.
bool feed(const Packet& q, std::deque<Packet>& responses, StitchState& state, const Limits& limits,
          std::vector<Exchange>& out) {
  Exchange& e = *state.current;
  while (!responses.empty()) {
    Packet& r = responses.front();
    if (!state.reader.started && r.time.first_ns < q.time.first_ns) {
      Exchange orphan = new_exchange();  // answers a command we never saw
      add_response_packet(r, orphan);
      orphan.finish_timing();
      out.push_back(std::move(orphan));
      responses.pop_front();
      continue;
    }
    Progress p = feed_response(state.reader, r, state, e, limits);
    if (p == Progress::kEndedBefore) return true;
    add_response_packet(r, e);
    responses.pop_front();
    if (p == Progress::kDone) return true;
  }
  return ends_without_eof(state.reader, state);
}

}  // namespace

void stitch(std::deque<Packet>& requests, std::deque<Packet>& responses, StitchState& state,
            const Limits& limits, bool flush, std::vector<Exchange>& out) {
  if (!handshake(requests, responses, state, flush, out)) return;
  while (!requests.empty()) {
    Packet& q = requests.front();
    if (!state.current) {
      if (q.seq != 0) {  // the tail of a command already answered (LOCAL INFILE data)
        requests.pop_front();
        continue;
      }
      begin_command(q, state, limits);
      if (no_response(command_of(q))) {
        emit(state, out);
        requests.pop_front();
        continue;
      }
    }
    bool crowded = responses.size() > limits.max_pending || requests.size() > limits.max_pending;
    if (!feed(q, responses, state, limits, out) && !flush && !crowded) return;
    emit(state, out);
    requests.pop_front();
  }
  if (responses.empty() || (!flush && responses.size() <= limits.max_pending)) return;
  state.current = new_exchange();  // server packets nobody asked for, shown together
  for (const Packet& r : responses) add_response_packet(r, *state.current);
  responses.clear();
  emit(state, out);
}

}  // namespace reel::protocols::mysql
