#include "record/self_check.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <nghttp2/nghttp2.h>

#include "mock/sql_text.h"
#include "mock/mock.h"
#include "mock/protocols.h"
#include "mock/postgres_wire.h"
#include "protocols/decoder.h"
#include "protocols/postgres/conversation.h"
#include "protocols/text.h"
#include "replay/http_client.h"
#include "testset/convert.h"
#include "testset/reader.h"
#include "testset/yaml_value.h"

namespace reel::record {

namespace {

using testset::Mock;
using testset::MockKind;

// The question of a DNS mock as a client would send it.
std::string dns_query(const testset::DnsMockSpec& spec) {
  std::string q("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
  std::string_view name = spec.name;
  while (!name.empty() && name != ".") {
    std::size_t dot = std::min(name.find('.'), name.size());
    q.push_back(static_cast<char>(std::min<std::size_t>(dot, 63)));
    q.append(name.substr(0, std::min<std::size_t>(dot, 63)));
    name.remove_prefix(std::min(dot + 1, name.size()));
  }
  q.push_back('\0');
  for (std::uint16_t v : {spec.qtype, spec.qclass}) {
    q.push_back(static_cast<char>(v >> 8));
    q.push_back(static_cast<char>(v & 0xff));
  }
  return q;
}

// A gRPC call's client side as a fresh HTTP/2 connection sends it (libnghttp2 client session):
// preface, SETTINGS opening the windows wide (so the whole answer comes back at once), HEADERS
// and the request messages.
std::string grpc_client_bytes(const testset::GrpcRequest& req) {
  nghttp2_session_callbacks* cb = nullptr;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session* session = nullptr;
  nghttp2_session_client_new(&session, cb, nullptr);
  nghttp2_session_callbacks_del(cb);
  nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, (1u << 31) - 1}};
  nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, settings, 1);
  nghttp2_session_set_local_window_size(session, NGHTTP2_FLAG_NONE, 0, (1 << 30));

  std::vector<std::pair<std::string, std::string>> headers;
  // Pseudo-headers first, as HTTP/2 wants them; a recording without one gets the usual value.
  static constexpr std::pair<std::string_view, std::string_view> kPseudo[] = {
      {":method", "POST"}, {":scheme", "http"}, {":authority", ""}, {":path", "/"}};
  for (auto [name, fallback] : kPseudo) {
    auto it = req.headers.pseudo.find(std::string(name));
    std::string value = it != req.headers.pseudo.end() ? it->second : std::string(fallback);
    if (!value.empty()) headers.emplace_back(name, value);
  }
  for (const auto& [name, value] : req.headers.ordinary) {
    // Fields HTTP/2 forbids (a server resets the stream) and the length nghttp2 works out.
    static constexpr std::string_view kSkip[] = {
        "content-length",    "connection", "keep-alive", "proxy-connection",
        "transfer-encoding", "upgrade",    "host"};
    if (std::ranges::count(kSkip, std::string_view(name)) || (name == "te" && value != "trailers"))
      continue;
    headers.emplace_back(name, value);
  }
  std::vector<nghttp2_nv> nv;
  for (auto& [k, v] : headers) {
    nv.push_back({reinterpret_cast<std::uint8_t*>(k.data()),
                  reinterpret_cast<std::uint8_t*>(v.data()), k.size(), v.size(),
                  NGHTTP2_NV_FLAG_NONE});
  }
  auto enc = req.headers.ordinary.find("grpc-encoding");
  struct Body {
    std::string bytes;
    std::size_t sent = 0;
  } body{mock::grpc_wire_messages(req.messages,
                                  enc == req.headers.ordinary.end() ? "identity" : enc->second)};
  nghttp2_data_provider provider{};
  provider.source.ptr = &body;
  provider.read_callback = [](nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t len,
                              std::uint32_t* flags, nghttp2_data_source* src, void*) -> ssize_t {
    auto* b = static_cast<Body*>(src->ptr);
    std::size_t n = std::min(len, b->bytes.size() - b->sent);
    std::memcpy(buf, b->bytes.data() + b->sent, n);
    b->sent += n;
    if (b->sent == b->bytes.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  };
  nghttp2_submit_request(session, nullptr, nv.data(), nv.size(), &provider, nullptr);
  std::string out;
  for (;;) {
    const std::uint8_t* data = nullptr;
    auto n = nghttp2_session_mem_send(session, &data);
    if (n <= 0) break;
    out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
  }
  nghttp2_session_del(session);
  return out;
}

// What came back for a replayed gRPC call, read by reel's own HTTP/2 decoder and held against
// the recording: empty when it is the recorded answer.
std::string grpc_answer_problem(const testset::GrpcMockSpec& recorded, std::string_view sent,
                                std::string_view answer) {
  protocols::DecoderOptions o;
  o.limits.max_body = testset::kMaxGrpcMessage;
  o.limits.max_frame = testset::kMaxGrpcMessage;
  auto decoder = protocols::make_decoder(protocols::Protocol::kHttp2, o);
  auto no_time = [](std::size_t) { return std::uint64_t{1}; };
  decoder->feed(protocols::MessageType::kRequest, protocols::as_bytes(sent), no_time);
  decoder->feed(protocols::MessageType::kResponse, protocols::as_bytes(answer), no_time);
  std::vector<protocols::Exchange> out;
  decoder->take_exchanges(out, true);
  if (out.size() != 1 || !out[0].has_response) return "it was not answered";
  auto call = testset::grpc_call_from_exchange(out[0], {});
  if (!call) return "its answer does not read back: " + call.error().message;
  const auto& want = recorded.resp;
  if (testset::grpc_status(call->resp) != testset::grpc_status(want)) {
    return fmt::format("replayed with grpc-status {} instead of {}",
                       testset::grpc_status(call->resp), testset::grpc_status(want));
  }
  if (call->resp.messages.size() != want.messages.size()) {
    return fmt::format("replayed with {} messages instead of {}", call->resp.messages.size(),
                       want.messages.size());
  }
  for (std::size_t i = 0; i < want.messages.size(); ++i) {
    if (call->resp.messages[i].data != want.messages[i].data) {
      return fmt::format("message {} of the answer comes back different", i + 1);
    }
  }
  return "";
}

// The bytes of each request (or response) segment as they crossed the wire; nullopt when the
// mock keeps no payload (Keploy's decoded form) or is not a byte-stream kind.
std::optional<std::vector<std::string>> segments(const Mock& m, bool requests) {
  std::vector<std::string> out;
  if (const auto* p = std::get_if<testset::PacketMockSpec>(&m.spec)) {
    for (const auto& v : requests ? p->requests : p->responses) {
      const testset::Value* payload = v.find("payload");
      std::string bytes;
      if (!payload || !payload->is_scalar() || !testset::base64_decode(payload->text, bytes))
        return std::nullopt;
      out.push_back(std::move(bytes));
    }
    return out;
  }
  if (const auto* p = std::get_if<testset::PayloadMockSpec>(&m.spec)) {
    for (const auto& payload : requests ? p->requests : p->responses) {
      std::string bytes;
      for (const auto& chunk : payload.message) bytes += chunk.data;
      out.push_back(std::move(bytes));
    }
    return out;
  }
  if (const auto* d = std::get_if<testset::DnsMockSpec>(&m.spec); d && requests) {
    out.push_back(dns_query(*d));
    return out;
  }
  if (const auto* g = std::get_if<testset::GrpcMockSpec>(&m.spec); g && requests) {
    out.push_back(grpc_client_bytes(g->req));
    return out;
  }
  if (const auto* h = std::get_if<testset::HttpMockSpec>(&m.spec); h && requests) {
    std::string bytes = h->req.method + " " + replay::request_target(h->req.url) + " HTTP/1.1\r\n";
    for (const auto& [name, value] : h->req.header) {
      if (protocols::iequals(name, "Content-Length") || protocols::iequals(name, "Transfer-Encoding"))
        continue;
      bytes += name + ": " + value + "\r\n";
    }
    bytes += fmt::format("Content-Length: {}\r\n\r\n", h->req.body.size()) + h->req.body;
    out.push_back(std::move(bytes));
    return out;
  }
  return std::nullopt;
}

std::string meta(const Mock& m, std::string_view key) {
  auto it = m.metadata.find(std::string(key));
  return it == m.metadata.end() ? std::string() : it->second;
}

std::string describe(const Mock& m) {
  std::string what = std::string(testset::mock_kind_name(m.kind));
  if (std::string server = meta(m, mock::kMetaServer); !server.empty()) what += " " + server;
  if (const auto* p = std::get_if<testset::PacketMockSpec>(&m.spec); p && !p->requests.empty()) {
    if (const auto* q = p->requests.front().find("query"); q && q->is_mapping()) {
      if (const auto* s = q->find("string"); s && s->is_scalar()) return what + " " + mock::one_line(s->text);
    }
  }
  if (const auto* h = std::get_if<testset::HttpMockSpec>(&m.spec)) {
    return what + " " + h->req.method + " " + replay::request_target(h->req.url);
  }
  if (const auto* g = std::get_if<testset::GrpcMockSpec>(&m.spec)) {
    auto path = g->req.headers.pseudo.find(":path");
    return path == g->req.headers.pseudo.end() ? what : what + " " + path->second;
  }
  if (auto req = segments(m, true); req && !req->empty()) {
    // No SQL (a Bind of a statement prepared elsewhere): its message types, not its bytes.
    std::vector<mock::pg::Message> msgs;
    if (m.kind == MockKind::kPostgres && mock::pg::split(req->front(), true, msgs))
      return what + " [" + mock::pg::tags(msgs) + "]";
    return what + " " + mock::one_line(protocols::render_value(req->front().substr(0, 60), 130));
  }
  return what;
}

// The pairing model's word on a PostgreSQL call: empty when the answer fits the request.
std::string postgres_pairing(const Mock& m, const std::vector<std::string>& req) {
  auto resp = segments(m, false);
  if (!resp || req.size() != 1 || resp->size() != 1) return "";  // COPY, start-up
  std::vector<mock::pg::Message> client, server;
  if (!mock::pg::split(req.front(), true, client) || !mock::pg::split(resp->front(), false, server))
    return "its messages do not parse";
  std::string c, s;
  for (const auto& msg : client) {
    if (msg.tag == protocols::postgres::kUntyped) return "";  // start-up: not a request/answer
    c.push_back(msg.tag);
  }
  for (const auto& msg : server) s.push_back(msg.tag);
  std::string problem = protocols::postgres::answer_problem(c, s);
  return problem.empty() ? "" : "paired wrong: " + problem;
}

bool same_call(const Mock& a, const Mock& b) {
  if (a.name == b.name) return true;  // the pool holds copies: names are unique in a set
  if (a.kind != b.kind) return false;
  if (const auto* h = std::get_if<testset::HttpMockSpec>(&a.spec)) {
    const auto* g = std::get_if<testset::HttpMockSpec>(&b.spec);
    return g && h->resp.status_code == g->resp.status_code && h->resp.body == g->resp.body;
  }
  if (const auto* g = std::get_if<testset::GrpcMockSpec>(&a.spec)) {
    const auto* h = std::get_if<testset::GrpcMockSpec>(&b.spec);
    return h && g->resp == h->resp;
  }
  if (const auto* d = std::get_if<testset::DnsMockSpec>(&a.spec)) {
    const auto* e = std::get_if<testset::DnsMockSpec>(&b.spec);
    return e && d->answers == e->answers && d->rcode == e->rcode;
  }
  return segments(a, false) == segments(b, false);
}

bool replayable(MockKind k) {
  return k == MockKind::kPostgres || k == MockKind::kMySql || k == MockKind::kRedis ||
         k == MockKind::kGeneric || k == MockKind::kHttp || k == MockKind::kDns ||
         k == MockKind::kGrpc;
}

}  // namespace

CheckReport check_mocks(const std::vector<Mock>& mocks) {
  CheckReport report;
  mock::MockPool pool(mocks, {});
  pool.keep_picks();
  auto problem = [&](const Mock& m, std::string what) {
    report.problems.push_back({m.name, meta(m, mock::kMetaTest), describe(m), std::move(what)});
  };
  // One replayed connection per recorded one, its calls in recorded order, each with the bytes
  // its requests sent.
  struct Call {
    const Mock* mock;
    std::vector<std::string> requests;
  };
  std::map<std::pair<std::string, std::string>, std::vector<Call>> connections;
  std::vector<std::vector<Call>> singles;  // HTTP, DNS: each call on a connection of its own
  for (const Mock& m : mocks) {
    if (std::string why = meta(m, mock::kMetaUnreplayable); !why.empty()) {
      problem(m, why);
      continue;
    }
    auto requests = replayable(m.kind) && meta(m, "reel.unanswered") != "true" &&
                            meta(m, "reel.truncated") != "true"
                        ? segments(m, true)
                        : std::nullopt;
    if (!requests) {
      report.skipped++;
      continue;
    }
    if (m.kind == MockKind::kPostgres) {
      if (std::string why = postgres_pairing(m, *requests); !why.empty()) {
        problem(m, why);
        continue;
      }
    }
    Call call{&m, std::move(*requests)};
    if (m.kind == MockKind::kHttp || m.kind == MockKind::kDns || m.kind == MockKind::kGrpc ||
        m.connection_id.empty()) {
      singles.push_back({std::move(call)});
    } else {
      connections[{meta(m, mock::kMetaServer), m.connection_id}].push_back(std::move(call));
    }
  }
  for (auto& [key, calls] : connections) singles.push_back(std::move(calls));

  // About 4e8 ratings (seconds here): every call of a 20,000-call recording, fewer past that.
  const std::size_t budget = std::max<std::size_t>(2000, 400'000'000 / std::max<std::size_t>(1, mocks.size()));
  std::size_t spent = 0;
  for (const auto& calls : singles) {
    if (spent >= budget) {
      report.over_budget += calls.size();
      continue;
    }
    spent += calls.size();
    auto server = parse_endpoint(meta(*calls.front().mock, mock::kMetaServer));
    mock::Responder::Context ctx{&pool, *parse_endpoint("127.0.0.1:1"),
                                 server ? *server : *parse_endpoint("127.0.0.1:2")};
    auto responder = mock::Responder::create(ctx);
    (void)responder->greeting();
    bool closed = false;
    for (const auto& [m, requests] : calls) {
      if (closed) {
        problem(*m, "the replayed connection was closed before this call");
        continue;
      }
      pool.begin_test(meta(*m, mock::kMetaTest));
      (void)pool.take_picks();
      (void)pool.take_unmatched();
      std::string answer;
      for (const std::string& seg : requests) {
        if (m->kind == MockKind::kDns) {
          (void)mock::dns_answer(pool, protocols::as_bytes(seg), ctx.client, ctx.server);
          continue;
        }
        auto out = responder->feed(protocols::as_bytes(seg));
        closed = closed || out.close;
        if (m->kind == MockKind::kGrpc) answer += out.bytes;
      }
      auto picks = pool.take_picks();
      auto misses = pool.take_unmatched();
      bool self = std::any_of(picks.begin(), picks.end(),
                              [&](const Mock* p) { return same_call(*p, *m); });
      const auto* grpc = std::get_if<testset::GrpcMockSpec>(&m->spec);
      std::string wrong = self && grpc ? grpc_answer_problem(*grpc, requests.front(), answer) : "";
      if (!wrong.empty()) {
        problem(*m, wrong);
      } else if (self) {
        report.replayed++;
      } else if (!misses.empty()) {
        problem(*m, "its request matches no recorded call (" + misses.front().summary + ")");
      } else if (!picks.empty()) {
        problem(*m, "answered by " + picks.front()->name + " instead, which answers differently");
      } else {
        report.by_protocol++;  // the responder answers it itself: start-up, a lone Sync
      }
    }
  }
  pool.begin_test("");
  return report;
}

Result<CheckReport> check_test_set(const std::filesystem::path& dir) {
  auto set = REEL_TRY(testset::load_test_set(dir));
  return check_mocks(set.mocks);
}

}  // namespace reel::record
