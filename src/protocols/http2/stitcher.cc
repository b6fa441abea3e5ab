#include "protocols/http2/stitcher.h"

#include <algorithm>
#include <string>

#include "protocols/http2/grpc.h"
#include "protocols/text.h"

namespace reel::protocols::http2 {

namespace {

// Ids of finished streams remembered, so that a late frame for one does not open a new one.
constexpr std::size_t kClosedKept = 4096;

std::string_view pseudo(const Headers& h, std::string_view name) {
  for (const auto& [k, v] : h) {
    if (k == name) return v;
  }
  return {};
}

bool is_grpc(const Stream& s) {
  return istarts_with(find_header(s.request.headers, "content-type"), "application/grpc") ||
         istarts_with(find_header(s.response.headers, "content-type"), "application/grpc");
}

// Neither side's content-type is known because headers could not all be decoded (joined
// mid-connection: gRPC peers index content-type, so later calls only refer to it). Such a
// stream's DATA is split as gRPC messages in case it is gRPC; emit decides from their shape.
bool content_type_unknown(const Stream& s) {
  return (s.request.partial || s.response.partial || !s.request.seen) &&
         find_header(s.request.headers, "content-type").empty() &&
         find_header(s.response.headers, "content-type").empty();
}

// A half whose body is exactly a run of gRPC messages: each a flag byte 0 or 1, a length, that
// many bytes, the last one ending with the body.
bool grpc_framed(const HalfStream& h) {
  const GrpcSplitter& g = h.grpc;
  if (h.body.size == 0) return true;
  if (g.count == 0 || g.in_message || !g.prefix.empty() || g.messages.size() != g.count)
    return false;
  std::uint64_t at = 0;
  for (const GrpcMessage& m : g.messages) {
    if (at < h.body.data.size() && static_cast<std::uint8_t>(h.body.data[at]) > 1) return false;
    at += 5 + std::uint64_t{m.length};
  }
  return at == h.body.size;
}

// gRPC told by its framing alone, when content-type is unknown: a POST (or unknown method)
// answered 200 (or unknown), with at least one message, both bodies nothing but messages.
bool framed_like_grpc(const Stream& s) {
  if (!content_type_unknown(s)) return false;
  std::string_view method = pseudo(s.request.headers, ":method");
  std::string_view status = pseudo(s.response.headers, ":status");
  if ((!method.empty() && method != "POST") || (!status.empty() && status != "200")) return false;
  if (s.request.grpc.count + s.response.grpc.count == 0) return false;
  return grpc_framed(s.request) && grpc_framed(s.response);
}

void touch(HalfStream& h, const Frame& f) {
  if (!h.seen) h.time.first_ns = f.time.first_ns;
  h.seen = true;
  h.time.last_ns = f.time.last_ns;
  h.wire += f.wire_size;
  h.gap = h.gap || f.after_gap;
}

void add_headers(HalfStream& h, Frame& f, bool response, const Limits& limits) {
  h.partial = h.partial || f.headers_partial;
  h.truncated = h.truncated || f.headers_truncated;
  if (response) {
    std::string_view status = pseudo(f.headers, ":status");
    if (status.size() == 3 && status[0] == '1') {  // interim: folded into the final response
      if (h.interim.size() >= 64) return;          // a server sending 1xx forever holds nothing
      if (!h.interim.empty()) h.interim += ",";
      h.interim += status;
      return;
    }
  }
  // The first block holds the headers; a later one (after DATA, or a second block) is trailers.
  Headers& into = h.headers.empty() && h.body.size == 0 && !h.ended ? h.headers : h.trailers;
  if (into.empty() && f.headers.size() <= limits.max_headers) {
    into = std::move(f.headers);
    return;
  }
  for (auto& kv : f.headers) {
    if (into.size() < limits.max_headers)
      into.push_back(std::move(kv));
    else
      h.truncated = true;
  }
}

void close_stream(StitchState& state, std::uint32_t id) {
  state.streams.erase(id);
  state.closed.insert(id);
  if (state.closed.size() > kClosedKept) state.closed.erase(state.closed.begin());
}

// grpc-timeout ("200m", "10S": at most 8 digits and a unit) in nanoseconds; 0 when absent or bad.
std::uint64_t grpc_timeout_ns(std::string_view v) {
  static constexpr std::string_view kUnits = "HMSmun";
  static constexpr std::uint64_t kScale[] = {3'600'000'000'000, 60'000'000'000, 1'000'000'000,
                                             1'000'000,         1'000,          1};
  std::int64_t n = 0;
  if (v.size() < 2 || v.size() > 9 || !parse_int64(v.substr(0, v.size() - 1), n) || n < 0) return 0;
  std::size_t unit = kUnits.find(v.back());
  return unit == std::string_view::npos ? 0 : static_cast<std::uint64_t>(n) * kScale[unit];
}

// A stream cancelled (RST_STREAM CANCEL) with no grpc-status once its grpc-timeout had passed:
// the client's deadline fired before the server's answer, and the app saw DEADLINE_EXCEEDED.
// The 5% margin covers the time between the client computing the timeout and sending it.
bool deadline_passed(const Stream& s) {
  constexpr std::uint32_t kCancel = 0x8;
  std::uint64_t timeout = grpc_timeout_ns(find_header(s.request.headers, "grpc-timeout"));
  if (s.reset != kCancel + 1 || timeout == 0 || !s.request.seen) return false;
  std::uint64_t end = std::max(s.request.time.last_ns, s.response.time.last_ns);
  return end >= s.request.time.first_ns && (end - s.request.time.first_ns) * 20 >= timeout * 19;
}

void fill_grpc(Stream& s, Exchange& e, const Limits& limits) {
  e.fields["grpc.request_messages"] = std::to_string(s.request.grpc.count);
  e.fields["grpc.response_messages"] = std::to_string(s.response.grpc.count);
  std::string encoding(find_header(s.request.headers, "grpc-encoding"));
  if (!encoding.empty()) e.fields["grpc.request_encoding"] = encoding;
  std::string response_encoding(find_header(s.response.headers, "grpc-encoding"));
  if (!response_encoding.empty()) e.fields["grpc.response_encoding"] = response_encoding;
  if (s.request.grpc.count > 0) {
    e.fields["grpc.request_decoded"] =
        grpc::render_messages(s.request.grpc, encoding, limits.max_body);
  }
  if (s.response.grpc.count > 0) {
    e.fields["grpc.response_decoded"] =
        grpc::render_messages(s.response.grpc, response_encoding, limits.max_body);
  }
  // Trailers, or the headers themselves for a trailers-only answer.
  std::string_view status = find_header(s.response.trailers, "grpc-status");
  std::string_view message = find_header(s.response.trailers, "grpc-message");
  if (status.empty()) {
    status = find_header(s.response.headers, "grpc-status");
    message = find_header(s.response.headers, "grpc-message");
    if (!status.empty()) e.fields["grpc.trailers_only"] = "true";
  }
  if (status.empty() && deadline_passed(s)) {
    e.fields["grpc.status"] = "4";
    e.fields["grpc.status_from"] = "deadline";  // not sent by the server: see deadline_passed
    e.status_text = grpc::status_name("4");
    e.error = e.status_text + ": the stream was cancelled at its grpc-timeout " +
              std::string(find_header(s.request.headers, "grpc-timeout"));
    return;
  }
  if (status.empty()) return;
  e.fields["grpc.status"] = std::string(status);
  if (!message.empty()) e.fields["grpc.message"] = std::string(message);
  e.status_text = grpc::status_name(status);
  if (status != "0")
    e.error = message.empty() ? e.status_text : e.status_text + ": " + std::string(message);
}

void emit(std::uint32_t id, Stream& s, const Limits& limits, std::vector<Exchange>& out) {
  Exchange e;
  e.protocol = Protocol::kHttp2;
  e.fields["http.version"] = "2";
  e.fields["http2.stream"] = std::to_string(id);
  HalfStream& q = s.request;
  HalfStream& r = s.response;
  if (q.seen) {
    e.has_request = true;
    e.request_time = q.time;
    e.request_size = q.wire;
    e.method = pseudo(q.headers, ":method");
    e.target = pseudo(q.headers, ":path");
    e.host = pseudo(q.headers, ":authority");
    if (e.host.empty()) e.host = find_header(q.headers, "host");
  }
  if (r.seen) {
    e.has_response = true;
    e.response_time = r.time;
    e.response_size = r.wire;
    std::int64_t status = 0;
    if (parse_int64(pseudo(r.headers, ":status"), status) && status > 0 && status < 1000) {
      e.status = static_cast<int>(status);
    }
    if (!r.interim.empty()) e.fields["http.interim"] = r.interim;
  }
  e.gap = q.gap || r.gap;
  if (q.partial || r.partial) e.fields["http2.headers_partial"] = "true";
  // Given up on (flushed) before the answer ended and without a reset: cut short by a close, an
  // exit, or a capture that stopped.
  if (r.seen && !r.ended && !s.reset) e.fields["http2.unfinished"] = "true";
  if (q.truncated) e.fields["http.request_headers_truncated"] = "true";
  if (r.truncated) e.fields["http.response_headers_truncated"] = "true";
  if (s.pushed) e.fields["http2.pushed"] = "true";
  if (s.reset) {
    e.fields["http2.rst_stream"] = std::to_string(s.reset - 1);
    if (s.reset - 1 != 0) e.error = "RST_STREAM " + std::to_string(s.reset - 1);
  }
  if (is_grpc(s)) {
    fill_grpc(s, e, limits);
  } else if (framed_like_grpc(s)) {
    fill_grpc(s, e, limits);
    e.fields["grpc.inferred"] = "true";  // from the messages' framing, content-type unknown
  }
  if (!q.trailers.empty()) e.fields["http2.request_trailers"] = std::to_string(q.trailers.size());
  if (!r.trailers.empty()) e.fields["http2.response_trailers"] = std::to_string(r.trailers.size());
  // Trailers are header fields too: they follow the headers, and the count says where.
  e.request_headers = std::move(q.headers);
  for (auto& kv : q.trailers) e.request_headers.push_back(std::move(kv));
  e.response_headers = std::move(r.headers);
  for (auto& kv : r.trailers) e.response_headers.push_back(std::move(kv));
  e.request_body = std::move(q.body);
  e.response_body = std::move(r.body);
  e.finish_timing();
  // Reset before any answer: the latency is how long the stream lived.
  if (s.reset && !r.seen && q.seen && q.time.last_ns >= q.time.first_ns)
    e.latency_ns = q.time.last_ns - q.time.first_ns;
  out.push_back(std::move(e));
}

Stream* stream_for(StitchState& state, std::uint32_t id) {
  if (state.closed.contains(id)) return nullptr;
  return &state.streams[id];
}

// Applies one frame; true when it finished its stream.
bool apply(Frame& f, bool response, StitchState& state, const Limits& limits) {
  if (f.preface || f.stream_id == 0) return false;  // connection-level frames
  if (f.type == kPriority || f.type == kWindowUpdate || f.type > kContinuation) return false;
  if (f.type == kRstStream && !state.streams.contains(f.stream_id)) return false;
  Stream* s = stream_for(state, f.stream_id);
  if (s == nullptr) return false;
  HalfStream& h = response ? s->response : s->request;
  switch (f.type) {
    case kHeaders:
      touch(h, f);
      add_headers(h, f, response, limits);
      break;
    case kContinuation:
      touch(h, f);
      h.partial = true;
      break;
    case kData:
      touch(h, f);
      if (is_grpc(*s) || content_type_unknown(*s)) h.grpc.feed(f.data, limits);
      h.body.size += f.data_size;
      if (h.body.data.empty() && f.data.size() <= limits.max_body)
        h.body.data = std::move(f.data);  // the common single-frame body, not copied
      else
        append_capped(h.body.data, f.data, limits.max_body);
      break;
    case kPushPromise:
      if (response && f.promised_stream != 0) {
        Stream* p = stream_for(state, f.promised_stream);
        if (p == nullptr) break;
        p->pushed = true;
        touch(p->request, f);
        add_headers(p->request, f, false, limits);
        p->request.ended = true;
      }
      return false;
    case kRstStream:
      touch(h, f);
      s->reset = f.error_code + 1;
      return true;
    default:
      return false;
  }
  if (f.end_stream) h.ended = true;
  // Over once both sides have ended it. A server may answer before the client has sent all of
  // its body (nginx's `return`, a gRPC error): the rest of the body still belongs to the stream.
  // A request never seen (sent before we joined) has nothing more to wait for.
  return s->response.ended && (s->request.ended || !s->request.seen);
}

}  // namespace

void stitch(std::deque<Frame>& requests, std::deque<Frame>& responses, StitchState& state,
            const Limits& limits, bool flush, std::vector<Exchange>& out) {
  auto run = [&](std::deque<Frame>& frames, bool response) {
    for (Frame& f : frames) {
      std::uint32_t id = f.stream_id;
      if (apply(f, response, state, limits)) {
        emit(id, state.streams[id], limits, out);
        close_stream(state, id);
      }
    }
    frames.clear();
  };
  run(requests, false);
  run(responses, true);
  // Too many open streams: the oldest are given up on.
  while (!state.streams.empty() && (flush || state.streams.size() > limits.max_pending)) {
    auto it = state.streams.begin();
    emit(it->first, it->second, limits, out);
    close_stream(state, it->first);
  }
}

}  // namespace reel::protocols::http2
