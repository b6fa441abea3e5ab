#include "replay/h2_client.h"

#include <fmt/format.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>

#include <array>
#include <cstring>
#include <memory>

#include "core/clock.h"
#include "protocols/exchange.h"
#include "protocols/text.h"
#include "testset/convert.h"
#include "replay/channel.h"
#include "replay/http_client.h"

namespace reel::replay {

namespace {

using std::chrono::milliseconds;
using HeaderList = std::vector<std::pair<std::string, std::string>>;

constexpr std::size_t kMaxBody = 64u << 20;
constexpr std::int32_t kWindow = 16 << 20;

// Connection-specific fields HTTP/2 forbids (RFC 9113 8.2.2), and those this client sets.
bool dropped(std::string_view name, std::string_view value) {
  static constexpr std::array<std::string_view, 8> kNames = {
      "connection", "keep-alive", "proxy-connection", "transfer-encoding",
      "upgrade",    "host",       "content-length",   "http2-settings"};
  for (auto n : kNames)
    if (protocols::iequals(name, n)) return true;
  return protocols::iequals(name, "te") && !protocols::iequals(value, "trailers");
}

struct Request {
  HeaderList headers;  // pseudo-headers first
  std::string body;
  bool tls = false;
  std::string authority;
};

struct Response {
  protocols::Headers headers;  // the final response's, :status included
  protocols::Headers trailers;
  std::string body;
};

// What the callbacks learn about our one stream.
struct CallState {
  std::int32_t stream = -1;
  std::string_view body;
  std::size_t body_sent = 0;
  protocols::Headers block;  // the header block being received
  bool final_headers = false;
  bool ended = false;  // END_STREAM from the app
  bool closed = false;
  std::uint32_t close_code = 0;
  bool too_big = false;
  bool goaway = false;
  std::uint32_t goaway_code = 0;
  Response resp;
};

CallState& state(void* user_data) { return *static_cast<CallState*>(user_data); }

int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
  if (frame->hd.stream_id == state(ud).stream) state(ud).block.clear();
  return 0;
}

int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
              std::size_t namelen, const std::uint8_t* value, std::size_t valuelen, std::uint8_t,
              void* ud) {
  if (frame->hd.stream_id != state(ud).stream) return 0;
  state(ud).block.emplace_back(std::string(reinterpret_cast<const char*>(name), namelen),
                               std::string(reinterpret_cast<const char*>(value), valuelen));
  return 0;
}

int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
  CallState& s = state(ud);
  if (frame->hd.type == NGHTTP2_GOAWAY) {
    s.goaway = true;
    s.goaway_code = frame->goaway.error_code;
    return 0;
  }
  if (frame->hd.stream_id != s.stream) return 0;
  if (frame->hd.type == NGHTTP2_HEADERS) {
    if (!s.final_headers) {
      std::string_view status = protocols::find_header(s.block, ":status");
      // 1xx answers come before the real one and are dropped (101 is not valid in HTTP/2).
      if (!(status.size() == 3 && status[0] == '1')) {
        s.resp.headers = std::move(s.block);
        s.final_headers = true;
      }
    } else {
      for (auto& h : s.block) s.resp.trailers.push_back(std::move(h));
    }
    s.block.clear();
  }
  if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA) &&
      (frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
    s.ended = true;
  return 0;
}

int on_data_chunk(nghttp2_session* session, std::uint8_t, std::int32_t stream_id,
                  const std::uint8_t* data, std::size_t len, void* ud) {
  CallState& s = state(ud);
  if (stream_id != s.stream || s.too_big) return 0;
  if (s.resp.body.size() + len > kMaxBody) {
    s.too_big = true;
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
    return 0;
  }
  s.resp.body.append(reinterpret_cast<const char*>(data), len);
  return 0;
}

int on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t code, void* ud) {
  CallState& s = state(ud);
  if (stream_id != s.stream) return 0;
  s.closed = true;
  s.close_code = code;
  return 0;
}

ssize_t read_body(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                  std::uint32_t* flags, nghttp2_data_source*, void* ud) {
  CallState& s = state(ud);
  std::size_t n = std::min(length, s.body.size() - s.body_sent);
  std::memcpy(buf, s.body.data() + s.body_sent, n);
  s.body_sent += n;
  if (s.body_sent == s.body.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

struct SessionDeleter {
  void operator()(nghttp2_session* s) const { nghttp2_session_del(s); }
};
using SessionPtr = std::unique_ptr<nghttp2_session, SessionDeleter>;

Result<SessionPtr> client_session(CallState& s) {
  nghttp2_session_callbacks* cb = nullptr;
  if (nghttp2_session_callbacks_new(&cb) != 0) return fail_msg("nghttp2: out of memory");
  nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
  nghttp2_session* raw = nullptr;
  int rv = nghttp2_session_client_new(&raw, cb, &s);
  nghttp2_session_callbacks_del(cb);
  if (rv != 0) return fail_msg("nghttp2: {}", nghttp2_strerror(rv));
  SessionPtr session(raw);
  nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                       {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, kWindow}};
  nghttp2_submit_settings(raw, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(raw, NGHTTP2_FLAG_NONE, 0, kWindow);
  return session;
}

// Why the exchange stopped short, in words a user can act on.
std::string unfinished(const CallState& s) {
  if (!s.final_headers) return "before answering";
  return fmt::format("before finishing its response (headers and {} body bytes received)",
                     s.resp.body.size());
}

Result<Response> exchange(const Endpoint& app, const Request& req, milliseconds timeout) {
  std::uint64_t deadline = monotonic_ns() + static_cast<std::uint64_t>(timeout.count()) * 1'000'000;
  Channel ch = REEL_TRY(Channel::open(app, req.tls, req.authority, deadline, req.tls ? "h2" : ""));
  CallState s;
  s.body = req.body;
  SessionPtr session = REEL_TRY(client_session(s));
  std::vector<nghttp2_nv> nva;
  for (const auto& [name, value] : req.headers) {
    nva.push_back({reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
                   reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
                   value.size(), NGHTTP2_NV_FLAG_NONE});
  }
  nghttp2_data_provider body{};
  body.read_callback = read_body;
  s.stream = nghttp2_submit_request(session.get(), nullptr, nva.data(), nva.size(),
                                    req.body.empty() ? nullptr : &body, &s);
  if (s.stream < 0)
    return fail_msg("nghttp2: cannot submit the request: {}", nghttp2_strerror(s.stream));

  std::string out;
  std::size_t sent = 0;
  bool first_read = true;
  char buf[64 * 1024];
  for (;;) {
    short wait = 0;
    bool moved = false;
    if (sent == out.size()) out.clear(), sent = 0;
    while (out.size() < sizeof buf) {
      const std::uint8_t* data = nullptr;
      ssize_t n = nghttp2_session_mem_send(session.get(), &data);
      if (n < 0) return fail_msg("nghttp2: {}", nghttp2_strerror(static_cast<int>(n)));
      if (n == 0) break;
      out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    }
    if (sent < out.size()) {
      ssize_t w = ch.write(std::string_view(out).substr(sent), wait);
      if (w < 0 && errno != EAGAIN)
        return fail_errno(fmt::format("sending the request to {}{}", app.to_string(),
                                      ch.tls_error().empty() ? "" : " (" + ch.tls_error() + ")"));
      if (w > 0) sent += static_cast<std::size_t>(w), moved = true;
    }
    ssize_t r = ch.read(buf, sizeof buf, wait);
    if (r < 0 && errno != EAGAIN)
      return fail_errno(fmt::format("reading the app's response{}",
                                    ch.tls_error().empty() ? "" : " (" + ch.tls_error() + ")"));
    if (r > 0) {
      std::string_view got(buf, static_cast<std::size_t>(r));
      if (first_read && got.starts_with("HTTP/1."))
        return fail_msg(
            "the app at {} answered in {}, not HTTP/2 (it does not speak {} with "
            "prior knowledge)",
            app.to_string(), got.substr(0, 8), req.tls ? "h2" : "h2c");
      first_read = false;
      ssize_t rv = nghttp2_session_mem_recv(
          session.get(), reinterpret_cast<const std::uint8_t*>(buf), static_cast<std::size_t>(r));
      if (rv < 0)
        return fail_msg("the app's HTTP/2 is not valid: {}",
                        nghttp2_strerror(static_cast<int>(rv)));
      moved = true;
    }
    if (s.closed) break;
    if (r == 0) return fail_msg("the app closed the connection {}", unfinished(s));
    if (!nghttp2_session_want_read(session.get()) && !nghttp2_session_want_write(session.get()))
      return fail_msg(
          "the app ended the HTTP/2 session{} {}",
          s.goaway ? fmt::format(" (GOAWAY {})", nghttp2_http2_strerror(s.goaway_code)) : "",
          unfinished(s));
    if (moved) continue;
    pollfd p{ch.fd(), static_cast<short>(wait ? wait : POLLIN), 0};
    int ms = remaining_ms(deadline);
    if (ms == 0 || ::poll(&p, 1, ms) == 0) {
      if (!s.final_headers)
        return fail_msg("no response from the app at {} within {} ms", app.to_string(),
                        timeout.count());
      return fail_msg(
          "the app's response did not finish within {} ms (headers and {} body "
          "bytes received)",
          timeout.count(), s.resp.body.size());
    }
  }
  if (s.too_big) return fail_msg("the app's response body is over {} MiB", kMaxBody >> 20);
  if (!s.ended)
    return fail_msg("the app reset the stream ({}) {}", nghttp2_http2_strerror(s.close_code),
                    unfinished(s));
  return std::move(s.resp);
}

const std::string* find(const std::map<std::string, std::string>& m, std::string_view key) {
  auto it = m.find(std::string(key));
  return it == m.end() ? nullptr : &it->second;
}

testset::GrpcHeaders grpc_headers(const protocols::Headers& headers) {
  testset::GrpcHeaders out;
  for (const auto& [name, value] : headers) {
    auto& into = name.starts_with(':') ? out.pseudo : out.ordinary;
    auto [it, fresh] = into.try_emplace(protocols::to_lower(name), value);
    if (!fresh) it->second += ", " + value;
  }
  return out;
}

}  // namespace

Result<testset::GrpcResponse> send_grpc(const Endpoint& app, const testset::GrpcRequest& rec,
                                        milliseconds timeout) {
  const auto& pseudo = rec.headers.pseudo;
  const std::string* path = find(pseudo, ":path");
  if (path == nullptr || path->empty()) return fail_msg("the recorded gRPC call has no :path");
  const std::string* scheme = find(pseudo, ":scheme");
  const std::string* authority = find(pseudo, ":authority");
  const std::string* method = find(pseudo, ":method");
  Request req;
  req.tls = scheme != nullptr && *scheme == "https";
  req.authority = authority ? *authority : app.to_string();
  req.headers = {{":method", method ? *method : "POST"},
                 {":scheme", scheme ? *scheme : "http"},
                 {":authority", req.authority},
                 {":path", *path}};
  bool has_te = false, has_type = false;
  for (const auto& [name, value] : rec.headers.ordinary) {
    if (dropped(name, value)) continue;
    has_te = has_te || name == "te";
    has_type = has_type || name == "content-type";
    req.headers.emplace_back(protocols::to_lower(name), value);
  }
  // gRPC servers refuse a call without these two (the gRPC over HTTP/2 spec requires them).
  if (!has_type) req.headers.emplace_back("content-type", "application/grpc");
  if (!has_te) req.headers.emplace_back("te", "trailers");
  const std::string* encoding = find(rec.headers.ordinary, "grpc-encoding");
  req.body = REEL_TRY(testset::grpc_frame_messages(rec.messages, encoding ? *encoding : "identity"));

  Response got = REEL_TRY(exchange(app, req, timeout));
  testset::GrpcResponse resp;
  resp.headers = grpc_headers(got.headers);
  resp.trailers = grpc_headers(got.trailers);
  const std::string* answer_encoding = find(resp.headers.ordinary, "grpc-encoding");
  resp.messages = REEL_TRY(testset::grpc_split_messages(
      got.body, answer_encoding ? *answer_encoding : "identity", "app's response"));
  return resp;
}

Result<testset::HttpResponse> send_h2_request(const Endpoint& app, const testset::HttpRequest& rec,
                                              milliseconds timeout) {
  Request req;
  req.tls = rec.url.starts_with("https://");
  const std::string* host = testset::find_header(rec.header, "host");
  req.authority = host ? *host : std::string(url_host(rec.url));
  if (req.authority.empty()) req.authority = app.to_string();
  req.headers = {{":method", rec.method.empty() ? "GET" : rec.method},
                 {":scheme", req.tls ? "https" : "http"},
                 {":authority", req.authority},
                 {":path", request_target(rec.url)}};
  for (const auto& [name, value] : rec.header) {
    if (dropped(name, value) || name.starts_with(':')) continue;
    req.headers.emplace_back(protocols::to_lower(name), value);
  }
  req.body = rec.body;

  Response got = REEL_TRY(exchange(app, req, timeout));
  testset::HttpResponse resp;
  resp.proto_major = 2;
  resp.proto_minor = 0;
  std::int64_t status = 0;
  protocols::parse_int64(protocols::find_header(got.headers, ":status"), status);
  resp.status_code = static_cast<int>(status);
  for (const auto* list : {&got.headers, &got.trailers}) {
    for (const auto& [name, value] : *list) {
      if (name.starts_with(':')) continue;
      auto [it, fresh] = resp.header.try_emplace(name, value);
      if (!fresh) it->second += ", " + value;
    }
  }
  resp.body = std::move(got.body);
  return resp;
}

}  // namespace reel::replay
