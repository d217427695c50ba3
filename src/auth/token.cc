#include "auth/token.h"

#include <fmt/format.h>
#include <jwt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>
#include <utility>

#include "common/sha256.h"

namespace helios::auth {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using std::chrono::system_clock;

constexpr size_t kSignatureBytes = 32;  // SHA-256
constexpr size_t kJtiBytes = 16;

struct JwtDeleter {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtDeleter>;

struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};

std::unexpected<Error> Refuse(std::string_view reason) {
  return Fail(ErrorCode::kUnauthenticated, fmt::format("invalid token: {}", reason));
}

int Base64UrlValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Strict unpadded base64url (RFC 7515 section 2): no padding, no other characters, and the
// unused bits of the last character zero, so each byte string has exactly one spelling.
std::optional<std::string> Base64UrlDecode(std::string_view s) {
  if (s.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(s.size() / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    const int v = Base64UrlValue(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string Hex(const unsigned char* data, size_t size) {
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) out += fmt::format("{:02x}", data[i]);
  return out;
}

// A JSON integer as int64, saturating unsigned values beyond its range; nullopt for any
// other type (floating-point, string, ...).
std::optional<int64_t> IntegerClaim(const json& value) {
  if (value.is_number_unsigned()) {
    const uint64_t v = value.get<uint64_t>();
    return v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
               ? std::numeric_limits<int64_t>::max()
               : static_cast<int64_t>(v);
  }
  if (value.is_number_integer()) return value.get<int64_t>();
  return std::nullopt;
}

// Seconds since the epoch as a time point, saturating where system_clock's range ends.
system_clock::time_point FromEpochSeconds(int64_t s) {
  constexpr int64_t kMax =
      std::chrono::duration_cast<seconds>(system_clock::duration::max()).count() - 1;
  if (s >= kMax) return system_clock::time_point::max();
  if (s <= -kMax) return system_clock::time_point::min();
  return system_clock::time_point(seconds(s));
}

}  // namespace

// Tokens that passed Verify, by the SHA-256 of their bytes (a digest, so that looking one up
// compares nothing an attacker could learn a token from). Sharded so that concurrent requests
// rarely meet on one mutex; a full shard first drops its expired tokens, then any one.
class VerifiedTokens {
 public:
  struct Entry {
    Principal principal;
    int64_t expires = 0;     // exp, seconds since the epoch
    int64_t not_before = 0;  // the later of iat and nbf
  };

  static std::string Digest(std::string_view token) { return sha256::Bytes(token); }

  std::optional<Entry> Find(const std::string& digest) {
    Shard& shard = ShardOf(digest);
    std::lock_guard lock(shard.mu);
    auto it = shard.entries.find(digest);
    if (it == shard.entries.end()) return std::nullopt;
    return it->second;
  }

  void Remember(std::string digest, Entry entry, int64_t now) {
    Shard& shard = ShardOf(digest);
    std::lock_guard lock(shard.mu);
    if (shard.entries.size() >= kPerShard) {
      std::erase_if(shard.entries, [now](const auto& kv) { return kv.second.expires <= now; });
      if (shard.entries.size() >= kPerShard) shard.entries.erase(shard.entries.begin());
    }
    shard.entries.insert_or_assign(std::move(digest), std::move(entry));
  }

  size_t size() {
    size_t n = 0;
    for (Shard& shard : shards_) {
      std::lock_guard lock(shard.mu);
      n += shard.entries.size();
    }
    return n;
  }

 private:
  static constexpr size_t kShards = 16;
  static constexpr size_t kPerShard = kVerifiedTokensKept / kShards;
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Entry> entries;
  };
  Shard& ShardOf(const std::string& digest) {
    return shards_[static_cast<unsigned char>(digest[0]) % kShards];
  }
  std::array<Shard, kShards> shards_;
};

TokenService::TokenService(std::string secret, std::string issuer, seconds ttl, const Clock& clock)
    : secret_(std::move(secret)),
      issuer_(std::move(issuer)),
      ttl_(ttl),
      clock_(clock),
      verified_(std::make_unique<VerifiedTokens>()) {}

TokenService::TokenService(TokenService&& other) noexcept
    : secret_(std::move(other.secret_)),
      issuer_(std::move(other.issuer_)),
      ttl_(other.ttl_),
      clock_(other.clock_),
      verified_(std::move(other.verified_)) {}

TokenService::~TokenService() {
  if (!secret_.empty()) OPENSSL_cleanse(secret_.data(), secret_.size());
}

Result<TokenService> TokenService::Create(std::string secret, std::string issuer, seconds ttl,
                                          const Clock& clock) {
  if (secret.size() < kMinTokenSecretBytes) {
    const size_t size = secret.size();
    if (!secret.empty()) OPENSSL_cleanse(secret.data(), secret.size());
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("the JWT secret must be at least {} bytes long, got {}",
                            kMinTokenSecretBytes, size));
  }
  if (issuer.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "the token issuer must not be empty");
  }
  if (ttl < seconds(1)) {
    return Fail(ErrorCode::kInvalidArgument, "the token lifetime must be at least one second");
  }
  return TokenService(std::move(secret), std::move(issuer), ttl, clock);
}

Result<IssuedToken> TokenService::Issue(const User& user) const {
  std::array<unsigned char, kJtiBytes> jti{};
  if (RAND_bytes(jti.data(), static_cast<int>(jti.size())) != 1) {
    return Fail(ErrorCode::kInternal, "the random number generator failed");
  }
  const int64_t iat = std::chrono::floor<seconds>(clock_.Now()).time_since_epoch().count();
  const int64_t exp = iat + ttl_.count();

  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) return Fail(ErrorCode::kInternal, "could not create a token");
  JwtPtr jwt(raw);
  const std::string roles = json{{"roles", user.roles}}.dump();
  const bool ok =
      jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret_.data()),
                  static_cast<int>(secret_.size())) == 0 &&
      jwt_add_grant(jwt.get(), "sub", user.username.c_str()) == 0 &&
      jwt_add_grant(jwt.get(), "tenant", user.tenant.c_str()) == 0 &&
      jwt_add_grants_json(jwt.get(), roles.c_str()) == 0 &&
      jwt_add_grant(jwt.get(), "iss", issuer_.c_str()) == 0 &&
      jwt_add_grant_int(jwt.get(), "iat", static_cast<long>(iat)) == 0 &&
      jwt_add_grant_int(jwt.get(), "exp", static_cast<long>(exp)) == 0 &&
      jwt_add_grant(jwt.get(), "jti", Hex(jti.data(), jti.size()).c_str()) == 0;
  if (!ok) return Fail(ErrorCode::kInternal, "could not create a token");
  std::unique_ptr<char, FreeDeleter> encoded(jwt_encode_str(jwt.get()));
  if (!encoded) return Fail(ErrorCode::kInternal, "could not sign a token");
  return IssuedToken{std::string(encoded.get()), FromEpochSeconds(exp)};
}

Result<Principal> TokenService::Verify(std::string_view token) const {
  if (token.empty()) return Refuse("empty");
  if (token.size() > kMaxTokenBytes) return Refuse("too long");
  std::string digest = VerifiedTokens::Digest(token);
  if (auto known = verified_->Find(digest)) {
    // The same checks of the time as below, against the clock of now.
    const int64_t now = std::chrono::floor<seconds>(clock_.Now()).time_since_epoch().count();
    if (known->expires <= now) return Fail(ErrorCode::kUnauthenticated, "token expired");
    if (known->not_before > now + kTokenClockSkew.count()) {
      return Refuse("not valid yet (iat or nbf in the future)");
    }
    return std::move(known->principal);
  }
  int64_t not_before = std::numeric_limits<int64_t>::min();
  auto principal = VerifyUncached(token, &not_before);
  if (!principal) return principal;
  const int64_t now = std::chrono::floor<seconds>(clock_.Now()).time_since_epoch().count();
  VerifiedTokens::Entry entry{
      *principal, std::chrono::floor<seconds>(principal->expires_at).time_since_epoch().count(),
      not_before};
  verified_->Remember(std::move(digest), std::move(entry), now);
  return principal;
}

size_t TokenService::remembered() const { return verified_ ? verified_->size() : 0; }

Result<Principal> TokenService::VerifyUncached(std::string_view token, int64_t* not_before) const {
  if (token.empty()) return Refuse("empty");
  if (token.size() > kMaxTokenBytes) return Refuse("too long");

  // Three base64url parts: header.payload.signature.
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Refuse("malformed (expected three parts)");
  }
  const std::string_view header_b64 = token.substr(0, dot1);
  const std::string_view payload_b64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_b64 = token.substr(dot2 + 1);
  const auto header_text = Base64UrlDecode(header_b64);
  const auto payload_text = Base64UrlDecode(payload_b64);
  const auto signature = Base64UrlDecode(signature_b64);
  if (header_b64.empty() || payload_b64.empty() || !header_text || !payload_text || !signature) {
    return Refuse("malformed (bad base64url)");
  }

  // The algorithm is decided here, not by the token: only HS256 is ever accepted.
  const json header = json::parse(*header_text, nullptr, /*allow_exceptions=*/false);
  if (!header.is_object()) return Refuse("malformed header");
  const auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string() || alg->get<std::string>() != "HS256") {
    return Refuse("unsupported algorithm");
  }

  std::array<unsigned char, EVP_MAX_MD_SIZE> expected{};
  unsigned int expected_size = 0;
  const std::string_view signed_part = token.substr(0, dot2);
  if (HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
           reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(),
           expected.data(), &expected_size) == nullptr ||
      expected_size != kSignatureBytes) {
    return Fail(ErrorCode::kInternal, "could not check a token's signature");
  }
  if (signature->size() != kSignatureBytes ||
      CRYPTO_memcmp(signature->data(), expected.data(), kSignatureBytes) != 0) {
    return Refuse("bad signature");
  }

  // libjwt must agree (it parses with a different JSON library; a disagreement means an odd
  // token, which is refused).
  {
    const std::string token_z(token);
    jwt_t* raw = nullptr;
    const int rc =
        jwt_decode(&raw, token_z.c_str(), reinterpret_cast<const unsigned char*>(secret_.data()),
                   static_cast<int>(secret_.size()));
    JwtPtr decoded(raw);
    if (rc != 0 || !decoded || jwt_get_alg(decoded.get()) != JWT_ALG_HS256) {
      return Refuse("malformed");
    }
  }

  const json claims = json::parse(*payload_text, nullptr, /*allow_exceptions=*/false);
  if (!claims.is_object()) return Refuse("malformed claims");
  const int64_t now = std::chrono::floor<seconds>(clock_.Now()).time_since_epoch().count();

  const auto exp_claim = claims.find("exp");
  if (exp_claim == claims.end()) return Refuse("no expiry");
  const auto exp = IntegerClaim(*exp_claim);
  if (!exp) return Refuse("expiry is not an integer");
  // exp is a whole second and now is rounded down, so exp <= now means "at or past exp".
  if (*exp <= now) return Fail(ErrorCode::kUnauthenticated, "token expired");
  for (const char* name : {"iat", "nbf"}) {
    const auto claim = claims.find(name);
    if (claim == claims.end()) continue;
    const auto value = IntegerClaim(*claim);
    if (!value) return Refuse(fmt::format("{} is not an integer", name));
    if (*value > now + kTokenClockSkew.count())
      return Refuse(fmt::format("{} in the future", name));
    *not_before = std::max(*not_before, *value);
  }
  const auto iss = claims.find("iss");
  if (iss == claims.end() || !iss->is_string() || iss->get<std::string>() != issuer_) {
    return Refuse("wrong issuer");
  }

  Principal principal;
  const auto sub = claims.find("sub");
  if (sub == claims.end() || !sub->is_string() || sub->get<std::string>().empty()) {
    return Refuse("no subject");
  }
  principal.user = sub->get<std::string>();
  const auto tenant = claims.find("tenant");
  if (tenant == claims.end() || !tenant->is_string() || tenant->get<std::string>().empty()) {
    return Refuse("no tenant");
  }
  principal.tenant = tenant->get<std::string>();
  const auto roles = claims.find("roles");
  if (roles != claims.end()) {
    if (!roles->is_array()) return Refuse("roles is not an array of strings");
    for (const auto& role : *roles) {
      if (!role.is_string()) return Refuse("roles is not an array of strings");
      principal.roles.push_back(role.get<std::string>());
    }
  }
  principal.expires_at = FromEpochSeconds(*exp);
  return principal;
}

}  // namespace helios::auth
