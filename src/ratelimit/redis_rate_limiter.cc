#include "ratelimit/redis_rate_limiter.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

namespace helios::ratelimit {
namespace {

using std::chrono::milliseconds;

// MemoryRateLimiter::Take and its Describe, step for step, on a hash {tokens, ts}. Lua numbers
// are doubles, so the same operations in the same order give the same results. Numbers go
// back as strings: Redis would truncate a Lua number to an integer.
//   KEYS[1]  the bucket
//   ARGV     capacity, refill per second, cost, now (ms)
//   returns  {allowed (1/0), tokens after, reset_after ms, retry_after ms}
constexpr const char* kBucketScript = R"lua(
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local function ceil_ms(seconds)
  if not (seconds > 0) then return 0 end
  return math.ceil(seconds * 1000)
end
local function num(x) return string.format('%.17g', x) end

local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  if cost == 0 then
    -- A peek at an unknown key: a full bucket, not remembered.
    return {1, num(capacity), num(ceil_ms((capacity - capacity) / rate)), '0'}
  end
  tokens = capacity
  ts = now
end

local elapsed = (now - ts) / 1000
if elapsed > 0 then tokens = tokens + elapsed * rate end
if capacity < tokens then tokens = capacity end
if now > ts then ts = now end

local allowed = 0
if tokens + 1e-9 >= cost then
  tokens = math.max(0, tokens - cost)
  allowed = 1
end

local reset_after = ceil_ms((capacity - tokens) / rate)
local retry_after = 0
if allowed == 0 then retry_after = ceil_ms((cost - tokens) / rate) end

redis.call('HSET', KEYS[1], 'tokens', num(tokens), 'ts', num(ts))
-- Gone once it would be full again anyway; a second more for clocks a little apart.
local ttl = reset_after + 1000
if ttl > 1e15 then ttl = 1e15 end
redis.call('PEXPIRE', KEYS[1], string.format('%d', ttl))
return {allowed, num(tokens), num(reset_after), num(retry_after)}
)lua";

const redis::Script& BucketScript() {
  static const redis::Script script(kBucketScript);
  return script;
}

bool ParseDouble(const redis::Reply& reply, double& out) {
  if (reply.type != redis::Reply::Type::kString) return false;
  const char* end = reply.str.data() + reply.str.size();
  auto [ptr, ec] = std::from_chars(reply.str.data(), end, out);
  return ec == std::errc() && ptr == end && std::isfinite(out);
}

milliseconds ToMillis(double ms) {
  if (!(ms > 0)) return milliseconds(0);
  // Far beyond any real wait; keeps the conversion defined.
  constexpr double kMax = 1e15;
  return milliseconds(static_cast<int64_t>(std::min(ms, kMax)));
}

}  // namespace

RedisRateLimiter::RedisRateLimiter(redis::Client& client, const Clock& clock, std::string prefix)
    : client_(client), clock_(clock), prefix_(std::move(prefix)) {}

Result<Decision> RedisRateLimiter::Acquire(std::string_view key, const BucketPolicy& policy,
                                           double cost) {
  if (!(cost >= 0) || !std::isfinite(cost)) {
    return Fail(ErrorCode::kInvalidArgument, "a rate-limit cost must be a finite number >= 0");
  }
  return Take(key, policy, cost);
}

Result<Decision> RedisRateLimiter::Peek(std::string_view key, const BucketPolicy& policy) {
  return Take(key, policy, 0);
}

Result<Decision> RedisRateLimiter::Take(std::string_view key, const BucketPolicy& policy,
                                        double cost) {
  if (auto valid = ValidatePolicy(policy); !valid) return std::unexpected(valid.error());
  const int64_t now_ms =
      std::chrono::duration_cast<milliseconds>(clock_.Now().time_since_epoch()).count();
  // "{}" writes the shortest text that reads back as the same double.
  auto reply =
      client_.Eval(BucketScript(), {prefix_ + std::string(key)},
                   {fmt::format("{}", policy.capacity), fmt::format("{}", policy.refill_per_second),
                    fmt::format("{}", cost), std::to_string(now_ms)});
  if (!reply) return std::unexpected(reply.error());
  double tokens = 0;
  double reset_ms = 0;
  double retry_ms = 0;
  if (reply->type != redis::Reply::Type::kArray || reply->elements.size() != 4 ||
      reply->elements[0].type != redis::Reply::Type::kInteger ||
      !ParseDouble(reply->elements[1], tokens) || !ParseDouble(reply->elements[2], reset_ms) ||
      !ParseDouble(reply->elements[3], retry_ms)) {
    return std::unexpected(redis::ReplyError(*reply, "rate-limit bucket script"));
  }
  Decision d;
  d.allowed = reply->elements[0].integer == 1;
  d.limit = policy.capacity;
  d.remaining = std::max(0.0, tokens);
  d.reset_after = ToMillis(reset_ms);
  d.retry_after = d.allowed ? milliseconds(0) : ToMillis(retry_ms);
  return d;
}

Result<void> RedisRateLimiter::Reset(std::string_view key) {
  auto reply = client_.Command({"DEL", prefix_ + std::string(key)});
  if (!reply) return std::unexpected(reply.error());
  if (reply->is_error()) return std::unexpected(redis::ReplyError(*reply, "rate-limit reset"));
  return {};
}

FailoverRateLimiter::FailoverRateLimiter(
    RateLimiter& shared, RateLimiter& local,
    std::function<void(bool shared_ok, const Error*)> on_change)
    : shared_(shared), local_(local), on_change_(std::move(on_change)) {}

Result<Decision> FailoverRateLimiter::Acquire(std::string_view key, const BucketPolicy& policy,
                                              double cost) {
  auto decision = shared_.Acquire(key, policy, cost);
  if (decision) {
    Note(true, nullptr);
    return decision;
  }
  if (decision.error().code != ErrorCode::kUnavailable) return decision;
  Note(false, &decision.error());
  return local_.Acquire(key, policy, cost);
}

Result<Decision> FailoverRateLimiter::Peek(std::string_view key, const BucketPolicy& policy) {
  auto decision = shared_.Peek(key, policy);
  if (decision) {
    Note(true, nullptr);
    return decision;
  }
  if (decision.error().code != ErrorCode::kUnavailable) return decision;
  Note(false, &decision.error());
  return local_.Peek(key, policy);
}

Result<void> FailoverRateLimiter::Reset(std::string_view key) {
  auto local = local_.Reset(key);
  auto shared = shared_.Reset(key);
  if (shared) {
    Note(true, nullptr);
    return local;
  }
  if (shared.error().code != ErrorCode::kUnavailable) return shared;
  Note(false, &shared.error());
  return local;
}

void FailoverRateLimiter::Note(bool shared_ok, const Error* error) {
  if (using_shared_.load() == shared_ok) return;  // the usual case: no lock
  std::lock_guard lock(change_mu_);
  if (using_shared_.load() == shared_ok) return;  // another thread made this transition
  using_shared_.store(shared_ok);
  if (on_change_) on_change_(shared_ok, error);
}

}  // namespace helios::ratelimit
