#include "nl2sql/suggestions.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cache/embedder.h"
#include "cache/semantic_cache.h"
#include "conversation/session_store.h"
#include "llm/provider.h"
#include "nl2sql/answer_cache.h"
#include "nl2sql/demo_environment.h"
#include "nl2sql/llm_answerer.h"
#include "nl2sql/pipeline.h"
#include "resilience/circuit_breaker.h"
#include "sql/render.h"

namespace helios::nl2sql {
namespace {

bool Contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

bool AnyStartsWith(const std::vector<std::string>& list, const std::string& prefix) {
  return std::any_of(list.begin(), list.end(),
                     [&](const std::string& s) { return s.starts_with(prefix); });
}

// Suggestions on the demo database, each checked by asking it through the real pipeline.
class SuggestionsTest : public DemoPipelineTest {
 protected:
  static Result<Answer> Ask(Pipeline& pipeline, const std::string& question,
                            const std::string& session = "") {
    AskRequest request;
    request.question = question;
    request.session_id = session;
    return pipeline.Ask(request);
  }

  // Asks the opening question in a new conversation, then `suggestion` as its next turn: every
  // suggestion is checked right after the answer it was made for.
  void ExpectAnsweredAsNextTurn(const std::string& opening, const std::string& suggestion) {
    SCOPED_TRACE("\"" + opening + "\" then \"" + suggestion + "\"");
    auto first = Ask(*pipeline_, opening);
    ASSERT_TRUE(first.has_value()) << first.error().message;
    auto next = Ask(*pipeline_, suggestion, first->session_id);
    ASSERT_TRUE(next.has_value()) << next.error().message;
    EXPECT_EQ(next->source, "engine");
    EXPECT_EQ(next->turn, 2);
    EXPECT_NE(next->sql, first->sql);
  }

  // The engine's query for a question opening a conversation, and its rows.
  struct Answered {
    sql::Query query;
    std::vector<db::Row> rows;
  };
  static Answered Run(const std::string& question) {
    DemoEnvironment& env = DemoEnvironment::Get();
    auto understood = env.engine()->Understand(question, nullptr);
    EXPECT_TRUE(understood.has_value()) << question;
    if (!understood) return {};
    sql::RenderedSql rendered = sql::Render(understood->query, {env.source().dialect(), false});
    auto result = env.source().Execute(rendered.text, rendered.params, {});
    EXPECT_TRUE(result.has_value()) << rendered.text;
    if (!result) return {};
    return {understood->query, result->rows};
  }
};

TEST_F(SuggestionsTest, EverySuggestionIsAnsweredByTheEngineAsTheNextTurn) {
  for (const std::string opening :
       {"How many customers are there?", "total revenue by month", "revenue by country",
        "top 10 customers by revenue", "customers in Germany", "number of orders by status",
        "10 most expensive products", "orders in 2024", "average salary by title"}) {
    SCOPED_TRACE(opening);
    auto answer = Ask(*pipeline_, opening);
    ASSERT_TRUE(answer.has_value()) << answer.error().message;
    ASSERT_EQ(answer->source, "engine");
    std::cout << opening << "\n";
    for (const std::string& s : answer->suggestions) std::cout << "    -> " << s << "\n";
    EXPECT_FALSE(answer->suggestions.empty());
    EXPECT_LE(answer->suggestions.size(), 4u);
    EXPECT_EQ(std::set<std::string>(answer->suggestions.begin(), answer->suggestions.end()).size(),
              answer->suggestions.size());
    for (const std::string& s : answer->suggestions) ExpectAnsweredAsNextTurn(opening, s);
  }
}

TEST_F(SuggestionsTest, SuggestionsFollowTheShapeOfTheAnswer) {
  DemoEnvironment& env = DemoEnvironment::Get();
  // Many groups and no limit: a shorter ranking, and the answer without its largest group
  // (whichever country the data makes the largest).
  auto by_country = Ask(*pipeline_, "revenue by country");
  ASSERT_TRUE(by_country.has_value());
  auto largest = env.source().Execute(
      "SELECT c.country FROM orders o JOIN customers c ON o.customer_id = c.customer_id "
      "GROUP BY c.country ORDER BY SUM(o.total_amount) DESC LIMIT 1",
      {}, {});
  ASSERT_TRUE(largest.has_value() && largest->rows.size() == 1);
  const std::string country = std::get<std::string>(largest->rows[0][0]);
  EXPECT_TRUE(Contains(by_country->suggestions, "top 5 instead"));
  // The pipeline also offers narrowings by stored values, which may fill the four places;
  // from the answer's rows alone, the largest group is offered for exclusion.
  Answered answered = Run("revenue by country");
  SuggestOptions rows_only;
  rows_only.rows = &answered.rows;
  EXPECT_TRUE(
      Contains(SuggestFollowUps(*env.engine(), answered.query, rows_only), "excluding " + country));

  // A monthly series: a coarser grain.
  auto monthly = Ask(*pipeline_, "total revenue by month");
  ASSERT_TRUE(monthly.has_value());
  EXPECT_TRUE(Contains(monthly->suggestions, "by year instead"));
  EXPECT_FALSE(AnyStartsWith(monthly->suggestions, "top "));  // no "top 5 months"

  // Five groups: "top 5" would cut nothing.
  auto statuses = Ask(*pipeline_, "number of orders by status");
  ASSERT_TRUE(statuses.has_value());
  ASSERT_EQ(statuses->rows.size(), 5u);
  EXPECT_FALSE(AnyStartsWith(statuses->suggestions, "top "));

  // A ranked list: another length, the other end.
  auto expensive = Ask(*pipeline_, "10 most expensive products");
  ASSERT_TRUE(expensive.has_value());
  EXPECT_TRUE(Contains(expensive->suggestions, "top 5 instead"));
  EXPECT_TRUE(Contains(expensive->suggestions, "lowest first"));

  // A calendar year: the year before.
  auto in_2024 = Ask(*pipeline_, "orders in 2024");
  ASSERT_TRUE(in_2024.has_value());
  EXPECT_TRUE(Contains(in_2024->suggestions, "in 2023 instead"));
}

TEST_F(SuggestionsTest, APlainCountOffersBreakdownsAndNarrowingsTheEngineAnswers) {
  const std::string opening = "How many customers are there?";
  auto count = Ask(*pipeline_, opening);
  ASSERT_TRUE(count.has_value());
  ASSERT_EQ(count->rows.size(), 1u);
  ASSERT_FALSE(count->suggestions.empty());
  for (const std::string& s : count->suggestions) {
    ExpectAnsweredAsNextTurn(opening, s);
    // Each breaks the one number down (more than one row) or narrows it (a filter).
    auto first = Ask(*pipeline_, opening);
    ASSERT_TRUE(first.has_value());
    auto next = Ask(*pipeline_, s, first->session_id);
    ASSERT_TRUE(next.has_value());
    EXPECT_TRUE(next->rows.size() > 1 || next->sql.find(" WHERE ") != std::string::npos)
        << s << ": " << next->sql;
  }
}

// Values of a column by how many rows hold them, as a caller with access to the database could
// supply them.
KnownValues ValuesByFrequency() {
  return [](const engine::ColumnEntry& c) {
    DemoEnvironment& env = DemoEnvironment::Get();
    const db::Dialect d = env.source().dialect();
    const std::string column = sql::QuoteIdentifier(c.column->name, d);
    auto r = env.source().Execute("SELECT " + column + " FROM " +
                                      sql::QuoteIdentifier(c.table->name, d) + " GROUP BY " +
                                      column + " ORDER BY COUNT(*) DESC, " + column,
                                  {}, {});
    std::vector<std::string> values;
    if (r)
      for (const db::Row& row : r->rows)
        if (const auto* s = std::get_if<std::string>(&row[0])) values.push_back(*s);
    return values;
  };
}

TEST_F(SuggestionsTest, StoredValuesNarrowTheAnswerOrSwapItsValue) {
  DemoEnvironment& env = DemoEnvironment::Get();
  SuggestOptions options;
  options.known_values = ValuesByFrequency();

  // A monthly series shows no category; stored values narrow it.
  Answered monthly = Run("total revenue by month");
  options.rows = &monthly.rows;
  std::vector<std::string> narrowed = SuggestFollowUps(*env.engine(), monthly.query, options);
  for (const std::string& s : narrowed) std::cout << "total revenue by month -> " << s << "\n";
  ASSERT_TRUE(AnyStartsWith(narrowed, "only ")) << "no narrowing among the suggestions";
  for (const std::string& s : narrowed) ExpectAnsweredAsNextTurn("total revenue by month", s);

  // A filtered list: the same question about another stored value.
  Answered germany = Run("customers in Germany");
  options.rows = &germany.rows;
  std::vector<std::string> swapped = SuggestFollowUps(*env.engine(), germany.query, options);
  for (const std::string& s : swapped) std::cout << "customers in Germany -> " << s << "\n";
  ASSERT_FALSE(swapped.empty());
  EXPECT_TRUE(swapped[0].starts_with("what about ")) << swapped[0];
  for (const std::string& s : swapped) ExpectAnsweredAsNextTurn("customers in Germany", s);
  auto first = Ask(*pipeline_, "customers in Germany");
  ASSERT_TRUE(first.has_value());
  auto other = Ask(*pipeline_, swapped[0], first->session_id);
  ASSERT_TRUE(other.has_value());
  const std::string value = swapped[0].substr(11, swapped[0].size() - 12);  // "what about X?"
  EXPECT_NE(other->sql.find("'" + value + "'"), std::string::npos) << other->sql;
  EXPECT_EQ(other->sql.find("'Germany'"), std::string::npos) << other->sql;
}

TEST_F(SuggestionsTest, RememberedChecksGiveTheSameSuggestionsAndAreForgottenForAnotherEngine) {
  DemoEnvironment& env = DemoEnvironment::Get();
  FollowUpChecks checks;
  for (const std::string question :
       {"revenue by country", "total revenue by month", "customers in Germany"}) {
    Answered answered = Run(question);
    SuggestOptions plain;
    plain.rows = &answered.rows;
    const std::vector<std::string> expected =
        SuggestFollowUps(*env.engine(), answered.query, plain);
    ASSERT_FALSE(expected.empty()) << question;
    SuggestOptions remembered = plain;
    remembered.checks = &checks;
    const size_t before = checks.size();
    EXPECT_EQ(SuggestFollowUps(*env.engine(), answered.query, remembered), expected) << question;
    const size_t after = checks.size();
    EXPECT_GT(after, before) << question;
    // The second time every candidate is known: the same suggestions, nothing new remembered.
    EXPECT_EQ(SuggestFollowUps(*env.engine(), answered.query, remembered), expected) << question;
    EXPECT_EQ(checks.size(), after) << question;
  }
  // Another engine (of the same schema) starts from nothing in the shards it uses.
  engine::Engine other(
      std::shared_ptr<const engine::SchemaIndex>(env.engine(), &env.engine()->index()),
      env.clock());
  EXPECT_NE(other.id(), env.engine()->id());
  Answered answered = Run("revenue by country");
  SuggestOptions remembered;
  remembered.rows = &answered.rows;
  remembered.checks = &checks;
  const size_t before = checks.size();
  EXPECT_FALSE(SuggestFollowUps(other, answered.query, remembered).empty());
  EXPECT_LT(checks.size(), before);
}

TEST_F(SuggestionsTest, RememberedListsAreServedOnlyForTheSameQueryRowsAndEngine) {
  DemoEnvironment& env = DemoEnvironment::Get();
  FollowUpChecks checks;
  Answered country = Run("revenue by country");
  Answered month = Run("total revenue by month");
  const std::string country_sql = sql::Render(country.query, {db::Dialect::kSqlite, true}).text;
  const std::string digest = RowsDigest(country.rows);
  EXPECT_FALSE(checks.FindList(*env.engine(), country_sql, country.query, digest).has_value());
  const std::vector<std::string> list = {"only in Germany", "top 5 instead"};
  checks.RememberList(*env.engine(), country_sql, country.query, digest, list);
  EXPECT_EQ(checks.lists(), 1u);
  EXPECT_EQ(checks.FindList(*env.engine(), country_sql, country.query, digest), list);
  // Other rows (one value changed), another query under the same text, another engine: not it.
  std::vector<db::Row> changed = country.rows;
  ASSERT_FALSE(changed.empty());
  changed.front().back() = db::Value{int64_t{-1}};
  EXPECT_FALSE(
      checks.FindList(*env.engine(), country_sql, country.query, RowsDigest(changed)).has_value());
  EXPECT_FALSE(checks.FindList(*env.engine(), country_sql, month.query, digest).has_value());
  engine::Engine other(
      std::shared_ptr<const engine::SchemaIndex>(env.engine(), &env.engine()->index()),
      env.clock());
  EXPECT_FALSE(checks.FindList(other, country_sql, country.query, digest).has_value());
}

TEST(RowsDigestTest, EqualOnlyForEqualRowsOfEqualTypes) {
  using db::Row;
  using db::Value;
  const std::vector<Row> base = {{Value{std::string("ab")}, Value{std::string("c")}},
                                 {Value{int64_t{1}}, Value{1.5}}};
  EXPECT_EQ(RowsDigest(base), RowsDigest(base));
  EXPECT_EQ(RowsDigest(base).size(), 32u);
  const std::vector<std::vector<Row>> others = {
      {{Value{std::string("a")}, Value{std::string("bc")}}, {Value{int64_t{1}}, Value{1.5}}},
      {{Value{std::string("ab")}, Value{std::string("c")}}, {Value{std::string("1")}, Value{1.5}}},
      {{Value{std::string("ab")}, Value{std::string("c")}}, {Value{int64_t{1}}, Value{}}},
      {{Value{std::string("ab")}, Value{std::string("c")}}, {Value{1.0}, Value{1.5}}},
      {{Value{std::string("ab")}, Value{std::string("c")}}},
      {{Value{std::string("ab")}, Value{std::string("c")}, Value{int64_t{1}}, Value{1.5}}},
      {{Value{std::string("ab")}, Value{std::string("c")}}, {Value{db::Decimal{"1"}}, Value{1.5}}},
      {},
  };
  for (const std::vector<Row>& other : others) EXPECT_NE(RowsDigest(other), RowsDigest(base));
}

TEST_F(SuggestionsTest, AValueTheEngineDoesNotKnowIsNeverOffered) {
  DemoEnvironment& env = DemoEnvironment::Get();
  SuggestOptions options;
  options.known_values = [](const engine::ColumnEntry&) {
    return std::vector<std::string>{"Atlantis", "El Dorado"};
  };
  for (const std::string question : {"total revenue by month", "customers in Germany"}) {
    Answered answered = Run(question);
    options.rows = &answered.rows;
    for (const std::string& s : SuggestFollowUps(*env.engine(), answered.query, options)) {
      EXPECT_EQ(s.find("Atlantis"), std::string::npos) << s;
      EXPECT_EQ(s.find("El Dorado"), std::string::npos) << s;
    }
  }
}

TEST_F(SuggestionsTest, AtMostTheAskedNumberDistinctAndTheSameEachTime) {
  DemoEnvironment& env = DemoEnvironment::Get();
  Answered answered = Run("revenue by country");
  SuggestOptions options;
  options.rows = &answered.rows;
  std::vector<std::string> all = SuggestFollowUps(*env.engine(), answered.query, options);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), all.size());
  EXPECT_EQ(SuggestFollowUps(*env.engine(), answered.query, options), all);

  options.max_suggestions = 2;
  std::vector<std::string> two = SuggestFollowUps(*env.engine(), answered.query, options);
  ASSERT_EQ(two.size(), 2u);
  for (const std::string& s : two) EXPECT_TRUE(Contains(all, s)) << s;

  // The engine is asked about max_candidates candidates at most.
  options.max_suggestions = 4;
  options.max_candidates = 1;
  EXPECT_LE(SuggestFollowUps(*env.engine(), answered.query, options).size(), 1u);
  options.max_candidates = 0;
  EXPECT_TRUE(SuggestFollowUps(*env.engine(), answered.query, options).empty());

  // A threshold no reading reaches: nothing is offered.
  options.max_candidates = 12;
  options.confidence_threshold = 1.01;
  EXPECT_TRUE(SuggestFollowUps(*env.engine(), answered.query, options).empty());
}

// A model that always answers with the same SQL.
class FixedModel final : public llm::LlmProvider {
 public:
  std::string_view name() const override { return "fixed"; }
  Result<llm::Completion> Complete(const llm::CompletionRequest&) override {
    llm::Completion c;
    c.text = R"({"sql": "SELECT country, COUNT(*) AS n FROM customers GROUP BY country",)"
             R"( "explanation": "Customers per country."})";
    return c;
  }
};

TEST_F(SuggestionsTest, AModelsAnswerHasNone) {
  DemoEnvironment& env = DemoEnvironment::Get();
  FixedModel model;
  resilience::CircuitBreaker breaker("nl2sql", env.clock(), resilience::BreakerOptions{});
  LlmAnswerer answerer(
      model, env.source(), breaker,
      [](const PromptRequest& r) {
        return std::vector<llm::Message>{{llm::Role::kUser, r.question}};
      },
      env.clock(), LlmAnswererOptions{});
  auto pipeline = NewPipeline(PipelineOptions{}, &answerer);

  auto engine_answer = Ask(*pipeline, "revenue by country");
  ASSERT_TRUE(engine_answer.has_value());
  ASSERT_EQ(engine_answer->source, "engine");
  EXPECT_FALSE(engine_answer->suggestions.empty());

  auto model_answer = Ask(*pipeline, "purple monkey dishwasher");
  ASSERT_TRUE(model_answer.has_value()) << model_answer.error().message;
  ASSERT_EQ(model_answer->source, "llm");
  EXPECT_GT(model_answer->rows.size(), 1u);
  EXPECT_TRUE(model_answer->suggestions.empty());

  // When the model answers every question, the engine answers none of the suggestions.
  PipelineOptions llm_only;
  llm_only.mode = Mode::kLlm;
  auto model_pipeline = NewPipeline(llm_only, &answerer);
  auto answer = Ask(*model_pipeline, "revenue by country");
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->source, "llm");
  EXPECT_TRUE(answer->suggestions.empty());
}

TEST_F(SuggestionsTest, ACacheHitReboundFromTheEnginesQueryHasThem) {
  DemoEnvironment& env = DemoEnvironment::Get();
  cache::MemoryCacheStore store(env.clock(), cache::StoreOptions{});
  cache::HashingEmbedder embedder;
  AnswerCache cache(store, embedder, env.clock(), 0.85);
  PipelineOptions options;
  options.cache = &cache;
  auto pipeline = NewPipeline(options);

  auto first = Ask(*pipeline, "how many customers in Germany");
  ASSERT_TRUE(first.has_value());
  ASSERT_FALSE(first->cache_hit);
  auto second = Ask(*pipeline, "how many customers in France");
  ASSERT_TRUE(second.has_value());
  ASSERT_TRUE(second->cache_hit);
  ASSERT_EQ(second->source, "cache");
  EXPECT_FALSE(second->suggestions.empty());
  // The same as for the query the engine would have written.
  Answered france = Run("how many customers in France");
  SuggestOptions suggest;
  suggest.rows = &france.rows;
  suggest.known_values = [](const engine::ColumnEntry& column) { return column.values; };
  EXPECT_EQ(second->suggestions, SuggestFollowUps(*env.engine(), france.query, suggest));
  for (const std::string& s : second->suggestions)
    ExpectAnsweredAsNextTurn("how many customers in France", s);
}

// Suggestions are made on every engine answer, so their cost is printed for bench/RESULTS.md
// (a timing is never an assertion here: the figure depends on the machine and the build).
TEST_F(SuggestionsTest, TheirCostPerAnswerIsMeasured) {
  DemoEnvironment& env = DemoEnvironment::Get();
  for (const std::string question :
       {"revenue by country", "total revenue by month", "customers in Germany"}) {
    Answered answered = Run(question);
    SuggestOptions options;
    options.rows = &answered.rows;
    (void)SuggestFollowUps(*env.engine(), answered.query, options);  // warm the lexicon
    std::vector<double> ms;
    for (int i = 0; i < 15; ++i) {
      auto start = std::chrono::steady_clock::now();
      std::vector<std::string> s = SuggestFollowUps(*env.engine(), answered.query, options);
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
      ASSERT_FALSE(s.empty());
    }
    std::sort(ms.begin(), ms.end());
    const double median = ms[ms.size() / 2];
    std::cout << "SuggestFollowUps(\"" << question << "\"): median " << median << " ms, max "
              << ms.back() << " ms over " << ms.size() << " runs\n";
  }
}

}  // namespace
}  // namespace helios::nl2sql
