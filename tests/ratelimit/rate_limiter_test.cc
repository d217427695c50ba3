#include "ratelimit/rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace helios::ratelimit {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The runbook's figures: 100 per minute, bursts of 20.
BucketPolicy Runbook() { return BucketPolicy{20, 100.0 / 60.0, 100}; }

TEST(MemoryRateLimiterTest, ANewKeyStartsFullAndAdmitsABurstOfCapacity) {
  FakeClock clock;
  MemoryRateLimiter limiter(clock);
  for (int i = 0; i < 20; ++i) {
    auto d = limiter.Acquire("acme", Runbook());
    ASSERT_TRUE(d.has_value());
    EXPECT_TRUE(d->allowed) << "request " << i;
    EXPECT_DOUBLE_EQ(d->remaining, 19 - i);
    EXPECT_DOUBLE_EQ(d->limit, 20);
  }
  auto refused = limiter.Acquire("acme", Runbook());
  ASSERT_TRUE(refused.has_value());
  EXPECT_FALSE(refused->allowed);
  EXPECT_DOUBLE_EQ(refused->remaining, 0);
  // One token takes 0.6 s at 100 per minute; a full bucket 12 s.
  EXPECT_EQ(refused->retry_after, milliseconds(600));
  EXPECT_EQ(refused->reset_after, milliseconds(12000));
}

TEST(MemoryRateLimiterTest, TokensComeBackAtTheRefillRate) {
  FakeClock clock;
  MemoryRateLimiter limiter(clock);
  BucketPolicy policy{2, 1.0, 60};  // one token a second
  EXPECT_TRUE(limiter.Acquire("t", policy)->allowed);
  EXPECT_TRUE(limiter.Acquire("t", policy)->allowed);
  auto refused = limiter.Acquire("t", policy);
  EXPECT_FALSE(refused->allowed);
  EXPECT_EQ(refused->retry_after, milliseconds(1000));
  clock.Advance(milliseconds(999));
  EXPECT_FALSE(limiter.Acquire("t", policy)->allowed);
  clock.Advance(milliseconds(1));
  EXPECT_TRUE(limiter.Acquire("t", policy)->allowed);
  EXPECT_FALSE(limiter.Acquire("t", policy)->allowed);
  // Waiting longer than needed never fills past capacity.
  clock.Advance(seconds(3600));
  EXPECT_TRUE(limiter.Acquire("t", policy)->allowed);
  EXPECT_TRUE(limiter.Acquire("t", policy)->allowed);
  EXPECT_FALSE(limiter.Acquire("t", policy)->allowed);
}

TEST(MemoryRateLimiterTest, WaitingExactlyRetryAfterIsEnoughWithAFractionalRate) {
  FakeClock clock;
  MemoryRateLimiter limiter(clock);
  BucketPolicy policy{1, 1.67, 100};
  EXPECT_TRUE(limiter.Acquire("t", policy)->allowed);
  for (int i = 0; i < 50; ++i) {
    auto refused = limiter.Acquire("t", policy);
    ASSERT_FALSE(refused->allowed);
    clock.Advance(refused->retry_after);
    EXPECT_TRUE(limiter.Acquire("t", policy)->allowed) << "round " << i;
  }
}

TEST(MemoryRateLimiterTest, KeysHaveTheirOwnBuckets) {
  FakeClock clock;
  MemoryRateLimiter limiter(clock);
  BucketPolicy policy{1, 0.1, 6};
  EXPECT_TRUE(limiter.Acquire("tenant-a", policy)->allowed);
  EXPECT_FALSE(limiter.Acquire("tenant-a", policy)->allowed);
  EXPECT_TRUE(limiter.Acquire("tenant-b", policy)->allowed);
}

TEST(MemoryRateLimiterTest, ARefusalTakesNothing) {
  FakeClock clock;
  MemoryRateLimiter limiter(clock);
  BucketPolicy policy{3, 1.0, 60};
  EXPECT_TRUE(limiter.Acquire("t", policy, 2)->allowed);
  auto refused = limiter.Acquire("t", policy, 2);
  EXPECT_FALSE(refused->allowed);
  EXPECT_DOUBLE_EQ(refused->remaining, 1);
  EXPECT_TRUE(limiter.Acquire("t", policy, 1)->allowed);
}

TEST(MemoryRateLimiterTest, PeekDoesNotTakeOrRemember) {
  FakeClock clock;
  MemoryRateLimiter limiter(clock);
  BucketPolicy policy{2, 1.0, 60};
  auto peek = limiter.Peek("t", policy);
  EXPECT_TRUE(peek->allowed);
  EXPECT_DOUBLE_EQ(peek->remaining, 2);
  EXPECT_EQ(limiter.KeyCount(), 0u);
  EXPECT_TRUE(limiter.Acquire("t", policy)->allowed);
  EXPECT_DOUBLE_EQ(limiter.Peek("t", policy)->remaining, 1);
  EXPECT_DOUBLE_EQ(limiter.Peek("t", policy)->remaining, 1);
}

TEST(MemoryRateLimiterTest, ResetStartsTheBucketFull) {
  FakeClock clock;
  MemoryRateLimiter limiter(clock);
  BucketPolicy policy{1, 0.01, 1};
  EXPECT_TRUE(limiter.Acquire("t", policy)->allowed);
  EXPECT_FALSE(limiter.Acquire("t", policy)->allowed);
  ASSERT_TRUE(limiter.Reset("t").has_value());
  EXPECT_TRUE(limiter.Acquire("t", policy)->allowed);
}

TEST(MemoryRateLimiterTest, ASmallerCapacityAppliesAtOnce) {
  FakeClock clock;
  MemoryRateLimiter limiter(clock);
  EXPECT_TRUE(limiter.Acquire("t", BucketPolicy{10, 1.0, 60})->allowed);  // 9 left
  auto d = limiter.Acquire("t", BucketPolicy{2, 1.0, 60});
  EXPECT_TRUE(d->allowed);
  EXPECT_DOUBLE_EQ(d->remaining, 1);
}

TEST(MemoryRateLimiterTest, BadPoliciesAndCostsAreRefused) {
  FakeClock clock;
  MemoryRateLimiter limiter(clock);
  EXPECT_EQ(limiter.Acquire("t", BucketPolicy{0, 1.0, 0}).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(limiter.Acquire("t", BucketPolicy{5, 0, 0}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(limiter.Acquire("t", BucketPolicy{5, -1, 0}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(limiter.Acquire("t", Runbook(), -1).error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(ValidatePolicy(Runbook()).has_value());
}

TEST(MemoryRateLimiterTest, TheKeyMapIsBoundedAndKeepsBusyBucketsFirst) {
  FakeClock clock;
  MemoryRateLimiter limiter(clock, MemoryLimiterOptions{3});
  BucketPolicy policy{1, 1.0, 60};
  EXPECT_TRUE(limiter.Acquire("busy", policy)->allowed);
  clock.Advance(seconds(5));                              // "busy" is full again by now...
  EXPECT_TRUE(limiter.Acquire("busy", policy)->allowed);  // ...and empty again
  EXPECT_TRUE(limiter.Acquire("a", policy)->allowed);
  EXPECT_TRUE(limiter.Acquire("b", policy)->allowed);
  EXPECT_EQ(limiter.KeyCount(), 3u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(limiter.Acquire("flood-" + std::to_string(i), policy)->allowed);
    EXPECT_LE(limiter.KeyCount(), 3u);
  }
  // Time did not move: every bucket is empty, so the flood evicted only buckets as empty as
  // the newest. The original busy key may have gone, but the count stays bounded.
  EXPECT_LE(limiter.KeyCount(), 3u);
}

TEST(MemoryRateLimiterTest, ConcurrentCallersNeverGetMoreThanTheCapacity) {
  FakeClock clock;
  MemoryRateLimiter limiter(clock);
  BucketPolicy policy{1000, 0.001, 1};
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (limiter.Acquire("shared", policy)->allowed) ++admitted;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 1000);
}

}  // namespace
}  // namespace helios::ratelimit
