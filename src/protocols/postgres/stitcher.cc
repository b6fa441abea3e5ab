#include "protocols/postgres/stitcher.h"

#include <string>

#include "protocols/postgres/conversation.h"
#include "protocols/postgres/decode.h"
#include "protocols/text.h"

namespace reel::protocols::postgres {

namespace {

// Statements remembered per connection; drivers that name each statement anew would otherwise
// grow the map without end.
constexpr std::size_t kMaxStatements = 1024;

void append_target(Exchange& e, std::string_view sql, const Limits& limits) {
  if (sql.empty()) return;
  if (!e.target.empty()) append_capped(e.target, "; ", limits.max_body);
  append_capped(e.target, sql, limits.max_body);
}

void request_untyped(const Message& m, Exchange& e) {
  std::uint32_t code = request_code(m);
  if (code == kSslRequest) {
    e.method = "SSLRequest";
  } else if (code == kGssEncRequest) {
    e.method = "GSSENCRequest";
  } else if (code == kCancelRequest) {
    e.method = "CancelRequest";
  } else {
    e.method = "Startup";
    for (auto& [key, value] : startup_params(m)) {
      if (key == "database") e.host = value;
      if (key == "user" || key == "database" || key == "application_name") {
        e.fields["pg." + key] = value;
      }
    }
  }
}

// Folds one client message into the exchange; `rank` keeps the most telling method name.
void add_request(const Message& m, Exchange& e, StitchState& state, const Limits& limits,
                 int& rank) {
  auto name = [&](int r, const char* method) {
    if (r > rank) {
      rank = r;
      e.method = method;
    }
  };
  switch (m.tag) {
    case kUntyped:
      request_untyped(m, e);
      rank = 9;
      break;
    case 'Q':
      name(8, "Query");
      append_target(e, query_text(m), limits);
      break;
    case 'P': {
      ParseMsg p = parse_msg(m);
      name(5, "Parse");
      append_target(e, p.query, limits);
      if (state.statements.size() < kMaxStatements || state.statements.count(p.statement)) {
        state.statements[p.statement] = p.query;
      }
      break;
    }
    case 'B': {
      BindMsg b = bind_msg(m, limits);
      name(6, "Bind");
      auto it = state.statements.find(b.statement);
      if (e.target.empty() && it != state.statements.end()) append_target(e, it->second, limits);
      std::string params;
      for (const std::string& p : b.params) params += (params.empty() ? "" : ", ") + p;
      if (!b.params.empty()) e.fields["pg.params"] = capped(params, limits.max_body);
      break;
    }
    case 'E':
      name(7, "Execute");
      break;
    case 'D':
      name(4, "Describe");
      break;
    case 'C':
      name(3, "Close");
      break;
    case 'F':
      name(6, "FunctionCall");
      break;
    case 'X':
      name(2, "Terminate");
      break;
    case 'S':
      name(1, "Sync");
      break;
    case 'p':
      e.fields["pg.password_message"] = "redacted";
      break;
    case 'd':
      name(1, "CopyData");
      e.request_body.size += m.length - 4;
      break;
    default:
      break;
  }
  if (m.truncated) e.fields["pg.request_truncated"] = "true";
}

struct ResponseTally {
  std::uint64_t rows = 0;
  std::string tags;
};

void add_error(const Message& m, Exchange& e) {
  ErrorInfo info = error_info(m);
  if (m.tag == 'N') {
    e.fields["pg.notice"] = info.message;
    return;
  }
  if (!e.error.empty()) return;
  e.error = info.severity + " " + info.code + ": " + info.message;
  e.fields["pg.sqlstate"] = info.code;
  if (!info.detail.empty()) e.fields["pg.error_detail"] = info.detail;
}

void add_response(const Message& m, Exchange& e, ResponseTally& tally, const Limits& limits) {
  switch (m.tag) {
    case 'T': {
      std::string header;
      for (const std::string& c : column_names(m, limits))
        header += (header.empty() ? "" : "\t") + c;
      e.fields["pg.columns"] = capped(header, limits.max_field);
      e.response_body.append(header + "\n", limits.max_body);
      break;
    }
    case 'D':
      tally.rows++;
      e.response_body.append(data_row(m, limits) + "\n", limits.max_body);
      break;
    case 'C':
      tally.tags += (tally.tags.empty() ? "" : "; ") + command_tag(m);
      break;
    case 'I':
      tally.tags += (tally.tags.empty() ? "" : "; ") + std::string("EMPTY");
      break;
    case 'E':
    case 'N':
      add_error(m, e);
      break;
    case 'Z':
      e.fields["pg.transaction"] = m.payload.substr(0, 1);
      break;
    case 'R': {
      std::int32_t code = auth_code(m);
      if (code != 0 && !e.fields.count("pg.auth")) e.fields["pg.auth"] = auth_name(code);
      if (code == 0) e.status_text = "authenticated";
      break;
    }
    case 'S': {
      auto [name, value] = parameter_status(m);
      if (name == "server_version") e.fields["pg.server_version"] = value;
      break;
    }
    case 'A':
      e.fields["pg.notification"] = notification(m);
      break;
    case kEncryptionReply:
      e.status_text = m.payload == "N" ? "declined" : "accepted";
      break;
    default:
      break;
  }
  if (m.truncated) e.fields["pg.response_truncated"] = "true";
}

void take_requests(std::deque<Message>& requests, std::size_t n, Exchange& e, StitchState& state,
                   const Limits& limits) {
  int rank = 0;
  for (std::size_t i = 0; i < n; ++i) {
    Message& m = requests.front();
    if (i == 0) e.request_time.first_ns = m.time.first_ns;
    e.request_time.last_ns = m.time.last_ns;
    e.request_size += m.wire_size;
    e.gap = e.gap || m.after_gap;
    add_request(m, e, state, limits, rank);
    requests.pop_front();
  }
  e.has_request = n > 0;
}

void take_responses(std::deque<Message>& responses, std::size_t n, Exchange& e,
                    const Limits& limits) {
  ResponseTally tally;
  for (std::size_t i = 0; i < n; ++i) {
    Message& m = responses.front();
    if (i == 0) e.response_time.first_ns = m.time.first_ns;
    e.response_time.last_ns = m.time.last_ns;
    e.response_size += m.wire_size;
    e.gap = e.gap || m.after_gap;
    add_response(m, e, tally, limits);
    responses.pop_front();
  }
  e.has_response = n > 0;
  if (tally.rows > 0 || !tally.tags.empty()) e.fields["pg.rows"] = std::to_string(tally.rows);
  if (!tally.tags.empty()) e.status_text = tally.tags;
}

void emit(std::deque<Message>& requests, std::size_t n_req, std::deque<Message>& responses,
          std::size_t n_resp, StitchState& state, const Limits& limits,
          std::vector<Exchange>& out) {
  Exchange e;
  e.protocol = Protocol::kPostgres;
  take_requests(requests, n_req, e, state, limits);
  take_responses(responses, n_resp, e, limits);
  e.finish_timing();
  out.push_back(std::move(e));
}

}  // namespace

void stitch(std::deque<Message>& requests, std::deque<Message>& responses, StitchState& state,
            const Limits& limits, bool flush, std::vector<Exchange>& out) {
  while (true) {
    if (!requests.empty() && unanswered(requests.front())) {
      emit(requests, 1, responses, 0, state, limits, out);
      continue;
    }
    std::size_t n_resp = answer_length(responses);
    bool crowded = responses.size() > limits.max_pending;
    if (n_resp == 0 && (flush || crowded)) n_resp = responses.size();
    if (n_resp == 0) break;
    std::size_t n_req = request_length(requests);
    if (n_req == 0 && !requests.empty() && (flush || crowded)) n_req = requests.size();
    // A server answer that began before the oldest request answers a request we lost.
    if (n_req > 0 && responses.front().time.first_ns < requests.front().time.first_ns) n_req = 0;
    if (n_req == 0 && !flush && !crowded &&
        responses.front().time.first_ns >=
            (requests.empty() ? 0 : requests.front().time.first_ns)) {
      break;  // the request it answers has not been framed yet
    }
    emit(requests, n_req, responses, n_resp, state, limits, out);
  }
  while (!requests.empty() && (flush || requests.size() > limits.max_pending)) {
    std::size_t n = request_length(requests);
    emit(requests, n == 0 ? requests.size() : n, responses, 0, state, limits, out);
  }
}

}  // namespace reel::protocols::postgres
