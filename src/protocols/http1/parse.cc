#include "protocols/http1/parse.h"

#include <array>
#include <memory>
#include <string_view>

#include "protocols/text.h"

namespace reel::protocols::http1 {

namespace {

// What llhttp's callbacks reach through parser->data during one execute call.
struct Context {
  State* state;
  DirectionState* dir;
  const Limits* limits;
  bool complete = false;
  bool tunnel_after = false;
};

Context& ctx(llhttp_t* p) { return *static_cast<Context*>(p->data); }

// Request line, status line and headers are bounded together: llhttp itself sets no limit.
bool count_header_bytes(Context& c, std::size_t n) {
  c.dir->header_bytes += n;
  return c.dir->header_bytes <= c.limits->max_header_bytes;
}

// The headers the stitcher reads into the exchange's own fields.
bool feeds_a_field(std::string_view name) {
  return iequals(name, "Host") || iequals(name, "Content-Encoding") || iequals(name, "Upgrade");
}

// Whether the header named `name` is kept: all are with contents, else those the stitcher reads.
bool kept(const Context& c, std::string_view name) {
  return c.limits->http1_contents || feeds_a_field(name);
}

void commit_header(Context& c) {
  DirectionState& d = *c.dir;
  // A header whose value never came (empty) is decided here; others when their value began.
  if (!(d.in_value ? d.keep_value : kept(c, d.field))) {
    // Not kept: nothing to store.
  } else if (d.current.headers.size() < c.limits->max_headers) {
    d.current.headers.emplace_back(std::move(d.field), std::move(d.value));
  } else {
    d.current.headers_truncated = true;
  }
  d.field.clear();
  d.value.clear();
  d.in_value = false;
}

int on_message_begin(llhttp_t* p) {
  DirectionState& d = *ctx(p).dir;
  std::destroy_at(&d.current);  // anew in place: cheaper than assigning a new one
  std::construct_at(&d.current);
  d.current.is_request = p->type == HTTP_REQUEST;
  // Most messages: one allocation, not five growing ones.
  if (ctx(p).limits->http1_contents) d.current.headers.reserve(16);
  d.field.clear();
  d.value.clear();
  d.in_value = false;
  d.header_bytes = 0;
  d.in_head = true;
  return 0;
}

int on_url(llhttp_t* p, const char* at, std::size_t len) {
  Context& c = ctx(p);
  if (!count_header_bytes(c, len)) return -1;
  c.dir->current.url.append(at, len);
  return 0;
}

int on_status(llhttp_t* p, const char* at, std::size_t len) {
  Context& c = ctx(p);
  if (!count_header_bytes(c, len)) return -1;
  c.dir->current.reason.append(at, len);
  return 0;
}

int on_header_field(llhttp_t* p, const char* at, std::size_t len) {
  Context& c = ctx(p);
  if (!count_header_bytes(c, len)) return -1;
  if (c.dir->in_value) commit_header(c);
  c.dir->field.append(at, len);
  return 0;
}

int on_header_value(llhttp_t* p, const char* at, std::size_t len) {
  Context& c = ctx(p);
  if (!count_header_bytes(c, len)) return -1;
  DirectionState& d = *c.dir;
  if (!d.in_value) {
    d.in_value = true;  // the name is whole: is the value read by anything?
    d.keep_value = kept(c, d.field);
  }
  if (d.keep_value) d.value.append(at, len);
  return 0;
}

// How a response's body is delimited depends on the request it answers.
int response_body_rule(Context& c, llhttp_t* p) {
  int status = p->status_code;
  if (status >= 100 && status < 200 && status != 101) return 0;  // interim: request still open
  InFlight req;
  if (!c.state->in_flight.empty()) {
    req = c.state->in_flight.front();
    c.state->in_flight.pop_front();
  }
  bool connect_ok = req.method == HTTP_CONNECT && status / 100 == 2;
  if (req.upgrade && status != 101 && !connect_ok) c.state->upgrade_declined = true;
  if (connect_ok) {
    c.tunnel_after = true;
    return 2;  // no body; the bytes that follow are the tunnel's
  }
  if (req.method == HTTP_HEAD) return 1;  // headers describe a body that is not sent
  return 0;
}

int on_headers_complete(llhttp_t* p) {
  Context& c = ctx(p);
  c.dir->in_head = false;
  if (c.dir->in_value || !c.dir->field.empty()) commit_header(c);
  Message& m = c.dir->current;
  m.version_major = p->http_major;
  m.version_minor = p->http_minor;
  m.chunked = (p->flags & F_CHUNKED) != 0;
  if (p->type == HTTP_RESPONSE) {
    m.status = p->status_code;
    return response_body_rule(c, p);
  }
  m.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
  m.upgrade = p->upgrade != 0;
  auto& in_flight = c.state->in_flight;
  if (in_flight.size() >= c.limits->max_pending) in_flight.pop_front();
  in_flight.push_back({p->method, m.upgrade});
  return 0;
}

int on_body(llhttp_t* p, const char* at, std::size_t len) {
  Context& c = ctx(p);
  c.dir->current.body.append({at, len}, c.limits->http1_contents ? c.limits->max_body : 0);
  return 0;
}

int on_message_complete(llhttp_t* p) {
  Context& c = ctx(p);
  c.dir->current.keep_alive = llhttp_should_keep_alive(p) != 0;
  if (p->type == HTTP_RESPONSE && p->upgrade) c.tunnel_after = true;  // 101
  c.complete = true;
  return HPE_PAUSED;  // one message per call, so the caller learns exactly where it ended
}

llhttp_settings_t make_settings(bool headers) {
  llhttp_settings_t out;
  llhttp_settings_init(&out);
  out.on_message_begin = on_message_begin;
  out.on_url = on_url;
  out.on_status = on_status;
  if (headers) {
    out.on_header_field = on_header_field;
    out.on_header_value = on_header_value;
  }
  out.on_headers_complete = on_headers_complete;
  out.on_body = on_body;
  out.on_message_complete = on_message_complete;
  return out;
}

// Whether a direction's headers are reported to us at all. Without contents, a response's headers
// feed nothing shown (Content-Encoding decodes a body, Upgrade names what a line does not print),
// and a callback per header piece was a tenth of a trace's user-space time per exchange. llhttp
// reads them all the same for framing (Content-Length, Transfer-Encoding, Connection).
bool reports_headers(MessageType type, const Limits& limits) {
  return limits.http1_contents || type == MessageType::kRequest;
}

const llhttp_settings_t& settings(bool headers) {
  static const llhttp_settings_t with = make_settings(true), without = make_settings(false);
  return headers ? with : without;
}

DirectionState& direction(State& state, MessageType type) {
  return type == MessageType::kRequest ? state.request : state.response;
}

void ensure_ready(DirectionState& d, MessageType type, const Limits& limits) {
  if (d.ready) return;
  llhttp_init(&d.parser, type == MessageType::kRequest ? HTTP_REQUEST : HTTP_RESPONSE,
              &settings(reports_headers(type, limits)));
  // We only watch: keep parsing whatever the peers keep sending after "Connection: close".
  llhttp_set_lenient_keep_alive(&d.parser, 1);
  d.ready = true;
}

ParseResult take_message(MessageType type, Message& frame, State& state, DirectionState& d,
                         const Context& c, std::size_t consumed) {
  frame = std::move(d.current);  // on_message_begin resets it before the next message
  if (type == MessageType::kRequest && frame.upgrade) d.awaiting_upgrade = true;
  if (c.tunnel_after) {
    state.tunnel = true;
    frame.upgrade = true;
  }
  return {ParseState::kParsed, consumed};
}

}  // namespace

ParseResult parse_frame(MessageType type, std::span<const std::byte> data, Message& frame,
                        State& state, const Limits& limits) {
  if (state.tunnel) {
    state.tunnel_bytes += data.size();
    return {ParseState::kNeedsMore, data.size()};
  }
  DirectionState& d = direction(state, type);
  bool released = false;
  if (d.awaiting_upgrade) {
    if (!state.upgrade_declined) return {ParseState::kNeedsMore, 0};
    d.awaiting_upgrade = false;
    state.upgrade_declined = false;
    released = true;
  }
  ensure_ready(d, type, limits);
  Context c{&state, &d, &limits};
  d.parser.data = &c;
  const char* begin = as_chars(data).data();
  llhttp_errno_t err = llhttp_execute(&d.parser, begin, data.size());
  if (err == HPE_PAUSED_UPGRADE && released) {
    // The server declined the upgrade: what follows is HTTP after all.
    llhttp_resume_after_upgrade(&d.parser);
    err = llhttp_execute(&d.parser, begin, data.size());
  }
  d.parser.data = nullptr;
  if (err == HPE_OK) {
    // Headers nobody is told of still count against the bound on a head, a call at a time.
    if (d.in_head && !reports_headers(type, limits) &&
        (d.header_bytes += data.size()) > limits.max_header_bytes)
      return {ParseState::kInvalid, 0};
    return {ParseState::kNeedsMore, data.size()};
  }
  if (err == HPE_PAUSED && c.complete) {
    auto consumed = static_cast<std::size_t>(llhttp_get_error_pos(&d.parser) - begin);
    llhttp_resume(&d.parser);
    return take_message(type, frame, state, d, c, consumed);
  }
  if (err == HPE_PAUSED_UPGRADE) {
    // An upgrade message ended without our noticing (no response seen): wait, or tunnel.
    if (type == MessageType::kRequest) {
      d.awaiting_upgrade = true;
      return {ParseState::kNeedsMore, 0};
    }
    state.tunnel = true;
    return {ParseState::kNeedsMore, 0};
  }
  return {ParseState::kInvalid, 0};
}

ParseResult finish_frame(MessageType type, Message& frame, State& state, const Limits& limits) {
  DirectionState& d = direction(state, type);
  if (!d.ready || state.tunnel || d.awaiting_upgrade) return {};
  Context c{&state, &d, &limits};
  d.parser.data = &c;
  llhttp_finish(&d.parser);
  d.parser.data = nullptr;
  if (!c.complete) return {};
  llhttp_resume(&d.parser);
  return take_message(type, frame, state, d, c, 0);
}

std::size_t find_frame_boundary(MessageType type, std::span<const std::byte> data, const State&) {
  static constexpr std::array<std::string_view, 9> kMethods = {
      "GET ", "POST ", "PUT ", "DELETE ", "HEAD ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "};
  std::string_view text = as_chars(data);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i > 0 && text[i - 1] != '\n') continue;
    std::string_view rest = text.substr(i);
    if (type == MessageType::kResponse) {
      if (rest.starts_with("HTTP/1.")) return i;
      continue;
    }
    for (std::string_view m : kMethods) {
      if (rest.starts_with(m)) return i;
    }
  }
  return kNoBoundary;
}

void on_gap(MessageType type, State& state) {
  direction(state, type) = DirectionState{};
  // Which request a response answers is unknown after a gap; without in-flight knowledge the
  // next responses are read by their headers alone.
  if (type == MessageType::kResponse) state.in_flight.clear();
}

}  // namespace reel::protocols::http1
