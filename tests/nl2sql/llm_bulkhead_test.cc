// The language model's bulkhead: at most max_concurrent_requests questions are answered by the
// model at once, and one more is refused at once (kUnavailable with a retry hint) rather than
// queued. The model here blocks until the test releases it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "conversation/session_store.h"
#include "nl2sql/demo_environment.h"
#include "nl2sql/llm_answerer.h"
#include "nl2sql/pipeline.h"
#include "resilience/circuit_breaker.h"

namespace helios::nl2sql {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// A model whose calls wait until the test releases them (or 30 s pass, so that a failing test
// cannot hang), then answer with a query that runs.
class BlockingModel final : public llm::LlmProvider {
 public:
  std::string_view name() const override { return "blocking"; }
  Result<llm::Completion> Complete(const llm::CompletionRequest&) override {
    std::unique_lock lock(mu_);
    ++calls_;
    cv_.notify_all();
    cv_.wait_for(lock, 30s, [this] { return released_; });
    llm::Completion c;
    c.text = R"({"sql": "SELECT COUNT(*) AS n FROM products", "explanation": "count"})";
    return c;
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  // True once `n` calls have started (within 10 s).
  bool Started(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, [&] { return calls_ >= n; });
  }
  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int calls_ = 0;
  bool released_ = false;
};

std::vector<llm::Message> Prompt(const PromptRequest& r) {
  return {{llm::Role::kSystem, "rules"}, {llm::Role::kUser, r.question}};
}

class LlmBulkheadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DemoEnvironment& env = DemoEnvironment::Get();
    ASSERT_TRUE(env.ok()) << "demo database: " << env.error();
    breaker_ = std::make_unique<resilience::CircuitBreaker>(
        "nl2sql", env.clock(), resilience::BreakerOptions{true, 1, 60'000ms, 1});
  }
  void TearDown() override { model_.Release(); }

  std::unique_ptr<LlmAnswerer> Answerer(int max_concurrent) {
    LlmAnswererOptions options;
    options.max_concurrent_requests = max_concurrent;
    DemoEnvironment& env = DemoEnvironment::Get();
    return std::make_unique<LlmAnswerer>(model_, env.source(), *breaker_, Prompt, env.clock(),
                                         options);
  }

  static PromptRequest Question(std::string text) {
    PromptRequest r;
    r.tenant_id = "default";
    r.question = std::move(text);
    return r;
  }

  BlockingModel model_;
  std::unique_ptr<resilience::CircuitBreaker> breaker_;
};

TEST_F(LlmBulkheadTest, OneBeyondTheLimitIsRefusedAtOnceAndTheSlotsAreGivenBack) {
  auto answerer = Answerer(2);
  auto first = std::async(std::launch::async, [&] { return answerer->Answer(Question("a")); });
  auto second = std::async(std::launch::async, [&] { return answerer->Answer(Question("b")); });
  ASSERT_TRUE(model_.Started(2));
  EXPECT_EQ(answerer->in_flight(), 2);

  // Asked on another thread so that a bulkhead that waited fails the test instead of hanging.
  auto third = std::async(std::launch::async, [&] { return answerer->Answer(Question("c")); });
  ASSERT_EQ(third.wait_for(2s), std::future_status::ready) << "the third question waited";
  Result<LlmAnswer> refused = third.get();
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(refused.error().message,
            "the language model is at capacity (2 requests in flight); try again shortly");
  EXPECT_THAT(refused.error().details,
              ElementsAre(Pair(std::string(kRetryAfterDetail), ElementsAre("1"))));
  EXPECT_EQ(model_.calls(), 2) << "the refused question reached the model";
  // A full bulkhead says nothing about the provider: the breaker (threshold 1) stays closed.
  EXPECT_EQ(breaker_->state(), resilience::BreakerState::kClosed);

  model_.Release();
  for (auto* answer : {&first, &second}) {
    Result<LlmAnswer> done = answer->get();
    ASSERT_TRUE(done.has_value()) << done.error().message;
    EXPECT_EQ(done->result.rows.size(), 1u);
  }
  EXPECT_EQ(answerer->in_flight(), 0);
  Result<LlmAnswer> later = answerer->Answer(Question("d"));
  ASSERT_TRUE(later.has_value()) << later.error().message;
  EXPECT_EQ(answerer->in_flight(), 0);
  EXPECT_EQ(model_.calls(), 3);
}

TEST_F(LlmBulkheadTest, AFailedQuestionGivesItsSlotBack) {
  model_.Release();
  auto answerer = Answerer(1);
  breaker_->Allow();
  breaker_->RecordFailure();  // open: Answer() fails inside the bulkhead
  ASSERT_EQ(breaker_->state(), resilience::BreakerState::kOpen);
  Result<LlmAnswer> failed = answerer->Answer(Question("a"));
  ASSERT_FALSE(failed.has_value());
  EXPECT_THAT(failed.error().message, HasSubstr("temporarily unavailable"));
  EXPECT_EQ(answerer->in_flight(), 0);
  breaker_->Reset();
  EXPECT_TRUE(answerer->Answer(Question("b")).has_value()) << "the slot was not given back";
}

// How the pipeline passes the refusal on: the HTTP server answers kUnavailable with 503, and
// with Retry-After when the retry hint is still there.
TEST_F(LlmBulkheadTest, ThePipelineAnswersARefusedQuestionUnavailable) {
  auto answerer = Answerer(1);
  auto held = std::async(std::launch::async, [&] { return answerer->Answer(Question("held")); });
  ASSERT_TRUE(model_.Started(1));

  DemoEnvironment& env = DemoEnvironment::Get();
  conversation::MemorySessionStore store(env.clock(), conversation::MemoryStoreOptions{});
  for (Mode mode : {Mode::kLlm, Mode::kAuto}) {
    PipelineOptions options;
    options.mode = mode;
    Pipeline pipeline(env.source(), env.engine(), store, env.clock(), options, answerer.get());
    AskRequest request;
    request.tenant_id = "default";
    request.question = "purple monkey dishwasher";  // nothing the engine is sure of
    auto answer = pipeline.Ask(request);
    ASSERT_FALSE(answer.has_value());
    EXPECT_EQ(answer.error().code, ErrorCode::kUnavailable);
    EXPECT_THAT(answer.error().message, HasSubstr("at capacity (1 requests in flight)"));
    if (mode == Mode::kLlm) {
      EXPECT_THAT(answer.error().details,
                  ElementsAre(Pair(std::string(kRetryAfterDetail), ElementsAre("1"))));
    }
  }
  EXPECT_EQ(model_.calls(), 1);
  model_.Release();
  EXPECT_TRUE(held.get().has_value());
}

}  // namespace
}  // namespace helios::nl2sql
