#include "resilience/circuit_breaker.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace helios::resilience {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

BreakerOptions Runbook() { return BreakerOptions{true, 5, milliseconds(60'000), 3}; }

void FailTimes(CircuitBreaker& b, int n) {
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(b.Allow().has_value()) << "call " << i;
    b.RecordFailure();
  }
}

TEST(CircuitBreakerTest, OpensAfterTheThresholdOfConsecutiveFailures) {
  FakeClock clock;
  CircuitBreaker b("nl2sql", clock, Runbook());
  FailTimes(b, 4);
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  FailTimes(b, 1);
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  auto refused = b.Allow();
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(refused.error().message.find("retry in 60 s"), std::string::npos)
      << refused.error().message;
}

TEST(CircuitBreakerTest, ASuccessResetsTheFailureCount) {
  FakeClock clock;
  CircuitBreaker b("nl2sql", clock, Runbook());
  FailTimes(b, 4);
  ASSERT_TRUE(b.Allow().has_value());
  b.RecordSuccess();
  FailTimes(b, 4);
  EXPECT_EQ(b.state(), BreakerState::kClosed);
}

TEST(CircuitBreakerTest, HalfOpensAfterTheTimeoutAndClosesAfterEnoughTrials) {
  FakeClock clock;
  CircuitBreaker b("nl2sql", clock, Runbook());
  FailTimes(b, 5);
  clock.Advance(seconds(59));
  EXPECT_FALSE(b.Allow().has_value());
  clock.Advance(seconds(1));
  EXPECT_EQ(b.state(), BreakerState::kHalfOpen);
  // Three trial calls may be in flight; a fourth is refused.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(b.Allow().has_value()) << i;
  EXPECT_EQ(b.Allow().error().code, ErrorCode::kUnavailable);
  b.RecordSuccess();
  b.RecordSuccess();
  EXPECT_EQ(b.state(), BreakerState::kHalfOpen);
  b.RecordSuccess();
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  EXPECT_TRUE(b.Allow().has_value());
}

TEST(CircuitBreakerTest, AFailedTrialOpensItAgainForAnotherTimeout) {
  FakeClock clock;
  CircuitBreaker b("nl2sql", clock, Runbook());
  FailTimes(b, 5);
  clock.Advance(seconds(60));
  ASSERT_TRUE(b.Allow().has_value());
  b.RecordFailure();
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  clock.Advance(seconds(30));
  EXPECT_FALSE(b.Allow().has_value());
  clock.Advance(seconds(30));
  EXPECT_TRUE(b.Allow().has_value());
}

TEST(CircuitBreakerTest, TheListenerSeesEveryTransition) {
  FakeClock clock;
  std::vector<std::pair<BreakerState, BreakerState>> seen;
  CircuitBreaker b("nl2sql", clock, BreakerOptions{true, 1, milliseconds(1000), 1},
                   [&](BreakerState from, BreakerState to) { seen.emplace_back(from, to); });
  FailTimes(b, 1);
  clock.Advance(seconds(1));
  ASSERT_TRUE(b.Allow().has_value());
  b.RecordSuccess();
  using S = BreakerState;
  std::vector<std::pair<S, S>> expected = {
      {S::kClosed, S::kOpen}, {S::kOpen, S::kHalfOpen}, {S::kHalfOpen, S::kClosed}};
  EXPECT_EQ(seen, expected);
}

TEST(CircuitBreakerTest, ResetClosesAnOpenBreakerAtOnce) {
  FakeClock clock;
  CircuitBreaker b("nl2sql", clock, Runbook());
  FailTimes(b, 5);
  ASSERT_EQ(b.state(), BreakerState::kOpen);
  b.Reset();
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  EXPECT_TRUE(b.Allow().has_value());
  // The failure count starts over.
  b.RecordFailure();
  FailTimes(b, 3);
  EXPECT_EQ(b.state(), BreakerState::kClosed);
}

TEST(CircuitBreakerTest, DisabledNeverRefuses) {
  FakeClock clock;
  BreakerOptions options = Runbook();
  options.enabled = false;
  CircuitBreaker b("nl2sql", clock, options);
  FailTimes(b, 50);
  EXPECT_EQ(b.state(), BreakerState::kClosed);
}

TEST(CircuitBreakerTest, StateNamesMatchTheMetricValues) {
  EXPECT_EQ(static_cast<int>(BreakerState::kOpen), 1);
  EXPECT_EQ(BreakerStateName(BreakerState::kHalfOpen), "half-open");
}

}  // namespace
}  // namespace helios::resilience
