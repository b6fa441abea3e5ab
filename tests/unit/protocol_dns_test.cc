#include <gtest/gtest.h>

#include <string>

#include "protocol_harness.h"
#include "protocols/dns/parse.h"
#include "wire_builders.h"

namespace reel::protocols {
namespace {

using testing::Harness;
using namespace std::literals;

using namespace wire;
std::string header(std::uint16_t id, std::uint16_t flags, std::uint16_t qd, std::uint16_t an,
                   std::uint16_t ns = 0, std::uint16_t ar = 0) {
  return be16(id) + be16(flags) + be16(qd) + be16(an) + be16(ns) + be16(ar);
}
const std::string kWwwExampleCom =
    "\x03www\x07"
    "example\x03"
    "com\x00"s;  // at offset 12
std::string question(std::uint16_t type) { return kWwwExampleCom + be16(type) + be16(1); }
std::string rr(std::string_view name, std::uint16_t type, std::uint32_t ttl,
               std::string_view rdata) {
  return std::string(name) + be16(type) + be16(1) + be32(ttl) +
         be16(static_cast<std::uint16_t>(rdata.size())) + std::string(rdata);
}
std::string tcp(std::string_view msg) {
  return be16(static_cast<std::uint16_t>(msg.size())) + std::string(msg);
}

// dig www.example.com: recursion desired, one question, an EDNS OPT record.
std::string query(std::uint16_t id, std::uint16_t type = 1) {
  return header(id, 0x0120, 1, 0, 0, 1) + question(type) + rr("\0"sv, 41, 0, "");
}
// Answer with compression: the CNAME's owner points at the question (offset 12), its target
// and the A record's owner at "example.com" inside it (offset 16).
std::string answer(std::uint16_t id) {
  return header(id, 0x8180, 1, 2) + question(1) + rr("\xc0\x0c"sv, 5, 300, "\xc0\x10"sv) +
         rr("\xc0\x10"sv, 1, 60, "\x5d\xb8\xd8\x22"sv);
}

dns::Message decode(std::string_view msg, bool expect_ok = true) {
  dns::Message m;
  EXPECT_EQ(dns::parse_message(msg, m, Limits{}), expect_ok);
  return m;
}

TEST(Dns, DigOverUdp) {
  Harness h(Protocol::kDns, DecoderOptions{.datagrams = true});
  h.client(query(0x1a2b), 1000).server(answer(0x1a2b), 21000);
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 1u);
  const Exchange& e = ex[0];
  EXPECT_EQ(e.protocol, Protocol::kDns);
  EXPECT_EQ(e.method, "A");
  EXPECT_EQ(e.target, "www.example.com");
  EXPECT_EQ(e.status_text, "NOERROR");
  EXPECT_EQ(e.response_body.data,
            "www.example.com 300 CNAME example.com\nexample.com 60 A 93.184.216.34\n");
  EXPECT_EQ(e.fields.at("dns.answers"), "2");
  EXPECT_EQ(e.latency_ns, 20000u);
}

TEST(Dns, TcpWithLengthPrefixPairsById) {
  Harness h(Protocol::kDns);
  h.client(tcp(query(1)) + tcp(query(2, 28)));
  std::string aaaa = header(2, 0x8180, 1, 1) + question(28) +
                     rr("\xc0\x0c"sv, 28, 60,
                        "\x26\x06\x28\x00\x02\x20\x00\x01\x02\x48\x18\x93\x25\xc8\x19\x46"sv);
  h.server(tcp(aaaa));
  std::string reply = tcp(answer(1));
  h.server(reply.substr(0, 7)).server(reply.substr(7));
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(ex[0].method, "AAAA");
  EXPECT_EQ(ex[0].response_body.data,
            "www.example.com 60 AAAA 2606:2800:220:1:248:1893:25c8:1946\n");
  EXPECT_EQ(ex[1].method, "A");
  EXPECT_EQ(ex[1].fields.at("dns.id"), "1");
}

TEST(Dns, NxdomainIsAnError) {
  Harness h(Protocol::kDns, DecoderOptions{.datagrams = true});
  h.client(query(7));
  std::string soa_rdata = "\x02ns\xc0\x10\x04mail\xc0\x10"s + be32(2024) + be32(7200) + be32(3600) +
                          be32(1209600) + be32(3600);
  h.server(header(7, 0x8183, 1, 0, 1) + question(1) + rr("\xc0\x10"sv, 6, 3600, soa_rdata));
  auto ex = h.take();
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_EQ(ex[0].status, 3);
  EXPECT_EQ(ex[0].error, "NXDOMAIN");
}

TEST(Dns, RecordDataForms) {
  std::string msg = header(9, 0x8180, 1, 4) + question(15) +
                    rr("\xc0\x0c"sv, 15, 10, "\x00\x0a\x04mail\xc0\x10"sv) +
                    rr("\xc0\x0c"sv, 16, 10, "\x05hello\x05world"sv) +
                    rr("\xc0\x0c"sv, 33, 10, "\x00\x01\x00\x02\x01\xbb\xc0\x10"sv) +
                    rr("\xc0\x0c"sv, 99, 10, "\xab\xcd"sv);
  dns::Message m = decode(msg);
  ASSERT_EQ(m.answers.size(), 4u);
  EXPECT_EQ(m.answers[0].data, "10 mail.example.com");
  EXPECT_EQ(m.answers[1].data, "\"hello\" \"world\"");
  EXPECT_EQ(m.answers[2].data, "1 2 443 example.com");
  EXPECT_EQ(m.answers[3].data, "\\# 2 abcd");
}

TEST(Dns, CompressionLoopsAreRejected) {
  // The question's name points at itself.
  decode(header(1, 0, 1, 0) + "\xc0\x0c"s + be16(1) + be16(1), false);
  // Two names pointing at each other: the second jump goes forward.
  decode(header(1, 0, 1, 0) +
             "\x01"
             "a\xc0\x10\x00"s +
             "\xc0\x0c"s + be16(1) + be16(1),
         false);
  // A pointer past the end, a reserved label type, a truncated label.
  decode(header(1, 0, 1, 0) + "\xc3\xff"s + be16(1) + be16(1), false);
  decode(header(1, 0, 1, 0) + "\x41xx\x00"s + be16(1) + be16(1), false);
  decode(header(1, 0, 1, 0) +
             "\x3f"
             "abc"s,
         false);
}

TEST(Dns, OverlongNameIsRejected) {
  std::string name;
  for (int i = 0; i < 5; ++i) name += "\x3f" + std::string(63, 'a');
  decode(header(1, 0, 1, 0) + name + "\x00"s + be16(1) + be16(1), false);
}

TEST(Dns, HugeCountsAreBoundedByTheMessage) {
  dns::Message m = decode(header(1, 0x8180, 0xffff, 0xffff) + question(1), false);
  EXPECT_LE(m.questions.size(), 1u);
}

TEST(Dns, TruncatedAndGarbage) {
  dns::State state;
  dns::Message m;
  Limits limits;
  EXPECT_EQ(dns::parse_frame(MessageType::kRequest, as_bytes("\x00"sv), m, state, limits).state,
            ParseState::kNeedsMore);
  EXPECT_EQ(
      dns::parse_frame(MessageType::kRequest, as_bytes("\x00\x05xx"sv), m, state, limits).state,
      ParseState::kInvalid);
  std::string q = tcp(query(3));
  EXPECT_EQ(
      dns::parse_frame(MessageType::kRequest, as_bytes(q.substr(0, 10)), m, state, limits).state,
      ParseState::kNeedsMore);
  std::string bad = tcp(header(1, 0, 1, 0) + "\xc0\x0c"s);  // framed, but the name loops
  dns::Message m2;
  ParseResult r = dns::parse_frame(MessageType::kRequest, as_bytes(bad), m2, state, limits);
  EXPECT_EQ(r.state, ParseState::kParsed);
  EXPECT_TRUE(m2.malformed);
  state.tcp = false;
  EXPECT_EQ(dns::parse_frame(MessageType::kRequest, as_bytes("short"sv), m, state, limits).state,
            ParseState::kInvalid);
}

TEST(Dns, UnansweredQueryFlushesAlone) {
  Harness h(Protocol::kDns, DecoderOptions{.datagrams = true});
  h.client(query(5)).client(query(5));  // a retry with the same id
  h.server(answer(5));
  auto ex = h.take(true);
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_TRUE(ex[0].has_response);
  EXPECT_FALSE(ex[1].has_response);
}

}  // namespace
}  // namespace reel::protocols
