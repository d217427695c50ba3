// SendWithRetries against a scripted transport, with a FakeClock and a Sleeper that advances it:
// which failures are retried, the backoff and its jitter, Retry-After, and the deadline.
#include "llm/retry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <vector>

namespace helios::llm {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ScriptedTransport final : public HttpTransport {
 public:
  Result<HttpResponse> Send(const HttpRequest& request) override {
    seen.push_back(request);
    if (script.empty()) return Fail(ErrorCode::kInternal, "the test scripted no more answers");
    Result<HttpResponse> next = std::move(script.front());
    script.pop_front();
    return next;
  }

  void Status(int status, std::vector<std::pair<std::string, std::string>> headers = {}) {
    HttpResponse response;
    response.status = status;
    response.headers = std::move(headers);
    response.body = "{}";
    script.emplace_back(std::move(response));
  }
  void Failure(ErrorCode code, std::string message) {
    script.emplace_back(std::unexpected(Error(code, std::move(message))));
  }

  std::deque<Result<HttpResponse>> script;
  std::vector<HttpRequest> seen;
};

class RetryTest : public ::testing::Test {
 protected:
  Result<RetriedResponse> Send(milliseconds until_deadline = seconds(60)) {
    HttpRequest request;
    request.url = "https://api.example.com/v1/chat/completions";
    request.timeout = attempt_timeout;
    const RetryContext context{clock, sleeper, jitter, policy, "ExampleAI"};
    return SendWithRetries(transport, request, clock.Steady() + until_deadline, context);
  }

  FakeClock clock;
  ScriptedTransport transport;
  std::vector<milliseconds> waits;
  Sleeper sleeper = [this](milliseconds wait) {
    waits.push_back(wait);
    clock.Advance(wait);
  };
  double jitter_value = 0.5;
  Jitter jitter = [this] { return jitter_value; };
  RetryPolicy policy;
  milliseconds attempt_timeout = seconds(30);
};

TEST_F(RetryTest, FirstSuccessNeedsNoRetry) {
  transport.Status(200);

  auto sent = Send();

  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(sent->response.status, 200);
  EXPECT_EQ(sent->attempts, 1);
  EXPECT_TRUE(waits.empty());
}

TEST_F(RetryTest, RetriesServerErrorsWithJitteredBackoff) {
  transport.Status(500);
  transport.Status(502);
  transport.Status(503);
  transport.Status(200);

  auto sent = Send();

  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(sent->response.status, 200);
  EXPECT_EQ(sent->attempts, 4);
  // Half of 250, 500, 1000 ms.
  EXPECT_THAT(waits, ElementsAre(milliseconds(125), milliseconds(250), milliseconds(500)));
}

TEST_F(RetryTest, RetriesOverloadedAndGatewayTimeout) {
  transport.Status(529);
  transport.Status(504);
  transport.Status(200);

  auto sent = Send();

  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(sent->attempts, 3);
}

TEST_F(RetryTest, BackoffGrowsToTheCap) {
  policy.max_retries = 7;
  jitter_value = 1.0;
  for (int i = 0; i < 7; ++i) transport.Status(503);
  transport.Status(200);

  auto sent = Send(seconds(120));

  ASSERT_TRUE(sent.has_value());
  EXPECT_THAT(waits, ElementsAre(milliseconds(250), milliseconds(500), milliseconds(1000),
                                 milliseconds(2000), milliseconds(4000), milliseconds(8000),
                                 milliseconds(8000)));
}

TEST_F(RetryTest, FullJitterCanWaitNothing) {
  jitter_value = 0.0;
  transport.Status(500);
  transport.Status(200);

  auto sent = Send();

  ASSERT_TRUE(sent.has_value());
  EXPECT_THAT(waits, ElementsAre(milliseconds(0)));
}

TEST_F(RetryTest, NeverRetriesClientErrors) {
  for (int status : {400, 401, 403, 404, 422}) {
    transport.script.clear();
    transport.seen.clear();
    transport.Status(status);
    transport.Status(200);

    auto sent = Send();

    ASSERT_TRUE(sent.has_value()) << status;
    EXPECT_EQ(sent->response.status, status);
    EXPECT_EQ(sent->attempts, 1) << status;
    EXPECT_EQ(transport.seen.size(), 1u) << status;
  }
  EXPECT_TRUE(waits.empty());
}

TEST_F(RetryTest, ReturnsTheLastResponseWhenRetriesRunOut) {
  policy.max_retries = 2;
  transport.Status(503);
  transport.Status(503);
  transport.Status(429);

  auto sent = Send();

  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(sent->response.status, 429);
  EXPECT_EQ(sent->attempts, 3);
  EXPECT_EQ(waits.size(), 2u);
}

TEST_F(RetryTest, ZeroRetriesMeansOneAttempt) {
  policy.max_retries = 0;
  transport.Status(500);

  auto sent = Send();

  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(sent->response.status, 500);
  EXPECT_EQ(sent->attempts, 1);
}

TEST_F(RetryTest, HonoursRetryAfterSeconds) {
  transport.Status(429, {{"retry-after", "3"}});
  transport.Status(200);

  auto sent = Send();

  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(sent->attempts, 2);
  EXPECT_THAT(waits, ElementsAre(seconds(3)));
}

TEST_F(RetryTest, HonoursRetryAfterAsAnHttpDate) {
  // FakeClock's wall clock starts at 2023-11-14 22:13:20 UTC.
  transport.Status(503, {{"Retry-After", "Tue, 14 Nov 2023 22:13:25 GMT"}});
  transport.Status(200);

  auto sent = Send();

  ASSERT_TRUE(sent.has_value());
  EXPECT_THAT(waits, ElementsAre(seconds(5)));
}

TEST_F(RetryTest, HonoursOpenAisRetryAfterMs) {
  transport.Status(429, {{"retry-after-ms", "1500"}, {"retry-after", "2"}});
  transport.Status(200);

  auto sent = Send();

  ASSERT_TRUE(sent.has_value());
  EXPECT_THAT(waits, ElementsAre(milliseconds(1500)));
}

TEST_F(RetryTest, UnreadableRetryAfterFallsBackToBackoff) {
  transport.Status(429, {{"Retry-After", "soon"}});
  transport.Status(200);

  auto sent = Send();

  ASSERT_TRUE(sent.has_value());
  EXPECT_THAT(waits, ElementsAre(milliseconds(125)));
}

TEST_F(RetryTest, StopsWhenRetryAfterWouldPassTheDeadline) {
  transport.Status(429, {{"Retry-After", "30"}});
  transport.Status(200);

  auto sent = Send(seconds(10));

  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_THAT(sent.error().message, HasSubstr("ExampleAI answered HTTP 429"));
  EXPECT_THAT(sent.error().message, HasSubstr("30.0 s"));
  EXPECT_EQ(transport.seen.size(), 1u);
  EXPECT_TRUE(waits.empty());
}

TEST_F(RetryTest, StopsWhenTheBackoffWouldPassTheDeadline) {
  jitter_value = 1.0;
  transport.Status(500);
  transport.Status(500);
  transport.Status(200);

  // 250 ms fits, then 500 ms would reach the deadline at 700 ms.
  auto sent = Send(milliseconds(700));

  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_THAT(waits, ElementsAre(milliseconds(250)));
  EXPECT_EQ(transport.seen.size(), 2u);
}

TEST_F(RetryTest, CutsEachAttemptToTheTimeLeft) {
  attempt_timeout = seconds(30);
  transport.Status(500);
  transport.Status(200);

  auto sent = Send(seconds(10));

  ASSERT_TRUE(sent.has_value());
  ASSERT_EQ(transport.seen.size(), 2u);
  EXPECT_EQ(transport.seen[0].timeout, seconds(10));
  EXPECT_EQ(transport.seen[1].timeout, seconds(10) - milliseconds(125));
}

TEST_F(RetryTest, KeepsTheAttemptTimeoutWhenTheDeadlineIsFarther) {
  attempt_timeout = seconds(5);
  transport.Status(200);

  auto sent = Send(seconds(60));

  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(transport.seen[0].timeout, seconds(5));
}

TEST_F(RetryTest, ADeadlineAlreadyPassedSendsNothing) {
  auto sent = Send(milliseconds(0));

  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_TRUE(transport.seen.empty());
}

TEST_F(RetryTest, RetriesTimeoutsAndConnectionFailures) {
  attempt_timeout = seconds(5);
  transport.Failure(ErrorCode::kDeadlineExceeded, "no answer from api.example.com in time");
  transport.Failure(ErrorCode::kUnavailable, "could not reach api.example.com");
  transport.Status(200);

  auto sent = Send(seconds(60));

  ASSERT_TRUE(sent.has_value());
  EXPECT_EQ(sent->attempts, 3);
}

TEST_F(RetryTest, ReportsTheLastTransportErrorWithTheAttempts) {
  policy.max_retries = 1;
  transport.Failure(ErrorCode::kUnavailable, "could not reach api.example.com");
  transport.Failure(ErrorCode::kUnavailable, "could not reach api.example.com");

  auto sent = Send();

  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(sent.error().message, HasSubstr("ExampleAI: could not reach api.example.com"));
  EXPECT_THAT(sent.error().message, HasSubstr("2 attempts"));
}

TEST_F(RetryTest, ATimeoutCutByTheDeadlineEndsTheCall) {
  attempt_timeout = seconds(30);
  transport.Failure(ErrorCode::kDeadlineExceeded, "no answer in time");
  transport.Status(200);

  auto sent = Send(seconds(2));

  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_THAT(sent.error().message, HasSubstr("deadline"));
  EXPECT_EQ(transport.seen.size(), 1u);
}

TEST_F(RetryTest, DoesNotRetryWhatARetryCannotFix) {
  transport.Failure(ErrorCode::kInvalidArgument, "cannot send to \"ftp://x\"");
  transport.Status(200);

  auto sent = Send();

  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(transport.seen.size(), 1u);
}

TEST(RetryAfterTest, ReadsSecondsDatesAndMilliseconds) {
  const auto now = std::chrono::system_clock::time_point(seconds(1'700'000'000));
  HttpResponse response;
  EXPECT_EQ(RetryAfter(response, now), std::nullopt);
  response.headers = {{"Retry-After", " 12 "}};
  EXPECT_EQ(RetryAfter(response, now), seconds(12));
  response.headers = {{"Retry-After", "Tue, 14 Nov 2023 22:13:10 GMT"}};  // in the past
  EXPECT_EQ(RetryAfter(response, now), milliseconds(0));
  response.headers = {{"Retry-After", "Tue, 14 Nov 2023 22:14:20 GMT"}};
  EXPECT_EQ(RetryAfter(response, now), seconds(60));
  response.headers = {{"Retry-After", "Tue, 31 Feb 2023 22:14:20 GMT"}};
  EXPECT_EQ(RetryAfter(response, now), std::nullopt);
  response.headers = {{"Retry-After", "-5"}};
  EXPECT_EQ(RetryAfter(response, now), std::nullopt);
  response.headers = {{"retry-after-ms", "250"}};
  EXPECT_EQ(RetryAfter(response, now), milliseconds(250));
}

TEST(RetryPolicyTest, RetryableStatuses) {
  for (int status : {429, 500, 502, 503, 504, 529}) EXPECT_TRUE(IsRetryableStatus(status));
  for (int status : {200, 400, 401, 403, 404, 409, 413, 422, 501}) {
    EXPECT_FALSE(IsRetryableStatus(status)) << status;
  }
}

TEST(RetryPolicyTest, DefaultJitterStaysWithinZeroAndOne) {
  const Jitter jitter = DefaultJitter();
  for (int i = 0; i < 1000; ++i) {
    const double value = jitter();
    ASSERT_GE(value, 0.0);
    ASSERT_LE(value, 1.0);
  }
}

}  // namespace
}  // namespace helios::llm
