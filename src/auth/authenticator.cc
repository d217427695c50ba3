#include "auth/authenticator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

#include "common/text.h"

namespace helios::auth {
namespace {

using std::chrono::seconds;

constexpr std::string_view kBadCredentials = "invalid username or password";
// Floating-point refill may leave a bucket a hair under a whole token when it should hold one.
constexpr double kTokenEpsilon = 1e-9;

ratelimit::BucketPolicy PerMinute(int per_minute) {
  ratelimit::BucketPolicy p;
  p.capacity = per_minute;
  p.refill_per_second = per_minute / 60.0;
  p.requests_per_minute = per_minute;
  return p;
}

// Whole seconds until a bucket described by d (from Peek) holds one token again. Derived from
// reset_after (time until full) rather than `remaining`, which may be rounded down to whole
// tokens: full is capacity tokens away, one token is (capacity - 1) / refill sooner.
seconds SecondsUntilOneToken(const ratelimit::Decision& d, const ratelimit::BucketPolicy& p) {
  const double until_full = std::chrono::duration<double>(d.reset_after).count();
  const double wait = until_full - (p.capacity - 1) / p.refill_per_second;
  return seconds(std::max<int64_t>(1, static_cast<int64_t>(std::ceil(wait))));
}

}  // namespace

Authenticator::Authenticator(UserDirectory& users, TokenService& tokens,
                             ratelimit::RateLimiter& limiter, LoginLimits limits,
                             PasswordVerifier verify, std::string dummy_hash)
    : users_(users),
      tokens_(tokens),
      limiter_(limiter),
      user_policy_(PerMinute(limits.per_user_per_minute)),
      address_policy_(PerMinute(limits.per_address_per_minute)),
      verify_(std::move(verify)),
      dummy_hash_(std::move(dummy_hash)) {}

Result<std::unique_ptr<Authenticator>> Authenticator::Create(UserDirectory& users,
                                                             TokenService& tokens,
                                                             ratelimit::RateLimiter& limiter,
                                                             LoginLimits limits,
                                                             AuthenticatorOptions options) {
  if (limits.per_user_per_minute < 1 || limits.per_address_per_minute < 1) {
    return Fail(ErrorCode::kInvalidArgument,
                "failed logins allowed per minute must be at least 1 per user and per address");
  }
  // The dummy password is random, so no password can match the dummy hash in practice, and the
  // unknown-user branch also refuses on its own.
  auto dummy = HashPassword(text::NewUuid(), options.dummy_hash_params);
  if (!dummy) return std::unexpected(dummy.error());
  PasswordVerifier verify = options.verify_password
                                ? std::move(options.verify_password)
                                : PasswordVerifier([](std::string_view p, std::string_view e) {
                                    return VerifyPassword(p, e);
                                  });
  return std::unique_ptr<Authenticator>(
      new Authenticator(users, tokens, limiter, limits, std::move(verify), std::move(*dummy)));
}

Result<IssuedToken> Authenticator::Login(std::string_view username, std::string_view password,
                                         std::string_view client_address, seconds* retry_after) {
  if (retry_after != nullptr) *retry_after = seconds(0);
  // A name that could never be in the users file gets no bucket of its own (it cannot succeed,
  // and its key could be arbitrarily long); its attempts still count against the address.
  const bool plausible = IsValidUsername(username);
  const std::string user_key = fmt::format("login-user:{}", username);
  const std::string address_key = fmt::format("login-addr:{}", client_address);

  // Refuse before looking at the password while either bucket is empty.
  seconds wait(0);
  auto check = [&](const std::string& key, const ratelimit::BucketPolicy& policy) -> Result<void> {
    auto d = limiter_.Peek(key, policy);
    if (!d) return std::unexpected(d.error());
    if (d->remaining + kTokenEpsilon < 1) wait = std::max(wait, SecondsUntilOneToken(*d, policy));
    return {};
  };
  if (plausible) {
    if (auto r = check(user_key, user_policy_); !r) return std::unexpected(r.error());
  }
  if (auto r = check(address_key, address_policy_); !r) return std::unexpected(r.error());
  if (wait > seconds(0)) {
    if (retry_after != nullptr) *retry_after = wait;
    return Fail(ErrorCode::kRateLimited,
                fmt::format("too many failed logins; try again in {} s", wait.count()));
  }

  // One hash verification on every path, so timing does not reveal whether the user exists.
  const std::optional<User> user = plausible ? users_.Find(username) : std::nullopt;
  const bool match = verify_(
      password, user ? std::string_view(user->password_hash) : std::string_view(dummy_hash_));
  if (match && user) return tokens_.Issue(*user);

  if (plausible) {
    if (auto d = limiter_.Acquire(user_key, user_policy_); !d) return std::unexpected(d.error());
  }
  if (auto d = limiter_.Acquire(address_key, address_policy_); !d) {
    return std::unexpected(d.error());
  }
  return Fail(ErrorCode::kUnauthenticated, std::string(kBadCredentials));
}

Result<Principal> Authenticator::Authenticate(std::string_view header) {
  constexpr std::string_view kExpected = "expected \"Authorization: Bearer <token>\"";
  if (header.empty()) {
    return Fail(ErrorCode::kUnauthenticated,
                fmt::format("missing Authorization header ({})", kExpected));
  }
  const size_t space = header.find(' ');
  if (!text::EqualsIgnoreCase(header.substr(0, space), "Bearer")) {
    return Fail(ErrorCode::kUnauthenticated,
                fmt::format("unsupported authorization scheme ({})", kExpected));
  }
  const std::string_view token =
      space == std::string_view::npos ? std::string_view() : header.substr(space + 1);
  if (token.empty()) return Fail(ErrorCode::kUnauthenticated, "empty bearer token");
  const bool one_token = std::all_of(token.begin(), token.end(), [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
  if (!one_token) {
    return Fail(ErrorCode::kUnauthenticated,
                fmt::format("malformed Authorization header ({})", kExpected));
  }

  auto principal = tokens_.Verify(token);
  if (!principal) return principal;
  const std::optional<User> user = users_.Find(principal->user);
  if (!user) return Fail(ErrorCode::kUnauthenticated, "the token's user no longer exists");
  if (user->tenant != principal->tenant) {
    return Fail(ErrorCode::kUnauthenticated,
                "the token's tenant no longer matches the user's; log in again");
  }
  principal->roles = user->roles;
  return principal;
}

bool HasRole(const Principal& principal, std::string_view role) {
  return std::any_of(principal.roles.begin(), principal.roles.end(),
                     [&](const std::string& r) { return r == role || r == kRoleAdmin; });
}

}  // namespace helios::auth
