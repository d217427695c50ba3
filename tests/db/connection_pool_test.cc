#include "db/sqlite/connection_pool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

namespace helios::db {
namespace {

using std::chrono::milliseconds;

std::unique_ptr<ConnectionPool<int>> MakePool(int n) {
  std::vector<std::unique_ptr<int>> items;
  for (int i = 0; i < n; ++i) items.push_back(std::make_unique<int>(i));
  return std::make_unique<ConnectionPool<int>>(std::move(items));
}

TEST(ConnectionPoolTest, HandsOutEachConnectionOnce) {
  auto pool = MakePool(2);
  EXPECT_EQ(pool->size(), 2u);
  auto a = pool->Acquire(milliseconds(0));
  auto b = pool->Acquire(milliseconds(0));
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  EXPECT_NE(**a, **b);
  EXPECT_EQ(pool->available(), 0u);
}

TEST(ConnectionPoolTest, ExhaustedPoolIsUnavailableAfterTheTimeout) {
  auto pool = MakePool(1);
  auto held = pool->Acquire(milliseconds(0));
  ASSERT_TRUE(held.has_value());
  auto refused = pool->Acquire(milliseconds(5));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(IsRetryable(refused.error().code));
}

TEST(ConnectionPoolTest, ReleasingALeaseReturnsItsConnection) {
  auto pool = MakePool(1);
  {
    auto lease = pool->Acquire(milliseconds(0));
    ASSERT_TRUE(lease.has_value());
    **lease = 42;
    EXPECT_EQ(pool->available(), 0u);
  }
  EXPECT_EQ(pool->available(), 1u);
  auto again = pool->Acquire(milliseconds(0));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(**again, 42);
}

TEST(ConnectionPoolTest, MovedLeaseReleasesOnce) {
  auto pool = MakePool(1);
  {
    auto lease = pool->Acquire(milliseconds(0));
    ASSERT_TRUE(lease.has_value());
    auto moved = std::move(*lease);
    EXPECT_EQ(pool->available(), 0u);
  }
  EXPECT_EQ(pool->available(), 1u);
}

TEST(ConnectionPoolTest, WaiterGetsTheConnectionWhenItIsReleased) {
  auto pool = MakePool(1);
  std::optional<ConnectionPool<int>::Lease> held;
  {
    auto lease = pool->Acquire(milliseconds(0));
    ASSERT_TRUE(lease.has_value());
    held.emplace(std::move(*lease));
  }
  bool got = false;
  std::thread waiter([&] {
    // Long enough never to expire in a test run; the release below ends the wait.
    auto lease = pool->Acquire(milliseconds(60'000));
    got = lease.has_value();
  });
  held.reset();
  waiter.join();
  EXPECT_TRUE(got);
  EXPECT_EQ(pool->available(), 1u);
}

TEST(ConnectionPoolTest, ManyThreadsShareFewConnections) {
  auto pool = MakePool(2);
  std::vector<std::thread> threads;
  std::atomic<int> in_use{0}, max_in_use{0}, failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        auto lease = pool->Acquire(milliseconds(60'000));
        if (!lease) {
          ++failures;
          continue;
        }
        const int now = ++in_use;
        int seen = max_in_use.load();
        while (now > seen && !max_in_use.compare_exchange_weak(seen, now)) {
        }
        --in_use;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_LE(max_in_use.load(), 2);
  EXPECT_EQ(pool->available(), 2u);
}

}  // namespace
}  // namespace helios::db
