#include <gtest/gtest.h>

#include "mock/common.h"
#include "mock/protocols.h"
#include "mock_test_util.h"

namespace reel::mock {
namespace {

using namespace testing;

const Endpoint kServer = ep("127.0.0.1:7000");

std::vector<RecordedCall> session() {
  auto r = CallRecorder::create(ep("127.0.0.1:40000"), kServer, {});
  return record(*r, {{kDown, "HELLO-SRV\n"},
                     {kUp, "\x01\x02LOGIN alice-0001"},
                     {kDown, "OK 1\n"},
                     {kDown, "OK 2\n"},
                     {kUp, "\x01\x03STATUS"},
                     {kDown, "UP\n"}});
}

TEST(MockGeneric, RecordsBurstPairs) {
  auto calls = session();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_TRUE(calls[0].startup);  // greeting
  EXPECT_EQ(calls[1].mock.kind, testset::MockKind::kGeneric);
  const auto& p = std::get<testset::PayloadMockSpec>(calls[1].mock.spec);
  ASSERT_EQ(p.responses.size(), 2u);  // one payload per read, as Keploy keeps them
  EXPECT_EQ(joined_requests(calls[1].mock), "\x01\x02LOGIN alice-0001");
  EXPECT_EQ(joined_responses(calls[1].mock), "OK 1\nOK 2\n");
}

TEST(MockGeneric, ReplaysGreetingExactStructuralAndCloses) {
  MockPool pool(mocks_of(session()), {});
  auto r = Responder::create({&pool, {}, kServer});
  EXPECT_EQ(r->greeting(), "HELLO-SRV\n");
  EXPECT_EQ(r->feed(bytes("\x01\x02LOGIN")).bytes, "");  // a prefix: wait for the rest
  EXPECT_EQ(r->feed(bytes(" alice-0001")).bytes, "OK 1\nOK 2\n");
  EXPECT_EQ(r->feed(bytes("\x01\x02LOGIN alice-0002")).bytes, "OK 1\nOK 2\n");  // structural
  EXPECT_EQ(pool.stats().structural, 1u);
  auto out = r->feed(bytes("something else entirely"));
  EXPECT_TRUE(out.close);
  EXPECT_EQ(pool.take_unmatched().size(), 1u);
}

TEST(MockGeneric, KeployMockWithoutServerReplays) {
  testset::ByteExchange x;
  x.requests = {"PING-X", "YZ"};
  x.responses = {"PONG"};
  MockPool pool({testset::generic_mock(x, {})}, {});
  auto r = Responder::create({&pool, {}, kServer});
  EXPECT_EQ(r->feed(bytes("PING-XYZ")).bytes, "PONG");
}

TEST(MockGeneric, GarbageNeverCrashes) {
  MockPool pool(mocks_of(session()), {});
  auto r = make_generic_responder({&pool, {}, kServer});
  r->feed({});
  std::string junk(5000, '\0');
  for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = char(i * 7);
  r->feed(bytes(junk));
  auto rec = make_generic_recorder(kServer, {});
  rec->data(kUp, {}, 1);
  rec->close(true, 2);
  EXPECT_TRUE(rec->take().empty());
}

}  // namespace
}  // namespace reel::mock
