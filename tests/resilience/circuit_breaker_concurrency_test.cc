// The circuit breaker as the server uses it: one breaker per provider, called by every request
// thread at once. Its counts must hold however the calls interleave (scripts/tsan.sh runs these
// under ThreadSanitizer).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "resilience/circuit_breaker.h"

namespace helios::resilience {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using S = BreakerState;

// Collects the listener's calls, which come from whichever thread made the transition.
class Transitions {
 public:
  CircuitBreaker::Listener Listener() {
    return [this](S from, S to) {
      std::lock_guard lock(mu_);
      ++counts_[{from, to}];
    };
  }
  int Count(S from, S to) {
    std::lock_guard lock(mu_);
    auto it = counts_.find({from, to});
    return it == counts_.end() ? 0 : it->second;
  }
  std::map<std::pair<S, S>, int> All() {
    std::lock_guard lock(mu_);
    return counts_;
  }

 private:
  std::mutex mu_;
  std::map<std::pair<S, S>, int> counts_;
};

// Runs `body(thread_index)` on `n` threads started together.
template <typename Body>
void OnThreads(int n, Body body) {
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      body(t);
    });
  }
  go.store(true);
  for (auto& th : threads) th.join();
}

TEST(CircuitBreakerConcurrencyTest, ConcurrentFailuresOpenItOnce) {
  FakeClock clock;
  Transitions seen;
  CircuitBreaker b("nl2sql", clock, BreakerOptions{true, 5, milliseconds(60'000), 3},
                   seen.Listener());
  std::atomic<int> permitted{0};
  OnThreads(8, [&](int) {
    for (int i = 0; i < 50; ++i) {
      if (!b.Allow()) continue;
      ++permitted;
      b.RecordFailure();
    }
  });
  EXPECT_EQ(b.state(), S::kOpen);
  // Calls already permitted may still fail after it opened, but it opens only once.
  EXPECT_EQ(seen.Count(S::kClosed, S::kOpen), 1);
  EXPECT_GE(permitted.load(), 5);
  EXPECT_LT(permitted.load(), 8 * 50);
  EXPECT_FALSE(b.Allow().has_value());
}

TEST(CircuitBreakerConcurrencyTest, HalfOpenPermitsNoMoreTrialsThanItsLimit) {
  FakeClock clock;
  Transitions seen;
  constexpr int kTrials = 3;
  CircuitBreaker b("nl2sql", clock, BreakerOptions{true, 1, milliseconds(1000), kTrials},
                   seen.Listener());
  ASSERT_TRUE(b.Allow().has_value());
  b.RecordFailure();
  ASSERT_EQ(b.state(), S::kOpen);
  clock.Advance(seconds(1));

  // Every thread asks at once; the trials stay in flight (nothing is recorded yet).
  std::atomic<int> permitted{0}, refused{0};
  OnThreads(8, [&](int) {
    for (int i = 0; i < 20; ++i) {
      if (b.Allow()) {
        ++permitted;
      } else {
        ++refused;
      }
    }
  });
  EXPECT_EQ(permitted.load(), kTrials);
  EXPECT_EQ(refused.load(), 8 * 20 - kTrials);
  EXPECT_EQ(seen.Count(S::kOpen, S::kHalfOpen), 1);

  // The trials succeed, each reported from its own thread: it closes once.
  OnThreads(kTrials, [&](int) { b.RecordSuccess(); });
  EXPECT_EQ(b.state(), S::kClosed);
  EXPECT_EQ(seen.Count(S::kHalfOpen, S::kClosed), 1);
}

// Callers that succeed and fail, a clock that moves, state reads and an operator's resets, all
// at once. Every transition reported must be one the breaker can make, and afterwards it must
// still work as specified.
TEST(CircuitBreakerConcurrencyTest, StaysConsistentUnderMixedCallsResetsAndTime) {
  FakeClock clock;
  Transitions seen;
  CircuitBreaker b("nl2sql", clock, BreakerOptions{true, 3, milliseconds(50), 2}, seen.Listener());
  std::atomic<bool> stop{false};
  std::thread ticker([&] {
    while (!stop.load()) {
      clock.Advance(milliseconds(10));
      std::this_thread::yield();
    }
  });
  std::thread operator_thread([&] {
    for (int i = 0; i < 20 && !stop.load(); ++i) {
      b.Reset();
      std::this_thread::sleep_for(milliseconds(1));
    }
  });
  std::atomic<int> bad_refusals{0};
  OnThreads(6, [&](int t) {
    for (int i = 0; i < 2000; ++i) {
      auto permit = b.Allow();
      if (!permit) {
        if (permit.error().code != ErrorCode::kUnavailable) ++bad_refusals;
        continue;
      }
      // Threads 0 and 1 mostly fail, the others mostly succeed.
      if ((t < 2) != (i % 5 == 0)) {
        b.RecordFailure();
      } else {
        b.RecordSuccess();
      }
      (void)b.state();
    }
  });
  stop.store(true);
  ticker.join();
  operator_thread.join();

  EXPECT_EQ(bad_refusals.load(), 0);
  const std::set<std::pair<S, S>> legal = {{S::kClosed, S::kOpen},
                                           {S::kOpen, S::kHalfOpen},
                                           {S::kHalfOpen, S::kOpen},
                                           {S::kHalfOpen, S::kClosed},
                                           {S::kOpen, S::kClosed}};  // the last one: Reset
  for (const auto& [transition, count] : seen.All()) {
    EXPECT_TRUE(legal.contains(transition))
        << BreakerStateName(transition.first) << " -> " << BreakerStateName(transition.second)
        << " (" << count << " times)";
  }

  // Whatever state it was left in, a reset closes it and it counts failures from zero again.
  b.Reset();
  EXPECT_EQ(b.state(), S::kClosed);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(b.Allow().has_value());
    b.RecordFailure();
  }
  EXPECT_EQ(b.state(), S::kClosed);
  ASSERT_TRUE(b.Allow().has_value());
  b.RecordFailure();
  EXPECT_EQ(b.state(), S::kOpen);
}

}  // namespace
}  // namespace helios::resilience
