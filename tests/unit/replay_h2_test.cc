// `reel test` over HTTP/2: the h2 client against an in-process nghttp2 server session on a
// loopback socket (h2c and TLS with ALPN h2, gRPC and plain requests, the errors a user sees),
// gRPC verdicts and their rendering, gRPC noise, and the recording side: calls made while many
// streams of one HTTP/2 connection are open go to the stream that made them.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "bpf/abi/capture.h"
#include "core/unique_fd.h"
#include "protocols/http2/grpc.h"
#include "record/session.h"
#include "replay/h2_client.h"
#include "testset/compare.h"
#include "testset/noise.h"
#include "tls/bridge.h"
#include "tls/ca.h"

namespace reel::replay {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using protocols::Headers;

// --- protobuf by hand ------------------------------------------------------------------------

std::string varint(std::uint64_t v) {
  std::string out;
  do {
    out += static_cast<char>((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    v >>= 7;
  } while (v);
  return out;
}
std::string pb_string(int field, std::string_view s) {
  return varint(static_cast<std::uint64_t>(field) << 3 | 2) + varint(s.size()) + std::string(s);
}
std::string pb_uint(int field, std::uint64_t v) {
  return varint(static_cast<std::uint64_t>(field) << 3) + varint(v);
}

// --- an nghttp2 server session over a blocking byte pipe --------------------------------------

struct Io {
  std::function<ssize_t(char*, std::size_t)> read;
  std::function<bool(std::string_view)> write;
};

struct Seen {
  Headers headers;
  std::string body;
};

struct Reply {
  Headers headers;
  std::string body;
  Headers trailers;
  bool reset = false;   // RST_STREAM(CANCEL) instead of an answer
  bool silent = false;  // never answer
};
using Handler = std::function<Reply(const Seen&)>;

std::vector<nghttp2_nv> nv_of(const Headers& headers) {
  std::vector<nghttp2_nv> out;
  for (const auto& [n, v] : headers)
    out.push_back({reinterpret_cast<std::uint8_t*>(const_cast<char*>(n.data())),
                   reinterpret_cast<std::uint8_t*>(const_cast<char*>(v.data())), n.size(), v.size(),
                   NGHTTP2_NV_FLAG_NONE});
  return out;
}

struct ServerState {
  Handler handler;
  std::vector<Seen>* seen = nullptr;
  std::map<std::int32_t, Seen> requests;
  std::map<std::int32_t, Reply> replies;
  std::map<std::int32_t, std::size_t> sent;
};
ServerState& st(void* ud) { return *static_cast<ServerState*>(ud); }

ssize_t reply_body(nghttp2_session* s, std::int32_t id, std::uint8_t* buf, std::size_t length,
                   std::uint32_t* flags, nghttp2_data_source*, void* ud) {
  Reply& r = st(ud).replies[id];
  std::size_t& off = st(ud).sent[id];
  std::size_t n = std::min(length, r.body.size() - off);
  std::memcpy(buf, r.body.data() + off, n);
  off += n;
  if (off == r.body.size()) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (!r.trailers.empty()) {
      *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
      auto nva = nv_of(r.trailers);
      nghttp2_submit_trailer(s, id, nva.data(), nva.size());
    }
  }
  return static_cast<ssize_t>(n);
}

int answer(nghttp2_session* s, std::int32_t id, ServerState& state) {
  Seen req = state.requests[id];
  if (state.seen) state.seen->push_back(req);
  Reply r = state.handler(req);
  if (r.silent) return 0;
  if (r.reset) return nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
  Reply& kept = state.replies[id] = std::move(r);
  auto nva = nv_of(kept.headers);
  nghttp2_data_provider body{};
  body.read_callback = reply_body;
  bool data = !kept.body.empty() || !kept.trailers.empty();
  return nghttp2_submit_response(s, id, nva.data(), nva.size(), data ? &body : nullptr);
}

void serve_h2(const Io& io, Handler handler, std::vector<Seen>* seen) {
  ServerState state{std::move(handler), seen, {}, {}, {}};
  nghttp2_session_callbacks* cb = nullptr;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_on_header_callback(
      cb, [](nghttp2_session*, const nghttp2_frame* f, const std::uint8_t* n, std::size_t nl,
             const std::uint8_t* v, std::size_t vl, std::uint8_t, void* ud) {
        st(ud).requests[f->hd.stream_id].headers.emplace_back(
            std::string(reinterpret_cast<const char*>(n), nl),
            std::string(reinterpret_cast<const char*>(v), vl));
        return 0;
      });
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
      cb, [](nghttp2_session*, std::uint8_t, std::int32_t id, const std::uint8_t* d,
             std::size_t len, void* ud) {
        st(ud).requests[id].body.append(reinterpret_cast<const char*>(d), len);
        return 0;
      });
  nghttp2_session_callbacks_set_on_frame_recv_callback(
      cb, [](nghttp2_session* s, const nghttp2_frame* f, void* ud) {
        bool ends = (f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
                    (f->hd.flags & NGHTTP2_FLAG_END_STREAM);
        return ends ? answer(s, f->hd.stream_id, st(ud)) : 0;
      });
  nghttp2_session* s = nullptr;
  nghttp2_session_server_new(&s, cb, &state);
  nghttp2_session_callbacks_del(cb);
  nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, nullptr, 0);
  char buf[16384];
  for (;;) {
    const std::uint8_t* out = nullptr;
    ssize_t n = 0;
    bool ok = true;
    while (ok && (n = nghttp2_session_mem_send(s, &out)) > 0)
      ok = io.write(
          std::string_view(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n)));
    if (!ok || (!nghttp2_session_want_read(s) && !nghttp2_session_want_write(s))) break;
    ssize_t r = io.read(buf, sizeof buf);
    if (r <= 0 || nghttp2_session_mem_recv(s, reinterpret_cast<std::uint8_t*>(buf),
                                           static_cast<std::size_t>(r)) < 0)
      break;
  }
  nghttp2_session_del(s);
}

Io fd_io(int fd) {
  return {[fd](char* b, std::size_t n) { return ::recv(fd, b, n, 0); },
          [fd](std::string_view d) {
            return ::send(fd, d.data(), d.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(d.size());
          }};
}

// A loopback listener serving each connection with `serve`, one after another, on its own
// thread, until it is destroyed.
class LoopbackServer {
 public:
  explicit LoopbackServer(std::function<void(int fd)> serve) {
    fd_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{.sin_family = AF_INET, .sin_port = 0, .sin_addr = {htonl(INADDR_LOOPBACK)}};
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_.get(), 8), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this, serve = std::move(serve)] {
      // A client that gave up closes first: the server's writes then fail instead of killing
      // the test binary.
      sigset_t pipe_only;
      sigemptyset(&pipe_only);
      sigaddset(&pipe_only, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe_only, nullptr);
      for (;;) {
        UniqueFd c(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!c) return;
        serve(c.get());
      }
    });
  }
  ~LoopbackServer() {
    ::shutdown(fd_.get(), SHUT_RDWR);
    thread_.join();
  }
  Endpoint endpoint() const { return *parse_endpoint(authority()); }
  std::string authority() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  UniqueFd fd_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

// --- requests and answers ---------------------------------------------------------------------

testset::GrpcRequest grpc_call(const std::string& authority, const std::string& path) {
  testset::GrpcRequest req;
  req.headers.pseudo = {
      {":method", "POST"}, {":scheme", "http"}, {":authority", authority}, {":path", path}};
  req.headers.ordinary = {{"content-type", "application/grpc"},
                          {"te", "trailers"},
                          {"grpc-timeout", "5S"},
                          {"connection", "keep-alive"},  // hop-by-hop: never sent
                          {"x-tenant", "acme"}};
  return req;
}

std::string frame(std::string_view data, bool compressed = false) {
  std::string out(1, compressed ? '\1' : '\0');
  auto n = static_cast<std::uint32_t>(data.size());
  for (int shift : {24, 16, 8, 0}) out += static_cast<char>((n >> shift) & 0xff);
  return out + std::string(data);
}

Reply grpc_ok(std::string body, Headers extra_trailers = {}) {
  Reply r;
  r.headers = {{":status", "200"}, {"content-type", "application/grpc"}};
  r.body = std::move(body);
  r.trailers = {{"grpc-status", "0"}};
  for (auto& t : extra_trailers) r.trailers.push_back(std::move(t));
  return r;
}

std::string header(const Headers& h, std::string_view name) {
  return std::string(protocols::find_header(h, name));
}

// --- the client over h2c ------------------------------------------------------------------------

TEST(H2Client, GrpcUnarySendsTheRecordedCallAndCollectsTheAnswer) {
  std::vector<Seen> seen;
  LoopbackServer server([&](int fd) {
    serve_h2(
        fd_io(fd),
        [](const Seen&) {
          return grpc_ok(frame(pb_string(1, "hello Alice")), {{"x-served-by", "unit"}});
        },
        &seen);
  });
  auto req = grpc_call(server.authority(), "/demo.Greeter/SayHello");
  req.messages = {{false, 0, pb_string(1, "Alice")}};
  auto resp = send_grpc(server.endpoint(), req, 5000ms);
  ASSERT_TRUE(resp) << resp.error().message;
  EXPECT_EQ(resp->headers.pseudo.at(":status"), "200");
  EXPECT_EQ(resp->headers.ordinary.at("content-type"), "application/grpc");
  ASSERT_EQ(resp->messages.size(), 1u);
  EXPECT_EQ(resp->messages[0].data, pb_string(1, "hello Alice"));
  EXPECT_EQ(resp->trailers.ordinary.at("grpc-status"), "0");
  EXPECT_EQ(resp->trailers.ordinary.at("x-served-by"), "unit");
  EXPECT_EQ(testset::grpc_status(*resp), 0);

  ASSERT_EQ(seen.size(), 1u);
  const Headers& h = seen[0].headers;
  ASSERT_GE(h.size(), 4u);
  EXPECT_EQ(h[0].first, ":method");  // pseudo-headers first
  EXPECT_EQ(header(h, ":path"), "/demo.Greeter/SayHello");
  EXPECT_EQ(header(h, ":scheme"), "http");
  EXPECT_EQ(header(h, ":authority"), server.authority());
  EXPECT_EQ(header(h, "te"), "trailers");
  EXPECT_EQ(header(h, "grpc-timeout"), "5S");
  EXPECT_EQ(header(h, "x-tenant"), "acme");
  EXPECT_EQ(header(h, "connection"), "");
  EXPECT_EQ(seen[0].body, frame(pb_string(1, "Alice")));
}

TEST(H2Client, StreamingMessagesAreReframedAndCompressedOnesCompressedAgain) {
  std::vector<Seen> seen;
  std::string big(2000, 'z');
  LoopbackServer server([&](int fd) {
    serve_h2(
        fd_io(fd),
        [&](const Seen&) {
          // Three answers, the second gzip-compressed.
          Reply r = grpc_ok(frame(pb_uint(1, 1)) +
                            frame(*testset::grpc_compress(pb_string(2, big), "gzip"), true) +
                            frame(pb_uint(1, 3)));
          r.headers.emplace_back("grpc-encoding", "gzip");
          return r;
        },
        &seen);
  });
  auto req = grpc_call(server.authority(), "/demo.Counter/Chat");
  req.headers.ordinary["grpc-encoding"] = "gzip";
  req.messages = {{true, 0, pb_string(2, big)}, {false, 0, pb_uint(1, 7)}, {false, 0, ""}};
  auto resp = send_grpc(server.endpoint(), req, 5000ms);
  ASSERT_TRUE(resp) << resp.error().message;
  ASSERT_EQ(resp->messages.size(), 3u);
  EXPECT_EQ(resp->messages[0].data, pb_uint(1, 1));
  EXPECT_TRUE(resp->messages[1].compressed);
  EXPECT_EQ(resp->messages[1].data, pb_string(2, big));  // decompressed
  EXPECT_LT(resp->messages[1].wire_length, big.size());
  EXPECT_EQ(resp->messages[2].data, pb_uint(1, 3));

  // What the server read: the three request messages, the first compressed again.
  ASSERT_EQ(seen.size(), 1u);
  auto sent = testset::grpc_split_messages(seen[0].body, "gzip", "request");
  ASSERT_TRUE(sent) << sent.error().message;
  ASSERT_EQ(sent->size(), 3u);
  EXPECT_TRUE((*sent)[0].compressed);
  EXPECT_LT((*sent)[0].wire_length, big.size());
  EXPECT_EQ((*sent)[0].data, pb_string(2, big));
  EXPECT_FALSE((*sent)[1].compressed);
  EXPECT_EQ((*sent)[1].data, pb_uint(1, 7));
  EXPECT_EQ((*sent)[2].wire_length, 0u);
}

TEST(H2Client, TrailersOnlyErrorIsAnAnswerWithItsStatus) {
  LoopbackServer server([&](int fd) {
    serve_h2(
        fd_io(fd),
        [](const Seen&) {
          Reply r;
          r.headers = {{":status", "200"},
                       {"content-type", "application/grpc"},
                       {"grpc-status", "5"},
                       {"grpc-message", "no such user"}};
          return r;
        },
        nullptr);
  });
  auto req = grpc_call(server.authority(), "/demo.Users/Get");
  req.messages = {{false, 0, pb_uint(1, 42)}};
  auto resp = send_grpc(server.endpoint(), req, 5000ms);
  ASSERT_TRUE(resp) << resp.error().message;
  EXPECT_EQ(testset::grpc_status(*resp), 5);
  EXPECT_TRUE(resp->messages.empty());
  EXPECT_TRUE(resp->trailers.ordinary.empty());
  EXPECT_EQ(resp->headers.ordinary.at("grpc-message"), "no such user");
}

TEST(H2Client, PlainHttp2RequestGetsAnHttpResponse) {
  std::vector<Seen> seen;
  LoopbackServer server([&](int fd) {
    serve_h2(
        fd_io(fd),
        [](const Seen& req) {
          Reply r;
          r.headers = {{":status", "404"}, {"content-type", "text/plain"}};
          r.body = "no " + header(req.headers, ":path");
          return r;
        },
        &seen);
  });
  testset::HttpRequest req;
  req.method = "POST";
  req.proto_major = 2;
  req.url = "http://" + server.authority() + "/items?x=1";
  req.header = {{"content-type", "application/json"}, {"Accept", "*/*"}};
  req.body = R"({"a":1})";
  auto resp = send_h2_request(server.endpoint(), req, 5000ms);
  ASSERT_TRUE(resp) << resp.error().message;
  EXPECT_EQ(resp->status_code, 404);
  EXPECT_EQ(resp->proto_major, 2);
  EXPECT_EQ(resp->body, "no /items?x=1");
  EXPECT_EQ(resp->header.at("content-type"), "text/plain");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(header(seen[0].headers, ":method"), "POST");
  EXPECT_EQ(header(seen[0].headers, "accept"), "*/*");  // lower-cased, as HTTP/2 requires
  EXPECT_EQ(seen[0].body, R"({"a":1})");
}

TEST(H2Client, SilenceIsATimeoutNamingTheApp) {
  LoopbackServer server([&](int fd) {
    serve_h2(
        fd_io(fd), [](const Seen&) { return Reply{.silent = true}; }, nullptr);
  });
  auto req = grpc_call(server.authority(), "/demo.Slow/Wait");
  auto resp = send_grpc(server.endpoint(), req, 300ms);
  ASSERT_FALSE(resp);
  EXPECT_EQ(resp.error().message,
            "no response from the app at " + server.authority() + " within 300 ms");
}

TEST(H2Client, ResetStreamIsAnError) {
  LoopbackServer server([&](int fd) {
    serve_h2(
        fd_io(fd), [](const Seen&) { return Reply{.reset = true}; }, nullptr);
  });
  auto resp = send_grpc(server.endpoint(), grpc_call(server.authority(), "/a.B/C"), 5000ms);
  ASSERT_FALSE(resp);
  EXPECT_EQ(resp.error().message, "the app reset the stream (CANCEL) before answering");
}

TEST(H2Client, AnHttp1AppIsToldApart) {
  LoopbackServer server([&](int fd) {
    char buf[1024];
    (void)::recv(fd, buf, sizeof buf, 0);
    std::string_view answer = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    (void)::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
  });
  auto resp = send_grpc(server.endpoint(), grpc_call(server.authority(), "/a.B/C"), 5000ms);
  ASSERT_FALSE(resp);
  EXPECT_EQ(resp.error().message, "the app at " + server.authority() +
                                      " answered in HTTP/1.1, not HTTP/2 (it does not speak h2c "
                                      "with prior knowledge)");
}

TEST(H2Client, NothingListeningIsAConnectError) {
  std::string authority;
  Endpoint gone;
  {
    LoopbackServer server([](int) {});
    authority = server.authority();
    gone = server.endpoint();
  }
  auto resp = send_grpc(gone, grpc_call(authority, "/a.B/C"), 2000ms);
  ASSERT_FALSE(resp);
  EXPECT_NE(resp.error().message.find("cannot connect to the app at " + authority),
            std::string::npos)
      << resp.error().message;
}

TEST(H2Client, RecordedCallWithoutPathIsRefused) {
  testset::GrpcRequest req;
  auto resp = send_grpc(*parse_endpoint("127.0.0.1:1"), req, 1000ms);
  ASSERT_FALSE(resp);
  EXPECT_EQ(resp.error().message, "the recorded gRPC call has no :path");
}

// --- the client over TLS with ALPN h2 ---------------------------------------------------------

class H2TlsTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/reel-h2-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    auto ca = tls::CertAuthority::open(root_ / "ca");
    ASSERT_TRUE(ca) << ca.error().message;
    auto leaf = (*ca)->leaf_for("127.0.0.1");
    ASSERT_TRUE(leaf) << leaf.error().message;
    auto ctx = tls::server_context(**leaf);
    ASSERT_TRUE(ctx) << ctx.error().message;
    ctx_ = std::make_shared<tls::SslCtxPtr>(std::move(*ctx));
  }
  void TearDown() override { fs::remove_all(root_); }

  // Serves gRPC over TLS; selects h2 when `h2` and the client offers it, else no protocol.
  std::function<void(int)> tls_server(bool h2, std::string& alpn_seen) {
    static unsigned char kH2[] = {2, 'h', '2'};
    SSL_CTX_set_alpn_select_cb(
        ctx_->get(),
        [](SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
           unsigned inlen, void* arg) {
          if (arg == nullptr) return SSL_TLSEXT_ERR_NOACK;
          unsigned char* sel = nullptr;
          if (SSL_select_next_proto(&sel, outlen, kH2, sizeof kH2, in, inlen) !=
              OPENSSL_NPN_NEGOTIATED)
            return SSL_TLSEXT_ERR_NOACK;
          *out = sel;
          return SSL_TLSEXT_ERR_OK;
        },
        h2 ? kH2 : nullptr);
    return [ctx = ctx_, &alpn_seen](int fd) {
      tls::SslPtr ssl(SSL_new(ctx->get()));
      SSL_set_fd(ssl.get(), fd);
      if (SSL_accept(ssl.get()) != 1) return;
      const unsigned char* p = nullptr;
      unsigned n = 0;
      SSL_get0_alpn_selected(ssl.get(), &p, &n);
      alpn_seen.assign(reinterpret_cast<const char*>(p), n);
      Io io{[&](char* b, std::size_t len) {
              return static_cast<ssize_t>(SSL_read(ssl.get(), b, static_cast<int>(len)));
            },
            [&](std::string_view d) {
              return SSL_write(ssl.get(), d.data(), static_cast<int>(d.size())) ==
                     static_cast<int>(d.size());
            }};
      serve_h2(
          io,
          [](const Seen& req) {
            return grpc_ok(frame(pb_string(1, "over tls " + header(req.headers, ":scheme"))));
          },
          nullptr);
      SSL_shutdown(ssl.get());
    };
  }

  fs::path root_;
  std::shared_ptr<tls::SslCtxPtr> ctx_;
};

TEST_F(H2TlsTest, HttpsSchemeSpeaksTlsWithAlpnH2) {
  std::string alpn;
  LoopbackServer server(tls_server(true, alpn));
  auto req = grpc_call(server.authority(), "/demo.Greeter/SayHello");
  req.headers.pseudo[":scheme"] = "https";
  auto resp = send_grpc(server.endpoint(), req, 5000ms);
  ASSERT_TRUE(resp) << resp.error().message;
  ASSERT_EQ(resp->messages.size(), 1u);
  EXPECT_EQ(resp->messages[0].data, pb_string(1, "over tls https"));
  EXPECT_EQ(alpn, "h2");
}

TEST_F(H2TlsTest, AServerThatDoesNotPickH2IsAClearError) {
  std::string alpn;
  LoopbackServer server(tls_server(false, alpn));
  auto req = grpc_call(server.authority(), "/demo.Greeter/SayHello");
  req.headers.pseudo[":scheme"] = "https";
  auto resp = send_grpc(server.endpoint(), req, 5000ms);
  ASSERT_FALSE(resp);
  EXPECT_EQ(resp.error().message, "the app at " + server.authority() +
                                      " did not agree to h2 over TLS (ALPN offered h2, it "
                                      "chose none)");
}

// --- gRPC verdicts ------------------------------------------------------------------------------

testset::GrpcResponse answer_of(std::vector<std::string> messages, std::string status = "0") {
  testset::GrpcResponse r;
  r.headers.pseudo = {{":status", "200"}};
  r.headers.ordinary = {{"content-type", "application/grpc"}, {"date", "Mon, 01 Jan 2024"}};
  for (auto& m : messages) r.messages.push_back({false, 0, std::move(m)});
  r.trailers.ordinary = {{"grpc-status", std::move(status)}};
  return r;
}

testset::NoiseSet no_noise() { return *testset::NoiseSet::compile({}); }

TEST(GrpcCompare, IdenticalAnswersPass) {
  auto a = answer_of({pb_string(1, "Hello Alice") + pb_uint(2, 7)});
  EXPECT_TRUE(testset::compare_grpc(a, a, no_noise()).passed());
  EXPECT_EQ(testset::render_grpc_diff(testset::compare_grpc(a, a, no_noise())), "");
}

TEST(GrpcCompare, EmptyGrpcMessageIsNoMessage) {
  // Keploy writes `grpc-message: ""` for an OK call; servers that send none still pass, a real
  // message on one side still fails.
  auto e = answer_of({pb_uint(2, 7)});
  auto a = e;
  e.trailers.ordinary["grpc-message"] = "";
  a.trailers.ordinary.erase("grpc-message");
  EXPECT_TRUE(testset::compare_grpc(e, a, no_noise()).passed());
  e.trailers.ordinary["grpc-message"] = "no user 9";
  EXPECT_FALSE(testset::compare_grpc(e, a, no_noise()).passed());
}

TEST(GrpcCompare, ChangedFieldIsNamedByItsPath) {
  auto e = answer_of({pb_string(1, "Hello Alice") + pb_uint(2, 7)});
  auto a = answer_of({pb_string(1, "Hello Bob") + pb_uint(2, 7)});
  auto d = testset::compare_grpc(e, a, no_noise());
  EXPECT_FALSE(d.passed());
  EXPECT_TRUE(d.status_ok());
  ASSERT_EQ(d.messages.size(), 1u);
  EXPECT_EQ(d.messages[0].path, "messages.0.1");
  EXPECT_EQ(testset::render_grpc_diff(d, {.color = false}),
            "messages (1 field differs):\n"
            "  messages.0.1: \"Hello Alice\" → \"Hello Bob\"\n");
}

TEST(GrpcCompare, NestedAndRepeatedFields) {
  auto e =
      answer_of({pb_string(3, pb_string(1, "x") + pb_uint(2, 1)) + pb_uint(4, 1) + pb_uint(4, 2)});
  auto a =
      answer_of({pb_string(3, pb_string(1, "x") + pb_uint(2, 9)) + pb_uint(4, 1) + pb_uint(4, 5)});
  auto d = testset::compare_grpc(e, a, no_noise());
  ASSERT_EQ(d.messages.size(), 2u);
  EXPECT_EQ(d.messages[0].path, "messages.0.3.2");
  EXPECT_EQ(d.messages[0].expected, "1");
  EXPECT_EQ(d.messages[0].actual, "9");
  EXPECT_EQ(d.messages[1].path, "messages.0.4.1");
}

TEST(GrpcCompare, MissingAndExtraMessages) {
  auto three = answer_of({pb_uint(1, 1), pb_uint(1, 2), pb_uint(1, 3)});
  auto two = answer_of({pb_uint(1, 1), pb_uint(1, 2)});
  auto d = testset::compare_grpc(three, two, no_noise());
  EXPECT_EQ(d.expected_messages, 3u);
  EXPECT_EQ(d.actual_messages, 2u);
  ASSERT_EQ(d.messages.size(), 1u);
  EXPECT_EQ(d.messages[0].kind, testset::FieldDiff::Kind::kMissing);
  EXPECT_EQ(testset::render_grpc_diff(d, {.color = false}),
            "messages: expected 3, got 2\n"
            "  messages.2: missing (expected {\"1\":3})\n");
  auto extra = testset::compare_grpc(two, three, no_noise());
  EXPECT_EQ(testset::render_grpc_diff(extra, {.color = false}),
            "messages: expected 2, got 3\n"
            "  messages.2: unexpected {\"1\":3}\n");
}

TEST(GrpcCompare, StatusFromTheTrailersByName) {
  auto e = answer_of({pb_uint(1, 1)});
  auto a = answer_of({}, "5");
  a.trailers.ordinary["grpc-message"] = "user 42 not found";
  auto d = testset::compare_grpc(e, a, no_noise());
  EXPECT_FALSE(d.status_ok());
  EXPECT_EQ(d.expected_status, 0);
  EXPECT_EQ(d.actual_status, 5);
  EXPECT_EQ(testset::render_grpc_diff(d, {.color = false}),
            "status: expected OK (0), got NOT_FOUND (5)\n"
            "messages: expected 1, got 0\n"
            "  messages.0: missing (expected {\"1\":1})\n");
}

TEST(GrpcCompare, TrailersAndGrpcMessageCompareWhereverEachSideKeepsThem) {
  // Recorded as trailers-only (status in the headers); the new build answers with trailers.
  testset::GrpcResponse e;
  e.headers.pseudo = {{":status", "200"}};
  e.headers.ordinary = {{"grpc-status", "5"}, {"grpc-message", "gone"}};
  auto a = answer_of({}, "5");
  a.trailers.ordinary["grpc-message"] = "gone";
  EXPECT_TRUE(testset::compare_grpc(e, a, no_noise()).passed());
  a.trailers.ordinary["grpc-message"] = "missing";
  auto d = testset::compare_grpc(e, a, no_noise());
  ASSERT_EQ(d.headers.size(), 1u);
  EXPECT_EQ(testset::render_grpc_diff(d, {.color = false}),
            "headers and trailers:\n"
            "  trailer.grpc-message: \"gone\" → \"missing\"\n");

  auto with_meta = answer_of({});
  with_meta.trailers.ordinary["x-cost"] = "3";
  auto without = answer_of({});
  d = testset::compare_grpc(with_meta, without, no_noise());
  ASSERT_EQ(d.headers.size(), 1u);
  EXPECT_EQ(d.headers[0].path, "trailer.x-cost");
  EXPECT_EQ(d.headers[0].kind, testset::FieldDiff::Kind::kMissing);
}

TEST(GrpcCompare, NoiseAndFramingHeadersAreIgnored) {
  auto e = answer_of({pb_string(1, "id-1") + pb_string(2, "same")});
  auto a = answer_of({pb_string(1, "id-2") + pb_string(2, "same")});
  a.headers.ordinary["date"] = "Tue, 02 Jan 2024";
  e.headers.ordinary["grpc-encoding"] = "gzip";  // how it travelled, not what it said
  auto noise = testset::NoiseSet::compile({{"messages.0.1", {}}, {"header.date", {}}});
  ASSERT_TRUE(noise);
  EXPECT_TRUE(testset::compare_grpc(e, a, *noise).passed());
  EXPECT_FALSE(testset::compare_grpc(e, a, no_noise()).passed());
}

TEST(GrpcCompare, MessagesThatAreNotProtobufCompareAsBytes) {
  auto e = answer_of({std::string("\xff\xfe", 2)});
  auto a = answer_of({std::string("\xff\xfd", 2)});
  auto d = testset::compare_grpc(e, a, no_noise());
  ASSERT_EQ(d.messages.size(), 1u);
  EXPECT_EQ(d.messages[0].path, "messages.0");
  EXPECT_EQ(testset::render_grpc_diff(d, {.color = false}),
            "messages (1 field differs):\n"
            "  messages.0: \\xfffe → \\xfffd\n");
}

TEST(GrpcCompare, StatusNames) {
  EXPECT_EQ(testset::grpc_status_text(0), "OK (0)");
  EXPECT_EQ(testset::grpc_status_text(4), "DEADLINE_EXCEEDED (4)");
  EXPECT_EQ(testset::grpc_status_text(99), "99");
  EXPECT_EQ(testset::grpc_status_text(-1), "none");
}

TEST(GrpcNoise, DefaultsAndVolatileFieldsAreFound) {
  auto r = answer_of({pb_string(1, "Alice") + pb_string(2, "3f2b8c1e-7a4d-4c2e-9b1a-2d5e6f708192") +
                      pb_uint(3, 1700000000123)});
  r.trailers.ordinary["x-request-id"] = "abc";
  auto noise = testset::compute_grpc_noise(r, testset::NoiseConfig{}, "test-set-0");
  ASSERT_TRUE(noise) << noise.error().message;
  for (const char* path :
       {"header.grpc-timeout", "header.user-agent", "header.grpc-accept-encoding",
        "header.:authority", "header.date", "trailer.x-request-id", "messages.0.2", "messages.0.3"})
    EXPECT_TRUE(noise->contains(path)) << path;
  EXPECT_FALSE(noise->contains("messages.0.1"));

  testset::NoiseConfig rules;
  rules.auto_detect = false;
  rules.global = {{"messages.*.1", "", ""}};
  noise = testset::compute_grpc_noise(r, rules, "test-set-0");
  ASSERT_TRUE(noise) << noise.error().message;
  EXPECT_EQ(noise->size(), 1u);
  EXPECT_TRUE(noise->contains("messages.0.1"));
}

// --- recording: calls made while several streams of one connection are open -----------------

// Collects what an nghttp2 session has to send.
std::string drain(nghttp2_session* s) {
  std::string out;
  const std::uint8_t* data = nullptr;
  ssize_t n = 0;
  while ((n = nghttp2_session_mem_send(s, &data)) > 0)
    out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
  return out;
}

std::int32_t get(nghttp2_session* client, const std::string& path) {
  Headers h = {
      {":method", "GET"}, {":scheme", "http"}, {":authority", "127.0.0.1:8080"}, {":path", path}};
  auto nva = nv_of(h);
  return nghttp2_submit_request(client, nullptr, nva.data(), nva.size(), nullptr, nullptr);
}

std::string ok_for(nghttp2_session* server, std::int32_t stream) {
  Headers h = {{":status", "200"}, {"content-type", "text/plain"}};
  auto nva = nv_of(h);
  EXPECT_EQ(nghttp2_submit_response(server, stream, nva.data(), nva.size(), nullptr), 0);
  return drain(server);
}

class H2RecordTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/reel-h2-record-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    nghttp2_session_callbacks* cb = nullptr;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_client_new(&client_, cb, nullptr);
    nghttp2_session_server_new(&server_, cb, nullptr);
    nghttp2_session_callbacks_del(cb);
    nghttp2_submit_settings(client_, NGHTTP2_FLAG_NONE, nullptr, 0);
    nghttp2_submit_settings(server_, NGHTTP2_FLAG_NONE, nullptr, 0);
  }
  void TearDown() override {
    nghttp2_session_del(client_);
    nghttp2_session_del(server_);
    fs::remove_all(root_);
  }

  // The client's bytes for a new request (the server session reads them too).
  std::string request(const std::string& path) {
    EXPECT_GT(get(client_, path), 0);
    std::string bytes = drain(client_);
    EXPECT_EQ(nghttp2_session_mem_recv(server_, reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                       bytes.size()),
              static_cast<ssize_t>(bytes.size()));
    return bytes;
  }

  capture::DataEvent data(int dir, std::uint64_t ms, const std::string& bytes) {
    std::uint64_t& pos = dir == CAP_DIR_INGRESS ? in_pos_ : out_pos_;
    capture::DataEvent e{kConn,
                         7,
                         ms * 1'000'000,
                         dir,
                         0,
                         pos,
                         static_cast<std::uint32_t>(bytes.size()),
                         std::as_bytes(std::span(bytes.data(), bytes.size())),
                         {}};
    pos += bytes.size();
    return e;
  }

  static constexpr capture::ConnKey kConn{100, 5, 1};
  fs::path root_;
  nghttp2_session* client_ = nullptr;
  nghttp2_session* server_ = nullptr;
  std::uint64_t in_pos_ = 0, out_pos_ = 0;
};

TEST_F(H2RecordTest, ACallGoesToTheStreamStillOpenWhenItWasMade) {
  auto writer = testset::TestSetWriter::open(root_ / "test-set-0");
  ASSERT_TRUE(writer) << writer.error().message;
  record::RecordSession session(*writer, {});
  auto ms = [](std::uint64_t v) { return v * 1'000'000; };
  session.on_capture_event(capture::OpenEvent{kConn, 7, ms(1000), CAP_ROLE_SERVER,
                                              *parse_endpoint("127.0.0.1:8080"),
                                              *parse_endpoint("127.0.0.1:50000"), false, "app"});
  // /one opens and completes; /three and /five open; /three completes; then the app calls a
  // dependency. Only /five is still open: the call is its.
  std::string one = request("/one");
  session.on_capture_event(data(CAP_DIR_INGRESS, 1001, one));
  session.on_capture_event(data(CAP_DIR_EGRESS, 1002, ok_for(server_, 1)));
  std::string three = request("/three");
  session.on_capture_event(data(CAP_DIR_INGRESS, 1003, three));
  std::string five = request("/five");
  session.on_capture_event(data(CAP_DIR_INGRESS, 1004, five));
  session.on_capture_event(data(CAP_DIR_EGRESS, 1005, ok_for(server_, 3)));

  testset::Mock dep;
  dep.kind = testset::MockKind::kHttp;
  testset::HttpMockSpec spec;
  spec.req.method = "GET";
  spec.req.url = "http://127.0.0.1:9000/rates";
  spec.resp.status_code = 200;
  dep.spec = spec;
  session.on_outbound(record::OutboundCall{*parse_endpoint("127.0.0.1:40000"),
                                           *parse_endpoint("127.0.0.1:9000"),
                                           {dep, ms(1006), ms(1006), false, "GET /rates"}});
  auto early = session.settle(ms(1007), false);
  ASSERT_TRUE(early) << early.error().message;
  EXPECT_TRUE(early->empty());
  EXPECT_EQ(session.attribution().session, 0u) << "decided before /five completed";

  session.on_capture_event(data(CAP_DIR_EGRESS, 1008, ok_for(server_, 5)));
  auto written = session.settle(ms(3000), false);
  ASSERT_TRUE(written) << written.error().message;
  ASSERT_EQ(written->size(), 3u);
  std::map<std::string, std::map<std::string, int>> mocks;
  for (const auto& w : *written) mocks[w.target] = w.mocks_by_kind;
  EXPECT_TRUE(mocks.at("/one").empty());
  EXPECT_TRUE(mocks.at("/three").empty());
  EXPECT_EQ(mocks.at("/five"), (std::map<std::string, int>{{"Http", 1}}));
  EXPECT_EQ(session.stats().session_mocks, 0u);
  EXPECT_EQ(session.attribution().by_window, 1u);
}

}  // namespace
}  // namespace reel::replay
