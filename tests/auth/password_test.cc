#include "auth/password.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace helios::auth {
namespace {

using ::testing::HasSubstr;

// Cheap parameters keep the sanitizer build fast; the format and logic are the same.
constexpr PasswordParams kCheap{.memory_kib = 256, .iterations = 1, .parallelism = 1};

// The reference implementation's Argon2id test vectors (password "password", salt "somesalt").
constexpr std::string_view kReferenceP1 =
    "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4";
constexpr std::string_view kReferenceP2 =
    "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc";

TEST(PasswordTest, HashHasTheStandardEncodingAndVerifies) {
  auto hash = HashPassword("correct horse battery staple", kCheap);
  ASSERT_TRUE(hash.has_value()) << hash.error().message;
  EXPECT_TRUE(std::regex_match(
      *hash,
      std::regex(R"(\$argon2id\$v=19\$m=256,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43})")))
      << *hash;
  EXPECT_TRUE(VerifyPassword("correct horse battery staple", *hash));
  EXPECT_FALSE(VerifyPassword("correct horse battery stapl", *hash));
  EXPECT_FALSE(VerifyPassword("Correct horse battery staple", *hash));
  EXPECT_FALSE(VerifyPassword("", *hash));
}

TEST(PasswordTest, EverySaltIsFresh) {
  auto a = HashPassword("same password", kCheap);
  auto b = HashPassword("same password", kCheap);
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(VerifyPassword("same password", *a));
  EXPECT_TRUE(VerifyPassword("same password", *b));
}

TEST(PasswordTest, DefaultsAreOwasp) {
  const PasswordParams defaults;
  EXPECT_EQ(defaults.memory_kib, 19456u);
  EXPECT_EQ(defaults.iterations, 2u);
  EXPECT_EQ(defaults.parallelism, 1u);
}

TEST(PasswordTest, VerifyUsesTheParametersInTheEncoding) {
  // Hashed with other parameters than the defaults: verification must read them back.
  const PasswordParams other{.memory_kib = 512, .iterations = 2, .parallelism = 2};
  auto hash = HashPassword("another secret!", other);
  ASSERT_TRUE(hash.has_value());
  EXPECT_THAT(*hash, HasSubstr("$m=512,t=2,p=2$"));
  EXPECT_EQ(ParsePasswordHash(*hash), other);
  EXPECT_TRUE(VerifyPassword("another secret!", *hash));
}

TEST(PasswordTest, VerifiesTheReferenceVectors) {
  EXPECT_TRUE(VerifyPassword("password", kReferenceP1));
  EXPECT_TRUE(VerifyPassword("password", kReferenceP2));
  EXPECT_FALSE(VerifyPassword("passwore", kReferenceP1));
  EXPECT_EQ(ParsePasswordHash(kReferenceP2),
            (PasswordParams{.memory_kib = 256, .iterations = 2, .parallelism = 2}));
}

TEST(PasswordTest, MalformedEncodingsAreFalseNeverAnError) {
  const std::string good(kReferenceP1);
  const std::vector<std::string> bad = {
      "",
      "password",
      "$argon2id$",
      // Other variants and versions.
      "$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
      "$argon2d$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
      "$argon2id$v=16$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
      "$argon2id$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
      // Parameters: out of order, missing, signed, leading zeros, overflowing, out of bounds.
      "$argon2id$v=19$t=2,m=256,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
      "$argon2id$v=19$m=256,t=2$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
      "$argon2id$v=19$m=+256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
      "$argon2id$v=19$m=0256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
      "$argon2id$v=19$m=99999999999,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCH",
      "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
      "$argon2id$v=19$m=256,t=0,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
      "$argon2id$v=19$m=256,t=1000,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
      "$argon2id$v=19$m=256,t=2,p=0$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
      "$argon2id$v=19$m=8,t=2,p=4$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
      // Salt and hash: missing, padded, foreign characters, too short, non-canonical tail bits.
      "$argon2id$v=19$m=256,t=2,p=1$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
      "$argon2id$v=19$m=256,t=2,p=1$$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
      "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$",
      "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ=$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
      "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4=",
      "$argon2id$v=19$m=256,t=2,p=1$c29tZXNh-HQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
      "$argon2id$v=19$m=256,t=2,p=1$c29tZQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
      "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR",
      "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/5",
      // Extra fields and whitespace.
      good + "$extra",
      good + "\n",
      " " + good,
      good.substr(0, 40) + std::string(1, '\0') + good.substr(41),
  };
  for (const auto& encoded : bad) {
    EXPECT_FALSE(ParsePasswordHash(encoded).has_value()) << encoded;
    EXPECT_FALSE(VerifyPassword("password", encoded)) << encoded;
  }
}

TEST(PasswordTest, AWrongHashOfTheRightShapeIsFalse) {
  // One character of the reference hash changed: well-formed, but not this password's hash.
  std::string altered(kReferenceP1);
  altered[altered.size() - 5] = altered[altered.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_TRUE(ParsePasswordHash(altered).has_value());
  EXPECT_FALSE(VerifyPassword("password", altered));
}

TEST(PasswordTest, HashingRefusesBadParameters) {
  for (const PasswordParams& p :
       {PasswordParams{.memory_kib = 4, .iterations = 1, .parallelism = 1},
        PasswordParams{.memory_kib = 256, .iterations = 0, .parallelism = 1},
        PasswordParams{.memory_kib = 256, .iterations = 1, .parallelism = 0},
        PasswordParams{
            .memory_kib = kMaxPasswordMemoryKib + 1, .iterations = 1, .parallelism = 1}}) {
    auto hash = HashPassword("whatever password", p);
    ASSERT_FALSE(hash.has_value());
    EXPECT_EQ(hash.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(hash.error().message, HasSubstr("Argon2"));
  }
}

TEST(PasswordTest, NewPasswordRules) {
  EXPECT_TRUE(CheckNewPassword("twelve chars").has_value());
  EXPECT_TRUE(CheckNewPassword("ünïcödé pässwörd").has_value());
  // Twelve code points, more bytes: counts characters, not bytes.
  EXPECT_TRUE(CheckNewPassword("ééééééééééée").has_value());

  for (std::string_view weak : {"", "short", "eleven char", "ééééééééééé"}) {
    auto r = CheckNewPassword(weak);
    ASSERT_FALSE(r.has_value()) << weak;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(r.error().message, HasSubstr("at least 12 characters"));
  }
  auto control = CheckNewPassword("twelve chars\tplus a tab");
  ASSERT_FALSE(control.has_value());
  EXPECT_THAT(control.error().message, HasSubstr("control"));
  auto utf8 = CheckNewPassword("not valid utf-8 \xff\xfe here");
  ASSERT_FALSE(utf8.has_value());
  EXPECT_THAT(utf8.error().message, HasSubstr("UTF-8"));
  auto huge = CheckNewPassword(std::string(kMaxPasswordBytes + 1, 'x'));
  ASSERT_FALSE(huge.has_value());
  EXPECT_THAT(huge.error().message, HasSubstr("at most"));
}

}  // namespace
}  // namespace helios::auth
