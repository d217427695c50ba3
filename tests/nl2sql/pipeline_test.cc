#include "nl2sql/pipeline.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "cache/embedder.h"
#include "cache/semantic_cache.h"
#include "common/clock.h"
#include "conversation/session_store.h"
#include "db/demo_data.h"
#include "db/open.h"
#include "nl2sql/answer_cache.h"
#include "nl2sql/demo_environment.h"
#include "nl2sql/engine/engine.h"
#include "nl2sql/engine/schema_index.h"
#include "nl2sql/faulty_source.h"
#include "nl2sql/llm_answerer.h"
#include "resilience/circuit_breaker.h"

namespace helios::nl2sql {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DemoEnvironment& env = DemoEnvironment::Get();
    ASSERT_TRUE(env.ok()) << "demo database: " << env.error();
    source_ = &env.source();
    clock_ = &env.clock();
    dir_ = &env.dir();
    store_ = std::make_unique<conversation::MemorySessionStore>(*clock_,
                                                                conversation::MemoryStoreOptions{});
    pipeline_ = NewPipeline(*source_);
  }

  std::unique_ptr<Pipeline> NewPipeline(db::DataSource& source, PipelineOptions options = {}) {
    return std::make_unique<Pipeline>(source, DemoEnvironment::Get().engine(), *store_, *clock_,
                                      std::move(options));
  }

  static AskRequest Request(std::string question, std::string session = "",
                            std::string tenant = "default") {
    AskRequest r;
    r.question = std::move(question);
    r.session_id = std::move(session);
    r.tenant_id = std::move(tenant);
    return r;
  }

  // Asks and fails the test when the pipeline errs.
  Answer AskOk(Pipeline& p, const AskRequest& request) {
    auto answer = p.Ask(request);
    EXPECT_TRUE(answer.has_value()) << request.question << ": " << answer.error().message;
    return answer ? *answer : Answer{};
  }
  Answer AskOk(const std::string& question, const std::string& session = "") {
    return AskOk(*pipeline_, Request(question, session));
  }

  // The single value of a one-row, one-column result of sql run directly.
  db::Value Scalar(const std::string& sql) {
    auto r = source_->Execute(sql, {}, {});
    EXPECT_TRUE(r.has_value()) << sql << ": " << (r ? "" : r.error().message);
    if (!r || r->rows.size() != 1 || r->rows[0].size() != 1) return db::Value{};
    return r->rows[0][0];
  }

  db::DataSource* source_ = nullptr;
  FakeClock* clock_ = nullptr;
  const std::filesystem::path* dir_ = nullptr;
  std::unique_ptr<conversation::MemorySessionStore> store_;
  std::unique_ptr<Pipeline> pipeline_;
};

TEST_F(PipelineTest, NewSessionIdIsGeneratedAndReturned) {
  Answer a = AskOk("How many customers are there?");
  Answer b = AskOk("How many customers are there?");
  const std::regex kUuid("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  EXPECT_TRUE(std::regex_match(a.session_id, kUuid)) << a.session_id;
  EXPECT_NE(a.session_id, b.session_id);
  EXPECT_EQ(a.turn, 1);
  EXPECT_EQ(b.turn, 1);

  auto stored = store_->Load(conversation::Owner{"default", ""}, a.session_id);
  ASSERT_TRUE(stored.has_value());
  ASSERT_TRUE(stored->has_value());
  ASSERT_EQ((*stored)->turns.size(), 1u);
  EXPECT_EQ((*stored)->turns[0].question, "How many customers are there?");
  EXPECT_EQ((*stored)->turns[0].sql, a.sql);
  EXPECT_EQ((*stored)->turns[0].row_count, 1u);
}

TEST_F(PipelineTest, GivenSessionIdIsKeptAndTurnsGrow) {
  Answer first = AskOk("How many customers are there?", "my-session-1");
  EXPECT_EQ(first.session_id, "my-session-1");
  EXPECT_EQ(first.turn, 1);
  Answer second = AskOk("only in Germany", "my-session-1");
  EXPECT_EQ(second.session_id, "my-session-1");
  EXPECT_EQ(second.turn, 2);
  Answer third = AskOk("what about France", "my-session-1");
  EXPECT_EQ(third.turn, 3);
}

TEST_F(PipelineTest, FollowUpEditsThePreviousQuestion) {
  Answer all = AskOk("how many customers are there");
  ASSERT_EQ(all.rows.size(), 1u);
  ASSERT_EQ(all.rows[0].size(), 1u);
  EXPECT_EQ(all.rows[0][0], db::Value{int64_t{5000}});

  Answer germany = AskOk("only in Germany", all.session_id);
  EXPECT_EQ(germany.turn, 2);
  ASSERT_EQ(germany.rows.size(), 1u);
  ASSERT_EQ(germany.rows[0].size(), 1u);
  db::Value expected = Scalar("SELECT COUNT(*) FROM customers WHERE country = 'Germany'");
  ASSERT_TRUE(std::holds_alternative<int64_t>(expected));
  EXPECT_GT(std::get<int64_t>(expected), 0);
  EXPECT_LT(std::get<int64_t>(expected), 5000);
  EXPECT_EQ(germany.rows[0][0], expected);
  EXPECT_THAT(germany.sql, HasSubstr("'Germany'"));
}

TEST_F(PipelineTest, SameQuestionWithoutTheSessionIsNotAFollowUp) {
  Answer all = AskOk("how many customers are there");
  Answer germany = AskOk("only in Germany", all.session_id);
  Answer again = AskOk("how many customers are there", germany.session_id);
  EXPECT_EQ(again.turn, 3);
  ASSERT_EQ(again.rows.size(), 1u);
  EXPECT_EQ(again.rows[0][0], db::Value{int64_t{5000}});
}

TEST_F(PipelineTest, SessionsAreScopedToTheTenant) {
  Answer a1 = AskOk(*pipeline_, Request("how many customers are there", "", "tenant-a"));
  ASSERT_EQ(a1.turn, 1);

  // Tenant B presenting tenant A's session id gets a fresh session of its own.
  Answer b1 = AskOk(*pipeline_, Request("how many products do we have", a1.session_id, "tenant-b"));
  EXPECT_EQ(b1.session_id, a1.session_id);
  EXPECT_EQ(b1.turn, 1);
  ASSERT_EQ(b1.rows.size(), 1u);
  EXPECT_EQ(b1.rows[0][0], db::Value{int64_t{300}});

  // Tenant A's conversation is untouched: its follow-up still edits the customers count.
  Answer a2 = AskOk(*pipeline_, Request("only in Germany", a1.session_id, "tenant-a"));
  EXPECT_EQ(a2.turn, 2);
  ASSERT_EQ(a2.rows.size(), 1u);
  EXPECT_EQ(a2.rows[0][0], Scalar("SELECT COUNT(*) FROM customers WHERE country = 'Germany'"));

  auto b_session = store_->Load(conversation::Owner{"tenant-b", ""}, a1.session_id);
  ASSERT_TRUE(b_session.has_value());
  ASSERT_TRUE(b_session->has_value());
  EXPECT_EQ((*b_session)->turn_count, 1);
}

TEST_F(PipelineTest, UnknownDatabaseIsNotFound) {
  AskRequest r = Request("How many customers are there?");
  r.database = "warehouse";
  auto answer = pipeline_->Ask(r);
  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(answer.error().message, HasSubstr("warehouse"));
}

TEST_F(PipelineTest, DatabaseMayBeNamedOrDefault) {
  PipelineOptions options;
  options.database_name = "retail";
  auto named = NewPipeline(*source_, options);
  for (const char* name : {"retail", ""}) {
    AskRequest r = Request("How many customers are there?");
    r.database = name;
    auto answer = named->Ask(r);
    EXPECT_TRUE(answer.has_value()) << "database '" << name << "'";
  }
  // Names are exact: "default" is the name of [database]'s source, which this is not.
  for (const char* name : {"RETAIL", "default"}) {
    AskRequest r = Request("How many customers are there?");
    r.database = name;
    auto answer = named->Ask(r);
    ASSERT_FALSE(answer.has_value()) << name;
    EXPECT_EQ(answer.error().code, ErrorCode::kNotFound);
  }
}

TEST_F(PipelineTest, GibberishIsNotUnderstoodAndNamesTheTables) {
  auto answer = pipeline_->Ask(Request("purple monkey dishwasher", "gibberish-session"));
  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code, ErrorCode::kNotUnderstood);
  for (const char* table : {"customers", "orders", "products", "employees"})
    EXPECT_THAT(answer.error().message, HasSubstr(table));
  // Nothing is remembered for a question that was not answered.
  auto stored = store_->Load(conversation::Owner{"default", ""}, "gibberish-session");
  ASSERT_TRUE(stored.has_value());
  EXPECT_FALSE(stored->has_value());
}

TEST_F(PipelineTest, EmptyQuestionIsNotUnderstood) {
  auto answer = pipeline_->Ask(Request("   "));
  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code, ErrorCode::kNotUnderstood);
}

TEST_F(PipelineTest, RowCapSetsTruncatedAndRowCount) {
  PipelineOptions options;
  options.max_rows = 7;
  auto capped = NewPipeline(*source_, options);
  Answer a = AskOk(*capped, Request("Show me the product categories"));
  EXPECT_TRUE(a.truncated);
  EXPECT_EQ(a.row_count, 7u);
  EXPECT_EQ(a.rows.size(), 7u);

  // A result exactly at the cap is complete.
  options.max_rows = 12;
  auto exact = NewPipeline(*source_, options);
  Answer b = AskOk(*exact, Request("Show me the product categories"));
  EXPECT_FALSE(b.truncated);
  EXPECT_EQ(b.row_count, 12u);
  EXPECT_EQ(b.rows.size(), 12u);
}

TEST_F(PipelineTest, RowsCarryTypedValues) {
  Answer count = AskOk("How many customers are there?");
  ASSERT_EQ(count.rows.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<int64_t>(count.rows[0][0]));

  Answer revenue = AskOk("Revenue by country");
  ASSERT_FALSE(revenue.rows.empty());
  ASSERT_EQ(revenue.columns.size(), revenue.rows[0].size());
  bool saw_text = false, saw_double = false;
  for (const auto& cell : revenue.rows[0]) {
    saw_text |= std::holds_alternative<std::string>(cell);
    saw_double |= std::holds_alternative<double>(cell);
  }
  EXPECT_TRUE(saw_text) << revenue.sql;
  EXPECT_TRUE(saw_double) << revenue.sql;

  Answer total = AskOk("What is the total revenue?");
  ASSERT_EQ(total.rows.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<double>(total.rows[0][0]));
  db::Value direct = Scalar("SELECT SUM(total_amount) FROM orders");
  ASSERT_TRUE(std::holds_alternative<double>(direct));
  EXPECT_NEAR(std::get<double>(total.rows[0][0]), std::get<double>(direct), 1e-6);
}

TEST_F(PipelineTest, ShownSqlHasLiteralsInlineAndRunsToTheSameRows) {
  Answer a = AskOk("number of customers in Germany");
  EXPECT_THAT(a.sql, HasSubstr("'Germany'"));
  EXPECT_THAT(a.sql, Not(HasSubstr("?")));
  EXPECT_THAT(a.sql, Not(HasSubstr("$1")));
  auto direct = source_->Execute(a.sql, {}, {});
  ASSERT_TRUE(direct.has_value()) << direct.error().message;
  EXPECT_EQ(direct->columns, a.columns);
  EXPECT_EQ(direct->rows, a.rows);
}

TEST_F(PipelineTest, AnswerMetadata) {
  Answer a = AskOk("How many customers are in Germany?");
  EXPECT_GT(a.confidence, 0.0);
  EXPECT_LE(a.confidence, 1.0);
  EXPECT_EQ(a.source, "engine");
  EXPECT_FALSE(a.cache_hit);
  EXPECT_EQ(a.latency_ms, 0.0);  // measured with the injected clock, which stands still
  EXPECT_FALSE(a.explanation.empty());
  EXPECT_THAT(a.explanation, HasSubstr("customers"));
  EXPECT_EQ(a.row_count, a.rows.size());
  EXPECT_FALSE(a.truncated);
}

TEST_F(PipelineTest, LatencyIsMeasuredWithTheInjectedClock) {
  FaultySource slow(*source_);
  slow.clock = clock_;
  slow.execute_time = 250ms;
  auto p = NewPipeline(slow);
  Answer a = AskOk(*p, Request("How many customers are there?"));
  EXPECT_DOUBLE_EQ(a.latency_ms, 250.0);
  // All of it the database's: the rest of the pipeline took no time on this clock.
  EXPECT_DOUBLE_EQ(a.database_ms, 250.0);
}

TEST_F(PipelineTest, AnswersBelowTheConfidenceThresholdAreDeclined) {
  PipelineOptions options;
  options.confidence_threshold = 1.01;  // nothing is that sure
  auto strict = NewPipeline(*source_, options);
  auto answer = strict->Ask(Request("How many customers are there?", "strict-session"));
  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code, ErrorCode::kNotUnderstood);
  EXPECT_THAT(answer.error().message, HasSubstr("confidence"));
  auto stored = store_->Load(conversation::Owner{"default", ""}, "strict-session");
  ASSERT_TRUE(stored.has_value());
  EXPECT_FALSE(stored->has_value());
}

TEST_F(PipelineTest, AConversationPastTheContextLimitIsRefused) {
  PipelineOptions options;
  options.max_context_bytes = 200;
  auto small = NewPipeline(*source_, options);
  Answer first = AskOk(*small, Request("How many customers are there?", "ctx-session"));
  EXPECT_EQ(first.turn, 1);
  // The first turn's question and SQL, plus this one, still fit.
  Answer second = AskOk(*small, Request("only in Germany", "ctx-session"));
  EXPECT_EQ(second.turn, 2);
  // The context keeps growing with each turn until the limit is hit.
  Result<Answer> refused;
  for (int i = 0; i < 10; ++i) {
    refused = small->Ask(Request("what about France", "ctx-session"));
    if (!refused) break;
  }
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kPayloadTooLarge);
  EXPECT_THAT(refused.error().message, HasSubstr("start a new session"));
  // A question alone over the limit is refused too, even in a new session.
  auto alone = small->Ask(Request(std::string(250, 'a') + " how many customers are there"));
  ASSERT_FALSE(alone.has_value());
  EXPECT_EQ(alone.error().code, ErrorCode::kPayloadTooLarge);
  // A new session starts afresh.
  EXPECT_EQ(AskOk(*small, Request("How many customers are there?")).turn, 1);
}

TEST_F(PipelineTest, DatabaseCallsAreTimed) {
  observability::MetricsRegistry registry;
  observability::ServiceMetrics metrics(registry);
  PipelineOptions options;
  options.db_query_duration = &metrics.db_query_duration_seconds;
  auto timed = NewPipeline(*source_, options);
  AskOk(*timed, Request("How many customers are there?"));
  AskOk(*timed, Request("How many products are there?"));
  EXPECT_EQ(metrics.db_query_duration_seconds.Count({"default"}), 2u);
  // A declined question never reaches the database.
  EXPECT_FALSE(timed->Ask(Request("purple monkey dishwasher")).has_value());
  EXPECT_EQ(metrics.db_query_duration_seconds.Count({"default"}), 2u);
}

TEST_F(PipelineTest, ASessionStoreThatCannotKeepTheTurnMakesTheAnswerUnavailable) {
  conversation::MemorySessionStore none(*clock_, {.timeout = 30min, .max_sessions = 0});
  Pipeline p(*source_, DemoEnvironment::Get().engine(), none, *clock_, {});
  auto answer = p.Ask(Request("How many customers are there?"));
  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(IsRetryable(answer.error().code));
}

TEST_F(PipelineTest, ChartFitsTheShapeOfTheAnswer) {
  Answer count = AskOk("How many customers are there?");
  EXPECT_EQ(count.chart.type, "number");
  EXPECT_EQ(count.chart.y.size(), 1u);

  Answer monthly = AskOk("revenue per month in 2024");
  EXPECT_EQ(monthly.chart.type, "line") << monthly.sql;
  EXPECT_EQ(monthly.row_count, 12u);
  EXPECT_FALSE(monthly.chart.x.empty());
  EXPECT_EQ(monthly.chart.y.size(), 1u);

  Answer by_country = AskOk("customers per country");
  EXPECT_EQ(by_country.chart.type, "bar") << by_country.sql;
  EXPECT_GT(by_country.row_count, 6u);
  ASSERT_EQ(by_country.chart.y.size(), 1u);
  EXPECT_NE(by_country.chart.x, by_country.chart.y[0]);

  Answer by_segment = AskOk("How many customers are there in each segment?");
  // A few categories are bars too (there is no pie: bars compare better).
  EXPECT_EQ(by_segment.chart.type, "bar") << by_segment.sql;
  EXPECT_LE(by_segment.row_count, 6u);

  Answer listing = AskOk("List all regions");
  EXPECT_EQ(listing.chart.type, "table");
}

TEST_F(PipelineTest, HealthReportsTheDatabase) {
  HealthReport h = pipeline_->Health();
  EXPECT_TRUE(h.ok);
  ASSERT_EQ(h.dependencies.size(), 1u);
  EXPECT_EQ(h.dependencies[0].name, "database");
  EXPECT_TRUE(h.dependencies[0].ok);
  EXPECT_THAT(h.dependencies[0].detail, HasSubstr("demo.db"));
  EXPECT_THAT(h.dependencies[0].detail, Not(HasSubstr(dir_->string())));
}

TEST_F(PipelineTest, HealthIsDegradedWhenTheDatabaseIsDown) {
  FaultySource faulty(*source_);
  faulty.ping_error = Error(ErrorCode::kUnavailable, "database is down");
  auto p = NewPipeline(faulty);
  HealthReport h = p->Health();
  EXPECT_FALSE(h.ok);
  ASSERT_EQ(h.dependencies.size(), 1u);
  EXPECT_FALSE(h.dependencies[0].ok);
  EXPECT_EQ(h.dependencies[0].detail, "database is down");
}

class PipelineFaultTest : public PipelineTest, public ::testing::WithParamInterface<ErrorCode> {};

TEST_P(PipelineFaultTest, DatabaseFailureIsReturnedAndNoTurnIsRemembered) {
  Answer first = AskOk("how many customers are there", "faulty-session");
  ASSERT_EQ(first.turn, 1);

  FaultySource faulty(*source_);
  faulty.execute_error = Error(GetParam(), "the database did not answer");
  auto p = NewPipeline(faulty);
  auto failed = p->Ask(Request("only in Germany", "faulty-session"));
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code, GetParam());
  EXPECT_EQ(failed.error().message, "the database did not answer");
  EXPECT_EQ(faulty.executes, 1);

  auto stored = store_->Load(conversation::Owner{"default", ""}, "faulty-session");
  ASSERT_TRUE(stored.has_value());
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*stored)->turn_count, 1);
  EXPECT_EQ((*stored)->turns.size(), 1u);

  // A new session that fails is not created at all.
  auto fresh = p->Ask(Request("how many customers are there", "never-created"));
  ASSERT_FALSE(fresh.has_value());
  auto none = store_->Load(conversation::Owner{"default", ""}, "never-created");
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());

  // Once the database answers again, the conversation continues where it was.
  faulty.execute_error.reset();
  auto recovered = p->Ask(Request("only in Germany", "faulty-session"));
  ASSERT_TRUE(recovered.has_value()) << recovered.error().message;
  EXPECT_EQ(recovered->turn, 2);
}

INSTANTIATE_TEST_SUITE_P(RetryableFailures, PipelineFaultTest,
                         ::testing::Values(ErrorCode::kUnavailable, ErrorCode::kDeadlineExceeded,
                                           ErrorCode::kDatabaseError),
                         [](const ::testing::TestParamInfo<ErrorCode>& info) {
                           return std::string(ErrorCodeName(info.param));
                         });

TEST_F(PipelineTest, AnAnswerMarkedCorrectBecomesTheTenantsExample) {
  examples::ExampleStore store(*clock_);
  PipelineOptions options;
  options.examples = &store;
  options.learned_examples_path = (*dir_ / "learned.jsonl").string();
  auto pipeline = NewPipeline(*source_, options);
  Answer a = AskOk(*pipeline, Request("How many customers are in Germany?", "", "tenant-a"));
  ASSERT_TRUE(pipeline->MarkCorrect(Caller{"tenant-a", ""}, a.session_id, 1).has_value());
  auto similar = store.Similar("customers in Germany", "default", "tenant-a", 3);
  ASSERT_FALSE(similar.empty());
  EXPECT_EQ(similar[0].example.sql, a.sql);
  EXPECT_TRUE(store.Similar("customers in Germany", "default", "tenant-b", 3).empty());
  // Another tenant cannot mark it; a turn not kept is not found.
  EXPECT_EQ(pipeline->MarkCorrect(Caller{"tenant-b", ""}, a.session_id, 1).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(pipeline->MarkCorrect(Caller{"tenant-a", ""}, a.session_id, 2).error().code,
            ErrorCode::kNotFound);
  // The learned examples survive a restart.
  examples::ExampleStore reloaded(*clock_);
  ASSERT_TRUE(reloaded.Load(options.learned_examples_path).has_value());
  EXPECT_EQ(reloaded.Size(), 1u);
  // Without a store, feedback is refused.
  EXPECT_EQ(pipeline_->MarkCorrect(Caller{"default", ""}, a.session_id, 1).error().code,
            ErrorCode::kNotFound);
}

// --- The language model's path ---------------------------------------------------------------

// A model whose answers a test scripts in order; it records the prompts it was sent.
class ScriptedModel final : public llm::LlmProvider {
 public:
  explicit ScriptedModel(std::vector<Result<llm::Completion>> script)
      : script_(std::move(script)) {}
  std::string_view name() const override { return "scripted"; }
  Result<llm::Completion> Complete(const llm::CompletionRequest& request) override {
    requests_.push_back(request);
    if (script_.empty()) return Fail(ErrorCode::kUnavailable, "the script ran out");
    Result<llm::Completion> next = script_.front();
    if (script_.size() > 1 || !repeat_last_) script_.erase(script_.begin());
    return next;
  }
  void RepeatLast() { repeat_last_ = true; }
  const std::vector<llm::CompletionRequest>& requests() const { return requests_; }

 private:
  std::vector<Result<llm::Completion>> script_;
  std::vector<llm::CompletionRequest> requests_;
  bool repeat_last_ = false;
};

Result<llm::Completion> Says(std::string text) {
  llm::Completion c;
  c.text = std::move(text);
  return c;
}

// The prompt of a round: the question, and for a correction the failed SQL and the error.
std::vector<llm::Message> EchoPrompt(const PromptRequest& r) {
  std::string user = "question: " + r.question;
  if (!r.failed_sql.empty()) user += "\nfailed: " + r.failed_sql + "\nerror: " + r.error;
  for (const PriorTurn& t : r.turns) user += "\nearlier: " + t.question + " -> " + t.sql;
  return {{llm::Role::kSystem, "rules"}, {llm::Role::kUser, user}};
}

class LlmPipelineTest : public PipelineTest {
 protected:
  // `source` (when given) in place of the demo database, for the answerer and the pipeline.
  std::unique_ptr<Pipeline> WithModel(ScriptedModel& model, Mode mode = Mode::kAuto,
                                      AnswerCache* cache = nullptr,
                                      db::DataSource* source = nullptr) {
    db::DataSource& db = source != nullptr ? *source : *source_;
    breaker_ = std::make_unique<resilience::CircuitBreaker>(
        "nl2sql", *clock_,
        resilience::BreakerOptions{true, 3, std::chrono::milliseconds(60'000), 1});
    LlmAnswererOptions llm_options;
    llm_options.max_rounds = 3;
    answerer_ =
        std::make_unique<LlmAnswerer>(model, db, *breaker_, EchoPrompt, *clock_, llm_options);
    PipelineOptions options;
    options.mode = mode;
    options.cache = cache;
    return std::make_unique<Pipeline>(db, DemoEnvironment::Get().engine(), *store_, *clock_,
                                      options, answerer_.get());
  }

  std::unique_ptr<resilience::CircuitBreaker> breaker_;
  std::unique_ptr<LlmAnswerer> answerer_;
};

TEST_F(LlmPipelineTest, AConfidentEngineAnswersWithoutTheModel) {
  ScriptedModel model({});
  auto pipeline = WithModel(model);
  Answer a = AskOk(*pipeline, Request("How many customers are there?"));
  EXPECT_EQ(a.source, "engine");
  EXPECT_TRUE(model.requests().empty());
}

TEST_F(LlmPipelineTest, TheModelAnswersWhatTheEngineCannot) {
  ScriptedModel model(
      {Says(R"({"sql": "SELECT COUNT(*) AS n FROM customers WHERE country = 'Germany'",
                                "explanation": "Counts German customers."})")});
  auto pipeline = WithModel(model);
  Answer a = AskOk(*pipeline, Request("purple monkey dishwasher"));
  EXPECT_EQ(a.source, "llm");
  EXPECT_EQ(a.correction_rounds, 0);
  EXPECT_TRUE(std::isnan(a.confidence));
  EXPECT_EQ(a.explanation, "Counts German customers.");
  ASSERT_EQ(a.rows.size(), 1u);
  EXPECT_EQ(a.rows[0][0], Scalar("SELECT COUNT(*) FROM customers WHERE country = 'Germany'"));
  EXPECT_EQ(a.chart.type, "number");
  ASSERT_EQ(model.requests().size(), 1u);
  EXPECT_TRUE(model.requests()[0].json_object);
}

TEST_F(LlmPipelineTest, AWrongColumnIsCorrectedInOneRound) {
  ScriptedModel model({
      Says(
          R"({"sql": "SELECT nation, COUNT(*) FROM customers GROUP BY nation", "explanation": "x"})"),
      Says("Sorry, here it is:\n```sql\nSELECT country, COUNT(*) AS customers FROM customers "
           "GROUP BY country ORDER BY country\n```"),
  });
  auto pipeline = WithModel(model);
  Answer a = AskOk(*pipeline, Request("purple monkey dishwasher"));
  EXPECT_EQ(a.source, "llm");
  EXPECT_EQ(a.correction_rounds, 1);
  EXPECT_EQ(a.rows.size(), 18u);  // the demo database's countries
  EXPECT_EQ(a.chart.type, "bar");
  ASSERT_EQ(model.requests().size(), 2u);
  // The second round showed the model its SQL and the database's complaint.
  const std::string& second = model.requests()[1].messages.back().content;
  EXPECT_THAT(second, HasSubstr("failed: SELECT nation"));
  EXPECT_THAT(second, HasSubstr("nation"));
  EXPECT_THAT(second, HasSubstr("error: "));
}

TEST_F(LlmPipelineTest, AModelsAnswerIsReUsedWithTheNewValuesWithoutAskingAgain) {
  const std::string sql =
      "SELECT COUNT(*) AS customers FROM (SELECT customer_id FROM orders GROUP BY customer_id "
      "HAVING COUNT(*) > 3) AS frequent";
  ScriptedModel model(
      {Says(nlohmann::json({{"sql", sql}, {"explanation", "Frequent buyers."}}).dump())});
  cache::MemoryCacheStore store(*clock_, cache::StoreOptions{});
  cache::HashingEmbedder embedder;
  AnswerCache cache(store, embedder, *clock_, 0.85);
  auto pipeline = WithModel(model, Mode::kAuto, &cache);

  Answer first = AskOk(*pipeline, Request("purple monkey dishwashers with more than 3 bananas"));
  EXPECT_EQ(first.source, "llm");
  EXPECT_FALSE(first.cache_hit);
  EXPECT_TRUE(first.cache_lookup);

  Answer second = AskOk(*pipeline, Request("purple monkey dishwashers with more than 9 bananas"));
  EXPECT_EQ(model.requests().size(), 1u);  // the model was not asked again
  EXPECT_TRUE(second.cache_hit);
  EXPECT_EQ(second.source, "cache");
  EXPECT_EQ(second.cached_question, "purple monkey dishwashers with more than 3 bananas");
  EXPECT_THAT(second.sql, HasSubstr("> 9"));
  EXPECT_THAT(second.sql, Not(HasSubstr("> 3")));
  EXPECT_THAT(second.explanation, HasSubstr("9 (instead of 3)"));
  std::string expected_sql = sql;
  expected_sql.replace(expected_sql.find("> 3"), 3, "> 9");
  auto expected = source_->Execute(expected_sql, {}, {});
  ASSERT_TRUE(expected.has_value());
  EXPECT_EQ(second.rows, expected->rows);
  EXPECT_NE(second.rows, first.rows);

  // Another word is another question: the model is asked.
  auto third = pipeline->Ask(Request("purple monkey toasters with more than 9 bananas"));
  EXPECT_EQ(model.requests().size(), 2u);
  if (third) {
    EXPECT_FALSE(third->cache_hit);
  }
}

// The database parses a model's SQL once per round: Execute checks it before running it (the
// test above shows a write refused that way), so the answerer and a cache hit on a model's
// answer do not call Check first, which would parse it a second time (for MySQL, a round trip).
TEST_F(LlmPipelineTest, AModelsSqlIsCheckedByExecuteAloneInEachRoundAndOnACacheHit) {
  ScriptedModel model({
      Says(R"({"sql": "SELECT nation FROM customers", "explanation": "x"})"),
      Says(R"({"sql": "SELECT COUNT(*) FROM customers WHERE country = 'Germany'",
               "explanation": "German customers."})"),
  });
  FaultySource faulty(*source_);
  cache::MemoryCacheStore store(*clock_, cache::StoreOptions{});
  cache::HashingEmbedder embedder;
  AnswerCache cache(store, embedder, *clock_, 0.85);
  auto pipeline = WithModel(model, Mode::kAuto, &cache, &faulty);

  Answer first = AskOk(*pipeline, Request("purple monkey dishwashers in Germany"));
  EXPECT_EQ(first.source, "llm");
  EXPECT_EQ(first.correction_rounds, 1);
  EXPECT_EQ(faulty.executes, 2);  // the failing round and the one that ran
  EXPECT_EQ(faulty.checks, 0);

  Answer second = AskOk(*pipeline, Request("purple monkey dishwashers in France"));
  EXPECT_TRUE(second.cache_hit);
  EXPECT_THAT(second.sql, HasSubstr("'France'"));
  EXPECT_EQ(model.requests().size(), 2u);
  EXPECT_EQ(faulty.executes, 3);
  EXPECT_EQ(faulty.checks, 0);
}

TEST_F(LlmPipelineTest, WritesAreNeverRunEvenWhenTheModelInsists) {
  ScriptedModel model({Says(R"({"sql": "DELETE FROM customers", "explanation": "cleanup"})")});
  model.RepeatLast();
  auto pipeline = WithModel(model);
  auto answer = pipeline->Ask(Request("purple monkey dishwasher"));
  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code, ErrorCode::kNotUnderstood);
  EXPECT_THAT(answer.error().message, HasSubstr("after 3 attempts"));
  EXPECT_EQ(model.requests().size(), 3u);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM customers"), db::Value{int64_t{5000}});
}

TEST_F(LlmPipelineTest, ADeclineEndsInA422WithTheModelsReason) {
  ScriptedModel model({Says(R"({"sql": "", "explanation": "There is no weather data."})")});
  auto pipeline = WithModel(model);
  auto answer = pipeline->Ask(Request("purple monkey dishwasher"));
  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code, ErrorCode::kNotUnderstood);
  EXPECT_THAT(answer.error().message, HasSubstr("There is no weather data."));
  EXPECT_EQ(model.requests().size(), 1u);
}

TEST_F(LlmPipelineTest, AFailingModelOpensTheBreakerWhichHalfOpensAndCloses) {
  ScriptedModel model({Fail(ErrorCode::kUnavailable, "HTTP 500 from the provider")});
  model.RepeatLast();
  auto pipeline = WithModel(model);
  for (int i = 0; i < 3; ++i) {
    auto answer = pipeline->Ask(Request("purple monkey dishwasher"));
    ASSERT_FALSE(answer.has_value());
    EXPECT_EQ(answer.error().code, ErrorCode::kUnavailable);
  }
  EXPECT_EQ(breaker_->state(), resilience::BreakerState::kOpen);
  // Open: refused at once, without calling the model, and the engine still answers.
  auto refused = pipeline->Ask(Request("purple monkey dishwasher"));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_THAT(refused.error().message, HasSubstr("built-in engine"));
  EXPECT_EQ(model.requests().size(), 3u);
  EXPECT_EQ(AskOk(*pipeline, Request("How many customers are there?")).source, "engine");

  // After the timeout one trial call goes through; it fails, so the breaker opens again.
  clock_->Advance(std::chrono::seconds(60));
  EXPECT_EQ(breaker_->state(), resilience::BreakerState::kHalfOpen);
  EXPECT_FALSE(pipeline->Ask(Request("purple monkey dishwasher")).has_value());
  EXPECT_EQ(model.requests().size(), 4u);
  EXPECT_EQ(breaker_->state(), resilience::BreakerState::kOpen);

  // The model recovers: the next trial succeeds and closes the breaker.
  clock_->Advance(std::chrono::seconds(60));
  ScriptedModel healthy({Says(R"({"sql": "SELECT COUNT(*) FROM products", "explanation": ""})")});
  LlmAnswerer recovered(healthy, *source_, *breaker_, EchoPrompt, *clock_, {});
  Pipeline again(*source_, DemoEnvironment::Get().engine(), *store_, *clock_, {}, &recovered);
  Answer a = AskOk(again, Request("purple monkey dishwasher"));
  EXPECT_EQ(a.source, "llm");
  EXPECT_EQ(breaker_->state(), resilience::BreakerState::kClosed);
}

TEST_F(LlmPipelineTest, EngineModeNeverCallsTheModelAndLlmModeAlwaysDoes) {
  ScriptedModel model({Says(R"({"sql": "SELECT COUNT(*) FROM customers", "explanation": ""})")});
  auto engine_only = WithModel(model, Mode::kEngine);
  EXPECT_EQ(engine_only->Ask(Request("purple monkey dishwasher")).error().code,
            ErrorCode::kNotUnderstood);
  EXPECT_TRUE(model.requests().empty());
  auto llm_only = WithModel(model, Mode::kLlm);
  EXPECT_EQ(AskOk(*llm_only, Request("How many customers are there?")).source, "llm");
  EXPECT_EQ(model.requests().size(), 1u);
}

TEST_F(LlmPipelineTest, AFollowUpAfterAModelsAnswerSeesTheEarlierTurn) {
  ScriptedModel model({
      Says(R"({"sql": "SELECT COUNT(*) FROM customers", "explanation": ""})"),
      Says(
          R"({"sql": "SELECT COUNT(*) FROM customers WHERE country = 'France'", "explanation": ""})"),
  });
  auto pipeline = WithModel(model, Mode::kLlm);
  Answer first = AskOk(*pipeline, Request("how many clients do we have"));
  Answer second = AskOk(*pipeline, Request("only in France", first.session_id));
  EXPECT_EQ(second.turn, 2);
  ASSERT_EQ(model.requests().size(), 2u);
  EXPECT_THAT(model.requests()[1].messages.back().content,
              HasSubstr("earlier: how many clients do we have -> SELECT COUNT(*) FROM customers"));
  // The engine does not try to edit an answer it did not write.
  auto stored = store_->Load(conversation::Owner{"default", ""}, first.session_id);
  ASSERT_TRUE(stored.has_value() && stored->has_value());
  EXPECT_FALSE((*stored)->turns[0].has_query);
}

TEST_F(LlmPipelineTest, AnAnswerCutOffAtTheTokenLimitIsNeverRun) {
  llm::Completion cut;
  cut.text = R"({"sql": "SELECT COUNT(*) FROM customers", "explanation": "")";
  cut.truncated = true;
  ScriptedModel model({cut});
  auto pipeline = WithModel(model);
  auto answer = pipeline->Ask(Request("purple monkey dishwasher"));
  ASSERT_FALSE(answer.has_value());
  EXPECT_EQ(answer.error().code, ErrorCode::kNotUnderstood);
  EXPECT_THAT(answer.error().message, HasSubstr("max_tokens"));
}

}  // namespace
}  // namespace helios::nl2sql
