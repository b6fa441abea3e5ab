#include "protocols/http1/stitcher.h"

#include <string>

#include "protocols/text.h"

namespace reel::protocols::http1 {

namespace {

std::string version(const Message& m) {
  if (m.version_major == 1 && m.version_minor <= 1) return m.version_minor ? "1.1" : "1.0";
  return std::to_string(m.version_major) + "." + std::to_string(m.version_minor);
}

void note_encoding(const Headers& headers, const char* field, Exchange& e) {
  std::string_view encoding = find_header(headers, "Content-Encoding");
  if (!encoding.empty()) e.fields[field] = std::string(encoding);
}

void fill_request(Message& m, Exchange& e) {
  e.has_request = true;
  e.gap = e.gap || m.after_gap;
  e.request_time = m.time;
  e.request_size = m.wire_size;
  e.method = std::move(m.method);
  e.target = std::move(m.url);
  e.host = std::string(find_header(m.headers, "Host"));
  e.fields["http.version"] = version(m);
  if (m.chunked) e.fields["http.request_chunked"] = "true";
  if (m.headers_truncated) e.fields["http.request_headers_truncated"] = "true";
  note_encoding(m.headers, "http.request_content_encoding", e);
  e.request_headers = std::move(m.headers);
  e.request_body = std::move(m.body);
}

void fill_response(Message& m, Exchange& e) {
  e.has_response = true;
  e.gap = e.gap || m.after_gap;
  e.response_time = m.time;
  e.response_size = m.wire_size;
  e.status = m.status;
  e.status_text = std::move(m.reason);
  if (!e.has_request) e.fields["http.version"] = version(m);
  if (m.chunked) e.fields["http.response_chunked"] = "true";
  if (m.upgrade) {
    std::string_view to = find_header(m.headers, "Upgrade");
    e.fields["http.upgrade"] = to.empty() ? "tunnel" : std::string(to);
  }
  if (!m.keep_alive) e.fields["http.connection_close"] = "true";
  if (m.headers_truncated) e.fields["http.response_headers_truncated"] = "true";
  note_encoding(m.headers, "http.response_content_encoding", e);
  e.response_headers = std::move(m.headers);
  e.response_body = std::move(m.body);
}

void emit(Message* request, Message* response, StitchState& state, std::vector<Exchange>& out) {
  Exchange& e = out.emplace_back();  // built where it stays: an exchange is costly to move
  e.protocol = Protocol::kHttp1;
  if (request) fill_request(*request, e);
  if (response) {
    fill_response(*response, e);
    if (!state.interim.empty()) e.fields["http.interim"] = std::move(state.interim);
    state.interim.clear();
  }
  e.finish_timing();
}

bool is_interim(const Message& m) { return m.status >= 100 && m.status < 200 && m.status != 101; }

}  // namespace

void stitch(std::deque<Message>& requests, std::deque<Message>& responses, StitchState& state,
            const Limits& limits, bool flush, std::vector<Exchange>& out) {
  while (!responses.empty()) {
    Message& resp = responses.front();
    if (is_interim(resp)) {
      if (!state.interim.empty()) state.interim += ",";
      state.interim += std::to_string(resp.status);
      responses.pop_front();
      continue;
    }
    if (requests.empty()) {
      if (!flush && responses.size() <= limits.max_pending) break;
      emit(nullptr, &resp, state, out);
    } else if (resp.time.first_ns < requests.front().time.first_ns) {
      emit(nullptr, &resp, state, out);
    } else {
      emit(&requests.front(), &resp, state, out);
      requests.pop_front();
    }
    responses.pop_front();
  }
  while (!requests.empty() && (flush || requests.size() > limits.max_pending)) {
    emit(&requests.front(), nullptr, state, out);
    requests.pop_front();
  }
}

}  // namespace reel::protocols::http1
