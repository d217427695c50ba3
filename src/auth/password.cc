#include "auth/password.h"

#include <argon2.h>
#include <fmt/format.h>
#include <openssl/rand.h>

#include <array>
#include <charconv>
#include <vector>

#include "common/text.h"

namespace helios::auth {
namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;
// Salt and hash sizes accepted when verifying (encodings made elsewhere may differ).
constexpr size_t kMinSaltBytes = 8;
constexpr size_t kMaxSaltBytes = 64;
constexpr size_t kMinHashBytes = 16;
constexpr size_t kMaxHashBytes = 64;

// Consumes `prefix` from the front of s; false (s unchanged) when s does not start with it.
bool Consume(std::string_view& s, std::string_view prefix) {
  if (!s.starts_with(prefix)) return false;
  s.remove_prefix(prefix.size());
  return true;
}

// Consumes a decimal number without sign or leading zeros that fits in uint32_t.
bool ConsumeNumber(std::string_view& s, uint32_t& value) {
  size_t n = 0;
  while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
  if (n == 0 || n > 10 || (n > 1 && s[0] == '0')) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + n, value);
  if (ec != std::errc() || end != s.data() + n) return false;
  s.remove_prefix(n);
  return true;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// The decoded size of canonical unpadded standard base64 (as libargon2 writes it), or nullopt
// when s is not that: a foreign character, an impossible length or non-zero unused bits.
std::optional<size_t> Base64DecodedSize(std::string_view s) {
  if (s.empty() || s.size() % 4 == 1) return std::nullopt;
  for (char c : s) {
    if (Base64Value(c) < 0) return std::nullopt;
  }
  const int last = Base64Value(s.back());
  if (s.size() % 4 == 2 && (last & 0x0f) != 0) return std::nullopt;
  if (s.size() % 4 == 3 && (last & 0x03) != 0) return std::nullopt;
  return s.size() / 4 * 3 + (s.size() % 4 == 0 ? 0 : s.size() % 4 - 1);
}

}  // namespace

Result<void> ValidatePasswordParams(const PasswordParams& p) {
  if (p.parallelism < 1 || p.parallelism > kMaxPasswordParallelism) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("Argon2 parallelism must be 1..{}, got {}",
                                                         kMaxPasswordParallelism, p.parallelism));
  }
  if (p.iterations < 1 || p.iterations > kMaxPasswordIterations) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("Argon2 iterations must be 1..{}, got {}",
                                                         kMaxPasswordIterations, p.iterations));
  }
  if (p.memory_kib < 8 * p.parallelism || p.memory_kib > kMaxPasswordMemoryKib) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("Argon2 memory must be {}..{} KiB, got {}", 8 * p.parallelism,
                            kMaxPasswordMemoryKib, p.memory_kib));
  }
  return {};
}

Result<void> CheckNewPassword(std::string_view password) {
  if (password.size() > kMaxPasswordBytes) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("the password must be at most {} bytes long", kMaxPasswordBytes));
  }
  if (!text::IsValidUtf8(password)) {
    return Fail(ErrorCode::kInvalidArgument, "the password must be valid UTF-8");
  }
  size_t chars = 0;
  for (unsigned char c : password) {
    if (c < 0x20 || c == 0x7f) {
      return Fail(ErrorCode::kInvalidArgument, "the password must not contain control characters");
    }
    if ((c & 0xc0) != 0x80) ++chars;  // count lead bytes: one per code point
  }
  if (chars < kMinPasswordChars) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("the password must be at least {} characters long, got {}",
                            kMinPasswordChars, chars));
  }
  return {};
}

Result<std::string> HashPassword(std::string_view password, const PasswordParams& params) {
  if (auto valid = ValidatePasswordParams(params); !valid) return std::unexpected(valid.error());
  std::array<unsigned char, kSaltBytes> salt{};
  if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
    return Fail(ErrorCode::kInternal, "the random number generator failed");
  }
  const size_t encoded_size = argon2_encodedlen(
      params.iterations, params.memory_kib, params.parallelism, kSaltBytes, kHashBytes, Argon2_id);
  std::vector<char> encoded(encoded_size + 1, '\0');
  const int rc = argon2id_hash_encoded(params.iterations, params.memory_kib, params.parallelism,
                                       password.data(), password.size(), salt.data(), salt.size(),
                                       kHashBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) {
    return Fail(ErrorCode::kInternal,
                fmt::format("password hashing failed: {}", argon2_error_message(rc)));
  }
  return std::string(encoded.data());
}

std::optional<PasswordParams> ParsePasswordHash(std::string_view s) {
  PasswordParams p;
  if (!Consume(s, "$argon2id$v=19$m=") || !ConsumeNumber(s, p.memory_kib) || !Consume(s, ",t=") ||
      !ConsumeNumber(s, p.iterations) || !Consume(s, ",p=") || !ConsumeNumber(s, p.parallelism) ||
      !Consume(s, "$")) {
    return std::nullopt;
  }
  const size_t dollar = s.find('$');
  if (dollar == std::string_view::npos) return std::nullopt;
  const auto salt = Base64DecodedSize(s.substr(0, dollar));
  const auto hash = Base64DecodedSize(s.substr(dollar + 1));
  if (!salt || *salt < kMinSaltBytes || *salt > kMaxSaltBytes) return std::nullopt;
  if (!hash || *hash < kMinHashBytes || *hash > kMaxHashBytes) return std::nullopt;
  if (!ValidatePasswordParams(p)) return std::nullopt;
  return p;
}

bool VerifyPassword(std::string_view password, std::string_view encoded) noexcept {
  try {
    // Checking the form first keeps libargon2 from ever seeing huge costs or odd encodings.
    if (!ParsePasswordHash(encoded)) return false;
    const std::string encoded_z(encoded);  // NUL-terminated; ParsePasswordHash rules out '\0'
    return argon2id_verify(encoded_z.c_str(), password.data(), password.size()) == ARGON2_OK;
  } catch (...) {
    return false;  // std::bad_alloc
  }
}

}  // namespace helios::auth
