// Token-bucket rate limiting, keyed by a string (a tenant, "login-user:alice", an address).
//
// A bucket holds at most `capacity` tokens and gains `refill_per_second` tokens continuously;
// each admitted request takes `cost` tokens. A new key starts full. RateLimiter is the seam:
// MemoryRateLimiter keeps the buckets of one process; a shared store (Redis) implements the
// same interface so that several instances draw on one bucket per key.
//
// Thread-safety: implementations are safe to call from any thread. MemoryRateLimiter guards
// its map with one mutex and does no I/O under it. Time comes from the injected Clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "common/error.h"

namespace helios::ratelimit {

struct BucketPolicy {
  double capacity = 20;  // tokens; the largest burst
  double refill_per_second = 100.0 / 60.0;
  // Requests per minute the policy is sold as; reported in X-RateLimit-Limit. When 0,
  // refill_per_second * 60 is reported.
  int requests_per_minute = 0;
};

struct Decision {
  bool allowed = false;
  double limit = 0;      // the bucket's capacity
  double remaining = 0;  // tokens left after this request (whole tokens are reported)
  // How long until the bucket is full again (X-RateLimit-Reset).
  std::chrono::milliseconds reset_after{0};
  // When refused: how long until `cost` tokens are available (Retry-After). Zero when allowed.
  std::chrono::milliseconds retry_after{0};
};

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // Takes `cost` tokens from key's bucket when it holds that many; otherwise takes nothing.
  // Errors only when the store is unreachable (kUnavailable), never for being over the limit.
  virtual Result<Decision> Acquire(std::string_view key, const BucketPolicy& policy,
                                   double cost = 1) = 0;
  // The bucket's state without taking anything (a full bucket for an unknown key).
  virtual Result<Decision> Peek(std::string_view key, const BucketPolicy& policy) = 0;
  // Forgets key's bucket (it starts full again).
  virtual Result<void> Reset(std::string_view key) = 0;
};

// Checks a policy: capacity >= 1 and a finite refill rate > 0. kInvalidArgument otherwise.
Result<void> ValidatePolicy(const BucketPolicy& policy);

struct MemoryLimiterOptions {
  // Keys remembered at most. At the limit, buckets idle long enough to be full again are
  // dropped (they would start full anyway); if none is, the one nearest to full is.
  size_t max_keys = 100000;
};

class MemoryRateLimiter final : public RateLimiter {
 public:
  explicit MemoryRateLimiter(const Clock& clock, MemoryLimiterOptions options = {});

  Result<Decision> Acquire(std::string_view key, const BucketPolicy& policy,
                           double cost = 1) override;
  Result<Decision> Peek(std::string_view key, const BucketPolicy& policy) override;
  Result<void> Reset(std::string_view key) override;
  size_t KeyCount();

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point updated;
    // The policy last applied, to tell when an idle bucket is full again.
    double capacity = 0;
    double refill_per_second = 0;
  };
  Result<Decision> Take(std::string_view key, const BucketPolicy& policy, double cost);
  void DropFullBuckets(std::chrono::steady_clock::time_point now);

  const Clock& clock_;
  const MemoryLimiterOptions options_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace helios::ratelimit
