// The relay's descriptor budget: claims never overdraw it, and every claim comes back, whether the
// pipe that held it goes back to the pool, is dropped, or outlives the pool.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "proxy/pools.h"

namespace reel {
namespace {

TEST(FdBudget, ClaimsNeverOverdrawAndComeBackWhenDestroyed) {
  FdBudget budget(5);
  FdClaim a = FdClaim::take(&budget, 2);
  FdClaim b = FdClaim::take(&budget, 2);
  FdClaim c = FdClaim::take(&budget, 2);
  EXPECT_TRUE(a);
  EXPECT_TRUE(b);
  EXPECT_FALSE(c);  // 1 left: a connection's two sockets do not fit
  EXPECT_EQ(budget.left(), 1);
  FdClaim moved = std::move(a);
  EXPECT_EQ(budget.left(), 1);  // a move hands the claim over, it does not give it back
  moved = FdClaim{};
  EXPECT_EQ(budget.left(), 3);
  { FdClaim gone = std::move(b); }
  EXPECT_EQ(budget.left(), 5);
  EXPECT_FALSE(FdClaim::take(nullptr, 2));
}

TEST(FdBudget, ConcurrentClaimsAddUpExactly) {
  FdBudget budget(1000);
  std::vector<std::thread> threads;
  std::vector<std::vector<FdClaim>> held(4);
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; i++) {
        if (auto c = FdClaim::take(&budget, 2)) held[t].push_back(std::move(c));
      }
    });
  }
  for (auto& t : threads) t.join();
  std::size_t total = 0;
  for (const auto& h : held) total += h.size();
  EXPECT_EQ(total, 500u);  // exactly the budget, never one more
  EXPECT_EQ(budget.left(), 0);
  held.clear();
  EXPECT_EQ(budget.left(), 1000);
}

TEST(FdBudget, PipePoolTakesFromTheBudgetAndGivesBack) {
  FdBudget budget(4);
  {
    PipePool pool(65536, &budget);
    Pipe p1 = pool.take();
    Pipe p2 = pool.take();
    Pipe p3 = pool.take();
    ASSERT_TRUE(p1);
    ASSERT_TRUE(p2);
    EXPECT_FALSE(p3);  // over budget: the pump carries on with read/write
    EXPECT_EQ(budget.left(), 0);
    pool.give(std::move(p1));  // kept by the pool, still counted
    EXPECT_EQ(budget.left(), 0);
    Pipe again = pool.take();  // the pooled pipe, no new claim
    EXPECT_TRUE(again);
    EXPECT_EQ(budget.left(), 0);
    p2 = Pipe{};
    EXPECT_EQ(budget.left(), 2);
    pool.give(std::move(again));
  }
  EXPECT_EQ(budget.left(), 4);  // the pool's free pipes were closed with it
}

}  // namespace
}  // namespace reel
