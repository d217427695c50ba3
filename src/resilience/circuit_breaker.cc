#include "resilience/circuit_breaker.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace helios::resilience {

std::string_view BreakerStateName(BreakerState state) {
  switch (state) {
    case BreakerState::kClosed:
      return "closed";
    case BreakerState::kOpen:
      return "open";
    case BreakerState::kHalfOpen:
      return "half-open";
  }
  return "unknown";
}

CircuitBreaker::CircuitBreaker(std::string service, const Clock& clock, BreakerOptions options,
                               Listener listener)
    : service_(std::move(service)),
      clock_(clock),
      options_(options),
      listener_(std::move(listener)) {}

bool CircuitBreaker::AdvanceLocked(std::chrono::steady_clock::time_point now, BreakerState& from) {
  if (state_ != BreakerState::kOpen || now - opened_at_ < options_.reset_timeout) return false;
  from = state_;
  state_ = BreakerState::kHalfOpen;
  trials_in_flight_ = 0;
  trial_successes_ = 0;
  return true;
}

void CircuitBreaker::Notify(BreakerState from, BreakerState to) const {
  if (listener_ && from != to) listener_(from, to);
}

Result<void> CircuitBreaker::Allow() {
  if (!options_.enabled) return {};
  const auto now = clock_.Steady();
  BreakerState from = BreakerState::kClosed;
  bool moved = false;
  Result<void> verdict;
  {
    std::lock_guard lock(mu_);
    moved = AdvanceLocked(now, from);
    if (state_ == BreakerState::kOpen) {
      auto wait =
          std::chrono::ceil<std::chrono::seconds>(options_.reset_timeout - (now - opened_at_));
      verdict = Fail(ErrorCode::kUnavailable,
                     fmt::format("The {} service is temporarily unavailable after repeated "
                                 "failures; retry in {} s.",
                                 service_, std::max<int64_t>(1, wait.count())));
    } else if (state_ == BreakerState::kHalfOpen) {
      if (trials_in_flight_ + trial_successes_ >= options_.half_open_max_calls) {
        verdict =
            Fail(ErrorCode::kUnavailable,
                 fmt::format("The {} service is recovering; retry in a few seconds.", service_));
      } else {
        ++trials_in_flight_;
      }
    }
  }
  if (moved) Notify(from, BreakerState::kHalfOpen);
  return verdict;
}

void CircuitBreaker::RecordSuccess() {
  if (!options_.enabled) return;
  BreakerState from = BreakerState::kClosed;
  BreakerState to = BreakerState::kClosed;
  {
    std::lock_guard lock(mu_);
    from = state_;
    if (state_ == BreakerState::kHalfOpen) {
      trials_in_flight_ = std::max(0, trials_in_flight_ - 1);
      if (++trial_successes_ >= options_.half_open_max_calls) {
        state_ = BreakerState::kClosed;
        consecutive_failures_ = 0;
      }
    } else if (state_ == BreakerState::kClosed) {
      consecutive_failures_ = 0;
    }
    // A success reported while open (a call permitted before it opened) changes nothing.
    to = state_;
  }
  Notify(from, to);
}

void CircuitBreaker::RecordFailure() {
  if (!options_.enabled) return;
  const auto now = clock_.Steady();
  BreakerState from = BreakerState::kClosed;
  BreakerState to = BreakerState::kClosed;
  {
    std::lock_guard lock(mu_);
    from = state_;
    if (state_ == BreakerState::kHalfOpen ||
        (state_ == BreakerState::kClosed &&
         ++consecutive_failures_ >= options_.failure_threshold)) {
      state_ = BreakerState::kOpen;
      opened_at_ = now;
      trials_in_flight_ = 0;
      trial_successes_ = 0;
    }
    to = state_;
  }
  Notify(from, to);
}

void CircuitBreaker::Reset() {
  BreakerState from = BreakerState::kClosed;
  {
    std::lock_guard lock(mu_);
    from = state_;
    state_ = BreakerState::kClosed;
    consecutive_failures_ = 0;
    trials_in_flight_ = 0;
    trial_successes_ = 0;
  }
  Notify(from, BreakerState::kClosed);
}

BreakerState CircuitBreaker::state() {
  const auto now = clock_.Steady();
  BreakerState from = BreakerState::kClosed;
  bool moved = false;
  BreakerState current;
  {
    std::lock_guard lock(mu_);
    moved = AdvanceLocked(now, from);
    current = state_;
  }
  if (moved) Notify(from, current);
  return current;
}

}  // namespace helios::resilience
