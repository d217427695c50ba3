#include "ratelimit/rate_limiter.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace helios::ratelimit {
namespace {

using std::chrono::milliseconds;

// Rounds a duration in seconds up to whole milliseconds, so that a caller who waits exactly
// that long finds the tokens there.
milliseconds CeilMillis(double seconds) {
  if (!(seconds > 0)) return milliseconds(0);
  return milliseconds(static_cast<int64_t>(std::ceil(seconds * 1000.0)));
}

// The state of a bucket holding `tokens` after the request, reported to the caller.
Decision Describe(bool allowed, double tokens, double cost, const BucketPolicy& policy) {
  Decision d;
  d.allowed = allowed;
  d.limit = policy.capacity;
  d.remaining = std::max(0.0, tokens);
  d.reset_after = CeilMillis((policy.capacity - tokens) / policy.refill_per_second);
  if (!allowed) d.retry_after = CeilMillis((cost - tokens) / policy.refill_per_second);
  return d;
}

}  // namespace

Result<void> ValidatePolicy(const BucketPolicy& policy) {
  if (!(policy.capacity >= 1) || !std::isfinite(policy.capacity)) {
    return Fail(
        ErrorCode::kInvalidArgument,
        fmt::format("a rate-limit bucket must hold at least 1 token, got {}", policy.capacity));
  }
  if (!(policy.refill_per_second > 0) || !std::isfinite(policy.refill_per_second)) {
    return Fail(
        ErrorCode::kInvalidArgument,
        fmt::format("a rate-limit refill rate must be positive, got {}", policy.refill_per_second));
  }
  if (policy.requests_per_minute < 0) {
    return Fail(ErrorCode::kInvalidArgument, "requests_per_minute must not be negative");
  }
  return {};
}

MemoryRateLimiter::MemoryRateLimiter(const Clock& clock, MemoryLimiterOptions options)
    : clock_(clock), options_(options) {}

Result<Decision> MemoryRateLimiter::Acquire(std::string_view key, const BucketPolicy& policy,
                                            double cost) {
  if (!(cost >= 0) || !std::isfinite(cost)) {
    return Fail(ErrorCode::kInvalidArgument, "a rate-limit cost must be a finite number >= 0");
  }
  return Take(key, policy, cost);
}

Result<Decision> MemoryRateLimiter::Peek(std::string_view key, const BucketPolicy& policy) {
  return Take(key, policy, 0);
}

Result<Decision> MemoryRateLimiter::Take(std::string_view key, const BucketPolicy& policy,
                                         double cost) {
  if (auto valid = ValidatePolicy(policy); !valid) return std::unexpected(valid.error());
  const auto now = clock_.Steady();
  std::lock_guard lock(mu_);
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    if (cost == 0) return Describe(true, policy.capacity, 0, policy);  // nothing to remember
    if (buckets_.size() >= options_.max_keys) DropFullBuckets(now);
    it = buckets_.emplace(std::string(key), Bucket{policy.capacity, now, 0, 0}).first;
  }
  Bucket& b = it->second;
  // A policy change (a tenant's override edited) applies from now on; tokens above a smaller
  // capacity are dropped.
  const double elapsed = std::chrono::duration<double>(now - b.updated).count();
  if (elapsed > 0) b.tokens += elapsed * policy.refill_per_second;
  b.tokens = std::min(b.tokens, policy.capacity);
  b.updated = std::max(b.updated, now);
  b.capacity = policy.capacity;
  b.refill_per_second = policy.refill_per_second;
  // A tiny tolerance so that floating-point refill (1.67 tokens/s over exactly the advertised
  // Retry-After) is not refused for a rounding error.
  constexpr double kEpsilon = 1e-9;
  if (b.tokens + kEpsilon >= cost) {
    b.tokens = std::max(0.0, b.tokens - cost);
    return Describe(true, b.tokens, cost, policy);
  }
  return Describe(false, b.tokens, cost, policy);
}

void MemoryRateLimiter::DropFullBuckets(std::chrono::steady_clock::time_point now) {
  // How far from full a bucket is, in tokens: 0 or less means full again.
  auto deficit = [now](const Bucket& b) {
    const double elapsed = std::chrono::duration<double>(now - b.updated).count();
    return b.capacity - (b.tokens + elapsed * b.refill_per_second);
  };
  std::erase_if(buckets_, [&](const auto& entry) { return deficit(entry.second) <= 0; });
  if (buckets_.size() < options_.max_keys || buckets_.empty()) return;
  // Still full of busy buckets (a flood of distinct keys): forget the one nearest to full,
  // which loses the least of anyone's limit.
  auto nearest = std::min_element(
      buckets_.begin(), buckets_.end(),
      [&](const auto& x, const auto& y) { return deficit(x.second) < deficit(y.second); });
  buckets_.erase(nearest);
}

Result<void> MemoryRateLimiter::Reset(std::string_view key) {
  std::lock_guard lock(mu_);
  buckets_.erase(std::string(key));
  return {};
}

size_t MemoryRateLimiter::KeyCount() {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

}  // namespace helios::ratelimit
