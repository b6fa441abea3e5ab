// HTTP/2 and gRPC mocks. Replay: a real libnghttp2 client session drives the mock responder in
// memory. Record: the recorder is fed what a libnghttp2 client and a libnghttp2 server really
// said to each other.
#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <list>

#include "mock/protocols.h"
#include "mock_test_util.h"
#include "protocols/http2/grpc.h"
#include "record/self_check.h"
#include "tls/terminator.h"

namespace reel::mock {
namespace {

using namespace testing;
using HeaderList = std::vector<std::pair<std::string, std::string>>;
using testset::MockKind;

const Endpoint kServer = ep("127.0.0.1:50051");
constexpr std::string_view kHello = "/helloworld.Greeter/SayHello";
constexpr std::string_view kList = "/helloworld.Greeter/ListGreetings";

// ----------------------------------------------------------------------- protobuf and gRPC

std::string varint(std::uint64_t v) {
  std::string out;
  do {
    std::uint8_t b = v & 0x7f;
    v >>= 7;
    out.push_back(static_cast<char>(b | (v ? 0x80 : 0)));
  } while (v);
  return out;
}
std::string pb_str(int field, std::string_view s) {
  return varint(std::uint64_t(field) << 3 | 2) + varint(s.size()) + std::string(s);
}
std::string pb_int(int field, std::uint64_t v) {
  return varint(std::uint64_t(field) << 3) + varint(v);
}

std::string framed(std::string_view payload, bool compressed = false) {
  std::string out(5, '\0');
  out[0] = compressed;
  for (int i = 0; i < 4; ++i) out[1 + i] = static_cast<char>(payload.size() >> (24 - 8 * i));
  return out.append(payload);
}

struct Msg {
  bool compressed;
  std::string payload;
};
std::vector<Msg> split(std::string_view body) {
  std::vector<Msg> out;
  while (body.size() >= 5) {
    std::uint32_t len = 0;
    for (int i = 1; i < 5; ++i) len = len << 8 | std::uint8_t(body[i]);
    out.push_back({body[0] != 0, std::string(body.substr(5, len))});
    body.remove_prefix(std::min<std::size_t>(body.size(), 5 + len));
  }
  return out;
}

std::string find(const HeaderList& h, std::string_view name) {
  for (const auto& [k, v] : h) {
    if (k == name) return v;
  }
  return {};
}

HeaderList grpc_request_headers(std::string_view path, std::string_view encoding = {}) {
  HeaderList h = {{":method", "POST"},
                  {":scheme", "http"},
                  {":authority", "greeter:50051"},
                  {":path", std::string(path)},
                  {"content-type", "application/grpc"},
                  {"te", "trailers"}};
  if (!encoding.empty()) h.emplace_back("grpc-encoding", encoding);
  return h;
}

// ------------------------------------------------------------------ in-memory nghttp2 peers

std::vector<nghttp2_nv> nv_of(HeaderList& headers) {
  std::vector<nghttp2_nv> nv;
  for (auto& [k, v] : headers) {
    nv.push_back({reinterpret_cast<std::uint8_t*>(k.data()),
                  reinterpret_cast<std::uint8_t*>(v.data()), k.size(), v.size(),
                  NGHTTP2_NV_FLAG_NONE});
  }
  return nv;
}

struct Outgoing {
  std::string body;
  std::size_t sent = 0;
  HeaderList trailers;
};

ssize_t read_outgoing(nghttp2_session* session, std::int32_t id, std::uint8_t* buf, std::size_t len,
                      std::uint32_t* flags, nghttp2_data_source* src, void*) {
  auto* o = static_cast<Outgoing*>(src->ptr);
  std::size_t n = std::min(len, o->body.size() - o->sent);
  std::memcpy(buf, o->body.data() + o->sent, n);
  o->sent += n;
  if (o->sent == o->body.size()) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (!o->trailers.empty()) {
      auto nv = nv_of(o->trailers);
      nghttp2_submit_trailer(session, id, nv.data(), nv.size());
      *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    }
  }
  return static_cast<ssize_t>(n);
}

// One side of an HTTP/2 connection: a libnghttp2 session fed and drained in memory.
class Peer {
 public:
  struct Stream {
    HeaderList headers, trailers;
    std::string body;
    bool closed = false;
    std::uint32_t error = 0;
  };

  explicit Peer(bool server) {
    nghttp2_session_callbacks* cb = nullptr;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_header_callback(
        cb, [](nghttp2_session*, const nghttp2_frame* f, const std::uint8_t* n, std::size_t nl,
               const std::uint8_t* v, std::size_t vl, std::uint8_t, void* user) {
          auto& s = static_cast<Peer*>(user)->streams[f->hd.stream_id];
          bool first =
              f->headers.cat == NGHTTP2_HCAT_REQUEST || f->headers.cat == NGHTTP2_HCAT_RESPONSE;
          (first ? s.headers : s.trailers)
              .emplace_back(std::string(reinterpret_cast<const char*>(n), nl),
                            std::string(reinterpret_cast<const char*>(v), vl));
          return 0;
        });
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
        cb, [](nghttp2_session*, std::uint8_t, std::int32_t id, const std::uint8_t* d,
               std::size_t len, void* user) {
          static_cast<Peer*>(user)->streams[id].body.append(reinterpret_cast<const char*>(d), len);
          return 0;
        });
    nghttp2_session_callbacks_set_on_stream_close_callback(
        cb, [](nghttp2_session*, std::int32_t id, std::uint32_t error, void* user) {
          auto& s = static_cast<Peer*>(user)->streams[id];
          s.closed = true;
          s.error = error;
          return 0;
        });
    nghttp2_session_callbacks_set_on_frame_recv_callback(
        cb, [](nghttp2_session*, const nghttp2_frame* f, void* user) {
          auto* self = static_cast<Peer*>(user);
          if (f->hd.type == NGHTTP2_PING && (f->hd.flags & NGHTTP2_FLAG_ACK)) self->ping_acks++;
          bool ends = (f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
                      (f->hd.flags & NGHTTP2_FLAG_END_STREAM);
          if (ends && self->on_request) self->on_request(f->hd.stream_id);
          return 0;
        });
    if (server) {
      nghttp2_session_server_new(&session_, cb, this);
    } else {
      nghttp2_session_client_new(&session_, cb, this);
    }
    nghttp2_session_callbacks_del(cb);
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  ~Peer() { nghttp2_session_del(session_); }

  std::int32_t request(HeaderList headers, std::string body) {
    auto nv = nv_of(headers);
    nghttp2_data_provider p{};
    p.source.ptr = &out_.emplace_back(Outgoing{std::move(body), 0, {}});
    p.read_callback = read_outgoing;
    return nghttp2_submit_request(session_, nullptr, nv.data(), nv.size(), &p, nullptr);
  }

  // Server side: the answer to stream `id`.
  void respond(std::int32_t id, HeaderList headers, std::string body, HeaderList trailers) {
    auto nv = nv_of(headers);
    nghttp2_data_provider p{};
    p.source.ptr = &out_.emplace_back(Outgoing{std::move(body), 0, std::move(trailers)});
    p.read_callback = read_outgoing;
    nghttp2_submit_response(session_, id, nv.data(), nv.size(), &p);
  }

  void ping() { nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, nullptr); }

  std::string send() {
    std::string out;
    for (;;) {
      const std::uint8_t* data = nullptr;
      auto n = nghttp2_session_mem_send(session_, &data);
      if (n <= 0) break;
      out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    }
    return out;
  }
  void recv(std::string_view in) {
    if (in.empty()) return;
    auto n = nghttp2_session_mem_recv(session_, reinterpret_cast<const std::uint8_t*>(in.data()),
                                      in.size());
    ASSERT_EQ(n, static_cast<ssize_t>(in.size())) << nghttp2_strerror(static_cast<int>(n));
  }

  std::map<std::int32_t, Stream> streams;
  int ping_acks = 0;
  std::function<void(std::int32_t)> on_request;

 private:
  nghttp2_session* session_ = nullptr;
  std::list<Outgoing> out_;
};

// Runs a connection until the client has nothing more to say; returns what went each way, in
// order, as a recorder would see it.
using Talk = std::vector<std::pair<Direction, std::string>>;
Talk run(Peer& client, const std::function<std::string(std::string_view)>& server) {
  Talk talk;
  for (int round = 0; round < 100000; ++round) {
    std::string up = client.send();
    if (up.empty()) break;
    std::string down = server(up);
    talk.emplace_back(kUp, up);
    if (!down.empty()) talk.emplace_back(kDown, down);
    client.recv(down);
  }
  return talk;
}

Talk run(Peer& client, Responder& r) {
  return run(client, [&r](std::string_view in) { return r.feed(bytes(in)).bytes; });
}

// ------------------------------------------------------------------------------- mocks

testset::GrpcHeaders grpc_headers(const HeaderList& h) {
  testset::GrpcHeaders out;
  for (const auto& [k, v] : h) (k.starts_with(':') ? out.pseudo : out.ordinary)[k] = v;
  return out;
}

testset::Mock grpc_mock(std::string name, std::string_view path, std::vector<std::string> req,
                        std::vector<std::string> resp, std::string status = "0",
                        std::string_view encoding = {}) {
  testset::GrpcMockSpec spec;
  spec.req.headers = grpc_headers(grpc_request_headers(path));
  for (auto& m : req) spec.req.messages.push_back({false, std::uint32_t(m.size()), m});
  spec.resp.headers.pseudo = {{":status", "200"}};
  spec.resp.headers.ordinary = {{"content-type", "application/grpc"}};
  if (!encoding.empty()) spec.resp.headers.ordinary["grpc-encoding"] = encoding;
  for (auto& m : resp) spec.resp.messages.push_back({!encoding.empty(), 0, m});
  spec.resp.trailers.ordinary = {{"grpc-status", status}, {"grpc-message", ""}};
  testset::Mock m;
  m.name = std::move(name);
  m.kind = MockKind::kGrpc;
  m.kind_name = "gRPC";
  m.metadata = {{"type", "mocks"}, {"reel.server", kServer.to_string()}};
  m.spec = std::move(spec);
  return m;
}

testset::Mock http_mock(std::string name, std::string method, std::string url, int status,
                        std::string body) {
  testset::HttpMockSpec spec;
  spec.req.method = std::move(method);
  spec.req.proto_major = 2;
  spec.req.proto_minor = 0;
  spec.req.url = std::move(url);
  spec.resp.status_code = status;
  spec.resp.header = {{"Content-Type", "application/json"}, {"Connection", "keep-alive"}};
  spec.resp.body = std::move(body);
  testset::Mock m;
  m.name = std::move(name);
  m.kind = MockKind::kHttp;
  m.kind_name = "Http";
  m.metadata = {{"type", "mocks"}, {"reel.server", kServer.to_string()}};
  m.spec = std::move(spec);
  return m;
}

struct Replay {
  explicit Replay(std::vector<testset::Mock> mocks)
      : pool(std::move(mocks), {}),
        responder(Responder::create({&pool, ep("127.0.0.1:40000"), kServer})) {}
  MockPool pool;
  std::unique_ptr<Responder> responder;
  Peer client{false};

  // One unary call: its messages back, and the stream.
  const Peer::Stream& call(std::string_view path, std::vector<std::string> messages,
                           std::string_view encoding = {}) {
    std::string body;
    for (const auto& m : messages) body += framed(m);
    std::int32_t id = client.request(grpc_request_headers(path, encoding), body);
    run(client, *responder);
    return client.streams[id];
  }
};

std::vector<std::string> payloads(const Peer::Stream& s) {
  std::vector<std::string> out;
  for (auto& m : split(s.body)) out.push_back(m.payload);
  return out;
}

// ------------------------------------------------------------------------------ replay

TEST(MockHttp2, UnaryExactMatch) {
  Replay r({grpc_mock("mock-0", kHello, {pb_str(1, "Bob")}, {pb_str(1, "Hello Bob")}),
            grpc_mock("mock-1", kHello, {pb_str(1, "Alice")}, {pb_str(1, "Hello Alice")})});
  const auto& s = r.call(kHello, {pb_str(1, "Alice")});
  EXPECT_TRUE(s.closed);
  EXPECT_EQ(s.error, 0u);
  EXPECT_EQ(find(s.headers, ":status"), "200");
  EXPECT_EQ(find(s.headers, "content-type"), "application/grpc");
  EXPECT_EQ(payloads(s), std::vector<std::string>{pb_str(1, "Hello Alice")});
  EXPECT_EQ(find(s.trailers, "grpc-status"), "0");
  EXPECT_EQ(r.pool.stats().exact, 1u);
  EXPECT_TRUE(r.pool.take_unmatched().empty());
}

TEST(MockHttp2, StructuralMatchOnSameFields) {
  Replay r(
      {grpc_mock("mock-0", kHello, {pb_str(1, "Bob") + pb_int(2, 30)}, {pb_str(1, "Hello Bob")})});
  const auto& s = r.call(kHello, {pb_str(1, "Carol") + pb_int(2, 41)});
  EXPECT_EQ(payloads(s), std::vector<std::string>{pb_str(1, "Hello Bob")});
  EXPECT_EQ(r.pool.stats().structural, 1u);

  // Other fields, or another number of messages: not that call.
  const auto& other = r.call(kHello, {pb_int(3, 1)});
  EXPECT_EQ(find(other.headers, "grpc-status"), "12");
  const auto& two = r.call(kHello, {pb_str(1, "Bob") + pb_int(2, 30), pb_str(1, "Bob")});
  EXPECT_EQ(find(two.headers, "grpc-status"), "12");
  auto misses = r.pool.take_unmatched();
  ASSERT_EQ(misses.size(), 2u);
  EXPECT_EQ(misses[0].closest, "mock-0 (/helloworld.Greeter/SayHello: other message fields)");
  EXPECT_EQ(misses[1].closest,
            "mock-0 (/helloworld.Greeter/SayHello: 1 request messages recorded, 2 sent)");
}

TEST(MockHttp2, ServerStreamingSendsEveryMessageInOrder) {
  std::vector<std::string> answers = {pb_str(1, "one"), pb_str(1, "two"), pb_str(1, "three")};
  Replay r({grpc_mock("mock-0", kList, {pb_int(1, 3)}, answers)});
  const auto& s = r.call(kList, {pb_int(1, 3)});
  EXPECT_EQ(payloads(s), answers);
  EXPECT_EQ(find(s.trailers, "grpc-status"), "0");
}

TEST(MockHttp2, GzipBothWays) {
  std::string answer = pb_str(1, std::string(2000, 'a'));  // compresses well
  Replay r({grpc_mock("mock-0", kHello, {pb_str(1, "zipped")}, {answer}, "0", "gzip")});
  // The client compresses its request: matched on the decompressed message.
  std::string body = grpc_wire_messages({{true, 0, pb_str(1, "zipped")}}, "gzip");
  ASSERT_EQ(split(body).at(0).compressed, true);
  std::int32_t id = r.client.request(grpc_request_headers(kHello, "gzip"), body);
  run(r.client, *r.responder);
  const auto& s = r.client.streams[id];
  EXPECT_EQ(find(s.headers, "grpc-encoding"), "gzip");
  auto messages = split(s.body);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_TRUE(messages[0].compressed);
  EXPECT_LT(messages[0].payload.size(), answer.size());
  EXPECT_EQ(protocols::grpc::decompress(messages[0].payload, "gzip", 1 << 20), answer);
  EXPECT_EQ(r.pool.stats().exact, 1u);
}

TEST(MockHttp2, UnmatchedCallIsUnimplementedAndListed) {
  Replay r({grpc_mock("mock-0", kHello, {pb_str(1, "Bob")}, {pb_str(1, "Hello Bob")})});
  const auto& s = r.call("/helloworld.Greeter/SayGoodbye", {pb_str(1, "Bob")});
  EXPECT_TRUE(s.closed);
  EXPECT_EQ(find(s.headers, ":status"), "200");
  EXPECT_EQ(find(s.headers, "grpc-status"), "12");  // trailers-only
  EXPECT_EQ(find(s.headers, "grpc-message"),
            "reel: no recorded gRPC call for /helloworld.Greeter/SayGoodbye");
  EXPECT_TRUE(s.body.empty());
  EXPECT_TRUE(s.trailers.empty());
  auto misses = r.pool.take_unmatched();
  ASSERT_EQ(misses.size(), 1u);
  EXPECT_EQ(misses[0].kind, MockKind::kGrpc);
  EXPECT_EQ(misses[0].server, kServer);
  EXPECT_EQ(misses[0].summary, "grpc /helloworld.Greeter/SayGoodbye");
  EXPECT_EQ(misses[0].closest,
            "mock-0 (/helloworld.Greeter/SayHello: another method of the service)");
}

TEST(MockHttp2, RecordedStatusAndTrailersOnlyAnswer) {
  auto m = grpc_mock("mock-0", kHello, {pb_str(1, "nobody")}, {});
  auto& resp = std::get<testset::GrpcMockSpec>(m.spec).resp;
  resp.trailers = {};
  resp.headers.ordinary["grpc-status"] = "5";
  resp.headers.ordinary["grpc-message"] = "no such user";
  Replay r({m, grpc_mock("mock-1", kList, {}, {pb_str(1, "x")}, "7")});
  const auto& s = r.call(kHello, {pb_str(1, "nobody")});
  EXPECT_EQ(find(s.headers, "grpc-status"), "5");
  EXPECT_EQ(find(s.headers, "grpc-message"), "no such user");
  EXPECT_TRUE(s.trailers.empty());
  const auto& denied = r.call(kList, {});
  EXPECT_EQ(payloads(denied), std::vector<std::string>{pb_str(1, "x")});
  EXPECT_EQ(find(denied.trailers, "grpc-status"), "7");
}

TEST(MockHttp2, HundredConcurrentStreamsOnOneConnection) {
  std::vector<testset::Mock> mocks;
  for (int i = 0; i < 100; ++i) {
    mocks.push_back(grpc_mock("mock-" + std::to_string(i), kHello, {pb_int(1, i)},
                              {pb_str(1, "answer " + std::to_string(i))}));
  }
  Replay r(std::move(mocks));
  std::map<std::int32_t, int> ids;
  for (int i = 99; i >= 0; --i) {
    ids[r.client.request(grpc_request_headers(kHello), framed(pb_int(1, i)))] = i;
  }
  run(r.client, *r.responder);
  for (const auto& [id, i] : ids) {
    const auto& s = r.client.streams[id];
    EXPECT_TRUE(s.closed) << i;
    EXPECT_EQ(payloads(s), std::vector<std::string>{pb_str(1, "answer " + std::to_string(i))}) << i;
    EXPECT_EQ(find(s.trailers, "grpc-status"), "0") << i;
  }
  EXPECT_EQ(r.pool.stats().exact, 100u);
}

TEST(MockHttp2, LargeAnswerWaitsForTheFlowControlWindow) {
  std::string big(1024 * 1024, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 % 251);
  std::string message = pb_str(1, big);
  Replay r({grpc_mock("mock-0", kHello, {pb_str(1, "big")}, {message})});
  std::int32_t id = r.client.request(grpc_request_headers(kHello), framed(pb_str(1, "big")));
  Talk talk = run(r.client, *r.responder);
  const auto& s = r.client.streams[id];
  EXPECT_EQ(payloads(s), std::vector<std::string>{message});
  EXPECT_EQ(find(s.trailers, "grpc-status"), "0");
  // The client's window is 65535 bytes: the answer came in many turns, none past the window.
  std::size_t turns = 0, largest = 0;
  for (const auto& [dir, data] : talk) {
    if (dir != kDown) continue;
    turns++;
    largest = std::max(largest, data.size());
  }
  EXPECT_GT(turns, 10u);
  EXPECT_LT(largest, 70'000u);
}

TEST(MockHttp2, PingAndSettingsAreAnswered) {
  Replay r({grpc_mock("mock-0", kHello, {pb_str(1, "Bob")}, {pb_str(1, "Hello Bob")})});
  r.client.ping();
  run(r.client, *r.responder);
  EXPECT_EQ(r.client.ping_acks, 1);
  EXPECT_TRUE(r.pool.take_unmatched().empty());
  EXPECT_EQ(r.pool.stats().exact + r.pool.stats().structural, 0u);
}

TEST(MockHttp2, PlainGetAnsweredFromAnHttpMock) {
  Replay r({http_mock("mock-0", "GET", "http://api:8080/v1/rates?cur=EUR", 200, R"({"r":1.5})")});
  HeaderList get = {{":method", "GET"},
                    {":scheme", "http"},
                    {":authority", "api:8080"},
                    {":path", "/v1/rates?cur=EUR"}};
  std::int32_t id = r.client.request(get, "");
  get[3].second = "/v1/other";
  std::int32_t miss = r.client.request(get, "");
  run(r.client, *r.responder);
  const auto& s = r.client.streams[id];
  EXPECT_EQ(find(s.headers, ":status"), "200");
  EXPECT_EQ(find(s.headers, "content-type"), "application/json");
  EXPECT_EQ(find(s.headers, "connection"), "");  // not allowed in HTTP/2
  EXPECT_EQ(s.body, R"({"r":1.5})");
  const auto& m = r.client.streams[miss];
  EXPECT_EQ(find(m.headers, ":status"), "502");
  EXPECT_EQ(m.body, "reel: no recorded answer for h2 GET /v1/other\n");
  auto misses = r.pool.take_unmatched();
  ASSERT_EQ(misses.size(), 1u);
  EXPECT_EQ(misses[0].kind, MockKind::kHttp);
}

TEST(MockHttp2, HttpMocksStillAnswerHttp1) {
  Replay r({http_mock("mock-0", "GET", "http://api:8080/v1/rates", 200, "{}")});
  auto out = r.responder->feed(bytes("GET /v1/rates HTTP/1.1\r\nHost: api\r\n\r\n"));
  EXPECT_TRUE(out.bytes.starts_with("HTTP/1.1 200 OK\r\n")) << out.bytes;
}

TEST(MockHttp2, ClientPrefaceChoosesHttp2WhereNoMockNamesTheServer) {
  auto m = grpc_mock("mock-0", kHello, {pb_str(1, "Bob")}, {pb_str(1, "Hello Bob")});
  m.metadata.erase("reel.server");  // Keploy's mocks name no server
  Replay r({m});
  const auto& s = r.call(kHello, {pb_str(1, "Bob")});
  EXPECT_EQ(payloads(s), std::vector<std::string>{pb_str(1, "Hello Bob")});
}

TEST(MockHttp2, GarbageIsRejected) {
  Replay r({grpc_mock("mock-0", kHello, {}, {})});
  // The preface, then DATA where the client's SETTINGS must come: a connection error.
  std::string wire = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  wire += std::string("\0\0\x02\0\x01\0\0\0\x01zz", 11);
  auto out = r.responder->feed(bytes(wire));
  EXPECT_TRUE(out.close);
}

TEST(MockHttp2, AlpnFollowsTheMocks) {
  MockPool grpc({grpc_mock("mock-0", kHello, {}, {})}, {});
  auto h1_mock = http_mock("mock-0", "GET", "http://a/", 200, "");
  std::get<testset::HttpMockSpec>(h1_mock.spec).req.proto_major = 1;
  MockPool h1({h1_mock}, {});
  MockPool h2({http_mock("mock-0", "GET", "http://a/", 200, "")}, {});
  std::vector<std::string> both = {"h2", "http/1.1"};
  EXPECT_EQ(mock_alpn(grpc, kServer, both), "h2");
  EXPECT_EQ(mock_alpn(h2, kServer, both), "h2");
  EXPECT_EQ(mock_alpn(h1, kServer, both), "http/1.1");
  EXPECT_EQ(mock_alpn(grpc, ep("127.0.0.9:443"), both), "h2");  // unknown server, gRPC recorded
  EXPECT_EQ(mock_alpn(h1, ep("127.0.0.9:443"), both), "http/1.1");
  EXPECT_EQ(mock_alpn(grpc, kServer, {"http/1.1"}), "http/1.1");
  EXPECT_EQ(mock_alpn(h1, kServer, {"h2"}), "h2");  // all the client speaks
  EXPECT_EQ(mock_alpn(h1, kServer, {}), "");
}

// What a TLS client offering `offered` gets selected by a Terminator (a real handshake over a
// socketpair); nullopt when the handshake fails.
std::optional<std::string> terminator_alpn(tls::Terminator& t, const std::string& offered) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return std::nullopt;
  UniqueFd app(pair[0]);
  auto plain = t.take(UniqueFd(pair[1]), kServer);
  if (!plain) return std::nullopt;
  tls::SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  tls::SslPtr ssl(SSL_new(ctx.get()));
  SSL_set_fd(ssl.get(), app.get());
  SSL_set_tlsext_host_name(ssl.get(), "greeter");
  SSL_set_alpn_protos(ssl.get(), reinterpret_cast<const unsigned char*>(offered.data()),
                      unsigned(offered.size()));
  if (SSL_connect(ssl.get()) != 1) return std::nullopt;
  const unsigned char* chosen = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(ssl.get(), &chosen, &len);
  return std::string(reinterpret_cast<const char*>(chosen), len);
}

TEST(MockHttp2, TlsTerminatorSelectsH2ForGrpcMocks) {
  char tmpl[] = "/tmp/reel-h2-alpn-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::filesystem::path root = tmpl;
  {
    auto ca = tls::CertAuthority::open(root / "ca");
    ASSERT_TRUE(ca) << ca.error().message;
    MockPool pool({grpc_mock("mock-0", kHello, {}, {})}, {});
    tls::Terminator with_mocks(**ca, [&pool](const Endpoint& server, const auto& offered) {
      return mock_alpn(pool, server, offered);
    });
    tls::Terminator plain(**ca);
    std::string both("\x02h2\x08http/1.1", 12);
    EXPECT_EQ(terminator_alpn(with_mocks, both), "h2");
    EXPECT_EQ(terminator_alpn(plain, both), "http/1.1");
    with_mocks.stop();
    plain.stop();
  }
  std::filesystem::remove_all(root);
}

// ------------------------------------------------------------------------------ record

// A real server: answers each request with `answer(headers, body)` once it has ended.
struct Answer {
  HeaderList headers;
  std::string body;
  HeaderList trailers;
};

Talk talk_to_server(Peer& client, const std::function<Answer(const Peer::Stream&)>& answer) {
  Peer server(true);
  server.on_request = [&](std::int32_t id) {
    Answer a = answer(server.streams[id]);
    server.respond(id, a.headers, a.body, a.trailers);
  };
  return run(client, [&](std::string_view in) {
    server.recv(in);
    return server.send();
  });
}

// Greeter: SayHello answers one message, ListGreetings three; anything else is a JSON GET.
Answer greeter(const Peer::Stream& s) {
  std::string path = find(s.headers, ":path");
  if (find(s.headers, "content-type") != "application/grpc") {
    return {{{":status", "200"}, {"content-type", "application/json"}}, R"({"ok":true})", {}};
  }
  std::string name = split(s.body).at(0).payload.substr(2);
  Answer a{{{":status", "200"}, {"content-type", "application/grpc"}}, {}, {{"grpc-status", "0"}}};
  int n = path == kList ? 3 : 1;
  for (int i = 0; i < n; ++i) a.body += framed(pb_str(1, "Hello " + name + std::to_string(i)));
  return a;
}

std::vector<RecordedCall> record_talk(const Talk& talk, RecordOptions o = {},
                                      std::size_t piece = 0) {
  auto r = CallRecorder::create(ep("127.0.0.1:40000"), kServer, o);
  std::uint64_t t = 1'000'000;
  for (const auto& [dir, data] : talk) {
    std::size_t step = piece ? piece : data.size();
    for (std::size_t at = 0; at < data.size(); at += step) {
      r->data(dir, bytes(std::string_view(data).substr(at, step)), t += 1000);
    }
  }
  r->close(false, t + 1000);
  EXPECT_EQ(r->protocol(), protocols::Protocol::kHttp2);
  EXPECT_EQ(r->invalid_frames(), 0u);
  return r->take();
}

Talk greeter_talk() {
  Peer client(false);
  client.request(grpc_request_headers(kHello), framed(pb_str(1, "Ann")));
  client.request(grpc_request_headers(kList), framed(pb_str(1, "Ben")));
  client.request(
      {{":method", "GET"}, {":scheme", "http"}, {":authority", "api"}, {":path", "/v1/x"}}, "");
  client.ping();
  return talk_to_server(client, greeter);
}

const testset::GrpcMockSpec& grpc(const RecordedCall& c) {
  return std::get<testset::GrpcMockSpec>(c.mock.spec);
}

TEST(MockHttp2Record, StreamsBecomeGrpcAndHttpMocks) {
  auto calls = record_talk(greeter_talk());
  ASSERT_EQ(calls.size(), 3u);  // SETTINGS, PING and WINDOW_UPDATE are no calls
  std::map<std::string, const RecordedCall*> by;
  for (const auto& c : calls) by[c.summary] = &c;
  ASSERT_TRUE(by.contains("grpc /helloworld.Greeter/SayHello"));
  ASSERT_TRUE(by.contains("grpc /helloworld.Greeter/ListGreetings"));
  ASSERT_TRUE(by.contains("h2 GET /v1/x"));

  const auto& hello = *by["grpc /helloworld.Greeter/SayHello"];
  EXPECT_EQ(hello.mock.kind, MockKind::kGrpc);
  EXPECT_EQ(hello.mock.metadata.at("reel.protocol"), "http2");
  EXPECT_EQ(hello.mock.metadata.at("reel.server"), kServer.to_string());
  EXPECT_EQ(hello.mock.metadata.at("type"), "mocks");
  EXPECT_FALSE(hello.mock.metadata.contains("reel.truncated"));
  EXPECT_EQ(grpc(hello).req.headers.pseudo.at(":path"), kHello);
  ASSERT_EQ(grpc(hello).req.messages.size(), 1u);
  EXPECT_EQ(grpc(hello).req.messages[0].data, pb_str(1, "Ann"));
  ASSERT_EQ(grpc(hello).resp.messages.size(), 1u);
  EXPECT_EQ(grpc(hello).resp.messages[0].data, pb_str(1, "Hello Ann0"));
  EXPECT_EQ(grpc(hello).resp.trailers.ordinary.at("grpc-status"), "0");
  EXPECT_GT(hello.response_ns, hello.request_ns);

  EXPECT_EQ(grpc(*by["grpc /helloworld.Greeter/ListGreetings"]).resp.messages.size(), 3u);

  const auto& get = *by["h2 GET /v1/x"];
  ASSERT_EQ(get.mock.kind, MockKind::kHttp);
  const auto& spec = std::get<testset::HttpMockSpec>(get.mock.spec);
  EXPECT_EQ(spec.req.proto_major, 2);
  EXPECT_EQ(spec.req.url, "http://api/v1/x");
  EXPECT_EQ(spec.resp.status_code, 200);
  EXPECT_EQ(spec.resp.body, R"({"ok":true})");
}

TEST(MockHttp2Record, SmallPiecesRecordTheSame) {
  Talk talk = greeter_talk();
  auto whole = mocks_of(record_talk(talk));
  auto pieces = mocks_of(record_talk(talk, {}, 7));
  ASSERT_EQ(whole.size(), pieces.size());
  auto untimed = [](testset::Mock m) {  // pieces arrive at other times
    if (auto* g = std::get_if<testset::GrpcMockSpec>(&m.spec))
      g->req.timestamp = g->resp.timestamp = {};
    if (auto* h = std::get_if<testset::HttpMockSpec>(&m.spec)) {
      h->req.timestamp = h->resp.timestamp = {};
      h->created = 0;
    }
    return m.spec;
  };
  for (std::size_t i = 0; i < whole.size(); ++i) {
    EXPECT_TRUE(untimed(whole[i]) == untimed(pieces[i])) << i;
  }
}

TEST(MockHttp2Record, RecordedCallsReplayAndSelfCheck) {
  auto mocks = mocks_of(record_talk(greeter_talk()));
  for (std::size_t i = 0; i < mocks.size(); ++i) mocks[i].name = "mock-" + std::to_string(i);
  Replay r(mocks);
  const auto& s = r.call(kList, {pb_str(1, "Ben")});
  EXPECT_EQ(payloads(s), (std::vector<std::string>{pb_str(1, "Hello Ben0"), pb_str(1, "Hello Ben1"),
                                                   pb_str(1, "Hello Ben2")}));
  EXPECT_EQ(r.pool.stats().exact, 1u);

  auto report = record::check_mocks(mocks);
  EXPECT_EQ(report.replayed, 3u);
  EXPECT_EQ(report.skipped, 0u);
  EXPECT_TRUE(report.problems.empty()) << report.problems.front().what;
}

TEST(MockHttp2Record, CutStreamIsKeptButNeverReplayed) {
  Peer client(false);
  client.request(grpc_request_headers(kHello), framed(pb_str(1, "Ann")));
  Talk talk = talk_to_server(client, [](const Peer::Stream&) {
    return Answer{{{":status", "200"}, {"content-type", "application/grpc"}},
                  framed(pb_str(1, std::string(5000, 'x'))),
                  {{"grpc-status", "0"}}};
  });
  RecordOptions small;
  small.max_message = 1000;
  auto calls = record_talk(talk, small);
  ASSERT_EQ(calls.size(), 1u);
  const auto& m = calls[0].mock;
  EXPECT_EQ(m.kind, MockKind::kGrpc);
  EXPECT_EQ(m.metadata.at("reel.truncated"), "true");
  EXPECT_NE(m.metadata.at("reel.problem").find("cut"), std::string::npos);
  EXPECT_EQ(grpc(calls[0]).req.messages.at(0).data, pb_str(1, "Ann"));

  auto mock = m;
  mock.name = "mock-0";
  Replay r({mock});
  const auto& s = r.call(kHello, {pb_str(1, "Ann")});
  EXPECT_EQ(find(s.headers, "grpc-status"), "12");
  auto misses = r.pool.take_unmatched();
  ASSERT_EQ(misses.size(), 1u);
  EXPECT_NE(misses[0].closest.find("recorded cut short"), std::string::npos);
  EXPECT_EQ(record::check_mocks({mock}).skipped, 1u);
}

TEST(MockHttp2Record, UnansweredStreamIsMarked) {
  Peer client(false);
  client.request(grpc_request_headers(kHello), framed(pb_str(1, "Ann")));
  // The server reads but never answers before the connection ends.
  Peer server(true);
  Talk talk = run(client, [&](std::string_view in) {
    server.recv(in);
    return server.send();
  });
  auto calls = record_talk(talk);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].mock.metadata.at("reel.unanswered"), "true");
}

}  // namespace
}  // namespace reel::mock
