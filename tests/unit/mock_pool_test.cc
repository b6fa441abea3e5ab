#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "mock/mock.h"
#include "mock_test_util.h"

namespace reel::mock {
namespace {

using testing::ep;
using testset::MockKind;

testset::Mock make(std::string name, std::map<std::string, std::string> md = {},
                   std::int64_t ts = 0, MockKind kind = MockKind::kGeneric) {
  testset::Mock m;
  m.kind = kind;
  m.name = std::move(name);
  m.metadata = std::move(md);
  m.req_timestamp.unix_ns = ts;
  m.spec = testset::PayloadMockSpec{};
  return m;
}

// Rates by name: "x*" exact, "s*" structural, others none.
Fit by_name(const testset::Mock& m) {
  if (m.name.starts_with("x")) return Fit::kExact;
  if (m.name.starts_with("s")) return Fit::kStructural;
  return Fit::kNone;
}

std::string picked(MockPool& pool, const Endpoint& server = ep("127.0.0.1:1")) {
  auto p = pool.pick(MockKind::kGeneric, server, by_name);
  return p ? p->mock->name : "";
}

TEST(MockPool, ConfigIsSessionTestOwnsItsMocks) {
  MockPool pool({make("x-config", {{"type", "config"}, {"reel.test", "test-1"}}),
                 make("x-t1", {{"type", "mocks"}, {"reel.test", "test-1"}}),
                 make("x-t2", {{"type", "mocks"}, {"reel.test", "test-2"}})},
                {});
  pool.begin_test("test-2");
  auto p = pool.pick(MockKind::kGeneric, ep("127.0.0.1:1"), by_name);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->mock->name, "x-t2");
  EXPECT_EQ(p->scope, Scope::kTest);
  // test-1's mock is never offered to test-2; after x-t2 is used it repeats, session next.
  EXPECT_EQ(picked(pool), "x-t2");
  pool.begin_test("test-3");
  p = pool.pick(MockKind::kGeneric, ep("127.0.0.1:1"), by_name);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->mock->name, "x-config");
  EXPECT_EQ(p->scope, Scope::kSession);
}

TEST(MockPool, KeployMocksJoinTestsByTimeWindow) {
  std::vector<TestWindow> windows = {{"test-1", {100, 0}, {200, 0}}, {"test-2", {300, 0}, {400, 0}}};
  MockPool pool({make("x-a", {}, 150), make("x-b", {}, 350), make("x-c", {}, 250)}, windows);
  pool.begin_test("test-2");
  EXPECT_EQ(picked(pool), "x-b");
  pool.begin_test("test-1");
  EXPECT_EQ(picked(pool), "x-a");
  pool.begin_test("test-9");  // outside every window: x-c is session-wide
  EXPECT_EQ(picked(pool), "x-c");
  EXPECT_EQ(picked(pool), "x-c");
}

TEST(MockPool, BestFitThenFirstUnusedThenLastUsed) {
  MockPool pool({make("s-1"), make("x-1"), make("x-2"), make("n-1")}, {});
  EXPECT_EQ(picked(pool), "x-1");
  EXPECT_EQ(picked(pool), "x-2");
  EXPECT_EQ(picked(pool), "x-2");  // all used: the repeated call gets the last answer
  EXPECT_EQ(pool.stats().exact, 3u);
  auto only_s = [](const testset::Mock& m) {
    return m.name.starts_with("s") ? Fit::kStructural : Fit::kNone;
  };
  auto p = pool.pick(MockKind::kGeneric, ep("127.0.0.1:1"), only_s);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->fit, Fit::kStructural);
  EXPECT_EQ(pool.stats().structural, 1u);
}

TEST(MockPool, NoTestMeansEveryMockIsACandidate) {
  MockPool pool({make("x-t1", {{"type", "mocks"}, {"reel.test", "test-1"}})}, {});
  EXPECT_EQ(picked(pool), "x-t1");
  pool.begin_test("test-2");
  EXPECT_EQ(picked(pool), "");
  EXPECT_EQ(pool.current_test(), "test-2");
}

TEST(MockPool, ServerFilterAndKinds) {
  MockPool pool({make("x-redis", {{"reel.server", "127.0.0.1:6379"}}, 0, MockKind::kRedis),
                 make("x-a", {{"reel.server", "127.0.0.1:9000"}}),
                 make("x-b", {{"reel.server", "127.0.0.1:9001"}}), make("x-any")},
                {});
  EXPECT_EQ(picked(pool, ep("127.0.0.1:9001")), "x-b");
  EXPECT_EQ(picked(pool, ep("127.0.0.1:9001")), "x-b");  // x-a and x-any are not asked
  EXPECT_EQ(picked(pool, ep("127.0.0.1:7777")), "x-a");  // nothing named: every mock
  EXPECT_EQ(pool.kinds_for(ep("127.0.0.1:6379")), std::vector<MockKind>{MockKind::kRedis});
  EXPECT_TRUE(pool.kinds_for(ep("127.0.0.1:1")).empty());
  EXPECT_EQ(pool.all_of(MockKind::kGeneric).size(), 3u);
}

TEST(MockPool, UnmatchedAreTakenOnce) {
  MockPool pool({}, {});
  pool.begin_test("test-1");
  pool.record_unmatched({"test-1", MockKind::kHttp, ep("127.0.0.1:80"), "GET /x", ""});
  EXPECT_FALSE(pool.pick(MockKind::kHttp, ep("127.0.0.1:80"), by_name));
  auto misses = pool.take_unmatched();
  ASSERT_EQ(misses.size(), 1u);
  EXPECT_EQ(misses[0].summary, "GET /x");
  EXPECT_TRUE(pool.take_unmatched().empty());
  EXPECT_EQ(pool.stats().unmatched, 1u);
}

TEST(MockPool, ConcurrentPicksSmoke) {
  std::vector<testset::Mock> mocks;
  for (int i = 0; i < 50; ++i) mocks.push_back(make("x-" + std::to_string(i)));
  MockPool pool(std::move(mocks), {});
  std::atomic<int> got{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (pool.pick(MockKind::kGeneric, ep("127.0.0.1:1"), by_name)) got++;
        if (i % 50 == 0) pool.begin_test("");
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(got.load(), 2000);
  EXPECT_EQ(pool.stats().exact, 2000u);
}

}  // namespace
}  // namespace reel::mock
