// The shipped seed file (examples/retail.jsonl): it loads, every SQL runs on the demo
// database, and paraphrased questions retrieve the example a person would pick.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/clock.h"
#include "db/open.h"
#include "nl2sql/examples/example_file.h"
#include "nl2sql/examples/example_store.h"

namespace helios::nl2sql::examples {
namespace {

const std::string kSeedFile = std::string(HELIOS_SOURCE_DIR) + "/examples/retail.jsonl";

TEST(SeedFile, HasAtLeastFortyDistinctExamples) {
  auto examples = ReadExamplesFile(kSeedFile, {.database = "demo"});
  ASSERT_TRUE(examples.has_value()) << examples.error().message;
  EXPECT_GE(examples->size(), 40u);
  FakeClock clock;
  ExampleStore store(clock, {.max_per_tenant = 0});
  auto loaded = store.Load(kSeedFile, {.database = "demo"});
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  // No two lines are the same question (a duplicate would silently replace the first).
  EXPECT_EQ(store.Size(), examples->size());
  for (const Example& e : store.Examples()) {
    EXPECT_EQ(e.source, kSourceSeed);
    EXPECT_EQ(e.tenant, "");
    EXPECT_EQ(e.database, "demo");
  }
}

TEST(SeedFile, EverySqlRunsOnTheDemoDatabase) {
  auto examples = ReadExamplesFile(kSeedFile);
  ASSERT_TRUE(examples.has_value()) << examples.error().message;
  auto source = db::OpenDataSource(std::string("sqlite://") + HELIOS_DEMO_DB);
  ASSERT_TRUE(source.has_value()) << source.error().message;
  db::ExecuteOptions options;
  options.max_rows = 10000;
  options.timeout = std::chrono::seconds(60);  // generous: the sanitizer build is slow
  for (const Example& e : *examples) {
    SCOPED_TRACE(e.question);
    auto result = (*source)->Execute(e.sql, {}, options);
    ASSERT_TRUE(result.has_value()) << result.error().message << "\n" << e.sql;
    EXPECT_FALSE(result->columns.empty());
    // Every example answers with data on the demo database (a count answers with one row).
    EXPECT_FALSE(result->rows.empty()) << e.sql;
  }
}

class SeedRetrieval : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = store_.Load(kSeedFile, {.database = "demo"});
    ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
  }

  // Passes when the most similar example to `question` is the one asking `expected`; the
  // failure message shows the ranking.
  ::testing::AssertionResult RanksFirst(std::string_view question,
                                        std::string_view expected) const {
    auto matches = store_.Similar(question, "demo", "acme", 3);
    std::string ranking;
    for (const Match& m : matches) {
      ranking += fmt::format("\n  {:.3f} {}", m.score, m.example.question);
    }
    if (!matches.empty() && matches.front().example.question == expected) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "\"" << question << "\" should find \"" << expected << "\" first; found:" << ranking;
  }

  FakeClock clock_;
  ExampleStore store_{clock_};
};

TEST_F(SeedRetrieval, ParaphrasesFindTheMatchingExampleFirst) {
  // Synonyms ("sales" for revenue) and ranking words ("top" for most).
  EXPECT_TRUE(
      RanksFirst("top customers by sales", "Which 10 customers bring in the most revenue?"));
  EXPECT_TRUE(RanksFirst("how many clients are there", "How many customers do we have?"));
  EXPECT_TRUE(RanksFirst("average pay for each title", "Average salary by job title"));
  EXPECT_TRUE(
      RanksFirst("sales broken down by category of product", "Revenue by product category"));
  EXPECT_TRUE(RanksFirst("staff based in the Europe territory",
                         "Which employees work in the Europe region?"));
  EXPECT_TRUE(
      RanksFirst("show the most expensive items", "What are the 10 most expensive products?"));
  EXPECT_TRUE(RanksFirst("count of orders for every status", "Number of orders by status"));
  EXPECT_TRUE(RanksFirst("average shipping time in days",
                         "Average number of days between ordering and shipping"));
  EXPECT_TRUE(
      RanksFirst("clients that never bought anything", "Customers who have never placed an order"));
  EXPECT_TRUE(
      RanksFirst("what's the margin on each product", "Products with the highest profit margin"));
  EXPECT_TRUE(RanksFirst("customer count per country", "Number of customers in each country"));
  EXPECT_TRUE(RanksFirst("busiest day of the week for orders",
                         "Which day of the week gets the most orders?"));
}

TEST_F(SeedRetrieval, ATenantsCorrectedAnswerOutranksTheSeeds) {
  // A user marked an answer correct; the next similar question from that tenant finds it first,
  // and another tenant still gets the seed.
  auto added = store_.Add({.question = "Which customers spent the most in 2025?",
                           .sql = "SELECT 1",
                           .database = "demo",
                           .tenant = "acme"});
  ASSERT_TRUE(added.has_value()) << added.error().message;
  EXPECT_TRUE(RanksFirst("biggest spenders among customers in 2025",
                         "Which customers spent the most in 2025?"));
  auto other = store_.Similar("biggest spenders among customers in 2025", "demo", "globex", 3);
  ASSERT_FALSE(other.empty());
  EXPECT_EQ(other.front().example.tenant, "");
  EXPECT_EQ(other.front().example.question, "Which 10 customers bring in the most revenue?");
}

TEST_F(SeedRetrieval, UnrelatedQuestionsAndOtherDatabasesFindNothing) {
  EXPECT_TRUE(store_.Similar("zebra giraffe", "demo", "acme", 3).empty());
  EXPECT_TRUE(store_.Similar("top customers by sales", "warehouse", "acme", 3).empty());
}

}  // namespace
}  // namespace helios::nl2sql::examples
