#include <gtest/gtest.h>

#include "mock/protocols.h"
#include "mock_test_util.h"
#include "protocols/dns/parse.h"

namespace reel::mock {
namespace {

using namespace testing;

const Endpoint kResolver = ep("127.0.0.53:53");

std::string qname(std::string_view name) {
  std::string out;
  while (!name.empty()) {
    auto dot = name.find('.');
    auto label = name.substr(0, dot);
    out.push_back(char(label.size()));
    out += label;
    name = dot == std::string_view::npos ? "" : name.substr(dot + 1);
  }
  return out + std::string(1, '\0');
}

std::string query(std::uint16_t id, std::string_view name, std::uint16_t type = 1) {
  std::string q = {char(id >> 8), char(id & 0xff), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  q += qname(name);
  q += {char(type >> 8), char(type & 0xff), 0, 1};
  return q;
}

std::string answer_a(std::uint16_t id, std::string_view name) {
  std::string a = query(id, name);
  a[2] = char(0x81);
  a[3] = char(0x80);
  a[7] = 2;  // two answers: a CNAME then an A
  std::string target = qname("edge.example.net");
  a += {char(0xc0), 0x0c, 0, 5, 0, 1, 0, 0, 0, 60, 0, char(target.size())};
  a += target;
  a += {char(0xc0), 0x0c, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4, 93, char(184), char(216), 34};
  return a;
}

protocols::dns::Message parse(std::string_view msg) {
  protocols::dns::Message m;
  EXPECT_TRUE(protocols::dns::parse_message(msg, m, {}));
  return m;
}

TEST(MockDns, RecordsZoneLinesAndAnswersWithTheQueryId) {
  auto call = dns_call(bytes(query(1, "www.example.com")), bytes(answer_a(1, "www.example.com")),
                       10, 20, kResolver, {});
  ASSERT_TRUE(call) << call.error().message;
  const auto& spec = std::get<testset::DnsMockSpec>(call->mock.spec);
  EXPECT_EQ(spec.name, "www.example.com.");
  EXPECT_EQ(spec.qtype, 1);
  ASSERT_EQ(spec.answers.size(), 2u);
  EXPECT_EQ(spec.answers[0], "www.example.com.\t60\tIN\tCNAME\tedge.example.net.");
  EXPECT_EQ(spec.answers[1], "www.example.com.\t300\tIN\tA\t93.184.216.34");
  EXPECT_TRUE(spec.recursion_available);
  EXPECT_EQ(call->summary, "A www.example.com.");

  MockPool pool({call->mock}, {});
  auto ans = dns_answer(pool, bytes(query(0xbeef, "WWW.Example.COM")), {}, ep("127.0.0.1:5353"));
  ASSERT_TRUE(ans);
  auto m = parse(*ans);
  EXPECT_EQ(m.id, 0xbeef);
  EXPECT_TRUE(m.response);
  EXPECT_EQ(m.rcode, 0);
  ASSERT_EQ(m.questions.size(), 1u);
  EXPECT_EQ(m.questions[0].name, "WWW.Example.COM");
  ASSERT_EQ(m.answers.size(), 2u);
  EXPECT_EQ(m.answers[1].data, "93.184.216.34");
  EXPECT_EQ(m.answers[1].ttl, 300u);
  EXPECT_EQ(m.answers[0].data, "edge.example.net");
}

TEST(MockDns, OtherTypeIsServfailAndListed) {
  auto call = dns_call(bytes(query(1, "a.test")), bytes(answer_a(1, "a.test")), 1, 2, kResolver,
                       {});
  ASSERT_TRUE(call);
  MockPool pool({call->mock}, {});
  auto ans = dns_answer(pool, bytes(query(7, "a.test", 28)), {}, kResolver);
  ASSERT_TRUE(ans);
  auto m = parse(*ans);
  EXPECT_EQ(m.rcode, 2);
  EXPECT_EQ(m.id, 7);
  auto misses = pool.take_unmatched();
  ASSERT_EQ(misses.size(), 1u);
  EXPECT_EQ(misses[0].summary, "AAAA a.test.");
}

TEST(MockDns, RebuildsKeployZoneLines) {
  testset::DnsMockSpec spec;
  spec.name = "svc.local.";
  spec.qtype = 33;
  spec.answers = {"svc.local.\t30\tIN\tSRV\t10 5 8080 host.local.",
                  "svc.local.\t30\tIN\tTXT\t\"a b\" \"c\"",
                  "svc.local.\t30\tIN\tMX\t10 mail.local.", "garbage line"};
  testset::Mock mock;
  mock.kind = testset::MockKind::kDns;
  mock.spec = spec;
  MockPool pool({mock}, {});
  auto ans = dns_answer(pool, bytes(query(3, "svc.local", 33)), {}, kResolver);
  ASSERT_TRUE(ans);
  auto m = parse(*ans);
  ASSERT_EQ(m.answers.size(), 3u);
  EXPECT_EQ(m.answers[0].data, "10 5 8080 host.local");
  EXPECT_EQ(m.answers[1].data, "\"a b\" \"c\"");
  EXPECT_EQ(m.answers[2].data, "10 mail.local");
}

TEST(MockDns, GarbageIsNotAQuery) {
  MockPool pool({}, {});
  EXPECT_FALSE(dns_answer(pool, bytes("hello"), {}, kResolver));
  EXPECT_FALSE(dns_answer(pool, bytes(answer_a(1, "x.y")), {}, kResolver));  // an answer
  EXPECT_FALSE(dns_call(bytes("x"), bytes("y"), 0, 0, kResolver, {}));
  std::string junk = query(1, "x.y");
  for (std::size_t cut = 0; cut < junk.size(); ++cut) {
    (void)dns_answer(pool, bytes(junk.substr(0, cut)), {}, kResolver);
  }
}

}  // namespace
}  // namespace reel::mock
