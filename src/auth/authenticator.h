// Logging in (username and password for a token) and authenticating API requests (a bearer
// token for a Principal).
//
// Login gives nothing away: a wrong password and an unknown user both fail with
// kUnauthenticated "invalid username or password", and both run one Argon2id verification (an
// unknown user is checked against a dummy hash made at construction), so they take about the
// same time. Guessing is throttled per username and per client address: each failed attempt
// takes one token from "login-user:<name>" and "login-addr:<address>" (token buckets holding
// the per-minute figure and refilling at figure/60 per second); while either bucket is empty,
// attempts are refused with kRateLimited before the password is looked at. Successful logins
// take nothing. The check and the charge are separate calls to the limiter, so a burst of
// concurrent guesses can overshoot a limit by the number of guesses in flight.
//
// Thread-safety: Authenticator is thread-safe when its UserDirectory, TokenService and
// RateLimiter are (the real ones are); it holds no mutable state of its own.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "auth/password.h"
#include "auth/token.h"
#include "auth/user_store.h"
#include "common/error.h"
#include "ratelimit/rate_limiter.h"

namespace helios::auth {

// Failed logins allowed per minute ([auth] login_failures_per_*_per_minute); each >= 1.
struct LoginLimits {
  int per_user_per_minute = 5;
  int per_address_per_minute = 20;
};

// Checks a password against an encoded hash; VerifyPassword unless a test counts the calls.
using PasswordVerifier = std::function<bool(std::string_view password, std::string_view encoded)>;

struct AuthenticatorOptions {
  // Cost of the dummy hash checked for unknown users. Match the cost of the users file's hashes
  // (`user add` uses the defaults) so that both paths take the same time.
  PasswordParams dummy_hash_params;
  // Empty: VerifyPassword.
  PasswordVerifier verify_password;
};

class Authenticator {
 public:
  // kInvalidArgument for limits below 1 or bad dummy_hash_params; kInternal when the dummy hash
  // cannot be made. The references must outlive the Authenticator.
  static Result<std::unique_ptr<Authenticator>> Create(UserDirectory& users, TokenService& tokens,
                                                       ratelimit::RateLimiter& limiter,
                                                       LoginLimits limits,
                                                       AuthenticatorOptions options = {});

  // A token for username when password is right. Errors: kUnauthenticated "invalid username or
  // password"; kRateLimited with *retry_after (when given) set to the whole seconds until an
  // attempt may be made again; kUnavailable when the rate limiter's store is unreachable (logins
  // then fail closed). *retry_after is zero unless the result is kRateLimited.
  Result<IssuedToken> Login(std::string_view username, std::string_view password,
                            std::string_view client_address,
                            std::chrono::seconds* retry_after = nullptr);

  // The principal for an "Authorization: Bearer <token>" header value (scheme case-insensitive,
  // exactly one space, then the token). kUnauthenticated for a missing header, another scheme,
  // an empty or malformed value, any token TokenService::Verify refuses, a user no longer in the
  // users file or one whose tenant changed. The roles returned are the user's current ones from
  // the users file, so a role taken away stops working at once.
  Result<Principal> Authenticate(std::string_view authorization_header);

 private:
  Authenticator(UserDirectory& users, TokenService& tokens, ratelimit::RateLimiter& limiter,
                LoginLimits limits, PasswordVerifier verify, std::string dummy_hash);

  UserDirectory& users_;
  TokenService& tokens_;
  ratelimit::RateLimiter& limiter_;
  const ratelimit::BucketPolicy user_policy_;
  const ratelimit::BucketPolicy address_policy_;
  const PasswordVerifier verify_;
  const std::string dummy_hash_;
};

// True when principal has role, or "admin", which implies every role.
bool HasRole(const Principal& principal, std::string_view role);

}  // namespace helios::auth
