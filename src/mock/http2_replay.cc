// Answers HTTP/2 from mocks with a libnghttp2 server session per connection: nghttp2 does the
// framing, HPACK, flow control (answers beyond the peer's window wait for its WINDOW_UPDATEs),
// SETTINGS and PING acks and stream concurrency; this file decides what each stream is answered.
//
// A stream is answered once its request has ended (END_STREAM). gRPC streams (content-type
// application/grpc*) are answered from gRPC mocks:
//   exact       same :path, the same number of request messages, each byte-equal once
//               decompressed;
//   structural  same :path, the same number of messages, each with the same protobuf fields at
//               every depth (field numbers, without a schema; JSON messages by key structure).
// The answer is the recorded response headers, every recorded message in order (compressed
// again with the response's grpc-encoding where it was compressed), then the trailers, or the
// recorded trailers-only answer. No mock: a trailers-only grpc-status 12 (UNIMPLEMENTED) naming
// the method, listed as unmatched. Client-streaming and bidi calls are answered when the client
// ends its half: a bidi client that waits for an answer before it ends its stream waits forever.
//
// Any other stream is matched against the Http mocks like an HTTP/1 request (mock/common.h
// http_fit) and answered over HTTP/2; none fits: 502, as over HTTP/1.
#include <nghttp2/nghttp2.h>

#include <cstring>

#include "mock/common.h"
#include "mock/protocols.h"
#include "protocols/http2/grpc.h"
#include "protocols/http2/protobuf_json.h"
#include "protocols/text.h"

namespace reel::mock {

namespace {

using testset::MockKind;
using HeaderList = std::vector<std::pair<std::string, std::string>>;

constexpr std::size_t kMaxRequestBody = 256 * 1024 * 1024;
constexpr std::uint32_t kMaxConcurrentStreams = 1024;

std::string_view header(const HeaderList& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

// ------------------------------------------------------------------------- gRPC messages

// A protobuf message's fields at every depth (protobuf_json's view, keyed by field number),
// values aside: a repeated field counts as one whatever its count, and every scalar (number,
// string, bytes) is alike, so two messages of one type with other values agree.
std::string protobuf_shape(const nlohmann::json& j) {
  if (j.is_array()) return j.empty() ? std::string() : protobuf_shape(j.front());
  if (!j.is_object() || (j.size() == 1 && j.contains("bytes"))) return "";
  std::string s = "{";
  for (auto it = j.begin(); it != j.end(); ++it) {
    s += it.key() + ":" + protobuf_shape(it.value()) + ",";
  }
  return s + "}";
}

std::string message_shape(std::string_view d) {
  if (auto j = as_json(d)) return "json " + json_shape(*j);  // gRPC with the JSON codec
  if (auto p = protocols::grpc::protobuf_json(d)) return "pb " + protobuf_shape(*p);
  return "raw";
}

struct GrpcLive {
  std::string path;
  std::vector<std::string> messages;
  std::vector<std::string> shapes;  // filled once a mock asks for a structural comparison
};

const std::string* meta(const testset::Mock& m, std::string_view key) {
  auto it = m.metadata.find(std::string(key));
  return it == m.metadata.end() ? nullptr : &it->second;
}

// Why a recorded call cannot answer anything; empty when it can.
std::string unusable(const testset::Mock& m) {
  if (const auto* v = meta(m, "reel.truncated"); v && *v == "true") {
    const auto* why = meta(m, "reel.problem");
    return why ? "recorded cut short: " + *why : "recorded cut short (reel.truncated)";
  }
  if (const auto* v = meta(m, "reel.unanswered"); v && *v == "true") {
    return "recorded without an answer";
  }
  return {};
}

std::string_view recorded_path(const testset::GrpcMockSpec& spec) {
  auto it = spec.req.headers.pseudo.find(":path");
  return it == spec.req.headers.pseudo.end() ? std::string_view() : std::string_view(it->second);
}

Fit grpc_fit(const testset::Mock& mock, GrpcLive& live) {
  const auto* spec = std::get_if<testset::GrpcMockSpec>(&mock.spec);
  if (spec == nullptr || recorded_path(*spec) != live.path || !unusable(mock).empty()) {
    return Fit::kNone;
  }
  const auto& recorded = spec->req.messages;
  if (recorded.size() != live.messages.size()) return Fit::kNone;
  bool same = true;
  for (std::size_t i = 0; i < recorded.size() && same; ++i) {
    same = recorded[i].data == live.messages[i];
  }
  if (same) return Fit::kExact;
  if (live.shapes.empty()) {
    for (const auto& m : live.messages) live.shapes.push_back(message_shape(m));
  }
  for (std::size_t i = 0; i < recorded.size(); ++i) {
    if (message_shape(recorded[i].data) != live.shapes[i]) return Fit::kNone;
  }
  return Fit::kStructural;
}

// The gRPC mock that nearly matched (same method, else same service) and why it did not.
std::string grpc_closest(const MockPool& pool, GrpcLive& live) {
  std::string_view service = std::string_view(live.path).substr(0, live.path.rfind('/') + 1);
  std::string fallback;
  for (const auto* m : pool.all_of(MockKind::kGrpc)) {
    const auto* spec = std::get_if<testset::GrpcMockSpec>(&m->spec);
    if (spec == nullptr) continue;
    std::string_view path = recorded_path(*spec);
    if (path != live.path) {
      if (fallback.empty() && !service.empty() && path.starts_with(service)) {
        fallback = fmt::format("{} ({}: another method of the service)", m->name, path);
      }
      continue;
    }
    std::string why = unusable(*m);
    if (why.empty() && spec->req.messages.size() != live.messages.size()) {
      why = fmt::format("{} request messages recorded, {} sent", spec->req.messages.size(),
                        live.messages.size());
    }
    if (why.empty()) why = "other message fields";
    return fmt::format("{} ({}: {})", m->name, path, why);
  }
  return fallback;
}

// grpc-message is percent-encoded outside printable ASCII (and '%' itself).
std::string percent_encode(std::string_view text) {
  std::string out;
  for (char c : text) {
    auto b = static_cast<std::uint8_t>(c);
    if (b < 0x20 || b > 0x7e || c == '%') {
      out += fmt::format("%{:02X}", b);
    } else {
      out += c;
    }
  }
  return out;
}

// ------------------------------------------------------------------------------ answers

// What one stream is sent: headers, then `body` as DATA as the window allows, then trailers,
// or a RST_STREAM where the recorded stream was reset instead.
struct Answer {
  HeaderList headers;
  bool has_body = false;  // false: the HEADERS frame ends the stream
  std::string body;
  std::size_t sent = 0;
  HeaderList trailers;
  std::optional<std::uint32_t> reset;
};

// Connection-specific fields are not allowed in HTTP/2 (RFC 9113 8.2.2); names are lower case.
bool h2_forbidden(std::string_view name) {
  for (std::string_view f : {"connection", "keep-alive", "proxy-connection", "transfer-encoding",
                             "upgrade", "te", "host"}) {
    if (protocols::iequals(name, f)) return true;
  }
  return false;
}

void add_ordinary(HeaderList& out, const std::map<std::string, std::string>& headers) {
  for (const auto& [name, value] : headers) {
    if (name.starts_with(':') || h2_forbidden(name)) continue;
    out.emplace_back(protocols::to_lower(name), value);
  }
}

Answer grpc_answer(const testset::Mock& mock) {
  const auto& resp = std::get<testset::GrpcMockSpec>(mock.spec).resp;
  Answer a;
  auto status = resp.headers.pseudo.find(":status");
  a.headers.emplace_back(":status", status == resp.headers.pseudo.end() ? "200" : status->second);
  add_ordinary(a.headers, resp.headers.ordinary);
  auto enc = resp.headers.ordinary.find("grpc-encoding");
  a.body = grpc_wire_messages(resp.messages,
                              enc == resp.headers.ordinary.end() ? "identity" : enc->second);
  add_ordinary(a.trailers, resp.trailers.ordinary);
  bool trailers_only =
      a.trailers.empty() && resp.messages.empty() && resp.headers.ordinary.contains("grpc-status");
  a.has_body = !trailers_only;
  if (a.trailers.empty() && !trailers_only) {
    // No status was recorded: the stream was reset (the client cancelled), or simply ended.
    std::int64_t code = 0;
    if (const auto* rst = meta(mock, "reel.rst_stream");
        rst && protocols::parse_int64(*rst, code)) {
      a.reset = static_cast<std::uint32_t>(code);
    }
  }
  return a;
}

Answer grpc_status_answer(std::string_view content_type, int code, std::string_view message) {
  Answer a;
  a.headers = {
      {":status", "200"},
      {"content-type", content_type.empty() ? "application/grpc" : std::string(content_type)},
      {"grpc-status", std::to_string(code)},
      {"grpc-message", percent_encode(message)}};
  return a;
}

bool bodiless(int status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

Answer http_answer(std::string_view method, int status, const testset::HeaderMap& headers,
                   std::string body) {
  Answer a;
  a.headers.emplace_back(":status", std::to_string(status));
  bool head = method == "HEAD";
  for (const auto& [name, value] : headers) {
    if (h2_forbidden(name)) continue;
    // HEAD keeps the recorded length: it describes the body a GET would get.
    if (protocols::iequals(name, "content-length") && !head) continue;
    a.headers.emplace_back(protocols::to_lower(name), value);
  }
  if (!head && !bodiless(status)) {
    a.headers.emplace_back("content-length", std::to_string(body.size()));
    a.has_body = !body.empty();
    a.body = std::move(body);
  }
  return a;
}

std::vector<nghttp2_nv> nv_of(const HeaderList& headers) {
  std::vector<nghttp2_nv> nv;
  for (const auto& [k, v] : headers) {
    nv.push_back({reinterpret_cast<std::uint8_t*>(const_cast<char*>(k.data())),
                  reinterpret_cast<std::uint8_t*>(const_cast<char*>(v.data())), k.size(), v.size(),
                  NGHTTP2_NV_FLAG_NONE});
  }
  return nv;
}

// ---------------------------------------------------------------------------- responder

struct StreamIn {
  HeaderList headers;
  std::string body;
  bool too_big = false;
  std::unique_ptr<Answer> answer;  // where the DATA provider reads from, once answered
};

class Http2Responder final : public Responder {
 public:
  explicit Http2Responder(const Context& ctx) : ctx_(ctx) {
    nghttp2_session_callbacks* cb = nullptr;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
    nghttp2_session_server_new(&session_, cb, this);
    nghttp2_session_callbacks_del(cb);
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, kMaxConcurrentStreams}};
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  }
  ~Http2Responder() override { nghttp2_session_del(session_); }
  Http2Responder(const Http2Responder&) = delete;
  Http2Responder& operator=(const Http2Responder&) = delete;

  Output feed(std::span<const std::byte> bytes) override {
    Output out;
    auto n = nghttp2_session_mem_recv(session_, reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                      bytes.size());
    if (n < 0) {
      // Not HTTP/2 (a bad preface) or a protocol violation: nghttp2 has queued a GOAWAY.
      out.close = true;
      out.rejected = n == NGHTTP2_ERR_BAD_CLIENT_MAGIC;
    }
    drain(out);
    return out;
  }

 private:
  static Http2Responder& self(void* user) { return *static_cast<Http2Responder*>(user); }

  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* f, void* user) {
    if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST) {
      self(user).streams_[f->hd.stream_id];
    }
    return 0;
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* f, const std::uint8_t* name,
                       std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                       std::uint8_t, void* user) {
    // Request trailers (gRPC clients send none) are not part of what is matched.
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    auto it = self(user).streams_.find(f->hd.stream_id);
    if (it == self(user).streams_.end()) return 0;
    it->second.headers.emplace_back(std::string(reinterpret_cast<const char*>(name), namelen),
                                    std::string(reinterpret_cast<const char*>(value), valuelen));
    return 0;
  }

  static int on_data(nghttp2_session*, std::uint8_t, std::int32_t id, const std::uint8_t* data,
                     std::size_t len, void* user) {
    auto it = self(user).streams_.find(id);
    if (it == self(user).streams_.end()) return 0;
    StreamIn& s = it->second;
    if (s.body.size() + len > kMaxRequestBody) {
      s.too_big = true;
    } else {
      s.body.append(reinterpret_cast<const char*>(data), len);
    }
    return 0;
  }

  static int on_frame(nghttp2_session*, const nghttp2_frame* f, void* user) {
    bool ends = (f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
                (f->hd.flags & NGHTTP2_FLAG_END_STREAM);
    if (ends) self(user).answer(f->hd.stream_id);
    return 0;
  }

  static int on_close(nghttp2_session*, std::int32_t id, std::uint32_t, void* user) {
    self(user).streams_.erase(id);
    return 0;
  }

  static ssize_t read_body(nghttp2_session* session, std::int32_t id, std::uint8_t* buf,
                           std::size_t len, std::uint32_t* flags, nghttp2_data_source* src, void*) {
    auto* a = static_cast<Answer*>(src->ptr);
    std::size_t n = std::min(len, a->body.size() - a->sent);
    std::memcpy(buf, a->body.data() + a->sent, n);
    a->sent += n;
    if (a->sent < a->body.size()) return static_cast<ssize_t>(n);
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (!a->trailers.empty()) {
      auto nv = nv_of(a->trailers);
      if (nghttp2_submit_trailer(session, id, nv.data(), nv.size()) == 0) {
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      }
    } else if (a->reset) {
      if (nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, *a->reset) == 0) {
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      }
    }
    return static_cast<ssize_t>(n);
  }

  void drain(Output& out) {
    for (;;) {
      const std::uint8_t* data = nullptr;
      auto n = nghttp2_session_mem_send(session_, &data);
      if (n <= 0) break;
      out.bytes.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    }
    if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) {
      out.close = true;  // GOAWAY exchanged, or a fatal error: nothing more to say
    }
  }

  void answer(std::int32_t id) {
    auto it = streams_.find(id);
    if (it == streams_.end() || it->second.answer) return;
    StreamIn& s = it->second;
    std::string_view content_type = header(s.headers, "content-type");
    Answer a =
        protocols::istarts_with(content_type, "application/grpc") ? grpc(s, content_type) : http(s);
    s.answer = std::make_unique<Answer>(std::move(a));
    auto nv = nv_of(s.answer->headers);
    nghttp2_data_provider provider{};
    provider.source.ptr = s.answer.get();
    provider.read_callback = read_body;
    nghttp2_submit_response(session_, id, nv.data(), nv.size(),
                            s.answer->has_body ? &provider : nullptr);
  }

  Answer grpc(StreamIn& s, std::string_view content_type) {
    GrpcLive live{std::string(header(s.headers, ":path")), {}, {}};
    std::string summary = short_summary("grpc " + live.path);
    auto miss = [&](int code, std::string message, std::string closest) {
      ctx_.pool->record_unmatched(
          {ctx_.pool->current_test(), MockKind::kGrpc, ctx_.server, summary, std::move(closest)});
      return grpc_status_answer(content_type, code, message);
    };
    if (s.too_big) {
      return miss(8, "reel: the request is larger than reel replays", "the request is too large");
    }
    std::string_view encoding = header(s.headers, "grpc-encoding");
    auto messages =
        testset::grpc_split_messages(s.body, encoding.empty() ? "identity" : encoding, "request");
    if (!messages) {
      return miss(13, "reel: cannot read the request: " + messages.error().message,
                  messages.error().message);
    }
    for (auto& m : *messages) live.messages.push_back(std::move(m.data));
    auto pick = ctx_.pool->pick(MockKind::kGrpc, ctx_.server,
                                [&](const testset::Mock& m) { return grpc_fit(m, live); });
    if (pick) return grpc_answer(*pick->mock);
    // 12 is UNIMPLEMENTED: no recorded call can say anything about this one.
    return miss(12, "reel: no recorded gRPC call for " + live.path, grpc_closest(*ctx_.pool, live));
  }

  Answer http(StreamIn& s) {
    std::string method(header(s.headers, ":method"));
    HttpLiveRequest live = http_live_request(method, header(s.headers, ":path"), s.body);
    auto pick = ctx_.pool->pick(MockKind::kHttp, ctx_.server, [&](const testset::Mock& m) {
      return unusable(m).empty() ? http_fit(m, live) : Fit::kNone;
    });
    if (pick) {
      const auto& resp = std::get<testset::HttpMockSpec>(pick->mock->spec).resp;
      return http_answer(method, resp.status_code, resp.header, resp.body);
    }
    std::string summary = short_summary("h2 " + method + " " + live.pq);
    ctx_.pool->record_unmatched({ctx_.pool->current_test(), MockKind::kHttp, ctx_.server, summary,
                                 http_closest(*ctx_.pool, live)});
    return http_answer(method, 502, {{"content-type", "text/plain"}},
                       "reel: no recorded answer for " + summary + "\n");
  }

  Context ctx_;
  nghttp2_session* session_ = nullptr;
  std::map<std::int32_t, StreamIn> streams_;
};

bool offers(const std::vector<std::string>& offered, std::string_view p) {
  return std::find(offered.begin(), offered.end(), p) != offered.end();
}

}  // namespace

std::unique_ptr<Responder> make_http2_responder(const Responder::Context& ctx) {
  return std::make_unique<Http2Responder>(ctx);
}

std::string grpc_wire_messages(std::vector<testset::GrpcMessage> messages,
                               std::string_view encoding) {
  if (auto framed = testset::grpc_frame_messages(messages, encoding)) return std::move(*framed);
  for (auto& m : messages) m.compressed = false;  // a client reads an uncompressed one as well
  return testset::grpc_frame_messages(messages, encoding).value_or(std::string());
}

std::string mock_alpn(const MockPool& pool, const Endpoint& server,
                      const std::vector<std::string>& offered) {
  bool h1 = offers(offered, "http/1.1");
  if (!offers(offered, "h2")) return h1 ? "http/1.1" : "";
  if (!h1) return "h2";  // the client speaks nothing else
  auto kinds = pool.kinds_for(server);
  auto has = [&](MockKind k) { return std::find(kinds.begin(), kinds.end(), k) != kinds.end(); };
  if (has(MockKind::kGrpc)) return "h2";
  if (kinds.empty()) return pool.all_of(MockKind::kGrpc).empty() ? "http/1.1" : "h2";
  for (const auto* m : pool.all_of(MockKind::kHttp)) {
    const auto* spec = std::get_if<testset::HttpMockSpec>(&m->spec);
    const std::string* at = meta(*m, kMetaServer);
    if (spec && spec->req.proto_major == 2 && at && parse_endpoint(*at) == server) return "h2";
  }
  return "http/1.1";
}

}  // namespace reel::mock
