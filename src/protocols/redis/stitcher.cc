#include "protocols/redis/stitcher.h"

#include <string>

#include "protocols/text.h"

namespace reel::protocols::redis {

namespace {

std::string reply_type(const Frame& f) {
  switch (f.type) {
    case '+':
      return "simple";
    case '-':
    case '!':
      return "error";
    case ':':
      return "integer";
    case '$':
    case '=':
      return f.null ? "null" : "bulk";
    case '*':
    case '~':
    case '%':
      return f.null ? "null" : "array";
    case '>':
      return "push";
    case '_':
      return "null";
    case '#':
      return "boolean";
    case ',':
      return "double";
    case '(':
      return "bignumber";
    default:
      return "unknown";
  }
}

std::string lower_arg(const Frame& f, std::size_t i) {
  return i < f.args.size() ? to_lower(f.args[i]) : std::string();
}

ValueView view_of(const Frame& f) {
  return {f.type, f.args, f.arg_count, f.type == '+' ? std::string_view(f.text.data) : ""};
}

// Passwords do not belong in traces or recordings.
void redact(Frame& q, std::string_view cmd, const Limits& limits) {
  bool auth = cmd == "AUTH";
  bool hello = cmd == "HELLO";
  if (!auth && !hello) return;
  for (std::size_t i = 1; i < q.args.size(); ++i) {
    if (auth || (i >= 2 && iequals(q.args[i - 2], "AUTH"))) q.args[i] = "(redacted)";
  }
  q.text = Body{};
  for (std::size_t i = 0; i < q.args.size(); ++i) {
    if (i > 0) q.text.append(" ", limits.max_body);
    q.text.append(q.args[i], limits.max_body);
  }
}

void fill_request(Frame& q, Exchange& e, const Limits& limits) {
  e.has_request = true;
  e.gap = e.gap || q.after_gap;
  e.request_time = q.time;
  e.request_size = q.wire_size;
  std::string cmd = q.args.empty() ? std::string() : to_upper(q.args[0]);
  redact(q, cmd, limits);
  e.method = cmd;
  if (q.args.size() > 1) e.target = q.args[1];
  e.fields["redis.args"] = std::to_string(q.arg_count);
  if (q.type == 'i') e.fields["redis.inline"] = "true";
  e.request_body = std::move(q.text);
}

void add_response(Frame& r, Exchange& e, const Limits& limits) {
  if (e.has_response) {
    e.response_body.append("\n", limits.max_body);
    e.response_body.append(r.text.data, limits.max_body);
  } else {
    e.response_time.first_ns = r.time.first_ns;
    e.response_body = std::move(r.text);
    e.status_text = reply_type(r);
  }
  e.has_response = true;
  e.gap = e.gap || r.after_gap;
  e.response_time.last_ns = r.time.last_ns;
  e.response_size += r.wire_size;
  if (r.error && e.error.empty()) e.error = e.response_body.data.substr(0, limits.max_field);
}

Exchange new_exchange() {
  Exchange e;
  e.protocol = Protocol::kRedis;
  return e;
}

void emit(Exchange&& e, std::vector<Exchange>& out) {
  e.finish_timing();
  out.push_back(std::move(e));
}

void emit_push(Frame& r, const Limits& limits, std::vector<Exchange>& out) {
  Exchange e = new_exchange();
  e.method = "PUSH";
  e.fields["redis.push"] = r.type == '+' ? "monitor" : lower_arg(r, 0);
  if (r.type != '+' && r.args.size() > 1) e.target = r.args[1];
  add_response(r, e, limits);
  emit(std::move(e), out);
}

// One reply to the front command; true when that command is complete.
bool take_reply(Frame& q, Frame& r, StitchState& state, const Limits& limits) {
  // Asked first: fill_request redacts the command's arguments and add_response moves the text.
  bool done = redis::take_reply(view_of(q), view_of(r), state.conversation);
  if (!state.collecting) {
    state.collecting = new_exchange();
    fill_request(q, *state.collecting, limits);
  }
  add_response(r, *state.collecting, limits);
  return done;
}

}  // namespace

void stitch(std::deque<Frame>& requests, std::deque<Frame>& responses, StitchState& state,
            const Limits& limits, bool flush, std::vector<Exchange>& out) {
  while (!responses.empty()) {
    Frame& r = responses.front();
    if (is_push(view_of(r), state.conversation)) {
      emit_push(r, limits, out);
    } else if (requests.empty() ||
               (!state.collecting && r.time.first_ns < requests.front().time.first_ns)) {
      // No command for it: held while the command may still come, an orphan otherwise.
      if (requests.empty() && !flush && responses.size() <= limits.max_pending) break;
      Exchange e = new_exchange();
      add_response(r, e, limits);
      emit(std::move(e), out);
    } else if (take_reply(requests.front(), r, state, limits)) {
      emit(std::move(*state.collecting), out);
      state.collecting.reset();
      requests.pop_front();
    }
    responses.pop_front();
  }
  while (!requests.empty() && (flush || requests.size() > limits.max_pending)) {
    if (state.collecting) {  // cut short: the replies it still waited for never came
      emit(std::move(*state.collecting), out);
      state.collecting.reset();
      state.conversation.replies_left = 0;
    } else {
      Exchange e = new_exchange();
      fill_request(requests.front(), e, limits);
      emit(std::move(e), out);
    }
    requests.pop_front();
  }
}

}  // namespace reel::protocols::redis
