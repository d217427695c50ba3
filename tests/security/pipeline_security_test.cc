// The security options of nl2sql::Pipeline: screening questions (on by default, refusing with
// kUnsafeSql before anything else runs) and stripping comments from the SQL shown in answers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "common/clock.h"
#include "conversation/session_store.h"
#include "nl2sql/pipeline.h"
#include "security/test_data.h"

namespace helios::nl2sql {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

class PipelineSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(demo_.ok());
    env_ = security::testdata::OpenDemoEngine(demo_.db(), clock_);
    ASSERT_TRUE(env_.error.empty()) << env_.error;
  }

  std::unique_ptr<Pipeline> NewPipeline(PipelineOptions options = {}) {
    return std::make_unique<Pipeline>(*env_.source, env_.engine, sessions_, clock_, options);
  }

  static AskRequest Request(std::string question) {
    AskRequest r;
    r.question = std::move(question);
    return r;
  }

  security::testdata::DemoCopy demo_{"pipeline"};
  FakeClock clock_{std::chrono::sys_days{std::chrono::year{2025} / 12 / 15} + 12h};
  conversation::MemorySessionStore sessions_{clock_, conversation::MemoryStoreOptions{}};
  security::testdata::DemoEngine env_;
};

TEST_F(PipelineSecurityTest, OptionsDefaultToOn) {
  const PipelineOptions options;
  EXPECT_TRUE(options.screen_questions);
  EXPECT_TRUE(options.strip_sql_comments);
}

TEST_F(PipelineSecurityTest, FlaggedQuestionIsRefusedWithTheReason) {
  auto pipeline = NewPipeline();
  auto answer = pipeline->Ask(Request("How many customers are there?; DROP TABLE customers"));
  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code, ErrorCode::kUnsafeSql);
  EXPECT_EQ(answer.error().message,
            "The question looks like it contains SQL (a stacked statement: '; DROP TABLE'); ask "
            "in plain words.");
}

TEST_F(PipelineSecurityTest, ScreeningComesBeforeEverythingElse) {
  auto pipeline = NewPipeline();
  AskRequest request = Request("x' OR '1'='1");
  request.database = "no-such-database";
  request.session_id = "never-created";
  auto answer = pipeline->Ask(request);
  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code, ErrorCode::kUnsafeSql);
  // Nothing was remembered for the session.
  auto session = sessions_.Load(conversation::Owner{"default", ""}, "never-created");
  ASSERT_TRUE(session.has_value());
  EXPECT_FALSE(session->has_value());
}

TEST_F(PipelineSecurityTest, ScreeningCanBeTurnedOff) {
  PipelineOptions options;
  options.screen_questions = false;
  auto pipeline = NewPipeline(options);
  auto answer = pipeline->Ask(Request("How many customers are there?; DROP TABLE customers"));
  if (!answer) {
    EXPECT_THAT(answer.error().message, ::testing::Not(HasSubstr("looks like it contains SQL")));
    EXPECT_NE(answer.error().code, ErrorCode::kInternal);
  }
  auto count = env_.source->Execute("SELECT count(*) FROM customers", {}, {});
  ASSERT_TRUE(count.has_value()) << count.error().message;
}

TEST_F(PipelineSecurityTest, OrdinaryQuestionsStillWork) {
  auto pipeline = NewPipeline();
  for (const char* q : {"How many customers are there?", "List all regions",
                        "What's the total revenue?", "customers in Germany or France"}) {
    auto answer = pipeline->Ask(Request(q));
    EXPECT_TRUE(answer.has_value()) << q << ": " << answer.error().message;
  }
}

// The SQL shown in answers goes through StripSqlComments; comment markers inside literals (here
// a value the engine turned into a LIKE pattern) must survive it.
TEST_F(PipelineSecurityTest, StrippingKeepsCommentMarkersInsideLiterals) {
  PipelineOptions options;
  options.screen_questions = false;
  const std::string question = "Revenue by region.'; DROP TABLE regions; --'";
  auto stripped = NewPipeline(options)->Ask(Request(question));
  options.strip_sql_comments = false;
  auto raw = NewPipeline(options)->Ask(Request(question));
  ASSERT_TRUE(stripped.has_value()) << stripped.error().message;
  ASSERT_TRUE(raw.has_value()) << raw.error().message;
  EXPECT_THAT(raw->sql, HasSubstr("--"));
  EXPECT_EQ(stripped->sql, raw->sql);
  EXPECT_TRUE(env_.source->Check(stripped->sql).has_value());
}

}  // namespace
}  // namespace helios::nl2sql
