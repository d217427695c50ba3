// Access tokens: JSON Web Tokens signed with HMAC-SHA256 (HS256) under the server's JWT_SECRET.
//
// Claims: sub (the username), tenant, roles (array of strings), iss, iat, exp (seconds since
// the epoch) and jti (random, unique per token). Issuing uses libjwt. Verifying trusts nothing
// before the signature is checked: the header must say alg "HS256" (never "none", another HMAC
// size or a public-key algorithm), the HMAC is recomputed here and compared in constant time,
// and libjwt must accept the token as well. Then exp must be an integer in the future (no
// leeway), iat and nbf may be at most 60 s ahead of the clock, iss must match, and sub and
// tenant must be present. Every refusal is kUnauthenticated with a short reason; messages never
// contain the token.
//
// A token that passed is remembered (by its SHA-256, at most kVerifiedTokensKept of them), so
// the next request with the same token skips the signature and the JSON: only the checks that
// depend on the time (exp, iat, nbf) are made again. A remembered token is the same bytes under
// the same secret, so it would pass the same way; a TokenService's secret never changes.
//
// Thread-safety: a TokenService is safe to share across threads (its memory of verified tokens
// is guarded by mutexes of its own).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/user_store.h"
#include "common/clock.h"
#include "common/error.h"

namespace helios::auth {

// Who a verified token speaks for.
struct Principal {
  std::string user;
  std::string tenant;
  std::vector<std::string> roles;
  std::chrono::system_clock::time_point expires_at;
};

struct IssuedToken {
  std::string token;
  std::chrono::system_clock::time_point expires_at;
};

// HS256 needs a key at least as long as its output to keep its strength.
inline constexpr size_t kMinTokenSecretBytes = 32;
// Tokens longer than this are refused unread.
inline constexpr size_t kMaxTokenBytes = 8192;
// How far iat or nbf may lie in the future (clock skew between instances).
inline constexpr std::chrono::seconds kTokenClockSkew{60};
// Verified tokens remembered at most (see above).
inline constexpr size_t kVerifiedTokensKept = 4096;

class VerifiedTokens;

class TokenService {
 public:
  // kInvalidArgument for a secret shorter than kMinTokenSecretBytes, an empty issuer or a
  // ttl under one second.
  static Result<TokenService> Create(std::string secret, std::string issuer,
                                     std::chrono::seconds ttl, const Clock& clock);

  TokenService(TokenService&&) noexcept;
  TokenService(const TokenService&) = delete;
  TokenService& operator=(const TokenService&) = delete;
  TokenService& operator=(TokenService&&) = delete;
  ~TokenService();  // wipes the secret

  // A token for user, valid for ttl from now. kInternal only when libjwt or the random
  // generator fails.
  Result<IssuedToken> Issue(const User& user) const;

  // The principal a token speaks for, or kUnauthenticated saying why it is refused.
  Result<Principal> Verify(std::string_view token) const;
  // Tokens remembered as verified (for tests and metrics).
  size_t remembered() const;

  std::chrono::seconds ttl() const { return ttl_; }

 private:
  TokenService(std::string secret, std::string issuer, std::chrono::seconds ttl,
               const Clock& clock);
  // The full check; *not_before is the later of iat and nbf (INT64_MIN without either).
  Result<Principal> VerifyUncached(std::string_view token, int64_t* not_before) const;

  std::string secret_;
  std::string issuer_;
  std::chrono::seconds ttl_;
  const Clock& clock_;
  std::unique_ptr<VerifiedTokens> verified_;
};

}  // namespace helios::auth
