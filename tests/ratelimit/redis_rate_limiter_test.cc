#include "ratelimit/redis_rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "ratelimit/rate_limiter.h"
#include "redis/redis_client.h"
#include "support/test_databases.h"

namespace helios::ratelimit {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

BucketPolicy Runbook() { return BucketPolicy{20, 100.0 / 60.0, 100}; }

std::unique_ptr<redis::Client> NewClient(const std::string& url, const Clock& clock) {
  redis::ClientOptions options;
  options.clock = &clock;
  options.command_timeout = milliseconds(5000);
  options.retry_after = milliseconds(1000);
  auto client = redis::Client::Create(url, options);
  EXPECT_TRUE(client.has_value()) << client.error().message;
  return client ? std::move(*client) : nullptr;
}

void ExpectSameDecision(const Decision& memory, const Decision& shared, const std::string& where) {
  EXPECT_EQ(shared.allowed, memory.allowed) << where;
  EXPECT_EQ(shared.limit, memory.limit) << where;
  EXPECT_EQ(shared.remaining, memory.remaining) << where;
  EXPECT_EQ(shared.reset_after, memory.reset_after) << where;
  EXPECT_EQ(shared.retry_after, memory.retry_after) << where;
}

// Each call goes to a RedisRateLimiter and to a MemoryRateLimiter on the same FakeClock; the
// two decisions must be identical, and the Redis one is returned.
class RedisRateLimiterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.url()) << redis_.url().error().message;
    client_ = NewClient(*redis_.url(), clock_);
    ASSERT_NE(client_, nullptr);
    limiter_ = std::make_unique<RedisRateLimiter>(*client_, clock_);
  }

  Decision Acquire(const std::string& key, const BucketPolicy& policy, double cost = 1) {
    auto m = memory_.Acquire(key, policy, cost);
    auto r = limiter_->Acquire(key, policy, cost);
    EXPECT_TRUE(m.has_value());
    EXPECT_TRUE(r.has_value()) << r.error().message;
    if (!m || !r) return Decision{};
    ExpectSameDecision(*m, *r, "Acquire(" + key + ")");
    return *r;
  }

  Decision Peek(const std::string& key, const BucketPolicy& policy) {
    auto m = memory_.Peek(key, policy);
    auto r = limiter_->Peek(key, policy);
    EXPECT_TRUE(m.has_value());
    EXPECT_TRUE(r.has_value()) << r.error().message;
    if (!m || !r) return Decision{};
    ExpectSameDecision(*m, *r, "Peek(" + key + ")");
    return *r;
  }

  void Reset(const std::string& key) {
    ASSERT_TRUE(memory_.Reset(key).has_value());
    auto r = limiter_->Reset(key);
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }

  bool Exists(const std::string& redis_key) {
    auto r = client_->Command({"EXISTS", redis_key});
    EXPECT_TRUE(r.has_value());
    return r && r->integer == 1;
  }

  testing::ScopedRedis redis_;
  FakeClock clock_;
  MemoryRateLimiter memory_{clock_};
  std::unique_ptr<redis::Client> client_;
  std::unique_ptr<RedisRateLimiter> limiter_;
};

TEST_F(RedisRateLimiterTest, ANewKeyStartsFullAndAdmitsABurstOfCapacity) {
  for (int i = 0; i < 20; ++i) {
    Decision d = Acquire("acme", Runbook());
    EXPECT_TRUE(d.allowed) << "request " << i;
    EXPECT_DOUBLE_EQ(d.remaining, 19 - i);
    EXPECT_DOUBLE_EQ(d.limit, 20);
  }
  Decision refused = Acquire("acme", Runbook());
  EXPECT_FALSE(refused.allowed);
  EXPECT_DOUBLE_EQ(refused.remaining, 0);
  EXPECT_EQ(refused.retry_after, milliseconds(600));
  EXPECT_EQ(refused.reset_after, milliseconds(12000));
}

TEST_F(RedisRateLimiterTest, TokensComeBackAtTheRefillRate) {
  BucketPolicy policy{2, 1.0, 60};
  EXPECT_TRUE(Acquire("t", policy).allowed);
  EXPECT_TRUE(Acquire("t", policy).allowed);
  Decision refused = Acquire("t", policy);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, milliseconds(1000));
  clock_.Advance(milliseconds(999));
  EXPECT_FALSE(Acquire("t", policy).allowed);
  clock_.Advance(milliseconds(1));
  EXPECT_TRUE(Acquire("t", policy).allowed);
  EXPECT_FALSE(Acquire("t", policy).allowed);
  clock_.Advance(seconds(3600));
  EXPECT_TRUE(Acquire("t", policy).allowed);
  EXPECT_TRUE(Acquire("t", policy).allowed);
  EXPECT_FALSE(Acquire("t", policy).allowed);
}

TEST_F(RedisRateLimiterTest, WaitingExactlyRetryAfterIsEnoughWithAFractionalRate) {
  BucketPolicy policy{1, 1.67, 100};
  EXPECT_TRUE(Acquire("t", policy).allowed);
  for (int i = 0; i < 50; ++i) {
    Decision refused = Acquire("t", policy);
    ASSERT_FALSE(refused.allowed);
    clock_.Advance(refused.retry_after);
    EXPECT_TRUE(Acquire("t", policy).allowed) << "round " << i;
  }
}

TEST_F(RedisRateLimiterTest, KeysHaveTheirOwnBuckets) {
  BucketPolicy policy{1, 0.1, 6};
  EXPECT_TRUE(Acquire("tenant-a", policy).allowed);
  EXPECT_FALSE(Acquire("tenant-a", policy).allowed);
  EXPECT_TRUE(Acquire("tenant-b", policy).allowed);
  EXPECT_TRUE(Exists("helios:rl:tenant-a"));
  EXPECT_TRUE(Exists("helios:rl:tenant-b"));
}

TEST_F(RedisRateLimiterTest, ARefusalTakesNothing) {
  BucketPolicy policy{3, 1.0, 60};
  EXPECT_TRUE(Acquire("t", policy, 2).allowed);
  Decision refused = Acquire("t", policy, 2);
  EXPECT_FALSE(refused.allowed);
  EXPECT_DOUBLE_EQ(refused.remaining, 1);
  EXPECT_TRUE(Acquire("t", policy, 1).allowed);
}

TEST_F(RedisRateLimiterTest, PeekDoesNotTakeOrRemember) {
  BucketPolicy policy{2, 1.0, 60};
  Decision peek = Peek("t", policy);
  EXPECT_TRUE(peek.allowed);
  EXPECT_DOUBLE_EQ(peek.remaining, 2);
  EXPECT_FALSE(Exists("helios:rl:t"));
  EXPECT_TRUE(Acquire("t", policy).allowed);
  EXPECT_DOUBLE_EQ(Peek("t", policy).remaining, 1);
  EXPECT_DOUBLE_EQ(Peek("t", policy).remaining, 1);
  // An Acquire of nothing on an unknown key does not create it either.
  EXPECT_TRUE(Acquire("free", policy, 0).allowed);
  EXPECT_FALSE(Exists("helios:rl:free"));
}

TEST_F(RedisRateLimiterTest, ResetStartsTheBucketFull) {
  BucketPolicy policy{1, 0.01, 1};
  EXPECT_TRUE(Acquire("t", policy).allowed);
  EXPECT_FALSE(Acquire("t", policy).allowed);
  Reset("t");
  EXPECT_FALSE(Exists("helios:rl:t"));
  EXPECT_TRUE(Acquire("t", policy).allowed);
}

TEST_F(RedisRateLimiterTest, ASmallerCapacityAppliesAtOnce) {
  EXPECT_TRUE(Acquire("t", BucketPolicy{10, 1.0, 60}).allowed);
  Decision d = Acquire("t", BucketPolicy{2, 1.0, 60});
  EXPECT_TRUE(d.allowed);
  EXPECT_DOUBLE_EQ(d.remaining, 1);
}

TEST_F(RedisRateLimiterTest, BadPoliciesAndCostsAreRefusedWithoutTouchingRedis) {
  EXPECT_EQ(limiter_->Acquire("t", BucketPolicy{0, 1.0, 0}).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(limiter_->Acquire("t", BucketPolicy{5, 0, 0}).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(limiter_->Peek("t", BucketPolicy{5, -1, 0}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(limiter_->Acquire("t", Runbook(), -1).error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(Exists("helios:rl:t"));
}

TEST_F(RedisRateLimiterTest, FractionalTokensSurviveTheRoundTrip) {
  BucketPolicy policy{5, 0.7, 42};
  EXPECT_TRUE(Acquire("f", policy, 2.5).allowed);
  clock_.Advance(milliseconds(333));
  Decision d = Acquire("f", policy, 1.25);
  EXPECT_TRUE(d.allowed);
  EXPECT_NEAR(d.remaining, 5 - 2.5 + 0.333 * 0.7 - 1.25, 1e-12);
  clock_.Advance(milliseconds(1));
  Decision peek = Peek("f", policy);
  EXPECT_NEAR(peek.remaining, 5 - 2.5 + 0.334 * 0.7 - 1.25, 1e-12);
  Decision refused = Acquire("f", policy, 3);
  EXPECT_FALSE(refused.allowed);
  EXPECT_GT(refused.retry_after, milliseconds(0));
}

TEST_F(RedisRateLimiterTest, WaitingExactlyRetryAfterIsEnoughAfterAFractionalCost) {
  // 1 - 0.9 leaves 0.09999999999999998 tokens; 300 ms at 3/s add 0.9, one rounding error short
  // of the token the advertised Retry-After promised.
  BucketPolicy policy{1, 3.0, 180};
  EXPECT_TRUE(Acquire("t", policy, 0.9).allowed);
  Decision refused = Acquire("t", policy, 1);
  ASSERT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, milliseconds(300));
  clock_.Advance(refused.retry_after);
  EXPECT_TRUE(Acquire("t", policy, 1).allowed);
}

// A long mixed sequence (fixed seed): costs, peeks, resets, policy changes and waits of every
// size give identical decisions in Redis and in memory.
TEST_F(RedisRateLimiterTest, AMixedSequenceMatchesTheMemoryLimiterExactly) {
  std::mt19937 rng(20240611);
  const std::vector<BucketPolicy> policies = {
      {3, 1.0, 60}, {20, 100.0 / 60.0, 100}, {7.5, 0.3, 0}, {1, 1.67, 100}, {1000, 0.001, 1}};
  const std::vector<double> costs = {0, 0.5, 1, 1, 1, 2.5, 4};
  const std::vector<std::string> keys = {"a", "b", "c"};
  for (int step = 0; step < 400; ++step) {
    const std::string& key = keys[rng() % keys.size()];
    const BucketPolicy& policy = policies[rng() % 3 == 0 ? rng() % policies.size() : 0];
    const int action = static_cast<int>(rng() % 10);
    SCOPED_TRACE("step " + std::to_string(step));
    if (action < 6) {
      Acquire(key, policy, costs[rng() % costs.size()]);
    } else if (action < 8) {
      Peek(key, policy);
    } else if (action == 8) {
      clock_.Advance(milliseconds(rng() % 3000));
    } else if (rng() % 4 == 0) {
      Reset(key);
    }
    if (::testing::Test::HasFailure()) break;
  }
}

TEST_F(RedisRateLimiterTest, IdleBucketsExpireOnceTheyWouldBeFull) {
  BucketPolicy slow{2, 1.0, 60};
  Decision d = Acquire("slow", slow, 2);  // empty: full again in 2 s
  EXPECT_EQ(d.reset_after, milliseconds(2000));
  auto pttl = client_->Command({"PTTL", "helios:rl:slow"});
  ASSERT_TRUE(pttl.has_value());
  EXPECT_GT(pttl->integer, 2000);  // the refill time plus a margin
  EXPECT_LE(pttl->integer, 3000);

  // A bucket that refills in 10 ms is gone about a second later.
  BucketPolicy fast{1, 100.0, 6000};
  EXPECT_TRUE(Acquire("fast", fast).allowed);
  EXPECT_TRUE(Exists("helios:rl:fast"));
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    std::this_thread::sleep_for(milliseconds(50));
    gone = !Exists("helios:rl:fast");
  }
  EXPECT_TRUE(gone);
  // It starts full again, as it would have been.
  Decision again = limiter_->Acquire("fast", fast).value();
  EXPECT_TRUE(again.allowed);
  EXPECT_DOUBLE_EQ(again.remaining, 0);
}

TEST_F(RedisRateLimiterTest, APrefixSeparatesLimiters) {
  RedisRateLimiter other(*client_, clock_, "other:");
  BucketPolicy policy{1, 0.01, 1};
  EXPECT_TRUE(limiter_->Acquire("k", policy)->allowed);
  EXPECT_FALSE(limiter_->Acquire("k", policy)->allowed);
  EXPECT_TRUE(other.Acquire("k", policy)->allowed);
  EXPECT_TRUE(Exists("other:k"));
}

TEST_F(RedisRateLimiterTest, TwoInstancesShareOneBucket) {
  // Two clients and two limiters, as two server instances on one Redis.
  auto second_client = NewClient(*redis_.url(), clock_);
  ASSERT_NE(second_client, nullptr);
  RedisRateLimiter first(*client_, clock_);
  RedisRateLimiter second(*second_client, clock_);
  BucketPolicy policy{5, 0.001, 1};
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(first.Acquire("shared", policy)->allowed);
  for (int i = 0; i < 2; ++i) {
    auto d = second.Acquire("shared", policy);
    ASSERT_TRUE(d.has_value()) << d.error().message;
    EXPECT_TRUE(d->allowed);
    EXPECT_DOUBLE_EQ(d->remaining, 1 - i);
  }
  EXPECT_FALSE(first.Acquire("shared", policy)->allowed);
  EXPECT_FALSE(second.Acquire("shared", policy)->allowed);
  EXPECT_DOUBLE_EQ(first.Peek("shared", policy)->remaining, 0);
  // A reset through one is seen by the other.
  ASSERT_TRUE(second.Reset("shared").has_value());
  EXPECT_DOUBLE_EQ(first.Peek("shared", policy)->remaining, 5);
}

TEST_F(RedisRateLimiterTest, ConcurrentCallersNeverGetMoreThanTheCapacity) {
  auto second_client = NewClient(*redis_.url(), clock_);
  ASSERT_NE(second_client, nullptr);
  RedisRateLimiter first(*client_, clock_);
  RedisRateLimiter second(*second_client, clock_);
  BucketPolicy policy{100, 0.001, 1};
  std::atomic<int> admitted{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    RedisRateLimiter& limiter = t % 2 == 0 ? first : second;
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto d = limiter.Acquire("hot", policy);
        if (!d) {
          ++errors;
        } else if (d->allowed) {
          ++admitted;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(admitted.load(), 100);
}

TEST_F(RedisRateLimiterTest, AnUnreachableRedisIsKUnavailable) {
  ASSERT_TRUE(redis_.Stop().has_value());
  auto d = limiter_->Acquire("t", Runbook());
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(limiter_->Peek("t", Runbook()).error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(limiter_->Reset("t").error().code, ErrorCode::kUnavailable);
}

// --- FailoverRateLimiter ----------------------------------------------------------------------

struct Change {
  bool shared_ok;
  std::optional<ErrorCode> code;
};

TEST(FailoverRateLimiterTest, AnswersFromLocalWhileRedisIsDownAndSwitchesBack) {
  testing::ScopedRedis redis;
  ASSERT_TRUE(redis.url()) << redis.url().error().message;
  FakeClock clock;
  auto client = NewClient(*redis.url(), clock);  // retry_after 1 s on `clock`
  ASSERT_NE(client, nullptr);
  RedisRateLimiter shared(*client, clock);
  MemoryRateLimiter local(clock);
  std::vector<Change> changes;
  FailoverRateLimiter limiter(shared, local, [&](bool ok, const Error* error) {
    changes.push_back({ok, error ? std::optional(error->code) : std::nullopt});
  });
  BucketPolicy policy{3, 0.001, 1};

  // Redis up: the shared bucket is used, nothing to report.
  EXPECT_TRUE(limiter.Acquire("k", policy)->allowed);
  EXPECT_TRUE(limiter.using_shared());
  EXPECT_TRUE(changes.empty());
  EXPECT_DOUBLE_EQ(shared.Peek("k", policy)->remaining, 2);

  // Redis down: the local bucket (full) answers, and limits; one report.
  ASSERT_TRUE(redis.Stop().has_value());
  for (int i = 0; i < 3; ++i) {
    auto d = limiter.Acquire("k", policy);
    ASSERT_TRUE(d.has_value()) << d.error().message;
    EXPECT_TRUE(d->allowed) << i;
    EXPECT_DOUBLE_EQ(d->remaining, 2 - i);
  }
  auto refused = limiter.Acquire("k", policy);
  ASSERT_TRUE(refused.has_value());
  EXPECT_FALSE(refused->allowed);
  EXPECT_DOUBLE_EQ(limiter.Peek("k", policy)->remaining, 0);
  EXPECT_FALSE(limiter.using_shared());
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_FALSE(changes[0].shared_ok);
  EXPECT_EQ(changes[0].code, ErrorCode::kUnavailable);

  // Redis back: after the client's retry_after the shared bucket answers again (empty of
  // state: this Redis keeps nothing across a restart), with one report.
  ASSERT_TRUE(redis.Start().has_value());
  EXPECT_FALSE(limiter.Acquire("k", policy)->allowed);  // still local inside retry_after
  EXPECT_FALSE(limiter.using_shared());
  clock.Advance(milliseconds(1000));
  auto back = limiter.Acquire("k", policy);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_TRUE(back->allowed);
  EXPECT_DOUBLE_EQ(back->remaining, 2);
  EXPECT_TRUE(limiter.using_shared());
  EXPECT_TRUE(limiter.Acquire("k", policy)->allowed);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_TRUE(changes[1].shared_ok);
  EXPECT_FALSE(changes[1].code.has_value());
}

// A shared limiter that fails on demand, for the transitions without a Redis.
class SwitchableLimiter final : public RateLimiter {
 public:
  explicit SwitchableLimiter(const Clock& clock) : inner_(clock) {}
  std::optional<ErrorCode> fail_with;
  Result<Decision> Acquire(std::string_view key, const BucketPolicy& policy, double cost) override {
    if (fail_with) return Fail(*fail_with, "shared store says no");
    return inner_.Acquire(key, policy, cost);
  }
  Result<Decision> Peek(std::string_view key, const BucketPolicy& policy) override {
    if (fail_with) return Fail(*fail_with, "shared store says no");
    return inner_.Peek(key, policy);
  }
  Result<void> Reset(std::string_view key) override {
    if (fail_with) return Fail(*fail_with, "shared store says no");
    return inner_.Reset(key);
  }

 private:
  MemoryRateLimiter inner_;
};

TEST(FailoverRateLimiterTest, OnlyUnavailableSwitchesAndEachTransitionIsReportedOnce) {
  FakeClock clock;
  SwitchableLimiter shared(clock);
  MemoryRateLimiter local(clock);
  std::vector<Change> changes;
  FailoverRateLimiter limiter(shared, local, [&](bool ok, const Error* error) {
    changes.push_back({ok, error ? std::optional(error->code) : std::nullopt});
  });
  BucketPolicy policy{2, 0.001, 1};

  // An error that is not about availability is passed on and switches nothing.
  shared.fail_with = ErrorCode::kInternal;
  auto internal = limiter.Acquire("k", policy);
  ASSERT_FALSE(internal.has_value());
  EXPECT_EQ(internal.error().code, ErrorCode::kInternal);
  EXPECT_TRUE(limiter.using_shared());
  EXPECT_TRUE(changes.empty());

  // Bad input is refused whichever limiter answers.
  shared.fail_with.reset();
  EXPECT_EQ(limiter.Acquire("k", BucketPolicy{0, 1, 0}).error().code, ErrorCode::kInvalidArgument);

  shared.fail_with = ErrorCode::kUnavailable;
  EXPECT_TRUE(limiter.Peek("k", policy).has_value());
  EXPECT_TRUE(limiter.Acquire("k", policy)->allowed);
  EXPECT_TRUE(limiter.Reset("k").has_value());  // the local bucket, the one in use
  EXPECT_FALSE(limiter.using_shared());
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].code, ErrorCode::kUnavailable);

  shared.fail_with.reset();
  EXPECT_TRUE(limiter.Peek("k", policy).has_value());
  EXPECT_TRUE(limiter.Peek("k", policy).has_value());
  EXPECT_TRUE(limiter.using_shared());
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_TRUE(changes[1].shared_ok);

  // Many threads failing at once still report the transition once.
  shared.fail_with = ErrorCode::kUnavailable;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) (void)limiter.Acquire("k", policy);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(changes.size(), 3u);
  EXPECT_FALSE(limiter.using_shared());
}

TEST(FailoverRateLimiterTest, AnEmptyCallbackIsAllowed) {
  FakeClock clock;
  SwitchableLimiter shared(clock);
  MemoryRateLimiter local(clock);
  FailoverRateLimiter limiter(shared, local, nullptr);
  shared.fail_with = ErrorCode::kUnavailable;
  EXPECT_TRUE(limiter.Acquire("k", BucketPolicy{1, 1, 60})->allowed);
  EXPECT_FALSE(limiter.using_shared());
}

}  // namespace
}  // namespace helios::ratelimit
