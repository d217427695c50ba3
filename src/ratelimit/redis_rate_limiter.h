// Rate limiting shared by every instance: token buckets kept in Redis, and a limiter that
// falls back to an in-process one while Redis is unreachable.
//
// RedisRateLimiter runs MemoryRateLimiter's token bucket as one Lua script, so that a check
// and its take are atomic however many instances share the bucket, and gives the same
// Decision as MemoryRateLimiter for the same sequence of calls and times. Each bucket is a
// hash (fields `tokens` and `ts`, the time in ms of its last update) under prefix + key, with
// a PEXPIRE of the time it takes to fill up again (plus a second): an idle bucket vanishes
// once it would be full anyway.
//
// Time is the caller's Clock (its wall-clock Now(), in ms), passed to the script, not Redis's
// TIME: tests drive it with a FakeClock, and instances sharing a bucket agree as long as their
// clocks are synchronised (NTP). A clock behind by d refills nothing until it catches up; a
// clock ahead by d hands out up to d * refill_per_second tokens early.
//
// FailoverRateLimiter answers from a shared limiter and, while that one is unavailable, from
// a local one, so that the service keeps limiting (per instance) during a Redis outage.
//
// Thread-safety: both classes are safe to call from any thread. RedisRateLimiter holds no
// mutable state of its own (the Client is thread-safe). FailoverRateLimiter's on_change is
// called once per transition, in order, under a lock of its own: it must not call back into
// the limiter.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/error.h"
#include "ratelimit/rate_limiter.h"
#include "redis/redis_client.h"

namespace helios::ratelimit {

class RedisRateLimiter final : public RateLimiter {
 public:
  // `client` and `clock` must outlive the limiter.
  RedisRateLimiter(redis::Client& client, const Clock& clock, std::string prefix = "helios:rl:");

  // kUnavailable when Redis cannot be reached (the client's message); kInvalidArgument for a
  // bad policy or cost, as MemoryRateLimiter.
  Result<Decision> Acquire(std::string_view key, const BucketPolicy& policy,
                           double cost = 1) override;
  Result<Decision> Peek(std::string_view key, const BucketPolicy& policy) override;
  Result<void> Reset(std::string_view key) override;

 private:
  Result<Decision> Take(std::string_view key, const BucketPolicy& policy, double cost);

  redis::Client& client_;
  const Clock& clock_;
  const std::string prefix_;
};

class FailoverRateLimiter final : public RateLimiter {
 public:
  // on_change(false, &error) when `shared` first answers kUnavailable (error: its error), and
  // on_change(true, nullptr) when it answers again. Starts on `shared`. Both limiters must
  // outlive this one; on_change may be empty.
  FailoverRateLimiter(RateLimiter& shared, RateLimiter& local,
                      std::function<void(bool shared_ok, const Error*)> on_change);

  // From `shared`; from `local` when `shared` fails with kUnavailable. Other errors of
  // `shared` (a bad policy) are returned as they are.
  Result<Decision> Acquire(std::string_view key, const BucketPolicy& policy,
                           double cost = 1) override;
  Result<Decision> Peek(std::string_view key, const BucketPolicy& policy) override;
  // Resets the key in both limiters. Succeeds when `shared` is unavailable (the local bucket,
  // the one in use, is reset); the shared bucket then keeps its state.
  Result<void> Reset(std::string_view key) override;

  // False while answers come from `local`.
  bool using_shared() const { return using_shared_.load(); }

 private:
  // Records which limiter answered; calls on_change on a transition.
  void Note(bool shared_ok, const Error* error);

  RateLimiter& shared_;
  RateLimiter& local_;
  const std::function<void(bool, const Error*)> on_change_;
  std::atomic<bool> using_shared_{true};
  std::mutex change_mu_;  // serialises transitions and their on_change calls
};

}  // namespace helios::ratelimit
