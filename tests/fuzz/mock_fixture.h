// Recorded mocks for the mock fuzz targets: fixed conversations of every protocol (the exchanges
// make_seeds.py writes out for the decoder targets) run once through the real CallRecorder and
// dns_call, so each Responder has something of its kind to match the fuzzed client bytes with.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mock/mock.h"
#include "mock/protocols.h"

namespace reel::fuzz {

inline std::span<const std::byte> as_span(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

inline Endpoint endpoint(std::uint8_t last, std::uint16_t port) {
  return *parse_endpoint("10.0.0." + std::to_string(last) + ":" + std::to_string(port));
}

// The destinations the targets choose from: one per recorded protocol, then an address nothing
// was recorded for (Responder::create infers from the client's bytes), then MySQL's port with
// no reel.server (Keploy mocks).
inline std::vector<Endpoint> fixture_servers() {
  return {endpoint(1, 8080), endpoint(2, 6379), endpoint(3, 5432), endpoint(4, 3306),
          endpoint(5, 9000), endpoint(6, 7777), endpoint(7, 3306), endpoint(8, 50051)};
}
inline Endpoint fixture_resolver() { return endpoint(53, 53); }

namespace fixture_detail {

using Talk = std::vector<std::pair<Direction, std::string>>;
constexpr auto kUp = Direction::kClientToServer;
constexpr auto kDown = Direction::kServerToClient;

inline std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}
inline std::string pg(char tag, std::string_view payload) {
  return std::string(1, tag) + be32(static_cast<std::uint32_t>(payload.size() + 4)) +
         std::string(payload);
}
inline std::string my(std::uint8_t seq, std::string_view payload) {
  std::size_t n = payload.size();
  return std::string{static_cast<char>(n), static_cast<char>(n >> 8), static_cast<char>(n >> 16),
                     static_cast<char>(seq)} +
         std::string(payload);
}
inline std::string lenenc(std::string_view s) {
  return std::string(1, static_cast<char>(s.size())) + std::string(s);
}
inline std::string resp(std::vector<std::string_view> args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (auto a : args) out += "$" + std::to_string(a.size()) + "\r\n" + std::string(a) + "\r\n";
  return out;
}
using namespace std::string_literals;

inline Talk http() {
  std::string get = "GET /api/items?id=7 HTTP/1.1\r\nHost: localhost:8000\r\nAccept: */*\r\n\r\n";
  std::string post =
      "POST /api/items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 24\r\n\r\n{\"name\":\"ada\",\"n\":[1,2]}";
  std::string ok =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"id\":7,\"a\":1";
  std::string chunked =
      "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n7\r\nMozilla\r\n0\r\n\r\n";
  return {{kUp, get}, {kDown, ok}, {kUp, post}, {kDown, chunked}};
}

inline Talk redis() {
  return {{kUp, resp({"AUTH", "secret"})}, {kDown, "+OK\r\n"},
          {kUp, resp({"SET", "foo", "bar"})},  {kDown, "+OK\r\n"},
          {kUp, resp({"GET", "foo"})},         {kDown, "$3\r\nbar\r\n"},
          {kUp, resp({"HGETALL", "h"})},       {kDown, "*2\r\n$1\r\na\r\n:1\r\n"}};
}

inline Talk postgres() {
  std::string startup = "\x00\x03\x00\x00user\x00postgres\x00database\x00shop\x00\x00"s;
  startup = be32(static_cast<std::uint32_t>(startup.size() + 4)) + startup;
  std::string ready = pg('Z', "I");
  std::string col = "\x00\x00\x40\x00\x00\x01\x00\x00\x00\x17\x00\x04\xff\xff\xff\xff\x00\x00"s;
  std::string rowdesc = pg('T', "\x00\x01id\x00"s + col);
  std::string row = pg('D', "\x00\x01\x00\x00\x00\x01"s "1");
  std::string parse = pg('P', "s1\x00SELECT $1\x00\x00\x01\x00\x00\x00\x17"s);
  std::string bind = pg('B', "\x00s1\x00\x00\x00\x00\x01\x00\x00\x00\x02" "42\x00\x00"s);
  return {{kUp, startup},
          {kDown, pg('R', "\x00\x00\x00\x03"s)},
          {kUp, pg('p', "hunter2\x00"s)},
          {kDown, pg('R', "\x00\x00\x00\x00"s) + pg('S', "server_version\x00" "15.5\x00"s) + ready},
          {kUp, pg('Q', "SELECT id FROM users WHERE id = 1\x00"s)},
          {kDown, rowdesc + row + pg('C', "SELECT 1\x00"s) + ready},
          {kUp, parse + bind + pg('D', "P\x00"s) + pg('E', "\x00\x00\x00\x00\x00"s) + pg('S', "")},
          {kDown, pg('1', "") + pg('2', "") + rowdesc + row + pg('C', "SELECT 1\x00"s) + ready},
          {kUp, pg('Q', "SELECT * FROM nope\x00"s)},
          {kDown, pg('E', "SERROR\x00" "C42P01\x00Mrelation \"nope\" does not exist\x00\x00"s) + ready}};
}

inline Talk mysql() {
  auto column = [](std::string_view name, char type) {
    return lenenc("def") + lenenc("shop") + lenenc("users") + lenenc("users") + lenenc(name) +
           lenenc(name) + "\x0c\x3f\x00\x0b\x00\x00\x00"s + type + "\x03\x42\x00\x00\x00"s;
  };
  std::string greeting = "\x0a" "8.0.35\x00\x2a\x00\x00\x00" "abcdefgh\x00\xff\xff\xff\x02\x00\xff\xdf\x15"s +
                         std::string(10, '\0') + "ijklmnopqrst\x00" "caching_sha2_password\x00"s;
  std::uint32_t caps = 0x1 | 0x8 | 0x200 | 0x8000 | 0x80000 | 0x200000 | 0x1000000;
  std::string response = {static_cast<char>(caps), static_cast<char>(caps >> 8),
                          static_cast<char>(caps >> 16), static_cast<char>(caps >> 24)};
  response += "\x00\x00\x00\x01\xff"s + std::string(23, '\0') + "root\x00\x20"s +
              std::string(32, 'Z') + "shop\x00" "caching_sha2_password\x00"s;
  std::string ok = "\x00\x00\x00\x02\x00\x00\x00"s;
  std::string eof = "\xfe\x00\x00\x02\x00"s;
  return {{kDown, my(0, greeting)},
          {kUp, my(1, response)},
          {kDown, my(2, "\x01\x03"s) + my(3, ok)},
          {kUp, my(0, "\x03SELECT id, name FROM users"s)},
          {kDown, my(1, "\x02"s) + my(2, column("id", 3)) + my(3, column("name", '\xfd')) +
                      my(4, lenenc("1") + lenenc("ada")) + my(5, "\xfe\x00\x00\x22\x00\x00\x00"s)},
          {kUp, my(0, "\x16SELECT name FROM users WHERE id = ?"s)},
          {kDown, my(1, "\x00\x01\x00\x00\x00\x01\x00\x01\x00\x00\x00\x00"s) + my(2, column("?", 8)) +
                      my(3, eof) + my(4, column("name", '\xfd')) + my(5, eof)},
          {kUp, my(0, "\x17\x01\x00\x00\x00\x00\x01\x00\x00\x00\x00\x01\x08\x00"s +
                          "\x2a\x00\x00\x00\x00\x00\x00\x00"s)},
          {kDown, my(1, "\x01"s) + my(2, column("name", '\xfd')) + my(3, eof) +
                      my(4, "\x00\x00\x03" "eve"s) + my(5, eof)},
          {kUp, my(0, "\x03SELECT * FROM nope"s)},
          {kDown, my(1, "\xff\x7a\x04#42S02Table 'shop.nope' doesn't exist"s)}};
}

inline Talk generic() {
  return {{kUp, "EHLO x\r\n"}, {kDown, "250 hi\r\n"}, {kUp, "\x01\x02\x03\x00\xff"s},
          {kDown, "\x04\x05"s}};
}

inline std::string dns_query(std::uint16_t id) {
  return std::string{static_cast<char>(id >> 8), static_cast<char>(id)} +
         "\x01\x20\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07" "example\x03" "com\x00\x00\x01\x00\x01"s;
}
inline std::string dns_answer_bytes(std::uint16_t id) {
  std::string q = dns_query(id);
  q[2] = '\x81';
  q[3] = '\x80';
  q[7] = 2;
  return q + "\xc0\x0c\x00\x05\x00\x01\x00\x00\x01\x2c\x00\x02\xc0\x10"s +
         "\xc0\x10\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x5d\xb8\xd8\x22"s;
}

inline std::string h2_frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream,
                            std::string_view payload) {
  return be32(static_cast<std::uint32_t>(payload.size())).substr(1) + std::string(1, char(type)) +
         std::string(1, char(flags)) + be32(stream) + std::string(payload);
}
// An HPACK literal with incremental indexing, no Huffman: a static-table name when `index`.
inline std::string hpack(std::string_view name, std::string_view value, std::uint8_t index = 0) {
  std::string out = index ? std::string(1, char(0x40 | index))
                          : "\x40"s + char(name.size()) + std::string(name);
  return out + char(value.size()) + std::string(value);
}

// A gRPC unary call and a server-streaming one on one h2c connection (the HTTP/2 responder).
inline Talk grpc() {
  std::string settings = h2_frame(4, 0, 0, "\x00\x03\x00\x00\x00\x64"s);
  auto request = [](std::string_view path) {
    return "\x83\x86"s + hpack("", path, 4) + hpack("", "application/grpc", 31) +
           hpack("te", "trailers");
  };
  std::string answer = "\x88"s + hpack("", "application/grpc", 31);
  std::string ok = hpack("grpc-status", "0");
  auto message = [](std::string_view pb) {
    return "\x00"s + be32(static_cast<std::uint32_t>(pb.size())) + std::string(pb);
  };
  std::string up = std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + settings +
                   h2_frame(1, 4, 1, request("/demo.Greeter/SayHello")) +
                   h2_frame(0, 1, 1, message("\x0a\x05alice")) +
                   h2_frame(1, 4, 3, request("/demo.Greeter/Count")) +
                   h2_frame(0, 1, 3, message("\x0a\x01\x32"));
  std::string down = settings + h2_frame(4, 1, 0, "") + h2_frame(1, 4, 1, answer) +
                     h2_frame(0, 0, 1, message("\x0a\x0dHello, alice!")) +
                     h2_frame(1, 5, 1, ok) +
                     // The dynamic table now holds grpc-status 0 (62), content-type (63).
                     h2_frame(1, 4, 3, "\x88\xbf") +
                     h2_frame(0, 0, 3, message("\x0a\x01a") + message("\x0a\x01b")) +
                     h2_frame(1, 5, 3, "\xbe");
  return {{kUp, up}, {kDown, down}};
}

}  // namespace fixture_detail

// Every conversation, with the server it was recorded from (fixture_servers()[i]).
inline std::vector<fixture_detail::Talk> fixture_conversations() {
  using namespace fixture_detail;
  return {http(), redis(), postgres(), mysql(), generic()};
}

// The recorded mocks, built once. Half the calls are tagged with test "t1" so the pool's test
// scoping is exercised too; the MySQL calls are also recorded without reel.server, as Keploy's
// are, for the port-3306 fallback.
inline const std::vector<testset::Mock>& fixture_mocks() {
  static const std::vector<testset::Mock> mocks = [] {
    std::vector<testset::Mock> out;
    auto servers = fixture_servers();
    auto talks = fixture_conversations();
    for (std::size_t i = 0; i < talks.size(); ++i) {
      auto rec = mock::CallRecorder::create(endpoint(100, 40000), servers[i], {});
      std::uint64_t t = 1'000'000;
      for (const auto& [dir, bytes] : talks[i]) rec->data(dir, as_span(bytes), t += 1000);
      rec->close(false, t + 1000);
      std::size_t n = 0;
      for (auto& call : rec->take()) {
        if (n++ % 2) call.mock.metadata[std::string(mock::kMetaTest)] = "t1";
        out.push_back(call.mock);
        if (i == 3) {
          out.push_back(call.mock);
          out.back().metadata.erase(std::string(mock::kMetaServer));
        }
      }
    }
    {  // gRPC over h2c, from the eighth server
      auto rec = mock::CallRecorder::create(endpoint(100, 40001), servers[7], {});
      std::uint64_t t = 2'000'000;
      for (const auto& [dir, bytes] : fixture_detail::grpc()) rec->data(dir, as_span(bytes), t += 1000);
      rec->close(false, t + 1000);
      for (auto& call : rec->take()) out.push_back(call.mock);
    }
    for (std::uint16_t id : {1, 2}) {
      auto call = mock::dns_call(as_span(fixture_detail::dns_query(id)),
                                 as_span(fixture_detail::dns_answer_bytes(id)), 5, 6,
                                 fixture_resolver(), {});
      if (call) out.push_back(call->mock);
    }
    return out;
  }();
  return mocks;
}

}  // namespace reel::fuzz
