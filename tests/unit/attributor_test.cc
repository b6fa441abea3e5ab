// Tying outbound calls to the inbound request (test) during which they were made.
#include "record/attributor.h"

#include <gtest/gtest.h>

namespace reel::record {
namespace {

constexpr std::uint64_t ms = 1'000'000;
const ConnTag kA{1, 10, 1}, kB{1, 11, 2};

std::vector<std::uint64_t> calls_of(const Attributor::Decisions& d, std::uint64_t test) {
  for (const auto& t : d.tests)
    if (t.test_id == test) return t.call_ids;
  return {};
}

TEST(Attributor, SequentialRequestsTakeTheCallsInsideTheirWindows) {
  Attributor a;
  a.add_call(100, 5 * ms, 7);  // before any request: start-up
  a.inbound_data(kA, 10 * ms, 7);
  a.add_call(101, 12 * ms, 7);
  std::uint32_t tid = a.inbound_done(kA);
  EXPECT_EQ(tid, 7u);
  a.add_test(1, 10 * ms, 15 * ms, tid, 16 * ms);
  a.inbound_data(kA, 20 * ms, 7);
  a.add_call(102, 21 * ms, 7);
  a.add_test(2, 20 * ms, 25 * ms, a.inbound_done(kA), 26 * ms);
  a.add_call(103, 30 * ms, 7);  // between requests: session

  auto d = a.decide(1000 * ms, false);
  EXPECT_EQ(d.startup_calls, std::vector<std::uint64_t>{100});
  EXPECT_EQ(d.session_calls, std::vector<std::uint64_t>{103});
  ASSERT_EQ(d.tests.size(), 2u);
  EXPECT_EQ(calls_of(d, 1), std::vector<std::uint64_t>{101});
  EXPECT_EQ(calls_of(d, 2), std::vector<std::uint64_t>{102});
  EXPECT_EQ(a.stats().by_thread, 2u);
}

TEST(Attributor, OverlappingRequestsAreSplitByThread) {
  Attributor a;
  a.inbound_data(kA, 10 * ms, 7);
  a.inbound_data(kB, 11 * ms, 8);
  a.add_call(201, 12 * ms, 8);
  a.add_call(202, 13 * ms, 7);
  a.add_test(1, 10 * ms, 20 * ms, a.inbound_done(kA), 21 * ms);
  a.add_test(2, 11 * ms, 22 * ms, a.inbound_done(kB), 23 * ms);
  auto d = a.decide(1000 * ms, false);
  EXPECT_EQ(calls_of(d, 1), std::vector<std::uint64_t>{202});
  EXPECT_EQ(calls_of(d, 2), std::vector<std::uint64_t>{201});
  EXPECT_EQ(a.stats().ambiguous, 0u);
}

TEST(Attributor, OverlapWithoutThreadsGoesToEveryHolderAndSaysSo) {
  Attributor a;
  a.inbound_data(kA, 10 * ms, 7);
  a.inbound_data(kB, 11 * ms, 7);  // one event loop thread serves both
  a.add_call(301, 15 * ms, 7);
  a.add_test(1, 10 * ms, 20 * ms, a.inbound_done(kA), 21 * ms);
  a.add_test(2, 11 * ms, 22 * ms, a.inbound_done(kB), 23 * ms);
  auto d = a.decide(1000 * ms, false);
  EXPECT_EQ(calls_of(d, 1), std::vector<std::uint64_t>{301});
  EXPECT_EQ(calls_of(d, 2), std::vector<std::uint64_t>{301});
  ASSERT_EQ(d.holders.size(), 1u);
  EXPECT_EQ(d.holders[0].second, 2u);
  EXPECT_EQ(a.stats().ambiguous, 1u);
}

TEST(Attributor, ACallWaitsForTheSlowRequestThatMayHoldIt) {
  Attributor a;
  a.inbound_data(kA, 10 * ms, 7);  // slow request, still open
  a.add_call(401, 12 * ms, 7);
  auto early = a.decide(100 * ms, false);
  EXPECT_TRUE(early.tests.empty());
  EXPECT_TRUE(early.session_calls.empty());
  EXPECT_EQ(a.pending_calls(), 1u);
  a.add_test(1, 10 * ms, 5000 * ms, a.inbound_done(kA), 5001 * ms);
  auto later = a.decide(6000 * ms, false);
  EXPECT_EQ(calls_of(later, 1), std::vector<std::uint64_t>{401});
}

TEST(Attributor, ATestWaitsOutTheGraceBeforeRelease) {
  Attributor a({.grace_ns = 100 * ms, .max_hold_ns = 30'000 * ms});
  a.inbound_data(kA, 10 * ms, 7);
  a.add_test(1, 10 * ms, 20 * ms, a.inbound_done(kA), 21 * ms);
  EXPECT_TRUE(a.decide(50 * ms, false).tests.empty());
  EXPECT_EQ(a.decide(200 * ms, false).tests.size(), 1u);
}

TEST(Attributor, FlushDecidesEverything) {
  Attributor a;
  a.inbound_data(kA, 10 * ms, 7);  // never completes
  a.add_call(501, 12 * ms, 7);
  auto d = a.decide(13 * ms, true);
  EXPECT_EQ(d.session_calls, std::vector<std::uint64_t>{501});
  EXPECT_EQ(a.pending_calls(), 0u);
}

TEST(Attributor, AClosedConnectionStopsBlocking) {
  Attributor a;
  a.inbound_data(kA, 10 * ms, 7);
  a.add_call(601, 12 * ms, 7);
  EXPECT_TRUE(a.decide(20 * ms, false).session_calls.empty());
  a.inbound_closed(kA);
  EXPECT_EQ(a.decide(21 * ms, false).session_calls, std::vector<std::uint64_t>{601});
}

}  // namespace
}  // namespace reel::record
