#include "auth/token.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <limits>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "common/clock.h"

namespace helios::auth {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kSecret = "0123456789abcdef0123456789abcdef-test-secret";
const std::string kIssuer = "helios-test";

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// An independent base64url codec (unpadded), so tests do not trust the code under test.
std::string B64Url(std::string_view bytes) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v =
        (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(v >> shift) & 63];
  }
  if (bytes.size() - i == 1) {
    const uint32_t v = uint8_t(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    for (int shift : {18, 12, 6}) out += kAlphabet[(v >> shift) & 63];
  }
  return out;
}

std::string B64UrlDecode(std::string_view s) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    acc = (acc << 6) | static_cast<uint32_t>(kAlphabet.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

// HMAC of signing_input under key (SHA-256 unless md says otherwise), base64url-encoded.
std::string Mac(const std::string& signing_input, const std::string& key = kSecret,
                const EVP_MD* md = EVP_sha256()) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(), mac,
       &mac_size);
  return B64Url(std::string_view(reinterpret_cast<const char*>(mac), mac_size));
}

// header.payload, signed.
std::string Sign(const std::string& header, const std::string& payload,
                 const std::string& key = kSecret, const EVP_MD* md = EVP_sha256()) {
  const std::string signing_input = B64Url(header) + "." + B64Url(payload);
  return signing_input + "." + Mac(signing_input, key, md);
}

class TokenTest : public ::testing::Test {
 protected:
  TokenTest() : service_(*TokenService::Create(kSecret, kIssuer, seconds(3600), clock_)) {}

  int64_t Now() const {
    return std::chrono::floor<seconds>(clock_.Now()).time_since_epoch().count();
  }
  // Claims a valid token carries; tests edit them.
  json GoodClaims() const {
    return json{{"sub", "alice"},           {"tenant", "acme"}, {"roles", {"analyst"}},
                {"iss", kIssuer},           {"iat", Now()},     {"exp", Now() + 600},
                {"jti", "0123456789abcdef"}};
  }
  std::string GoodHeader() const { return R"({"alg":"HS256","typ":"JWT"})"; }

  // Verify must refuse token with kUnauthenticated, a message containing reason and never the
  // token or its parts.
  void ExpectRefused(const std::string& token, std::string_view reason) {
    auto r = service_.Verify(token);
    ASSERT_FALSE(r.has_value()) << "accepted: " << token;
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated) << r.error().message;
    EXPECT_THAT(r.error().message, HasSubstr(reason)) << token;
    if (!token.empty()) {
      EXPECT_THAT(r.error().message, Not(HasSubstr(token)));
    }
    for (size_t start = 0; start < token.size();) {
      size_t dot = token.find('.', start);
      const std::string part = token.substr(start, dot == std::string::npos ? dot : dot - start);
      if (part.size() >= 8) {
        EXPECT_THAT(r.error().message, Not(HasSubstr(part)));
      }
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
  }

  FakeClock clock_;
  TokenService service_;
  const User alice_{"alice", "acme", {"analyst", "admin"}, "unused"};
};

TEST(TokenServiceCreateTest, RefusesAShortSecret) {
  FakeClock clock;
  auto short_secret = TokenService::Create(std::string(31, 'k'), kIssuer, seconds(60), clock);
  ASSERT_FALSE(short_secret.has_value());
  EXPECT_EQ(short_secret.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(short_secret.error().message, HasSubstr("at least 32 bytes"));
  EXPECT_TRUE(TokenService::Create(std::string(32, 'k'), kIssuer, seconds(60), clock).has_value());

  EXPECT_FALSE(TokenService::Create(kSecret, "", seconds(60), clock).has_value());
  EXPECT_FALSE(TokenService::Create(kSecret, kIssuer, seconds(0), clock).has_value());
}

TEST_F(TokenTest, IssueThenVerifyRoundTrips) {
  auto issued = service_.Issue(alice_);
  ASSERT_TRUE(issued.has_value()) << issued.error().message;
  EXPECT_EQ(issued->expires_at, std::chrono::system_clock::time_point(seconds(Now() + 3600)));

  auto principal = service_.Verify(issued->token);
  ASSERT_TRUE(principal.has_value()) << principal.error().message;
  EXPECT_EQ(principal->user, "alice");
  EXPECT_EQ(principal->tenant, "acme");
  EXPECT_EQ(principal->roles, (std::vector<std::string>{"analyst", "admin"}));
  EXPECT_EQ(principal->expires_at, issued->expires_at);
}

TEST_F(TokenTest, IssuedTokensCarryTheDocumentedClaims) {
  auto a = service_.Issue(alice_);
  auto b = service_.Issue(alice_);
  ASSERT_TRUE(a && b);
  const size_t dot1 = a->token.find('.');
  const size_t dot2 = a->token.find('.', dot1 + 1);
  const json header = json::parse(B64UrlDecode(a->token.substr(0, dot1)));
  const json claims = json::parse(B64UrlDecode(a->token.substr(dot1 + 1, dot2 - dot1 - 1)));
  EXPECT_EQ(header["alg"], "HS256");
  EXPECT_EQ(claims["sub"], "alice");
  EXPECT_EQ(claims["tenant"], "acme");
  EXPECT_EQ(claims["roles"], json({"analyst", "admin"}));
  EXPECT_EQ(claims["iss"], kIssuer);
  EXPECT_EQ(claims["iat"], Now());
  EXPECT_EQ(claims["exp"], Now() + 3600);
  ASSERT_TRUE(claims["jti"].is_string());
  EXPECT_TRUE(std::regex_match(claims["jti"].get<std::string>(), std::regex("[0-9a-f]{32}")));
  // The signature is HMAC-SHA256 of the first two parts under the secret.
  EXPECT_EQ(a->token.substr(dot2 + 1), Mac(a->token.substr(0, dot2)));
  // Every token gets its own id.
  const std::string other = b->token.substr(b->token.find('.') + 1);
  const json other_claims = json::parse(B64UrlDecode(other.substr(0, other.find('.'))));
  EXPECT_NE(claims["jti"], other_claims["jti"]);
}

TEST_F(TokenTest, AHandSignedTokenVerifies) {
  // The test's own signer agrees with the service: the refusals below are for the stated reason.
  auto principal = service_.Verify(Sign(GoodHeader(), GoodClaims().dump()));
  ASSERT_TRUE(principal.has_value()) << principal.error().message;
  EXPECT_EQ(principal->user, "alice");
  EXPECT_EQ(principal->roles, std::vector<std::string>{"analyst"});
}

TEST_F(TokenTest, ExpiresExactlyAtExpWithNoLeeway) {
  auto issued = service_.Issue(alice_);
  ASSERT_TRUE(issued.has_value());
  clock_.Advance(seconds(3599));
  EXPECT_TRUE(service_.Verify(issued->token).has_value());
  clock_.Advance(std::chrono::milliseconds(999));
  EXPECT_TRUE(service_.Verify(issued->token).has_value());
  clock_.Advance(std::chrono::milliseconds(1));
  auto expired = service_.Verify(issued->token);
  ASSERT_FALSE(expired.has_value());
  EXPECT_EQ(expired.error().code, ErrorCode::kUnauthenticated);
  EXPECT_THAT(expired.error().message, HasSubstr("expired"));
  clock_.Advance(seconds(86400));
  ExpectRefused(issued->token, "expired");
}

TEST_F(TokenTest, AVerifiedTokenIsRememberedAndStillCheckedAgainstTheClock) {
  auto issued = service_.Issue(alice_);
  ASSERT_TRUE(issued.has_value());
  EXPECT_EQ(service_.remembered(), 0u);
  auto first = service_.Verify(issued->token);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ(service_.remembered(), 1u);
  auto second = service_.Verify(issued->token);
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_EQ(service_.remembered(), 1u);
  EXPECT_EQ(second->user, first->user);
  EXPECT_EQ(second->tenant, first->tenant);
  EXPECT_EQ(second->roles, first->roles);
  EXPECT_EQ(second->expires_at, first->expires_at);

  // Any other bytes are verified in full: one changed character of the signature, or of the
  // claims, is refused although the real token is remembered.
  std::string forged = issued->token;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  ExpectRefused(forged, "invalid token");
  std::string other_claims = issued->token;
  const size_t claims_at = other_claims.find('.') + 5;
  other_claims[claims_at] = other_claims[claims_at] == 'x' ? 'y' : 'x';
  EXPECT_FALSE(service_.Verify(other_claims).has_value());
  EXPECT_EQ(service_.remembered(), 1u);

  // A remembered token expires like any other.
  clock_.Advance(seconds(3600));
  ExpectRefused(issued->token, "expired");
}

TEST_F(TokenTest, ARememberedTokenIsRefusedIfTheClockGoesBackBeforeItsIssue) {
  json claims = GoodClaims();
  claims["nbf"] = Now() + 30;  // allowed: within the clock skew
  const std::string token = Sign(GoodHeader(), claims.dump());
  ASSERT_TRUE(service_.Verify(token).has_value());
  ASSERT_EQ(service_.remembered(), 1u);
  // A service whose clock is two minutes behind refuses the same token, remembered or not.
  FakeClock behind(clock_.Now() - seconds(120));
  auto late = *TokenService::Create(kSecret, kIssuer, seconds(3600), behind);
  for (int i = 0; i < 2; ++i) {
    auto r = late.Verify(token);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
  }
}

TEST_F(TokenTest, TheMemoryOfVerifiedTokensIsBounded) {
  std::vector<std::string> tokens;
  for (size_t i = 0; i < kVerifiedTokensKept + 500; ++i) {
    json claims = GoodClaims();
    claims["jti"] = fmt::format("{:032x}", i);
    tokens.push_back(Sign(GoodHeader(), claims.dump()));
  }
  for (const std::string& token : tokens) ASSERT_TRUE(service_.Verify(token).has_value());
  EXPECT_LE(service_.remembered(), kVerifiedTokensKept);
  EXPECT_GE(service_.remembered(), kVerifiedTokensKept / 2);
  // Forgotten or not, every token still verifies.
  for (const std::string& token : tokens) ASSERT_TRUE(service_.Verify(token).has_value());
}

TEST_F(TokenTest, MalformedTokensAreRefused) {
  const std::string good = Sign(GoodHeader(), GoodClaims().dump());
  const std::string header = good.substr(0, good.find('.'));
  ExpectRefused("", "invalid token");
  ExpectRefused("not-a-token", "malformed");
  ExpectRefused("abc.def", "malformed");
  ExpectRefused(good + ".extra", "malformed");
  ExpectRefused("..", "malformed");
  ExpectRefused(header + "..", "malformed");
  ExpectRefused("@@@." + good.substr(good.find('.') + 1), "malformed");
  ExpectRefused(good + "=", "malformed");                             // padding
  ExpectRefused(good.substr(0, good.size() - 1) + "+", "malformed");  // base64, not base64url
  ExpectRefused(good + " ", "malformed");
  ExpectRefused(std::string(kMaxTokenBytes + 1, 'a'), "too long");
  // Correctly signed, but the header or the payload is not a JSON object.
  ExpectRefused(Sign("not json", GoodClaims().dump()), "malformed");
  ExpectRefused(Sign(R"(["HS256"])", GoodClaims().dump()), "malformed");
  ExpectRefused(Sign(GoodHeader(), "not json"), "malformed");
  ExpectRefused(Sign(GoodHeader(), "[1,2,3]"), "malformed");
}

TEST_F(TokenTest, OnlyHs256IsAccepted) {
  const std::string claims = GoodClaims().dump();
  // "none", with and without a signature.
  ExpectRefused(B64Url(R"({"alg":"none","typ":"JWT"})") + "." + B64Url(claims) + ".",
                "unsupported algorithm");
  ExpectRefused(Sign(R"({"alg":"none","typ":"JWT"})", claims), "unsupported algorithm");
  ExpectRefused(Sign(R"({"alg":"None"})", claims), "unsupported algorithm");
  ExpectRefused(Sign(R"({"alg":"hs256"})", claims), "unsupported algorithm");
  ExpectRefused(Sign(R"({"alg":"HS512"})", claims, kSecret, EVP_sha512()), "unsupported algorithm");
  ExpectRefused(Sign(R"({"alg":"HS384"})", claims, kSecret, EVP_sha384()), "unsupported algorithm");
  // RS256 with the secret used as an HMAC key (the classic key-confusion attack).
  ExpectRefused(Sign(R"({"alg":"RS256"})", claims), "unsupported algorithm");
  ExpectRefused(Sign(R"({"typ":"JWT"})", claims), "unsupported algorithm");
  ExpectRefused(Sign(R"({"alg":256})", claims), "unsupported algorithm");
}

TEST_F(TokenTest, ABadSignatureIsRefused) {
  const std::string good = Sign(GoodHeader(), GoodClaims().dump());
  const size_t dot1 = good.find('.');
  const size_t dot2 = good.find('.', dot1 + 1);
  const std::string header = good.substr(0, dot1);
  const std::string payload = good.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string signature = good.substr(dot2 + 1);

  // Tampered header (still HS256) and payload, each keeping the original signature.
  ExpectRefused(B64Url(R"({"alg":"HS256","typ":"JWS"})") + "." + payload + "." + signature,
                "bad signature");
  json admin = GoodClaims();
  admin["roles"] = {"admin"};
  ExpectRefused(header + "." + B64Url(admin.dump()) + "." + signature, "bad signature");
  json bob = GoodClaims();
  bob["sub"] = "bob";
  ExpectRefused(header + "." + B64Url(bob.dump()) + "." + signature, "bad signature");
  // Tampered signature: one character changed, truncated, empty, extended.
  std::string flipped = signature;
  flipped[5] = flipped[5] == 'A' ? 'B' : 'A';
  ExpectRefused(header + "." + payload + "." + flipped, "bad signature");
  ExpectRefused(header + "." + payload + "." + signature.substr(0, 40), "bad signature");
  ExpectRefused(header + "." + payload + ".", "bad signature");
  ExpectRefused(header + "." + payload + "." + signature + "AAAA", "bad signature");
  // Another secret.
  ExpectRefused(Sign(GoodHeader(), GoodClaims().dump(), std::string(40, 'x')), "bad signature");
  FakeClock clock;
  auto other = TokenService::Create(std::string(32, 'z'), kIssuer, seconds(60), clock);
  ASSERT_TRUE(other.has_value());
  ExpectRefused(other->Issue(alice_)->token, "bad signature");
}

TEST_F(TokenTest, ExpiryMustBeAnIntegerInTheFuture) {
  json c = GoodClaims();
  c.erase("exp");
  ExpectRefused(Sign(GoodHeader(), c.dump()), "no expiry");
  c["exp"] = std::to_string(Now() + 600);
  ExpectRefused(Sign(GoodHeader(), c.dump()), "not an integer");
  c["exp"] = static_cast<double>(Now()) + 600.5;
  ExpectRefused(Sign(GoodHeader(), c.dump()), "not an integer");
  c["exp"] = nullptr;
  ExpectRefused(Sign(GoodHeader(), c.dump()), "not an integer");
  c["exp"] = Now();
  ExpectRefused(Sign(GoodHeader(), c.dump()), "expired");
  c["exp"] = Now() - 1;
  ExpectRefused(Sign(GoodHeader(), c.dump()), "expired");
  c["exp"] = -5;
  ExpectRefused(Sign(GoodHeader(), c.dump()), "expired");
  c["exp"] = Now() + 1;
  EXPECT_TRUE(service_.Verify(Sign(GoodHeader(), c.dump())).has_value());
  // Far-future expiry saturates instead of overflowing.
  c["exp"] = std::numeric_limits<int64_t>::max();
  auto far = service_.Verify(Sign(GoodHeader(), c.dump()));
  ASSERT_TRUE(far.has_value()) << far.error().message;
  EXPECT_EQ(far->expires_at, std::chrono::system_clock::time_point::max());
}

TEST_F(TokenTest, IssuedAtAndNotBeforeMayBeAtMostAMinuteAhead) {
  for (const char* claim : {"iat", "nbf"}) {
    json c = GoodClaims();
    c[claim] = Now() + 60;
    EXPECT_TRUE(service_.Verify(Sign(GoodHeader(), c.dump())).has_value()) << claim;
    c[claim] = Now() + 61;
    ExpectRefused(Sign(GoodHeader(), c.dump()), std::string(claim) + " in the future");
    c[claim] = "soon";
    ExpectRefused(Sign(GoodHeader(), c.dump()), "not an integer");
    c[claim] = Now() - 100000;
    EXPECT_TRUE(service_.Verify(Sign(GoodHeader(), c.dump())).has_value()) << claim;
  }
}

TEST_F(TokenTest, IssuerMustMatch) {
  json c = GoodClaims();
  c["iss"] = "someone-else";
  ExpectRefused(Sign(GoodHeader(), c.dump()), "wrong issuer");
  c.erase("iss");
  ExpectRefused(Sign(GoodHeader(), c.dump()), "wrong issuer");
  c["iss"] = 1;
  ExpectRefused(Sign(GoodHeader(), c.dump()), "wrong issuer");
}

TEST_F(TokenTest, SubjectAndTenantAreRequired) {
  for (const char* claim : {"sub", "tenant"}) {
    const std::string reason =
        std::string("no ") + (claim == std::string("sub") ? "subject" : "tenant");
    json c = GoodClaims();
    c.erase(claim);
    ExpectRefused(Sign(GoodHeader(), c.dump()), reason);
    c[claim] = "";
    ExpectRefused(Sign(GoodHeader(), c.dump()), reason);
    c[claim] = 42;
    ExpectRefused(Sign(GoodHeader(), c.dump()), reason);
  }
  json c = GoodClaims();
  c["roles"] = "admin";
  ExpectRefused(Sign(GoodHeader(), c.dump()), "roles");
}

}  // namespace
}  // namespace helios::auth
