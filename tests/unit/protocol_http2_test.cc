// HTTP/2 and gRPC decoding from hand-built frames. Header blocks come from libnghttp2's own
// HPACK encoder, one per direction as a real peer keeps, so dynamic-table references appear
// exactly as on the wire.
#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>
#include <zlib.h>

#include <functional>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "protocol_harness.h"
#include "protocols/http2/grpc.h"
#include "protocols/http2/types.h"
#include "protocols/infer.h"

namespace reel::protocols {
namespace {

using testing::Harness;
using namespace std::literals;
using Fields = std::vector<std::pair<std::string, std::string>>;

std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream,
                  std::string_view payload) {
  std::string f;
  auto n = static_cast<std::uint32_t>(payload.size());
  f += static_cast<char>(n >> 16);
  f += static_cast<char>(n >> 8);
  f += static_cast<char>(n);
  f += static_cast<char>(type);
  f += static_cast<char>(flags);
  f += static_cast<char>(stream >> 24);
  f += static_cast<char>(stream >> 16);
  f += static_cast<char>(stream >> 8);
  f += static_cast<char>(stream);
  return f + std::string(payload);
}

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

// One side's HPACK encoder.
class Encoder {
 public:
  Encoder() { nghttp2_hd_deflate_new(&deflater_, 4096); }
  ~Encoder() { nghttp2_hd_deflate_del(deflater_); }

  std::string block(const Fields& fields) {
    std::vector<nghttp2_nv> nv;
    for (auto& [k, v] : fields) {
      nv.push_back({reinterpret_cast<std::uint8_t*>(const_cast<char*>(k.data())),
                    reinterpret_cast<std::uint8_t*>(const_cast<char*>(v.data())), k.size(),
                    v.size(), NGHTTP2_NV_FLAG_NONE});
    }
    std::string out(nghttp2_hd_deflate_bound(deflater_, nv.data(), nv.size()), '\0');
    auto n = nghttp2_hd_deflate_hd(deflater_, reinterpret_cast<std::uint8_t*>(out.data()),
                                   out.size(), nv.data(), nv.size());
    out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
    return out;
  }

 private:
  nghttp2_hd_deflater* deflater_ = nullptr;
};

const std::string kPreface(http2::kPreface);
const std::string kSettings = frame(http2::kSettings, 0, 0, "\x00\x03\x00\x00\x00\x64"s);
const std::string kSettingsAck = frame(http2::kSettings, 1, 0, "");

std::string headers(Encoder& e, std::uint32_t stream, const Fields& f, bool end_stream) {
  return frame(http2::kHeaders, 0x4 | (end_stream ? 1 : 0), stream, e.block(f));
}

// Concatenates in order: an encoder's blocks must be made in the order they are sent, and the
// operands of one `a + b + c` expression may be evaluated in any order.
std::string seq(std::initializer_list<std::function<std::string()>> parts) {
  std::string out;
  for (auto& p : parts) out += p();
  return out;
}

std::string data(std::uint32_t stream, std::string_view bytes, bool end_stream) {
  return frame(http2::kData, end_stream ? 1 : 0, stream, bytes);
}

// A gRPC length-prefixed message.
std::string grpc_message(std::string_view payload, bool compressed = false) {
  return std::string(1, compressed ? '\x01' : '\x00') +
         be32(static_cast<std::uint32_t>(payload.size())) + std::string(payload);
}

std::string gzip(std::string_view in) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(in.size() + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string field(const Exchange& e, const std::string& key) {
  auto it = e.fields.find(key);
  return it == e.fields.end() ? "" : it->second;
}

Fields get(std::string path) {
  return {{":method", "GET"},
          {":scheme", "http"},
          {":path", std::move(path)},
          {":authority", "127.0.0.1:8080"},
          {"user-agent", "nghttp2/1.52.0"}};
}

Fields ok(std::string length) {
  return {{":status", "200"}, {"content-length", std::move(length)}, {"server", "nghttpd"}};
}

// protobuf {1: "world"}
const std::string kHelloRequest = "\x0a\x05world"s;
// protobuf {1: "Hello, world", 2: 150, 3 {1: 1}}
const std::string kHelloReply = "\x0a\x0cHello, world\x10\x96\x01\x1a\x02\x08\x01"s;

Fields grpc_call(std::string method, bool gzip_encoding = false) {
  Fields f = {{":method", "POST"},          {":scheme", "http"},
              {":path", std::move(method)}, {":authority", "localhost:50051"},
              {"te", "trailers"},           {"content-type", "application/grpc"}};
  if (gzip_encoding) f.push_back({"grpc-encoding", "gzip"});
  return f;
}

TEST(Http2Test, InfersClientPrefaceAndServerSettings) {
  EXPECT_EQ(infer_protocol(as_bytes(kPreface + kSettings), MessageType::kRequest),
            Protocol::kHttp2);
  EXPECT_EQ(infer_protocol(as_bytes(kSettings), MessageType::kResponse), Protocol::kHttp2);
  EXPECT_EQ(infer_protocol(as_bytes(frame(4, 0, 0, "")), MessageType::kResponse), Protocol::kHttp2);
  EXPECT_NE(infer_protocol(as_bytes("PRI * HTTP/1.1\r\n"sv), MessageType::kRequest),
            Protocol::kHttp2);
  EXPECT_EQ(protocol_name(Protocol::kHttp2), "http2");
}

TEST(Http2Test, InfersAConnectionJoinedMidFlightFromItsFrames) {
  // What python grpcio sent first after reel attached: HEADERS, WINDOW_UPDATE, DATA, ...
  std::string client = frame(1, 0x4, 5, "\xc6\xc5\x83\x86\xc4\xc3\xc2\xbe\xc0"s) +
                       frame(8, 0, 0, be32(5)) + data(5, grpc_message("\x10\x2a"s), true);
  EXPECT_EQ(infer_protocol(as_bytes(client), MessageType::kRequest), Protocol::kHttp2);
  EXPECT_EQ(infer_protocol(as_bytes(client.substr(0, 30)), MessageType::kRequest),
            Protocol::kHttp2);  // the last frame not whole yet
  std::string server = frame(1, 0x4, 5, "\x88\xc0\xbf"s) + data(5, grpc_message("x"), false);
  EXPECT_EQ(infer_protocol(as_bytes(server), MessageType::kResponse), Protocol::kHttp2);
  // Not a frame: undefined flags, a connection frame on a stream, a frame not even whole once.
  EXPECT_NE(infer_protocol(as_bytes(frame(1, 0x40, 5, "\x88"s)), MessageType::kRequest),
            Protocol::kHttp2);
  EXPECT_NE(infer_protocol(as_bytes(frame(6, 0, 5, "12345678")), MessageType::kRequest),
            Protocol::kHttp2);
  EXPECT_NE(infer_protocol(as_bytes(client.substr(0, 12)), MessageType::kRequest),
            Protocol::kHttp2);
  // Other protocols' first bytes read as lengths far past what was read.
  EXPECT_EQ(infer_protocol(as_bytes("\x21\x00\x00\x00\x03SELECT * FROM t WHERE id = 1"sv),
                           MessageType::kRequest),
            Protocol::kMysql);
  EXPECT_EQ(infer_protocol(as_bytes("*1\r\n$4\r\nPING\r\n"sv), MessageType::kRequest),
            Protocol::kRedis);
}

TEST(Http2Test, InterleavedStreamsOneExchangeEach) {
  Encoder client, server;
  Harness h(Protocol::kHttp2);
  h.client(kPreface + kSettings)
      .server(kSettings + kSettingsAck)
      .client(seq({[&] { return kSettingsAck; },
                   [&] { return headers(client, 1, get("/a.txt"), true); },
                   [&] { return headers(client, 3, get("/b.txt"), true); },
                   [&] { return headers(client, 5, get("/c.txt"), true); }}));
  // Answers out of order, DATA of streams 3 and 1 interleaved.
  h.server(seq({[&] { return headers(server, 3, ok("6"), false); },
                [&] { return headers(server, 1, ok("10"), false); },
                [&] {
                  return data(3, "bbb", false) + data(1, "aaaaa", false) + data(3, "bbb", true) +
                         frame(http2::kWindowUpdate, 0, 0, be32(1000)) + data(1, "aaaaa", true);
                }}));
  auto out = h.take();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].target, "/b.txt");
  EXPECT_EQ(out[0].response_body.data, "bbbbbb");
  EXPECT_EQ(out[1].target, "/a.txt");
  EXPECT_EQ(out[1].method, "GET");
  EXPECT_EQ(out[1].host, "127.0.0.1:8080");
  EXPECT_EQ(out[1].status, 200);
  EXPECT_EQ(out[1].response_body.data, "aaaaaaaaaa");
  EXPECT_EQ(out[1].response_body.size, 10u);
  EXPECT_EQ(out[1].protocol, Protocol::kHttp2);
  EXPECT_EQ(field(out[1], "http.version"), "2");
  EXPECT_EQ(find_header(out[1].response_headers, "server"), "nghttpd");
  EXPECT_EQ(find_header(out[1].request_headers, "user-agent"), "nghttp2/1.52.0");
  EXPECT_TRUE(out[1].has_request && out[1].has_response);
  EXPECT_GT(out[1].latency_ns, 0u);
  EXPECT_EQ(field(out[1], "http2.headers_partial"), "");
  // Stream 5 waits for its answer, then one more from a reused table entry.
  h.server(headers(server, 5, ok("0"), true));
  out = h.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].target, "/c.txt");
  EXPECT_EQ(find_header(out[0].response_headers, "server"), "nghttpd");
  EXPECT_TRUE(h.take(true).empty());
}

TEST(Http2Test, ContinuationFramesJoinTheHeaderBlock) {
  Encoder client, server;
  Fields f = get("/long");
  f.push_back({"x-big", std::string(300, 'x')});
  std::string block = client.block(f);
  ASSERT_GT(block.size(), 100u);
  std::string req = frame(http2::kHeaders, 0x1, 1, block.substr(0, 40)) +
                    frame(http2::kContinuation, 0, 1, block.substr(40, 40)) +
                    frame(http2::kContinuation, 0x4, 1, block.substr(80));
  Harness h(Protocol::kHttp2);
  h.client(kPreface + kSettings).server(kSettings);
  // Arrives in pieces: nothing is decoded until the last CONTINUATION.
  h.client(req.substr(0, 60)).client(req.substr(60));
  h.server(headers(server, 1, ok("0"), true));
  auto out = h.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].target, "/long");
  EXPECT_EQ(find_header(out[0].request_headers, "x-big"), std::string(300, 'x'));
  EXPECT_EQ(out[0].request_size, req.size());
}

TEST(Http2Test, PaddingAndPriorityAreStripped) {
  Encoder client, server;
  std::string block = client.block(get("/p"));
  // HEADERS with PADDED and PRIORITY: pad length, 5 priority bytes, block, padding.
  std::string hp = "\x03"s + be32(0) + "\x10"s + block + "\0\0\0"s;
  std::string dp = "\x04"s + "body" + "\0\0\0\0"s;
  Harness h(Protocol::kHttp2);
  h.client(kPreface + kSettings + frame(http2::kHeaders, 0x4 | 0x8 | 0x20 | 0x1, 1, hp) +
           frame(http2::kPriority, 0, 1, be32(0) + "\x20"s));
  h.server(kSettings + headers(server, 1, ok("4"), false) + frame(http2::kData, 0x8 | 0x1, 1, dp));
  auto out = h.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].target, "/p");
  EXPECT_EQ(out[0].response_body.data, "body");
  EXPECT_EQ(out[0].response_body.size, 4u);
}

TEST(Http2Test, GrpcUnaryWithTrailers) {
  Encoder client, server;
  Harness h(Protocol::kHttp2);
  std::string msg = grpc_message(kHelloRequest);
  h.client(kPreface + kSettings +
           headers(client, 1, grpc_call("/helloworld.Greeter/SayHello"), false) +
           data(1, msg.substr(0, 3), false) + data(1, msg.substr(3), true));
  h.server(seq({[&] {
                  return kSettings +
                         headers(server, 1,
                                 {{":status", "200"}, {"content-type", "application/grpc"}}, false);
                },
                [&] { return data(1, grpc_message(kHelloReply), false); },
                [&] {
                  return headers(server, 1, {{"grpc-status", "0"}, {"grpc-message", ""}}, true);
                }}));
  auto out = h.take();
  ASSERT_EQ(out.size(), 1u);
  const Exchange& e = out[0];
  EXPECT_EQ(e.method, "POST");
  EXPECT_EQ(e.target, "/helloworld.Greeter/SayHello");
  EXPECT_EQ(e.status, 200);
  EXPECT_EQ(e.status_text, "OK");
  EXPECT_EQ(e.error, "");
  EXPECT_EQ(field(e, "grpc.status"), "0");
  EXPECT_EQ(field(e, "grpc.request_messages"), "1");
  EXPECT_EQ(field(e, "grpc.response_messages"), "1");
  EXPECT_EQ(field(e, "grpc.request_decoded"), "#1 (7 bytes)\n1: \"world\"\n");
  EXPECT_EQ(field(e, "grpc.response_decoded"),
            "#1 (21 bytes)\n1: \"Hello, world\"\n2: 150\n3 {\n  1: 1\n}\n");
  // Raw bytes stay in the bodies; trailers follow the headers.
  EXPECT_EQ(e.request_body.data, msg);
  EXPECT_EQ(e.response_body.data, grpc_message(kHelloReply));
  EXPECT_EQ(field(e, "http2.response_trailers"), "2");
  EXPECT_EQ(e.response_headers.back().first, "grpc-message");
}

TEST(Http2Test, GrpcTrailersOnlyError) {
  Encoder client, server;
  Harness h(Protocol::kHttp2);
  h.client(kPreface + kSettings + headers(client, 1, grpc_call("/pkg.Svc/Get"), false) +
           data(1, grpc_message(kHelloRequest), true));
  h.server(kSettings + headers(server, 1,
                               {{":status", "200"},
                                {"content-type", "application/grpc"},
                                {"grpc-status", "5"},
                                {"grpc-message", "no such key"}},
                               true));
  auto out = h.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].status_text, "NOT_FOUND");
  EXPECT_EQ(out[0].error, "NOT_FOUND: no such key");
  EXPECT_EQ(field(out[0], "grpc.trailers_only"), "true");
  EXPECT_EQ(field(out[0], "grpc.response_messages"), "0");
}

TEST(Http2Test, GrpcGzipAndServerStreaming) {
  Encoder client, server;
  Harness h(Protocol::kHttp2);
  h.client(kPreface + kSettings + headers(client, 1, grpc_call("/pkg.Svc/List", true), false) +
           data(1, grpc_message(gzip(kHelloRequest), true), true));
  // Three replies: two in one DATA frame, the third split over two.
  std::string third = grpc_message("\x08\x03"s);
  h.server(seq(
      {[&] {
         return kSettings +
                headers(server, 1, {{":status", "200"}, {"content-type", "application/grpc+proto"}},
                        false);
       },
       [&] {
         return data(1, grpc_message("\x08\x01"s) + grpc_message("\x08\x02"s) + third.substr(0, 2),
                     false) +
                data(1, third.substr(2), false);
       },
       [&] {
         return headers(server, 1, {{"grpc-status", "0"}}, true);
       }}));
  auto out = h.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(field(out[0], "grpc.request_encoding"), "gzip");
  EXPECT_NE(field(out[0], "grpc.request_decoded").find("gzip)\n1: \"world\"\n"), std::string::npos)
      << field(out[0], "grpc.request_decoded");
  EXPECT_EQ(field(out[0], "grpc.response_messages"), "3");
  EXPECT_EQ(field(out[0], "grpc.response_decoded"),
            "#1 (2 bytes)\n1: 1\n#2 (2 bytes)\n1: 2\n#3 (2 bytes)\n1: 3\n");
}

TEST(Http2Test, JoinedMidFlightDecodesWhatItCanAndInventsNothing) {
  Encoder client, server;
  Fields first = get("/first");
  first.push_back({"x-session", "secret-1"});
  std::string earlier = headers(client, 1, first, true);  // fills the client's table; never seen
  std::string earlier_resp = headers(server, 1, ok("0"), true);
  Fields second = get("/second");
  second.push_back({"x-session", "secret-1"});  // now a dynamic-table reference
  Harness h(Protocol::kHttp2);
  h.client(headers(client, 3, second, true));
  h.server(headers(server, 3, ok("0"), true));
  auto out = h.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(field(out[0], "http2.headers_partial"), "true");
  EXPECT_EQ(out[0].method, "GET");      // static table
  EXPECT_EQ(out[0].target, "/second");  // literal with a static name
  EXPECT_EQ(out[0].host, "");           // :authority was a dynamic reference
  EXPECT_EQ(find_header(out[0].request_headers, "x-session"), "");
  EXPECT_EQ(out[0].status, 200);
  for (auto& [k, v] : out[0].request_headers) EXPECT_NE(v, "127.0.0.1:8080") << k;
}

// Hand-made HPACK fields (RFC 7541 6.1-6.2), for blocks whose table references a test must
// choose: an indexed field, and literals with incremental indexing (new name, or the name of
// entry `name`) or without indexing.
std::string hp_string(std::string_view s) {
  return std::string(1, static_cast<char>(s.size())) + std::string(s);
}
std::string hp_indexed(std::uint8_t index) {
  return std::string(1, static_cast<char>(0x80 | index));
}
std::string hp_add(std::string_view name, std::string_view value) {
  return "\x40"s + hp_string(name) + hp_string(value);
}
std::string hp_add_named(std::uint8_t name, std::string_view value) {  // name >= 63
  return "\x7f"s + static_cast<char>(name - 63) + hp_string(value);
}
std::string hp_plain(std::string_view name, std::string_view value) {
  return "\x00"s + hp_string(name) + hp_string(value);
}
std::string header_block(std::uint32_t stream, std::string_view block, bool end_stream) {
  return frame(http2::kHeaders, 0x4 | (end_stream ? 1 : 0), stream, block);
}

TEST(Http2Test, JoinedMidFlightLearnsTheEntriesAddedSinceTheJoin) {
  // Before the join the client's table held one entry (62), which we never saw.
  Harness h(Protocol::kHttp2);
  h.client(header_block(5,
                        hp_indexed(3) + hp_indexed(6) + hp_add(":path", "/svc/A") +  // now 62
                            hp_indexed(63) +          // the old entry: unknown, skipped
                            hp_add_named(63, "v1") +  // the old entry's name: a placeholder, 62
                            hp_plain("x-id", "7"),
                        true));
  h.server(header_block(5, hp_indexed(8), true));
  // Indices now: 62 the placeholder, 63 ":path /svc/A", 64 the old entry.
  h.client(header_block(7, hp_indexed(3) + hp_indexed(63) + hp_indexed(62) + hp_indexed(64), true));
  h.server(header_block(7, hp_indexed(8), true));
  auto out = h.take(true);
  ASSERT_EQ(out.size(), 2u);
  for (const Exchange& e : out) {
    EXPECT_EQ(field(e, "http2.headers_partial"), "true");
    EXPECT_EQ(e.method, "POST");
    EXPECT_EQ(e.target, "/svc/A");  // the second one by a reference to an entry seen added
    EXPECT_EQ(e.status, 200);
    for (auto& [k, v] : e.request_headers) EXPECT_NE(v, "v1") << "a placeholder shown: " << k;
  }
  EXPECT_EQ(out[0].request_headers.size(), 4u);  // :method :scheme :path x-id
  EXPECT_EQ(find_header(out[0].request_headers, "x-id"), "7");
  EXPECT_EQ(out[1].request_headers.size(), 2u);  // :method :path
}

TEST(Http2Test, LostBytesForgetTheEntriesLearntSinceTheJoin) {
  Harness h(Protocol::kHttp2);
  h.client(header_block(5, hp_indexed(3) + hp_add(":path", "/before"), true));
  std::string lost = header_block(7, hp_indexed(3) + hp_add(":path", "/lost"), true);
  h.lose(MessageType::kRequest, lost.size());
  // 62 is now "/lost", which we never saw: it must not come out as "/before".
  h.client(header_block(9, hp_indexed(3) + hp_indexed(62), true));
  h.server(header_block(5, hp_indexed(8), true) + header_block(9, hp_indexed(8), true));
  auto out = h.take(true);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].target, "/before");
  EXPECT_EQ(out[1].target, "");
  EXPECT_EQ(out[1].method, "POST");
}

TEST(Http2Test, GrpcToldByItsFramingWhenContentTypeIsUnknown) {
  // Joined mid-flight: content-type (and grpc-status) are references to entries never seen.
  Harness h(Protocol::kHttp2);
  std::string request = hp_indexed(3) + hp_indexed(6) + hp_indexed(65) + hp_indexed(64);
  h.client(header_block(9, request, false) + data(9, grpc_message(kHelloRequest), true));
  h.server(header_block(9, hp_indexed(8) + hp_indexed(63), false) +
           data(9, grpc_message(kHelloReply).substr(0, 4), false) +
           data(9, grpc_message(kHelloReply).substr(4), false) +
           header_block(9, hp_indexed(62), true));
  // A POST with a text body is not taken for gRPC, nor is a 0x00-led body of the wrong length.
  h.client(header_block(11, request, false) + data(11, "hello=world", true));
  h.server(header_block(11, hp_indexed(8), false) + data(11, "ok", true));
  h.client(header_block(13, request, false) + data(13, "\x00\x00\x00\x00\x09short"s, true));
  h.server(header_block(13, hp_indexed(8), true));
  auto out = h.take(true);
  ASSERT_EQ(out.size(), 3u);
  const Exchange& e = out[0];
  EXPECT_EQ(field(e, "grpc.inferred"), "true");
  EXPECT_EQ(field(e, "grpc.request_messages"), "1");
  EXPECT_EQ(field(e, "grpc.response_messages"), "1");
  EXPECT_EQ(field(e, "grpc.request_decoded"), "#1 (7 bytes)\n1: \"world\"\n");
  EXPECT_EQ(field(e, "grpc.response_decoded"),
            "#1 (21 bytes)\n1: \"Hello, world\"\n2: 150\n3 {\n  1: 1\n}\n");
  EXPECT_EQ(field(e, "grpc.status"), "");  // the trailer was a reference: never guessed
  EXPECT_EQ(e.status_text, "");
  EXPECT_EQ(e.error, "");
  EXPECT_EQ(field(e, "http2.headers_partial"), "true");
  for (std::size_t i = 1; i < 3; ++i) {
    EXPECT_EQ(field(out[i], "grpc.request_messages"), "") << i;
    EXPECT_EQ(field(out[i], "grpc.inferred"), "") << i;
  }
}

TEST(Http2Test, GrpcCancelledAtItsTimeoutIsDeadlineExceeded) {
  Encoder client, server;
  Harness h(Protocol::kHttp2);
  Fields call = grpc_call("/pkg.Svc/Slow");
  call.push_back({"grpc-timeout", "100m"});
  const std::uint64_t t0 = 1'000'000'000;
  h.client(kPreface + kSettings + headers(client, 1, call, false) +
               data(1, grpc_message(kHelloRequest), true),
           t0);
  h.server(kSettings, t0 + 1000);
  // The client gives up when its deadline fires (100 ms less the time spent before sending).
  h.client(frame(http2::kRstStream, 0, 1, be32(8)), t0 + 99'800'000);
  // Cancelled well before its deadline: a plain cancellation.
  h.client(headers(client, 3, call, false) + data(3, grpc_message(kHelloRequest), true), t0 + 2e8);
  h.client(frame(http2::kRstStream, 0, 3, be32(8)), t0 + 2e8 + 10'000'000);
  auto out = h.take();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].status_text, "DEADLINE_EXCEEDED");
  EXPECT_EQ(field(out[0], "grpc.status"), "4");
  EXPECT_EQ(field(out[0], "grpc.status_from"), "deadline");
  EXPECT_NE(out[0].error.find("DEADLINE_EXCEEDED"), std::string::npos) << out[0].error;
  EXPECT_FALSE(out[0].has_response);
  EXPECT_EQ(out[0].latency_ns, 99'800'000u);  // how long the call lived
  EXPECT_EQ(out[1].error, "RST_STREAM 8");
  EXPECT_EQ(field(out[1], "grpc.status"), "");
}

TEST(Http2Test, LostBytesDesyncOnlyThatDirection) {
  Encoder client, server;
  Harness h(Protocol::kHttp2);
  h.client(kPreface + kSettings + headers(client, 1, get("/one"), true));
  h.server(kSettings + headers(server, 1, ok("0"), true));
  ASSERT_EQ(h.take().size(), 1u);
  std::string lost = headers(client, 3, get("/lost"), true);
  h.lose(MessageType::kRequest, lost.size());
  h.client(headers(client, 5, get("/after"), true));
  h.server(headers(server, 5, ok("0"), true));
  auto out = h.take(true);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].target, "/after");
  EXPECT_EQ(field(out[0], "http2.headers_partial"), "true");
  EXPECT_TRUE(out[0].gap);
}

TEST(Http2Test, ResetStreamEndsTheExchange) {
  Encoder client, server;
  Harness h(Protocol::kHttp2);
  h.client(kPreface + kSettings + headers(client, 1, get("/slow"), true) +
           frame(http2::kRstStream, 0, 1, be32(8)));
  auto out = h.take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].error, "RST_STREAM 8");
  EXPECT_FALSE(out[0].has_response);
  // The server's late answer for it opens nothing.
  h.server(kSettings + headers(server, 1, ok("0"), true));
  EXPECT_TRUE(h.take(true).empty());
}

TEST(Http2Test, AnAnswerBeforeTheWholeBodyWaitsForTheBody) {
  Encoder client, server;
  Harness h(Protocol::kHttp2);
  Fields post = get("/echo");
  post[0].second = "POST";
  h.client(seq({[&] { return kPreface + kSettings + headers(client, 1, post, false); }}));
  // nginx's `return 201` answers as soon as it has the headers.
  h.server(seq({[&] {
    return kSettings + headers(server, 1, ok("7"), false) + data(1, "got it\n", true);
  }}));
  EXPECT_TRUE(h.take().empty());
  h.client(data(1, "posted", true));
  // Or the server stops the upload: RST_STREAM NO_ERROR, no error for the exchange.
  h.client(headers(client, 3, post, false) + data(3, "part", false));
  h.server(headers(server, 3, ok("0"), true) + frame(http2::kRstStream, 0, 3, be32(0)));
  auto out = h.take();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].request_body.data, "posted");
  EXPECT_EQ(out[0].response_body.data, "got it\n");
  EXPECT_EQ(out[0].status, 200);
  EXPECT_EQ(out[1].request_body.data, "part");
  EXPECT_EQ(out[1].error, "");
  EXPECT_EQ(field(out[1], "http2.rst_stream"), "0");
}

TEST(Http2Test, PushPromiseOpensAPushedStream) {
  Encoder client, server;
  Harness h(Protocol::kHttp2);
  h.client(kPreface + kSettings + headers(client, 1, get("/index.html"), true));
  h.server(
      seq({[&] { return kSettings + headers(server, 1, ok("2"), false); },
           [&] {
             return frame(http2::kPushPromise, 0x4, 1, be32(2) + server.block(get("/style.css")));
           },
           [&] {
             return data(1, "hi", true) + headers(server, 2, ok("1"), false) + data(2, "x", true);
           }}));
  auto out = h.take();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].target, "/style.css");
  EXPECT_EQ(field(out[1], "http2.pushed"), "true");
  EXPECT_EQ(out[1].response_body.data, "x");
}

TEST(Http2Test, GarbageNeverCrashesAndResyncs) {
  Encoder client, server;
  Harness h(Protocol::kHttp2);
  h.client(kPreface + kSettings);
  h.server(kSettings);
  h.client("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff garbage that is no frame at all"s);
  h.client(headers(client, 1, get("/ok"), true));
  h.server(headers(server, 1, ok("0"), true));
  auto out = h.take(true);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].target, "/ok");
  EXPECT_GT(h.decoder().stats().invalid, 0u);
  // Bytes of every value: whatever comes out, nothing breaks.
  Harness g(Protocol::kHttp2);
  std::string noise;
  for (int i = 0; i < 4096; ++i) noise += static_cast<char>((i * 7919 + 13) % 251);
  g.client(kPreface + noise).server(noise);
  g.take(true);
}

TEST(Http2Test, ProtobufWithoutSchema) {
  EXPECT_EQ(grpc::decode_protobuf(kHelloReply, 4096).value(),
            "1: \"Hello, world\"\n2: 150\n3 {\n  1: 1\n}\n");
  EXPECT_EQ(grpc::decode_protobuf("\x0d\x01\x00\x00\x00\x11\x02\x00\x00\x00\x00\x00\x00\x00"s, 4096)
                .value(),
            "1: 0x00000001\n2: 0x0000000000000002\n");
  EXPECT_FALSE(grpc::decode_protobuf("\x0a\x10short"s, 4096).has_value());
  EXPECT_FALSE(grpc::decode_protobuf("\x0b"s, 4096).has_value());  // a group start
  EXPECT_EQ(grpc::status_name("14"), "UNAVAILABLE");
  EXPECT_EQ(grpc::status_name("99"), "99");
}

}  // namespace
}  // namespace reel::protocols
