// The rate limiters under the load of a busy server (scripts/tsan.sh runs these under
// ThreadSanitizer): the memory limiter at its key limit, evicting while request threads take
// tokens, and the failover limiter while Redis comes and goes.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "ratelimit/rate_limiter.h"
#include "ratelimit/redis_rate_limiter.h"

namespace helios::ratelimit {
namespace {

using namespace std::chrono_literals;

TEST(RateLimiterConcurrencyTest, TheMemoryLimiterStaysWithinItsKeysWhileEvicting) {
  FakeClock clock;
  constexpr size_t kMaxKeys = 16;
  MemoryRateLimiter limiter(clock, {.max_keys = kMaxKeys});
  const BucketPolicy policy{5, 1, 60};
  std::atomic<int> errors{0}, over_limit{0}, bad_decisions{0};
  std::atomic<bool> stop{false};
  std::thread watcher([&] {
    while (!stop.load()) {
      if (limiter.KeyCount() > kMaxKeys) ++over_limit;
      clock.Advance(50ms);  // buckets refill, so some become full and droppable
      std::this_thread::yield();
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        // A flood of distinct keys (more than max_keys) and one hot key everybody shares.
        const std::string key =
            i % 4 == 0 ? "hot" : "k-" + std::to_string(t) + "-" + std::to_string(i % 10);
        auto d = i % 9 == 0 ? limiter.Peek(key, policy) : limiter.Acquire(key, policy);
        if (!d) {
          ++errors;
          continue;
        }
        if (d->limit != policy.capacity || d->remaining < 0 || d->remaining > policy.capacity ||
            (d->allowed && d->retry_after != 0ms) || (!d->allowed && d->retry_after <= 0ms)) {
          ++bad_decisions;
        }
        if (i % 50 == 0 && !limiter.Reset(key)) ++errors;
      }
    });
  }
  for (auto& th : threads) th.join();
  stop.store(true);
  watcher.join();

  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(bad_decisions.load(), 0);
  EXPECT_EQ(over_limit.load(), 0) << "more buckets than max_keys were kept";
  EXPECT_LE(limiter.KeyCount(), kMaxKeys);
}

// A shared limiter that can be cut off: while `down`, every call fails as an unreachable Redis
// does (kUnavailable); otherwise it is a memory limiter.
class FlakyLimiter final : public RateLimiter {
 public:
  explicit FlakyLimiter(const Clock& clock) : limiter_(clock) {}
  std::atomic<bool> down{false};

  Result<Decision> Acquire(std::string_view key, const BucketPolicy& policy, double cost) override {
    if (down.load()) return Unreachable();
    return limiter_.Acquire(key, policy, cost);
  }
  Result<Decision> Peek(std::string_view key, const BucketPolicy& policy) override {
    if (down.load()) return Unreachable();
    return limiter_.Peek(key, policy);
  }
  Result<void> Reset(std::string_view key) override {
    if (down.load()) return Unreachable();
    return limiter_.Reset(key);
  }

 private:
  static std::unexpected<Error> Unreachable() {
    return Fail(ErrorCode::kUnavailable, "Redis at 127.0.0.1:1/0 is unreachable (test)");
  }
  MemoryRateLimiter limiter_;
};

TEST(RateLimiterConcurrencyTest, FailoverSwitchesAreReportedOnceEachAndInOrder) {
  FakeClock clock;
  FlakyLimiter shared(clock);
  MemoryRateLimiter local(clock);
  std::mutex mu;
  std::vector<bool> reports;
  std::atomic<int> inside{0}, overlaps{0};
  FailoverRateLimiter limiter(shared, local, [&](bool shared_ok, const Error*) {
    if (inside.fetch_add(1) != 0) ++overlaps;
    // As a logger writing a line would: long enough for another switch to happen meanwhile.
    std::this_thread::sleep_for(200us);
    {
      std::lock_guard lock(mu);
      reports.push_back(shared_ok);
    }
    inside.fetch_sub(1);
  });
  const BucketPolicy policy{1000, 1000, 60000};
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      const std::string key = "tenant-" + std::to_string(t % 3);
      while (!stop.load()) {
        if (!limiter.Acquire(key, policy)) ++errors;
        if (!limiter.Peek(key, policy)) ++errors;
      }
    });
  }
  for (int flip = 0; flip < 100; ++flip) {
    shared.down.store(!shared.down.load());
    std::this_thread::sleep_for(300us);
  }
  shared.down.store(false);
  std::this_thread::sleep_for(5ms);
  stop.store(true);
  for (auto& th : threads) th.join();
  ASSERT_TRUE(limiter.Peek("tenant-0", policy).has_value());  // finds Redis back

  EXPECT_EQ(errors.load(), 0) << "the local limiter answers while the shared one is down";
  EXPECT_EQ(overlaps.load(), 0) << "on_change ran on two threads at once";
  std::lock_guard lock(mu);
  ASSERT_FALSE(reports.empty()) << "no switch was seen";
  EXPECT_FALSE(reports.front());
  for (size_t i = 1; i < reports.size(); ++i) {
    ASSERT_NE(reports[i], reports[i - 1]) << "report " << i << " repeats a state";
  }
  EXPECT_TRUE(reports.back());
  EXPECT_TRUE(limiter.using_shared());
}

}  // namespace
}  // namespace helios::ratelimit
