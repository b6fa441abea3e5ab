// reel trace's user-space pieces on synthetic events: tracker, filters, summary, HAR and JSON.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "capture/tracker.h"
#include "trace/filter.h"
#include "trace/sinks.h"
#include "trace/summary.h"

namespace reel::trace {
namespace {

using capture::CloseEvent;
using capture::ConnKey;
using capture::DataEvent;
using capture::OpenEvent;
using capture::TracedExchange;

struct Feed {
  capture::Tracker tracker{{.limits = {}, .idle_ns = 1'000'000'000, .is_listening = [](const Endpoint&) { return false; }}};
  std::vector<TracedExchange> out;
  ConnKey key{100, 7, 1};

  void open(int role) {
    tracker.on_event(OpenEvent{key, 100, 1000, role, *parse_endpoint("127.0.0.1:40000"),
                               *parse_endpoint("127.0.0.1:8080"), false, "client"},
                     out);
  }
  void data(int dir, std::uint64_t pos, std::string_view bytes, std::uint64_t ts) {
    DataEvent e{key, 100, ts, dir, 0, pos, static_cast<std::uint32_t>(bytes.size()),
                {reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()}, {}};
    tracker.on_event(e, out);
  }
  void lost(int dir, std::uint64_t pos, std::uint32_t len) {
    tracker.on_event(DataEvent{key, 100, 5000, dir, CAP_F_LENGTH_ONLY, pos, len, {}, {}}, out);
  }
  void close() { tracker.on_event(CloseEvent{key, 9000, 0, 0}, out); }
};

TEST(Tracker, PairsHttpAcrossOutOfOrderChunks) {
  Feed f;
  f.open(CAP_ROLE_CLIENT);
  std::string req = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string resp = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  f.data(CAP_DIR_EGRESS, 0, req, 2000);
  // The response arrives in two chunks, the second first.
  f.data(CAP_DIR_INGRESS, 10, resp.substr(10), 3500);
  f.data(CAP_DIR_INGRESS, 0, resp.substr(0, 10), 3000);
  f.close();
  ASSERT_EQ(f.out.size(), 1u);
  const auto& ex = f.out[0].exchange;
  EXPECT_EQ(ex.method, "GET");
  EXPECT_EQ(ex.target, "/a");
  EXPECT_EQ(ex.status, 200);
  EXPECT_EQ(ex.response_body.data, "hello");
  EXPECT_EQ(ex.latency_ns, 1500u);
  EXPECT_FALSE(f.out[0].conn.server);
  EXPECT_EQ(f.tracker.open_connections(), 0u);
}

TEST(Tracker, ServerRoleSwapsDirections) {
  Feed f;
  f.open(CAP_ROLE_SERVER);
  f.data(CAP_DIR_INGRESS, 0, "*1\r\n$4\r\nPING\r\n", 100);
  f.data(CAP_DIR_EGRESS, 0, "+PONG\r\n", 200);
  f.close();
  ASSERT_EQ(f.out.size(), 1u);
  EXPECT_EQ(f.out[0].exchange.protocol, protocols::Protocol::kRedis);
  EXPECT_EQ(f.out[0].exchange.method, "PING");
  EXPECT_TRUE(f.out[0].conn.server);
}

TEST(Tracker, LostBytesAreCountedNotJoined) {
  Feed f;
  f.open(CAP_ROLE_CLIENT);
  f.data(CAP_DIR_EGRESS, 0, "*1\r\n$4\r\nPING\r\n", 100);
  f.data(CAP_DIR_INGRESS, 0, "+PONG\r\n", 200);
  f.lost(CAP_DIR_EGRESS, 14, 1000);
  f.data(CAP_DIR_EGRESS, 1014, "*1\r\n$4\r\nPING\r\n", 300);
  f.data(CAP_DIR_INGRESS, 7, "+PONG\r\n", 400);
  f.close();
  EXPECT_EQ(f.tracker.stats().bytes_lost, 1000u);
  ASSERT_GE(f.out.size(), 1u);
  EXPECT_EQ(f.out[0].exchange.method, "PING");
}

// The handler form: exchanges wait in the tracker until a batch is full or deliver() is called,
// and each still names its own connection, even one closed (and its fd reused) meanwhile.
TEST(Tracker, DeliversBatchesWithEachExchangesOwnConnection) {
  struct Seen final : capture::ExchangeHandler {
    std::vector<std::pair<std::uint16_t, std::string>> got;  // client port, target
    void on_exchange(const capture::ConnectionInfo& c, protocols::Exchange& ex) override {
      got.emplace_back(c.remote.port, ex.target);
    }
  } seen;
  capture::Tracker tracker{{.limits = {}, .idle_ns = 1'000'000'000,
                            .is_listening = [](const Endpoint&) { return false; }}};
  std::map<std::uint64_t, std::uint64_t> in_pos, out_pos;  // per connection (gen)
  std::uint64_t ts = 10;
  auto open = [&](ConnKey key, const char* client) {
    tracker.on_event(OpenEvent{key, 100, ts++, CAP_ROLE_SERVER, *parse_endpoint("127.0.0.1:8080"),
                               *parse_endpoint(client), false, "server"},
                     seen);
  };
  auto send = [&](ConnKey key, int dir, std::string_view bytes) {
    std::uint64_t& pos = (dir == CAP_DIR_INGRESS ? in_pos : out_pos)[key.gen];
    tracker.on_event(DataEvent{key, 100, ts++, dir, 0, pos, static_cast<std::uint32_t>(bytes.size()),
                               {reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()}, {}},
                     seen);
    pos += bytes.size();
  };
  auto exchange = [&](ConnKey key, const std::string& path) {
    send(key, CAP_DIR_INGRESS, "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
    send(key, CAP_DIR_EGRESS, "HTTP/1.1 204 No Content\r\n\r\n");
  };
  ConnKey a{100, 7, 1}, b{100, 8, 2}, a2{100, 7, 3};  // a2: a's fd, reused after a closed
  open(a, "127.0.0.1:40001");
  open(b, "127.0.0.1:40002");
  for (int i = 0; i < 5; i++) {
    exchange(a, "/a" + std::to_string(i));
    exchange(b, "/b" + std::to_string(i));
  }
  tracker.on_event(CloseEvent{a, ts++, 0, 0}, seen);
  open(a2, "127.0.0.1:40003");
  exchange(a2, "/c");
  EXPECT_TRUE(seen.got.empty()) << "a batch is not full yet";
  tracker.deliver(seen);
  ASSERT_EQ(seen.got.size(), 11u);
  std::map<std::uint16_t, std::vector<std::string>> by_port;
  for (auto& [port, target] : seen.got) by_port[port].push_back(target);
  EXPECT_EQ(by_port[40001], (std::vector<std::string>{"/a0", "/a1", "/a2", "/a3", "/a4"}));
  EXPECT_EQ(by_port[40002], (std::vector<std::string>{"/b0", "/b1", "/b2", "/b3", "/b4"}));
  EXPECT_EQ(by_port[40003], (std::vector<std::string>{"/c"}));
  tracker.deliver(seen);
  EXPECT_EQ(seen.got.size(), 11u) << "each exchange is delivered once";

  // A full batch goes without being asked.
  for (int i = 0; i < 300; i++) exchange(b, "/x");
  EXPECT_GE(seen.got.size(), 11u + 256u);
  EXPECT_LT(seen.got.size(), 11u + 300u);
  tracker.flush_all(seen);
  EXPECT_EQ(seen.got.size(), 11u + 300u);
  EXPECT_EQ(tracker.stats().exchanges, 311u);
}

TEST(Tracker, DataForUnknownConnectionIsCountedAndIgnored) {
  Feed f;
  f.data(CAP_DIR_EGRESS, 0, "GET / HTTP/1.1\r\n\r\n", 1);
  EXPECT_EQ(f.tracker.stats().orphan_events, 1u);
  EXPECT_TRUE(f.out.empty());
}

TracedExchange http(std::string method, std::string target, int status, std::uint64_t latency_ms) {
  TracedExchange t;
  t.conn.local = *parse_endpoint("127.0.0.1:40000");
  t.conn.remote = *parse_endpoint("127.0.0.9:80");
  t.exchange.protocol = protocols::Protocol::kHttp1;
  t.exchange.has_request = t.exchange.has_response = true;
  t.exchange.method = std::move(method);
  t.exchange.target = std::move(target);
  t.exchange.status = status;
  t.exchange.host = "api.example";
  t.exchange.latency_ns = latency_ms * 1'000'000;
  t.exchange.request_time = {1'000'000'000, 1'000'000'100};
  t.exchange.response_time = {1'000'000'100 + t.exchange.latency_ns, 1'000'000'200 + t.exchange.latency_ns};
  return t;
}

TEST(Filter, RejectsBadFlagsWithTheirName) {
  EXPECT_NE(Filter::parse({.protocols = "http,smtp"}).error().message.find("smtp"), std::string::npos);
  EXPECT_NE(Filter::parse({.path = "("}).error().message.find("--path"), std::string::npos);
  EXPECT_NE(Filter::parse({.status = "6xx"}).error().message.find("--status"), std::string::npos);
  EXPECT_NE(Filter::parse({.min_latency = "10 parsecs"}).error().message.find("--min-latency"),
            std::string::npos);
}

TEST(Filter, MatchesEachCriterion) {
  auto f = Filter::parse({.protocols = "http", .method = "get", .path = "^/users", .status = "5xx,404",
                          .host = "api", .min_latency = "10ms"});
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_TRUE(f->matches(http("GET", "/users/1", 503, 20)));
  EXPECT_TRUE(f->matches(http("GET", "/users/1", 404, 20)));
  EXPECT_FALSE(f->matches(http("POST", "/users/1", 503, 20)));
  EXPECT_FALSE(f->matches(http("GET", "/orders", 503, 20)));
  EXPECT_FALSE(f->matches(http("GET", "/users/1", 200, 20)));
  EXPECT_FALSE(f->matches(http("GET", "/users/1", 503, 5)));
  auto redis = http("GET", "/users/1", 503, 20);
  redis.exchange.protocol = protocols::Protocol::kRedis;
  EXPECT_FALSE(f->matches(redis));
}

// A gRPC call as the HTTP/2 stitcher gives it: :status 200, the grpc-status in the fields.
TracedExchange grpc_call(std::string path, std::string grpc_status) {
  auto t = http("POST", std::move(path), 200, 2);
  t.exchange.protocol = protocols::Protocol::kHttp2;
  t.exchange.fields["grpc.request_messages"] = "1";
  t.exchange.fields["grpc.response_messages"] = grpc_status == "0" ? "1" : "0";
  if (!grpc_status.empty()) t.exchange.fields["grpc.status"] = grpc_status;
  if (grpc_status == "5") t.exchange.error = "NOT_FOUND: no such thing";
  if (grpc_status == "4") t.exchange.error = "DEADLINE_EXCEEDED: Deadline Exceeded";
  return t;
}

TEST(Filter, StatusTakesGrpcCodesByNumberOrName) {
  auto ok = grpc_call("/demo.Greeter/SayHello", "0");
  auto missing = grpc_call("/demo.Greeter/Get", "5");
  auto late = grpc_call("/demo.Greeter/Slow", "4");
  auto unknown = grpc_call("/demo.Greeter/SayHello", "");  // joined mid-flight: no grpc-status
  auto h2 = http("GET", "/index.html", 404, 1);
  h2.exchange.protocol = protocols::Protocol::kHttp2;
  for (std::string flag : {"5", "NOT_FOUND", "not_found"}) {
    auto f = Filter::parse({.status = flag});
    ASSERT_TRUE(f) << flag << ": " << f.error().message;
    EXPECT_TRUE(f->matches(missing)) << flag;
    EXPECT_FALSE(f->matches(ok)) << flag;
    EXPECT_FALSE(f->matches(late)) << flag;
    EXPECT_FALSE(f->matches(unknown)) << flag;
    EXPECT_FALSE(f->matches(h2)) << flag;
  }
  auto f = Filter::parse({.status = "OK,deadline_exceeded"});
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_TRUE(f->matches(ok));
  EXPECT_TRUE(f->matches(late));
  EXPECT_FALSE(f->matches(missing));
  // HTTP statuses keep their meaning: the HTTP/2 :status; 5xx is any error, gRPC's included.
  f = Filter::parse({.status = "404"});
  EXPECT_TRUE(f->matches(h2));
  EXPECT_FALSE(f->matches(missing));
  f = Filter::parse({.status = "5xx"});
  EXPECT_TRUE(f->matches(missing));
  EXPECT_FALSE(f->matches(ok));
  auto bad = Filter::parse({.status = "17"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("gRPC code"), std::string::npos) << bad.error().message;
  EXPECT_FALSE(Filter::parse({.status = "NOT_A_CODE"}));
}

TEST(Durations, UnitsAndErrors) {
  EXPECT_EQ(*parse_duration_ns("10ms"), 10'000'000u);
  EXPECT_EQ(*parse_duration_ns("1.5s"), 1'500'000'000u);
  EXPECT_EQ(*parse_duration_ns("250us"), 250'000u);
  EXPECT_EQ(*parse_duration_ns("2m"), 120'000'000'000u);
  EXPECT_FALSE(parse_duration_ns("fast"));
  EXPECT_EQ(*parse_size("64k"), 65536u);
  EXPECT_FALSE(parse_size("lots"));
}

TEST(Summary, PercentilesPerEndpoint) {
  Summary s;
  for (int i = 1; i <= 100; i++) s.add(http("GET", "/a?x=" + std::to_string(i), i == 100 ? 500 : 200, i));
  std::vector<std::uint64_t> v;
  for (int i = 1; i <= 100; i++) v.push_back(i);
  EXPECT_EQ(percentile(v, 0.5), 51u);
  EXPECT_EQ(percentile(v, 0.99), 99u);
  EXPECT_EQ(Summary::endpoint_key(http("GET", "/a?x=1", 200, 1).exchange), "http1 GET /a");
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* out = open_memstream(&buf, &len);
  s.print(out, {}, {});
  std::fclose(out);
  std::string text(buf, len);
  free(buf);
  EXPECT_NE(text.find("http1 GET /a"), std::string::npos) << text;
  EXPECT_NE(text.find(" 100 "), std::string::npos) << text;  // one row, count 100
}

std::string capture_output(const std::function<void(std::FILE*)>& fn) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* out = open_memstream(&buf, &len);
  fn(out);
  std::fclose(out);
  std::string text(buf, len);
  free(buf);
  return text;
}

TEST(Summary, CountsExchangesWithPartialHeadersAndNamesGrpc) {
  Summary s;
  auto partial = grpc_call("", "");
  partial.exchange.fields["http2.headers_partial"] = "true";
  s.add(partial);
  s.add(partial);
  s.add(grpc_call("/demo.Greeter/SayHello", "0"));
  EXPECT_EQ(Summary::endpoint_key(grpc_call("/a.B/C", "0").exchange), "grpc POST /a.B/C");
  auto text = capture_output([&](std::FILE* out) { s.print(out, {}, {}); });
  EXPECT_NE(text.find("partial headers: 2 exchanges"), std::string::npos) << text;
  Summary whole;
  whole.add(grpc_call("/demo.Greeter/SayHello", "0"));
  text = capture_output([&](std::FILE* out) { whole.print(out, {}, {}); });
  EXPECT_EQ(text.find("partial headers"), std::string::npos) << text;
}

TEST(Har, IsAValidHar12Document) {
  auto t = http("GET", "/users?id=7&x", 200, 3);
  t.exchange.response_body.append("{\"ok\":true}", 1024);
  t.exchange.response_headers = {{"Content-Type", "application/json"}};
  auto binary = http("POST", "/upload", 201, 1);
  binary.exchange.request_body.append(std::string("\x00\xff\x01", 3), 1024);
  auto text = capture_output([&](std::FILE* out) {
    auto sink = make_har_sink({.out = out});
    sink->write(t);
    sink->write(binary);
    auto other = http("GET", "k", 0, 1);
    other.exchange.protocol = protocols::Protocol::kRedis;
    sink->write(other);
    sink->finish();
  });
  auto har = nlohmann::json::parse(text);
  EXPECT_EQ(har["log"]["version"], "1.2");
  ASSERT_EQ(har["log"]["entries"].size(), 2u);
  auto& e = har["log"]["entries"][0];
  EXPECT_EQ(e["request"]["url"], "http://api.example/users?id=7&x");
  EXPECT_EQ(e["request"]["queryString"][0]["name"], "id");
  EXPECT_EQ(e["request"]["queryString"][0]["value"], "7");
  EXPECT_EQ(e["response"]["status"], 200);
  EXPECT_EQ(e["response"]["content"]["text"], "{\"ok\":true}");
  EXPECT_EQ(e["response"]["content"]["mimeType"], "application/json");
  for (auto key : {"startedDateTime", "time", "cache", "timings"}) EXPECT_TRUE(e.contains(key)) << key;
  EXPECT_EQ(har["log"]["entries"][1]["request"]["postData"]["text"], "AP8B");  // base64 of 00 ff 01
  EXPECT_NE(har["log"]["comment"].get<std::string>().find("1 non-HTTP"), std::string::npos);
}

TEST(Json, OneObjectPerLineWithTheFieldsUsersFilterOn) {
  auto text = capture_output([&](std::FILE* out) {
    auto sink = make_json_sink({.out = out});
    sink->write(http("GET", "/a", 200, 2));
    sink->write(http("GET", "/b", 500, 4));
  });
  auto nl = text.find('\n');
  ASSERT_NE(nl, std::string::npos);
  auto first = nlohmann::json::parse(text.substr(0, nl));
  EXPECT_EQ(first["target"], "/a");
  EXPECT_EQ(first["status"], 200);
  EXPECT_DOUBLE_EQ(first["latency_ms"].get<double>(), 2.0);
  EXPECT_EQ(first["server"], "127.0.0.9:80");
  EXPECT_EQ(nlohmann::json::parse(text.substr(nl + 1))["status"], 500);
}

TEST(Pretty, OneAlignedLinePerExchangeWithWhatAUserScansFor) {
  auto a = http("GET", "/products/1?currency=EUR", 200, 12);
  a.conn.key.tgid = 4242;
  a.conn.comm = "python3-with-a-long-name";
  a.exchange.request_size = 80;
  a.exchange.response_size = 2048;
  a.conn.tls = true;
  auto b = http("POST", "/" + std::string(100, 'x'), 503, 3);
  b.exchange.gap = true;
  b.exchange.request_size = 20 * 1024 + 5;
  b.exchange.response_size = 30 * 1024 * 1024;
  auto text = capture_output([&](std::FILE* out) {
    auto sink = make_pretty_sink({.out = out});
    sink->write(a);
    sink->write(b);
  });
  auto nl = text.find('\n');
  ASSERT_NE(nl, std::string::npos);
  std::string first = text.substr(0, nl), second = text.substr(nl + 1);
  EXPECT_NE(first.find("  4242 python3-with http1    GET     /products/1?currency=EUR "), std::string::npos)
      << first;
  EXPECT_NE(first.find(" 200 "), std::string::npos) << first;
  EXPECT_NE(first.find("     12.0ms      80B > 2048B"), std::string::npos) << first;
  EXPECT_TRUE(first.ends_with(" [tls]")) << first;
  EXPECT_EQ(first.find('\033'), std::string::npos) << "no colour unless asked";
  // A long target is cut to 60 columns with "...", so the columns after it stay aligned.
  EXPECT_NE(second.find("/" + std::string(56, 'x') + "... 503"), std::string::npos) << second;
  EXPECT_TRUE(second.ends_with(" [gap]\n")) << second;
  EXPECT_NE(second.find("      20K > 30M      [gap]"), std::string::npos) << second;
  EXPECT_EQ(first.find(" 200 "), second.find(" 503 "));
}

TEST(Pretty, GrpcStatusUnknownAndPartialHeadersAreSaid) {
  auto partial = grpc_call("", "");
  partial.exchange.fields["http2.headers_partial"] = "true";
  auto reset = grpc_call("/demo.Greeter/Slow", "4");
  reset.exchange.has_response = false;  // cancelled before any answer
  auto text = capture_output([&](std::FILE* out) {
    auto sink = make_pretty_sink({.out = out});
    sink->write(partial);
    sink->write(reset);
  });
  auto nl = text.find('\n');
  std::string first = text.substr(0, nl), second = text.substr(nl + 1);
  EXPECT_NE(first.find(" ? "), std::string::npos) << first;  // never "200" or "OK"
  EXPECT_NE(first.find(" [partial headers] [msgs 1>0]"), std::string::npos) << first;
  EXPECT_NE(second.find("ERR DEADLINE_EXCEEDED"), std::string::npos) << second;
}

}  // namespace
}  // namespace reel::trace
