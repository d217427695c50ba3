// A circuit breaker around a dependency that can fail slowly or repeatedly (the LLM provider):
// after `failure_threshold` consecutive failures it opens and refuses calls at once for
// `reset_timeout`; then it lets up to `half_open_max_calls` trial calls through (half-open).
// A failed trial opens it again; that many successful trials close it.
//
// Usage: `if (auto permit = breaker.Allow(); !permit) return error;` then exactly one of
// RecordSuccess() / RecordFailure() for each permitted call.
//
// Thread-safety: all methods are safe to call concurrently (one mutex, no I/O under it). Time
// comes from the injected Clock.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/error.h"

namespace helios::resilience {

// The numbers are what the circuit_breaker_state metric reports.
enum class BreakerState { kClosed = 0, kOpen = 1, kHalfOpen = 2 };

std::string_view BreakerStateName(BreakerState state);

struct BreakerOptions {
  bool enabled = true;  // disabled: Allow() always permits and nothing is counted
  int failure_threshold = 5;
  std::chrono::milliseconds reset_timeout{60'000};
  int half_open_max_calls = 3;
};

class CircuitBreaker {
 public:
  // Called (outside the lock) after every state change, e.g. to log it.
  using Listener = std::function<void(BreakerState from, BreakerState to)>;

  CircuitBreaker(std::string service, const Clock& clock, BreakerOptions options,
                 Listener listener = nullptr);

  // Permission for one call. kUnavailable, naming the service and when to retry, while open or
  // while half-open with all trial calls in flight.
  Result<void> Allow();
  void RecordSuccess();
  void RecordFailure();

  // Closes the breaker at once and forgets its failures (an operator's reset).
  void Reset();

  // The current state; an open breaker whose timeout has passed reports half-open.
  BreakerState state();
  const std::string& service() const { return service_; }

 private:
  // Moves open -> half-open when the timeout has passed. Returns the transition, if any.
  bool AdvanceLocked(std::chrono::steady_clock::time_point now, BreakerState& from);
  void Notify(BreakerState from, BreakerState to) const;

  const std::string service_;
  const Clock& clock_;
  const BreakerOptions options_;
  const Listener listener_;

  std::mutex mu_;
  BreakerState state_ = BreakerState::kClosed;
  int consecutive_failures_ = 0;
  std::chrono::steady_clock::time_point opened_at_{};
  int trials_in_flight_ = 0;
  int trial_successes_ = 0;
};

}  // namespace helios::resilience
