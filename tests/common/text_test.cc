#include "common/text.h"

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/error.h"

namespace helios {
namespace {

using namespace std::chrono_literals;
using Words = std::vector<std::string>;

// ---------------------------------------------------------------------------------------------
// SplitIdentifier

TEST(SplitIdentifierTest, SnakeCase) {
  EXPECT_EQ(text::SplitIdentifier("order_items"), (Words{"order", "items"}));
  EXPECT_EQ(text::SplitIdentifier("total_amount"), (Words{"total", "amount"}));
  EXPECT_EQ(text::SplitIdentifier("__leading__and__trailing__"),
            (Words{"leading", "and", "trailing"}));
}

TEST(SplitIdentifierTest, CamelAndPascalCase) {
  EXPECT_EQ(text::SplitIdentifier("CustomerName"), (Words{"customer", "name"}));
  EXPECT_EQ(text::SplitIdentifier("customerName"), (Words{"customer", "name"}));
  EXPECT_EQ(text::SplitIdentifier("customerID"), (Words{"customer", "id"}));
}

TEST(SplitIdentifierTest, AcronymsStayTogether) {
  EXPECT_EQ(text::SplitIdentifier("HTTPCode2"), (Words{"http", "code", "2"}));
  EXPECT_EQ(text::SplitIdentifier("getHTTPResponse"), (Words{"get", "http", "response"}));
  EXPECT_EQ(text::SplitIdentifier("SKU"), (Words{"sku"}));
}

TEST(SplitIdentifierTest, DigitsAreTheirOwnWord) {
  EXPECT_EQ(text::SplitIdentifier("address2line"), (Words{"address", "2", "line"}));
  EXPECT_EQ(text::SplitIdentifier("Q3Revenue"), (Words{"q", "3", "revenue"}));
  EXPECT_EQ(text::SplitIdentifier("year_2024"), (Words{"year", "2024"}));
}

TEST(SplitIdentifierTest, SpacesAndPunctuationSeparate) {
  EXPECT_EQ(text::SplitIdentifier("order items"), (Words{"order", "items"}));
  EXPECT_EQ(text::SplitIdentifier("Unit-Price.v2"), (Words{"unit", "price", "v", "2"}));
}

TEST(SplitIdentifierTest, EmptyAndSeparatorOnlyGiveNoWords) {
  EXPECT_TRUE(text::SplitIdentifier("").empty());
  EXPECT_TRUE(text::SplitIdentifier("___").empty());
  EXPECT_TRUE(text::SplitIdentifier(" - ").empty());
}

// ---------------------------------------------------------------------------------------------
// IsValidUtf8

TEST(IsValidUtf8Test, AcceptsAsciiAndEmpty) {
  EXPECT_TRUE(text::IsValidUtf8(""));
  EXPECT_TRUE(text::IsValidUtf8("How many customers are there?"));
  EXPECT_TRUE(text::IsValidUtf8(std::string_view("a\0b", 3)));
}

TEST(IsValidUtf8Test, AcceptsMultiByteSequences) {
  EXPECT_TRUE(text::IsValidUtf8("M\xC3\xBCller"));     // ü, 2 bytes
  EXPECT_TRUE(text::IsValidUtf8("\xE2\x82\xAC 5"));    // €, 3 bytes
  EXPECT_TRUE(text::IsValidUtf8("\xF0\x9F\x98\x80"));  // U+1F600, 4 bytes
  EXPECT_TRUE(text::IsValidUtf8("\xC2\x80"));          // U+0080, smallest 2-byte
  EXPECT_TRUE(text::IsValidUtf8("\xE0\xA0\x80"));      // U+0800, smallest 3-byte
  EXPECT_TRUE(text::IsValidUtf8("\xF0\x90\x80\x80"));  // U+10000, smallest 4-byte
  EXPECT_TRUE(text::IsValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF, the largest
  EXPECT_TRUE(text::IsValidUtf8("\xED\x9F\xBF"));      // U+D7FF, just below surrogates
  EXPECT_TRUE(text::IsValidUtf8("\xEE\x80\x80"));      // U+E000, just above surrogates
}

TEST(IsValidUtf8Test, RejectsOverlongForms) {
  EXPECT_FALSE(text::IsValidUtf8("\xC0\xAF"));          // '/' in 2 bytes
  EXPECT_FALSE(text::IsValidUtf8("\xC1\xBF"));          // U+007F in 2 bytes
  EXPECT_FALSE(text::IsValidUtf8("\xE0\x80\xAF"));      // '/' in 3 bytes
  EXPECT_FALSE(text::IsValidUtf8("\xE0\x9F\xBF"));      // U+07FF in 3 bytes
  EXPECT_FALSE(text::IsValidUtf8("\xF0\x80\x80\xAF"));  // '/' in 4 bytes
  EXPECT_FALSE(text::IsValidUtf8("\xF0\x8F\xBF\xBF"));  // U+FFFF in 4 bytes
  EXPECT_FALSE(text::IsValidUtf8("\xC0\x80"));          // overlong NUL
}

TEST(IsValidUtf8Test, RejectsSurrogates) {
  EXPECT_FALSE(text::IsValidUtf8("\xED\xA0\x80"));              // U+D800
  EXPECT_FALSE(text::IsValidUtf8("\xED\xBF\xBF"));              // U+DFFF
  EXPECT_FALSE(text::IsValidUtf8("\xED\xA0\xBD\xED\xB8\x80"));  // a CESU-8 surrogate pair
}

TEST(IsValidUtf8Test, RejectsTruncatedSequences) {
  EXPECT_FALSE(text::IsValidUtf8("\xC3"));
  EXPECT_FALSE(text::IsValidUtf8("abc\xE2\x82"));
  EXPECT_FALSE(text::IsValidUtf8("\xF0\x9F\x98"));
  EXPECT_FALSE(text::IsValidUtf8("\xE2\x82 x"));  // cut short by an ASCII byte
  EXPECT_FALSE(text::IsValidUtf8("\xC3\x28"));    // continuation byte missing
}

TEST(IsValidUtf8Test, RejectsCodePointsAboveU10FFFF) {
  EXPECT_FALSE(text::IsValidUtf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(text::IsValidUtf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(text::IsValidUtf8("\xF7\xBF\xBF\xBF"));
}

TEST(IsValidUtf8Test, RejectsInvalidLeadBytes) {
  EXPECT_FALSE(text::IsValidUtf8("\x80"));  // lone continuation byte
  EXPECT_FALSE(text::IsValidUtf8("a\xBF"));
  EXPECT_FALSE(text::IsValidUtf8("\xF8\x88\x80\x80\x80"));  // 5-byte form
  EXPECT_FALSE(text::IsValidUtf8("\xFC\x84\x80\x80\x80\x80"));
  EXPECT_FALSE(text::IsValidUtf8("\xFE"));
  EXPECT_FALSE(text::IsValidUtf8("\xFF"));
}

// ---------------------------------------------------------------------------------------------
// NewUuid

TEST(NewUuidTest, IsLowercaseVersion4WithRfc4122Variant) {
  const std::regex kV4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  for (int i = 0; i < 200; ++i) {
    std::string id = text::NewUuid();
    ASSERT_EQ(id.size(), 36u) << id;
    ASSERT_TRUE(std::regex_match(id, kV4)) << id;
  }
}

TEST(NewUuidTest, IsUniqueAcrossCallsAndThreads) {
  std::mutex mu;
  std::set<std::string> seen;
  std::vector<std::thread> threads;
  constexpr int kThreads = 4, kPerThread = 2000;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      std::vector<std::string> mine;
      for (int i = 0; i < kPerThread; ++i) mine.push_back(text::NewUuid());
      std::lock_guard lock(mu);
      seen.insert(mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads * kPerThread));
}

// ---------------------------------------------------------------------------------------------
// The other text helpers

TEST(TextTest, ToLowerTrimAndCompare) {
  EXPECT_EQ(text::ToLower("Order_Items ABC"), "order_items abc");
  EXPECT_EQ(text::ToLower("M\xC3\x9C"), "m\xC3\x9C");  // non-ASCII bytes pass through
  EXPECT_EQ(text::Trim("  \t hello world \n"), "hello world");
  EXPECT_EQ(text::Trim(" \t\n"), "");
  EXPECT_TRUE(text::StartsWith("sqlite:///x.db", "sqlite:"));
  EXPECT_FALSE(text::StartsWith("sql", "sqlite:"));
  EXPECT_TRUE(text::EqualsIgnoreCase("GerMany", "germany"));
  EXPECT_FALSE(text::EqualsIgnoreCase("Germany", "Germans"));
  EXPECT_FALSE(text::EqualsIgnoreCase("Germany", "German"));
}

TEST(TextTest, SplitKeepsEmptyFieldsAndJoinInvertsIt) {
  EXPECT_EQ(text::Split("a,,b,", ','), (Words{"a", "", "b", ""}));
  EXPECT_EQ(text::Split("", ','), (Words{""}));
  EXPECT_EQ(text::Join({"a", "", "b", ""}, ","), "a,,b,");
  EXPECT_EQ(text::Join({}, ", "), "");
  EXPECT_EQ(text::Join({"x", "y", "z"}, " and "), "x and y and z");
}

// ---------------------------------------------------------------------------------------------
// Errors

TEST(ErrorTest, EveryCodeHasItsStableName) {
  EXPECT_EQ(ErrorCodeName(ErrorCode::kInvalidArgument), "invalid_argument");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kPayloadTooLarge), "payload_too_large");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kNotUnderstood), "not_understood");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kUnsafeSql), "unsafe_sql");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kNotFound), "not_found");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kUnauthenticated), "unauthenticated");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kPermissionDenied), "permission_denied");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kRateLimited), "rate_limited");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kUnavailable), "unavailable");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kDeadlineExceeded), "deadline_exceeded");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kDatabaseError), "database_error");
  EXPECT_EQ(ErrorCodeName(ErrorCode::kInternal), "internal");
}

TEST(ErrorTest, OnlyTransientCodesAreRetryable) {
  EXPECT_TRUE(IsRetryable(ErrorCode::kRateLimited));
  EXPECT_TRUE(IsRetryable(ErrorCode::kUnavailable));
  EXPECT_TRUE(IsRetryable(ErrorCode::kDeadlineExceeded));
  for (ErrorCode c :
       {ErrorCode::kInvalidArgument, ErrorCode::kPayloadTooLarge, ErrorCode::kNotUnderstood,
        ErrorCode::kUnsafeSql, ErrorCode::kNotFound, ErrorCode::kUnauthenticated,
        ErrorCode::kPermissionDenied, ErrorCode::kDatabaseError, ErrorCode::kInternal}) {
    EXPECT_FALSE(IsRetryable(c)) << ErrorCodeName(c);
  }
}

Result<int> Halve(int n) {
  if (n % 2 != 0) return Fail(ErrorCode::kInvalidArgument, "odd number");
  return n / 2;
}

TEST(ErrorTest, FailCarriesCodeAndMessage) {
  auto ok = Halve(8);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, 4);
  auto bad = Halve(7);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message, "odd number");
  EXPECT_EQ(Error().code, ErrorCode::kInternal);
}

// ---------------------------------------------------------------------------------------------
// Clocks

TEST(FakeClockTest, StartsAtTheGivenTimeAndStandsStill) {
  FakeClock clock;
  EXPECT_EQ(clock.Now(), std::chrono::system_clock::time_point(1'700'000'000s));
  EXPECT_EQ(clock.Steady().time_since_epoch().count(), 0);
  EXPECT_EQ(clock.Now(), clock.Now());
  EXPECT_EQ(clock.Steady(), clock.Steady());

  FakeClock custom(std::chrono::system_clock::time_point(42s));
  EXPECT_EQ(custom.Now(), std::chrono::system_clock::time_point(42s));
}

TEST(FakeClockTest, AdvanceMovesWallAndSteadyTimeTogether) {
  FakeClock clock;
  const auto wall0 = clock.Now();
  const auto steady0 = clock.Steady();
  clock.Advance(90min);
  EXPECT_EQ(clock.Now() - wall0, 90min);
  EXPECT_EQ(clock.Steady() - steady0, 90min);
  clock.Advance(1500us);
  EXPECT_EQ(clock.Now() - wall0, 90min + 1500us);
  EXPECT_EQ(clock.Steady() - steady0, 90min + 1500us);
}

TEST(FakeClockTest, ConcurrentAdvancesAreNotLost) {
  FakeClock clock;
  const auto steady0 = clock.Steady();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) clock.Advance(1ms);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(clock.Steady() - steady0, 4000ms);
}

TEST(SystemClockTest, SteadyNeverGoesBackwards) {
  SystemClock clock;
  auto a = clock.Steady();
  auto b = clock.Steady();
  EXPECT_LE(a, b);
  EXPECT_GT(clock.Now().time_since_epoch(), 1'700'000'000s);
}

}  // namespace
}  // namespace helios

namespace helios::text {
namespace {

TEST(SplitIdentifierPlural, PluralAcronymStaysOneWord) {
  EXPECT_EQ(SplitIdentifier("customerIDs"), (std::vector<std::string>{"customer", "ids"}));
  EXPECT_EQ(SplitIdentifier("URLsByHost"), (std::vector<std::string>{"urls", "by", "host"}));
  EXPECT_EQ(SplitIdentifier("HTTPServer"), (std::vector<std::string>{"http", "server"}));
}

}  // namespace
}  // namespace helios::text
