#include "protocols/http2/stitcher.h"

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
  if (q.truncated) e.fields["http.request_headers_truncated"] = "true";
  if (r.truncated) e.fields["http.response_headers_truncated"] = "true";
  if (s.pushed) e.fields["http2.pushed"] = "true";
  if (s.reset) {
    e.fields["http2.rst_stream"] = std::to_string(s.reset - 1);
    if (s.reset - 1 != 0) e.error = "RST_STREAM " + std::to_string(s.reset - 1);
  }
  if (is_grpc(s)) fill_grpc(s, e, limits);
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
      h.body.size += f.data_size;
      append_capped(h.body.data, f.data, limits.max_body);
      if (is_grpc(*s)) h.grpc.feed(f.data, limits);
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
  return response && h.ended;
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
