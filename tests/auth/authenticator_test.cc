#include "auth/authenticator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <vector>

#include "auth/password.h"
#include "auth/token.h"
#include "auth/user_store.h"
#include "common/clock.h"
#include "ratelimit/rate_limiter.h"

namespace helios::auth {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

constexpr PasswordParams kCheap{.memory_kib = 256, .iterations = 1, .parallelism = 1};
const std::string kPassword = "correct horse battery";
const std::string kSecret = "0123456789abcdef0123456789abcdef-test-secret";

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() / ("helios-authenticator-test-" + std::to_string(getpid()) +
                                        "-" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "users.json").string();
    SaveUsers({User{"alice", "acme", {"analyst"}, Hash(kPassword)},
               User{"root", "acme", {"admin"}, Hash("another password")}});

    auto users = UserDirectory::Open(path_, clock_);
    ASSERT_TRUE(users.has_value()) << users.error().message;
    users_ = std::move(*users);
    auto tokens = TokenService::Create(kSecret, "helios-test", seconds(3600), clock_);
    ASSERT_TRUE(tokens.has_value());
    tokens_ = std::make_unique<TokenService>(std::move(*tokens));
    limiter_ = std::make_unique<ratelimit::MemoryRateLimiter>(clock_);
    Build({.per_user_per_minute = 3, .per_address_per_minute = 6});
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static std::string Hash(const std::string& password) { return *HashPassword(password, kCheap); }

  void SaveUsers(const std::vector<User>& users) {
    UserStore store;
    for (const auto& u : users) ASSERT_TRUE(store.Add(u).has_value());
    ASSERT_TRUE(store.Save(path_).has_value());
  }

  // (Re)builds the authenticator; every hash check goes through a counting verifier that
  // records which encoded hash it was given.
  void Build(LoginLimits limits) {
    AuthenticatorOptions options;
    options.dummy_hash_params = kCheap;
    options.verify_password = [this](std::string_view password, std::string_view encoded) {
      checked_hashes_.emplace_back(encoded);
      return VerifyPassword(password, encoded);
    };
    auto auth = Authenticator::Create(*users_, *tokens_, *limiter_, limits, options);
    ASSERT_TRUE(auth.has_value()) << auth.error().message;
    auth_ = std::move(*auth);
  }

  // A failed login that must be refused as bad credentials.
  void FailLogin(std::string_view user, std::string_view address) {
    seconds retry(-1);
    auto r = auth_->Login(user, "wrong password!", address, &retry);
    ASSERT_FALSE(r.has_value());
    ASSERT_EQ(r.error().code, ErrorCode::kUnauthenticated) << r.error().message;
    EXPECT_EQ(retry, seconds(0));
  }

  fs::path dir_;
  std::string path_;
  FakeClock clock_;
  std::unique_ptr<UserDirectory> users_;
  std::unique_ptr<TokenService> tokens_;
  std::unique_ptr<ratelimit::MemoryRateLimiter> limiter_;
  std::unique_ptr<Authenticator> auth_;
  std::vector<std::string> checked_hashes_;
};

TEST_F(AuthenticatorTest, LoginWithTheRightPasswordIssuesAToken) {
  seconds retry(-1);
  auto token = auth_->Login("alice", kPassword, "10.0.0.1", &retry);
  ASSERT_TRUE(token.has_value()) << token.error().message;
  EXPECT_EQ(retry, seconds(0));
  EXPECT_EQ(token->expires_at, clock_.Now() + seconds(3600));
  auto principal = tokens_->Verify(token->token);
  ASSERT_TRUE(principal.has_value());
  EXPECT_EQ(principal->user, "alice");
  EXPECT_EQ(principal->tenant, "acme");
  EXPECT_EQ(principal->roles, std::vector<std::string>{"analyst"});
}

TEST_F(AuthenticatorTest, WrongPasswordAndUnknownUserFailTheSameWay) {
  auto wrong = auth_->Login("alice", "not the password", "10.0.0.1");
  auto unknown = auth_->Login("mallory", kPassword, "10.0.0.1");
  auto impossible = auth_->Login("not a valid name!", kPassword, "10.0.0.1");
  for (const auto* r : {&wrong, &unknown, &impossible}) {
    ASSERT_FALSE(r->has_value());
    EXPECT_EQ(r->error().code, ErrorCode::kUnauthenticated);
    EXPECT_EQ(r->error().message, "invalid username or password");
  }
  // Another user's password does not work either.
  EXPECT_FALSE(auth_->Login("alice", "another password", "10.0.0.1").has_value());
}

TEST_F(AuthenticatorTest, EveryLoginChecksOneHashEvenForUnknownUsers) {
  ASSERT_TRUE(auth_->Login("alice", kPassword, "10.0.0.1").has_value());
  ASSERT_EQ(checked_hashes_.size(), 1u);
  EXPECT_EQ(checked_hashes_[0], users_->Find("alice")->password_hash);

  EXPECT_FALSE(auth_->Login("alice", "wrong password", "10.0.0.1").has_value());
  ASSERT_EQ(checked_hashes_.size(), 2u);

  // Unknown and impossible names are checked against a dummy hash made with the same cost.
  EXPECT_FALSE(auth_->Login("mallory", kPassword, "10.0.0.2").has_value());
  EXPECT_FALSE(auth_->Login("bad name!", kPassword, "10.0.0.3").has_value());
  ASSERT_EQ(checked_hashes_.size(), 4u);
  EXPECT_EQ(checked_hashes_[2], checked_hashes_[3]);
  EXPECT_NE(checked_hashes_[2], users_->Find("alice")->password_hash);
  EXPECT_NE(checked_hashes_[2], users_->Find("root")->password_hash);
  EXPECT_EQ(ParsePasswordHash(checked_hashes_[2]), kCheap);
}

TEST_F(AuthenticatorTest, PerUserLockoutRefusesBeforeCheckingThePassword) {
  // Three failures from three addresses empty alice's bucket (3 per minute).
  FailLogin("alice", "10.0.0.1");
  FailLogin("alice", "10.0.0.2");
  FailLogin("alice", "10.0.0.3");
  const size_t checks = checked_hashes_.size();

  seconds retry(0);
  auto locked = auth_->Login("alice", kPassword, "10.0.0.4", &retry);
  ASSERT_FALSE(locked.has_value());
  EXPECT_EQ(locked.error().code, ErrorCode::kRateLimited);
  EXPECT_THAT(locked.error().message, HasSubstr("20 s"));
  EXPECT_EQ(retry, seconds(20));  // one token at 3/60 per second
  EXPECT_EQ(checked_hashes_.size(), checks);

  // Other users are not affected.
  EXPECT_TRUE(auth_->Login("root", "another password", "10.0.0.4").has_value());

  clock_.Advance(seconds(15));
  auto still = auth_->Login("alice", kPassword, "10.0.0.4", &retry);
  ASSERT_FALSE(still.has_value());
  EXPECT_EQ(still.error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(retry, seconds(5));

  clock_.Advance(seconds(5));
  auto token = auth_->Login("alice", kPassword, "10.0.0.4", &retry);
  ASSERT_TRUE(token.has_value()) << token.error().message;
  EXPECT_EQ(retry, seconds(0));
}

TEST_F(AuthenticatorTest, UnknownUsersAreLockedOutLikeRealOnes) {
  // A lockout must not reveal whether the name exists.
  for (int i = 0; i < 3; ++i) FailLogin("mallory", "10.0.1." + std::to_string(i));
  seconds retry(0);
  auto locked = auth_->Login("mallory", kPassword, "10.0.1.9", &retry);
  ASSERT_FALSE(locked.has_value());
  EXPECT_EQ(locked.error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(retry, seconds(20));
}

TEST_F(AuthenticatorTest, PerAddressLockout) {
  // Six failures for six names from one address (6 per minute) block that address.
  for (int i = 0; i < 6; ++i) FailLogin("user" + std::to_string(i), "192.0.2.7");
  const size_t checks = checked_hashes_.size();
  seconds retry(0);
  auto locked = auth_->Login("alice", kPassword, "192.0.2.7", &retry);
  ASSERT_FALSE(locked.has_value());
  EXPECT_EQ(locked.error().code, ErrorCode::kRateLimited);
  EXPECT_EQ(retry, seconds(10));  // one token at 6/60 per second
  EXPECT_EQ(checked_hashes_.size(), checks);

  // Impossible names count against the address too.
  clock_.Advance(seconds(10));
  FailLogin("not a valid name!", "192.0.2.7");
  EXPECT_EQ(auth_->Login("alice", kPassword, "192.0.2.7").error().code, ErrorCode::kRateLimited);

  // Another address is fine; after the refill the first one is too.
  EXPECT_TRUE(auth_->Login("alice", kPassword, "192.0.2.8").has_value());
  clock_.Advance(seconds(10));
  EXPECT_TRUE(auth_->Login("alice", kPassword, "192.0.2.7").has_value());
}

TEST_F(AuthenticatorTest, SuccessfulLoginsTakeNothing) {
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(auth_->Login("alice", kPassword, "10.0.0.1").has_value()) << i;
  }
  // All three failures are still available before the lockout.
  FailLogin("alice", "10.0.0.1");
  FailLogin("alice", "10.0.0.1");
  FailLogin("alice", "10.0.0.1");
  EXPECT_EQ(auth_->Login("alice", kPassword, "10.0.0.1").error().code, ErrorCode::kRateLimited);
}

TEST_F(AuthenticatorTest, RefusesLimitsBelowOne) {
  for (LoginLimits limits : {LoginLimits{0, 5}, LoginLimits{5, 0}, LoginLimits{-1, -1}}) {
    auto auth = Authenticator::Create(*users_, *tokens_, *limiter_, limits,
                                      {.dummy_hash_params = kCheap, .verify_password = {}});
    ASSERT_FALSE(auth.has_value());
    EXPECT_EQ(auth.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST_F(AuthenticatorTest, TheDefaultVerifierIsArgon2) {
  auto auth = Authenticator::Create(*users_, *tokens_, *limiter_, {},
                                    {.dummy_hash_params = kCheap, .verify_password = {}});
  ASSERT_TRUE(auth.has_value());
  EXPECT_TRUE((*auth)->Login("alice", kPassword, "10.0.0.1").has_value());
  EXPECT_FALSE((*auth)->Login("alice", "wrong", "10.0.0.1").has_value());
}

class AuthenticateTest : public AuthenticatorTest {
 protected:
  void SetUp() override {
    AuthenticatorTest::SetUp();
    auto token = auth_->Login("alice", kPassword, "10.0.0.1");
    ASSERT_TRUE(token.has_value());
    token_ = token->token;
  }

  void ExpectRefused(const std::string& header, std::string_view reason) {
    auto r = auth_->Authenticate(header);
    ASSERT_FALSE(r.has_value()) << header;
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
    EXPECT_THAT(r.error().message, HasSubstr(reason)) << header;
  }

  std::string token_;
};

TEST_F(AuthenticateTest, AcceptsABearerTokenWithAnySchemeCase) {
  for (const char* scheme : {"Bearer", "bearer", "BEARER", "bEaReR"}) {
    auto p = auth_->Authenticate(std::string(scheme) + " " + token_);
    ASSERT_TRUE(p.has_value()) << scheme << ": " << p.error().message;
    EXPECT_EQ(p->user, "alice");
    EXPECT_EQ(p->tenant, "acme");
  }
}

TEST_F(AuthenticateTest, RefusesMalformedHeaders) {
  ExpectRefused("", "missing Authorization header");
  ExpectRefused("Basic YWxpY2U6cGFzc3dvcmQ=", "unsupported authorization scheme");
  ExpectRefused(token_, "unsupported authorization scheme");
  ExpectRefused("Bearertoken", "unsupported authorization scheme");
  ExpectRefused("Bearer", "empty bearer token");
  ExpectRefused("Bearer ", "empty bearer token");
  ExpectRefused("Bearer  " + token_, "malformed Authorization header");
  ExpectRefused("Bearer " + token_ + " " + token_, "malformed Authorization header");
  ExpectRefused("Bearer " + token_ + " ", "malformed Authorization header");
  ExpectRefused("Bearer\t" + token_, "unsupported authorization scheme");
  ExpectRefused("Bearer garbage", "invalid token");
}

TEST_F(AuthenticateTest, RefusesExpiredTokens) {
  clock_.Advance(seconds(3600));
  ExpectRefused("Bearer " + token_, "expired");
}

TEST_F(AuthenticateTest, RefusesAUserWhoNoLongerExists) {
  SaveUsers({User{"root", "acme", {"admin"}, Hash("another password")}});
  clock_.Advance(seconds(1));
  ExpectRefused("Bearer " + token_, "no longer exists");
}

TEST_F(AuthenticateTest, RefusesAUserWhoseTenantChanged) {
  SaveUsers({User{"alice", "globex", {"analyst"}, Hash(kPassword)}});
  clock_.Advance(seconds(1));
  ExpectRefused("Bearer " + token_, "tenant");
}

TEST_F(AuthenticateTest, UsesTheUsersCurrentRoles) {
  SaveUsers({User{"alice", "acme", {"admin"}, Hash(kPassword)}});
  clock_.Advance(seconds(1));
  auto p = auth_->Authenticate("Bearer " + token_);
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->roles, std::vector<std::string>{"admin"});
}

TEST(HasRoleTest, AdminImpliesEveryRole) {
  Principal analyst{"alice", "acme", {"analyst"}, {}};
  EXPECT_TRUE(HasRole(analyst, "analyst"));
  EXPECT_FALSE(HasRole(analyst, "admin"));
  EXPECT_FALSE(HasRole(analyst, "auditor"));
  Principal admin{"root", "acme", {"admin"}, {}};
  EXPECT_TRUE(HasRole(admin, "admin"));
  EXPECT_TRUE(HasRole(admin, "analyst"));
  EXPECT_TRUE(HasRole(admin, "auditor"));
  Principal nobody{"x", "acme", {}, {}};
  EXPECT_FALSE(HasRole(nobody, "analyst"));
}

}  // namespace
}  // namespace helios::auth
