// Fuzzes the JWT verifier (auth::TokenService::Verify, with libjwt under it). The first byte
// picks what the rest is:
//   even: a token, verified as received. Any token accepted must carry the HMAC-SHA256 of its
//     header and payload under the service's key, recomputed here independently.
//   odd: "<header JSON>\n<payload JSON>", signed here with the service's key, so that the
//     checks after the signature (alg, exp, iat, nbf, iss, sub, tenant, roles) see arbitrary
//     claims. An accepted token must speak for the sub and tenant it carries and expire later
//     than now.
// Either way the verdict must not change when the same token is verified again (the second
// time it may come from the memory of verified tokens).
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "auth/token.h"
#include "fuzz_check.h"

namespace {

// The test key the seed tokens in corpus/jwt were signed with.
constexpr std::string_view kSecret = "fuzzing-secret-0123456789abcdef-0123456789";
constexpr std::string_view kIssuer = "heliosdb-conversational-bi";

// 2023-11-14T22:13:20Z; the seed tokens were issued then, for an hour.
helios::FakeClock clock_at_seed_time{
    std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000))};

const helios::auth::TokenService& Service() {
  static const helios::auth::TokenService* service = [] {
    auto created = helios::auth::TokenService::Create(std::string(kSecret), std::string(kIssuer),
                                                      std::chrono::hours(1), clock_at_seed_time);
    FUZZ_CHECK(created.has_value());
    return new helios::auth::TokenService(std::move(*created));
  }();
  return *service;
}

std::string Base64Url(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> bits) & 0x3F];
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 0x3F];
  return out;
}

std::string Signature(std::string_view signing_input) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  FUZZ_CHECK(HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
                  reinterpret_cast<const unsigned char*>(signing_input.data()),
                  signing_input.size(), mac, &length) != nullptr);
  return Base64Url(std::string_view(reinterpret_cast<const char*>(mac), length));
}

// Verifies twice and checks that the verdicts agree; returns the first.
helios::Result<helios::auth::Principal> VerifyTwice(std::string_view token) {
  auto first = Service().Verify(token);
  auto second = Service().Verify(token);
  FUZZ_CHECK(first.has_value() == second.has_value());
  if (!first) {
    FUZZ_CHECK(first.error().code == helios::ErrorCode::kUnauthenticated);
    return first;
  }
  FUZZ_CHECK(first->user == second->user && first->tenant == second->tenant);
  FUZZ_CHECK(first->roles == second->roles);
  FUZZ_CHECK(!first->user.empty() && !first->tenant.empty());
  FUZZ_CHECK(first->expires_at > clock_at_seed_time.Now());
  return first;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // The fixture itself must work: a token the service issues verifies.
  helios::auth::User user{"alice", "acme", {"analyst"}, ""};
  auto issued = Service().Issue(user);
  FUZZ_CHECK(issued.has_value());
  FUZZ_CHECK(Service().Verify(issued->token).has_value());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool sign_here = (data[0] & 1) != 0;
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);

  if (!sign_here) {
    auto principal = VerifyTwice(rest);
    if (!principal) return 0;
    const size_t last_dot = rest.rfind('.');
    FUZZ_CHECK(last_dot != std::string_view::npos);
    FUZZ_CHECK(rest.substr(last_dot + 1) == Signature(rest.substr(0, last_dot)));
    return 0;
  }

  const size_t newline = rest.find('\n');
  if (newline == std::string_view::npos) return 0;
  const std::string signing_input =
      Base64Url(rest.substr(0, newline)) + "." + Base64Url(rest.substr(newline + 1));
  const std::string token = signing_input + "." + Signature(signing_input);
  auto principal = VerifyTwice(token);
  if (!principal) return 0;
  // Accepted claims are a JSON object whose sub and tenant the principal names.
  const auto claims = nlohmann::json::parse(rest.substr(newline + 1), nullptr, false);
  FUZZ_CHECK(claims.is_object());
  FUZZ_CHECK(claims.contains("sub") && claims["sub"].is_string());
  FUZZ_CHECK(claims["sub"].get<std::string>() == principal->user);
  FUZZ_CHECK(claims.contains("tenant") && claims["tenant"].is_string());
  FUZZ_CHECK(claims["tenant"].get<std::string>() == principal->tenant);
  return 0;
}
