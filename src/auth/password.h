// Password hashing for the users file: Argon2id (libargon2) in the standard encoded form
// "$argon2id$v=19$m=<KiB>,t=<iterations>,p=<lanes>$<salt>$<hash>" (unpadded base64), with a
// fresh 16-byte salt from OpenSSL's RAND_bytes for every hash. An encoded hash carries its own
// parameters, so raising the defaults later leaves existing hashes verifiable.
//
// Thread-safety: every function is reentrant and safe to call from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace helios::auth {

// Argon2id cost parameters. The defaults are OWASP's recommendation (19 MiB, two passes, one
// lane); tests use much smaller ones.
struct PasswordParams {
  uint32_t memory_kib = 19456;
  uint32_t iterations = 2;
  uint32_t parallelism = 1;

  bool operator==(const PasswordParams&) const = default;
};

// Bounds accepted for hashing and verifying. The upper bounds keep a hand-edited users file from
// making every login allocate gigabytes or spin for minutes.
inline constexpr uint32_t kMaxPasswordMemoryKib = 1u << 20;  // 1 GiB
inline constexpr uint32_t kMaxPasswordIterations = 64;
inline constexpr uint32_t kMaxPasswordParallelism = 64;

// Rules for a new password (`user add`): at least this many characters (Unicode code points)...
inline constexpr size_t kMinPasswordChars = 12;
// ... and at most this many bytes.
inline constexpr size_t kMaxPasswordBytes = 1024;

// kInvalidArgument unless memory_kib >= 8 * parallelism and every parameter is within the
// bounds above.
Result<void> ValidatePasswordParams(const PasswordParams& params);

// Checks a password chosen by a person against the rules above (valid UTF-8, no control
// characters, length). kInvalidArgument with a message saying which rule failed.
Result<void> CheckNewPassword(std::string_view password);

// Hashes password with a fresh random salt. kInvalidArgument for bad params, kInternal when the
// random generator or libargon2 fails (for example, out of memory).
Result<std::string> HashPassword(std::string_view password, const PasswordParams& params = {});

// True when password matches encoded, an Argon2id hash made by HashPassword (or any Argon2id
// encoder using version 19). Uses the parameters stored in encoded; the comparison is constant
// time. Never throws: a malformed encoding, parameters outside the bounds above or a libargon2
// failure all give false.
bool VerifyPassword(std::string_view password, std::string_view encoded) noexcept;

// The parameters of a well-formed Argon2id encoding within the bounds above; nullopt for
// anything else (another Argon2 variant or version, bad base64, a salt or hash of an odd size).
std::optional<PasswordParams> ParsePasswordHash(std::string_view encoded);

}  // namespace helios::auth
