#include "nl2sql/examples/example_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"

namespace helios::nl2sql::examples {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

std::vector<std::string> Questions(const std::vector<Match>& matches) {
  std::vector<std::string> out;
  for (const Match& m : matches) out.push_back(m.example.question);
  return out;
}

std::vector<std::string> Questions(const std::vector<Example>& examples) {
  std::vector<std::string> out;
  for (const Example& e : examples) out.push_back(e.question);
  return out;
}

Example Shared(std::string question, std::string sql = "SELECT 1") {
  return {.question = std::move(question),
          .sql = std::move(sql),
          .database = "demo",
          .source = std::string(kSourceSeed)};
}

Example Own(std::string tenant, std::string question, std::string sql = "SELECT 2") {
  return {.question = std::move(question),
          .sql = std::move(sql),
          .database = "demo",
          .tenant = std::move(tenant)};
}

class ExampleStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "helios-example-store-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string Path(std::string_view name) const { return (dir_ / name).string(); }
  void WriteText(const std::string& path, std::string_view text) {
    std::ofstream(path, std::ios::binary) << text;
  }
  void MustAdd(ExampleStore& store, Example e) {
    auto added = store.Add(std::move(e));
    ASSERT_TRUE(added.has_value()) << added.error().message;
  }

  FakeClock clock_;
  fs::path dir_;
};

TEST_F(ExampleStoreTest, AddStampsTheTimeAndValidates) {
  ExampleStore store(clock_);
  MustAdd(store, Own("acme", "  Revenue by region  ", "  SELECT 1  "));
  Example kept = Own("acme", "Orders by status");
  kept.added = clock_.Now() - seconds(3600);
  MustAdd(store, kept);
  const auto all = store.Examples();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].question, "Revenue by region");
  EXPECT_EQ(all[0].sql, "SELECT 1");
  EXPECT_EQ(all[0].added, clock_.Now());
  EXPECT_EQ(all[0].source, "user");
  EXPECT_EQ(all[1].added, clock_.Now() - seconds(3600));

  auto no_sql = store.Add(Own("acme", "Revenue", " "));
  ASSERT_FALSE(no_sql.has_value());
  EXPECT_EQ(no_sql.error().code, ErrorCode::kInvalidArgument);
  Example bad_source = Own("acme", "Revenue");
  bad_source.source = "llm";
  EXPECT_EQ(store.Add(bad_source).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(store.Add(Own("acme", "Revenue\xFF")).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(store.Add(Own("acme", "...")).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(store.Add(Own("acme", std::string(kMaxQuestionBytes + 1, 'a'))).error().code,
            ErrorCode::kPayloadTooLarge);
  EXPECT_EQ(store.Add(Own("acme", "q", std::string(kMaxSqlBytes + 1, 'a'))).error().code,
            ErrorCode::kPayloadTooLarge);
  EXPECT_EQ(store.Size(), 2u);
}

TEST_F(ExampleStoreTest, TheSameNormalisedQuestionReplaces) {
  ExampleStore store(clock_);
  MustAdd(store, Own("acme", "Top customers by revenue?", "SELECT 'old'"));
  clock_.Advance(seconds(10));
  auto replaced = store.Add(Own("acme", "top   CUSTOMERS by revenue", "SELECT 'new'"));
  ASSERT_TRUE(replaced.has_value());
  EXPECT_TRUE(replaced->replaced);
  ASSERT_EQ(store.Size(), 1u);
  EXPECT_EQ(store.Examples()[0].sql, "SELECT 'new'");
  EXPECT_EQ(store.Examples()[0].question, "top   CUSTOMERS by revenue");
  EXPECT_EQ(store.Examples()[0].added, clock_.Now());

  // Another tenant, database or wording is another example.
  auto other_tenant = store.Add(Own("globex", "Top customers by revenue"));
  ASSERT_TRUE(other_tenant.has_value());
  EXPECT_FALSE(other_tenant->replaced);
  Example other_db = Own("acme", "Top customers by revenue");
  other_db.database = "crm";
  MustAdd(store, other_db);
  MustAdd(store, Shared("Top customers by revenue"));
  MustAdd(store, Own("acme", "Top 10 customers by revenue"));
  EXPECT_EQ(store.Size(), 5u);
}

TEST_F(ExampleStoreTest, ATenantNeverSeesAnotherTenantsExamples) {
  ExampleStore store(clock_);
  MustAdd(store, Shared("Revenue by region"));
  MustAdd(store, Own("acme", "Revenue by region for the secret project", "SELECT 'acme'"));
  MustAdd(store, Own("globex", "Revenue by country", "SELECT 'globex'"));

  auto for_acme = store.Similar("revenue by region", "demo", "acme", 10);
  EXPECT_EQ(
      Questions(for_acme),
      (std::vector<std::string>{"Revenue by region", "Revenue by region for the secret project"}));

  // Even the exact wording of acme's question finds nothing of acme's for globex.
  auto for_globex = store.Similar("Revenue by region for the secret project", "demo", "globex", 10);
  EXPECT_EQ(Questions(for_globex),
            (std::vector<std::string>{"Revenue by region", "Revenue by country"}));
  for (const Match& m : for_globex) EXPECT_NE(m.example.tenant, "acme");

  // No tenant: shared examples only.
  auto anonymous = store.Similar("revenue by region or country", "demo", "", 10);
  EXPECT_EQ(Questions(anonymous), std::vector<std::string>{"Revenue by region"});
}

TEST_F(ExampleStoreTest, ATenantsOwnExampleHidesTheSharedOneItReplaces) {
  ExampleStore store(clock_);
  MustAdd(store, Shared("Revenue by region", "SELECT 'shared'"));
  MustAdd(store, Own("acme", "revenue by region!", "SELECT 'acme'"));
  auto for_acme = store.Similar("revenue per region", "demo", "acme", 10);
  ASSERT_EQ(for_acme.size(), 1u);
  EXPECT_EQ(for_acme[0].example.sql, "SELECT 'acme'");
  auto for_globex = store.Similar("revenue per region", "demo", "globex", 10);
  ASSERT_EQ(for_globex.size(), 1u);
  EXPECT_EQ(for_globex[0].example.sql, "SELECT 'shared'");
}

TEST_F(ExampleStoreTest, OnlyTheRequestedDatabase) {
  ExampleStore store(clock_);
  MustAdd(store, Shared("Revenue by region"));
  Example crm = Shared("Revenue by account region");
  crm.database = "crm";
  MustAdd(store, crm);
  EXPECT_EQ(Questions(store.Similar("revenue by region", "crm", "acme", 10)),
            std::vector<std::string>{"Revenue by account region"});
  EXPECT_TRUE(store.Similar("revenue by region", "other", "acme", 10).empty());
}

TEST_F(ExampleStoreTest, RanksByBm25) {
  ExampleStore store(clock_);
  MustAdd(store, Shared("Customers by segment"));
  MustAdd(store, Shared("Customers by city"));
  MustAdd(store, Shared("New customers per year"));
  MustAdd(store, Shared("Customers without orders"));
  MustAdd(store, Shared("Country names"));
  auto matches = store.Similar("customer country", "demo", "", 10);
  // "customer" is in four questions and says little; "country" is in one, so it decides
  // (inverse document frequency). Among the rest, shorter questions match better (length
  // normalisation); equal ones keep the order of addition.
  EXPECT_EQ(Questions(matches),
            (std::vector<std::string>{"Country names", "Customers by segment", "Customers by city",
                                      "Customers without orders", "New customers per year"}));
  ASSERT_EQ(matches.size(), 5u);
  EXPECT_GT(matches[0].score, matches[1].score);
  EXPECT_EQ(matches[1].score, matches[2].score);
  EXPECT_GT(matches[2].score, matches[3].score);
  EXPECT_GT(matches[3].score, matches[4].score);
  EXPECT_GT(matches[4].score, 0);
  // A question with both terms beats either alone.
  MustAdd(store, Shared("Customers in each country"));
  EXPECT_EQ(store.Similar("customer country", "demo", "", 1)[0].example.question,
            "Customers in each country");

  // k caps the answer; no shared term, nothing returned.
  EXPECT_EQ(store.Similar("customers", "demo", "", 2).size(), 2u);
  EXPECT_TRUE(store.Similar("customers", "demo", "", 0).empty());
  EXPECT_TRUE(store.Similar("zebras", "demo", "", 5).empty());
  EXPECT_TRUE(store.Similar("the of a", "demo", "", 5).empty());
}

TEST_F(ExampleStoreTest, TiesAreBrokenByOwnershipThenOrderOfAddition) {
  // All four questions have the terms {revenue, region}: equal scores. The tenant's own come
  // first although added last, then each group in the order of addition.
  ExampleStore ties(clock_);
  MustAdd(ties, Shared("Revenue by region", "SELECT 'shared first'"));
  MustAdd(ties, Shared("Regions by revenue", "SELECT 'shared second'"));
  MustAdd(ties, Own("acme", "Revenue, by region?", "SELECT 'own'"));  // hides the first
  MustAdd(ties, Own("acme", "region revenue", "SELECT 'own second'"));
  std::vector<std::string> order;
  for (const Match& m : ties.Similar("revenue per region", "demo", "acme", 10)) {
    order.push_back(m.example.sql);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"SELECT 'own'", "SELECT 'own second'",
                                             "SELECT 'shared second'"}));
}

TEST_F(ExampleStoreTest, TheCapEvictsTheOldestUserExampleFirst) {
  ExampleStore store(clock_, {.max_per_tenant = 3});
  MustAdd(store, Own("acme", "first question"));
  clock_.Advance(seconds(1));
  MustAdd(store, Own("acme", "second question"));
  clock_.Advance(seconds(1));
  MustAdd(store, Own("acme", "third question"));
  clock_.Advance(seconds(1));
  MustAdd(store, Own("globex", "globex question"));
  auto fourth = store.Add(Own("acme", "fourth question"));
  ASSERT_TRUE(fourth.has_value());
  EXPECT_EQ(fourth->evicted, 1u);
  EXPECT_EQ(Questions(store.Examples()),
            (std::vector<std::string>{"second question", "third question", "globex question",
                                      "fourth question"}));

  // Replacing an example does not grow the tenant, so nothing goes.
  auto replaced = store.Add(Own("acme", "Second question?"));
  ASSERT_TRUE(replaced.has_value());
  EXPECT_TRUE(replaced->replaced);
  EXPECT_EQ(replaced->evicted, 0u);
  EXPECT_EQ(store.Size(), 4u);

  // An old timestamp makes an example the oldest, whatever the order of addition.
  Example old = Own("acme", "backdated question");
  old.added = clock_.Now() - seconds(3600);
  MustAdd(store, old);  // itself is never the one evicted: "third question" goes
  EXPECT_EQ(Questions(store.Examples()),
            (std::vector<std::string>{"globex question", "fourth question", "Second question?",
                                      "backdated question"}));
}

TEST_F(ExampleStoreTest, TheCapKeepsSeedsWhileUserExamplesCanGo) {
  ExampleStore store(clock_, {.max_per_tenant = 3});
  MustAdd(store, Shared("seed one"));
  MustAdd(store, Shared("seed two"));
  Example user = Shared("shared user one");
  user.source = "user";
  MustAdd(store, user);
  clock_.Advance(seconds(1));
  user.question = "shared user two";
  auto added = store.Add(user);
  ASSERT_TRUE(added.has_value());
  EXPECT_EQ(added->evicted, 1u);
  EXPECT_EQ(Questions(store.Examples()),
            (std::vector<std::string>{"seed one", "seed two", "shared user two"}));
  // With no user example left to evict, the oldest seed goes.
  clock_.Advance(seconds(1));
  MustAdd(store, Shared("seed three"));  // a seed: "shared user two" is the user example
  EXPECT_EQ(Questions(store.Examples()),
            (std::vector<std::string>{"seed one", "seed two", "seed three"}));
  MustAdd(store, Shared("seed four"));
  EXPECT_EQ(Questions(store.Examples()),
            (std::vector<std::string>{"seed two", "seed three", "seed four"}));
}

TEST_F(ExampleStoreTest, SaveAndLoadKeepUserExamplesAcrossRestarts) {
  const std::string seeds = Path("seed.jsonl");
  WriteText(seeds,
            "{\"question\": \"Revenue by region\", \"sql\": \"SELECT 'seed'\"}\n"
            "{\"question\": \"Orders by status\", \"sql\": \"SELECT 'seed 2'\"}\n");
  const std::string saved = Path("user-examples.jsonl");
  std::vector<Example> before;
  std::vector<std::string> acme_before;
  {
    ExampleStore store(clock_);
    ASSERT_EQ(store.Load(seeds, {.database = "demo"}), 2u);
    MustAdd(store, Own("acme", "Revenue by region for acme", "SELECT 'acme'"));
    clock_.Advance(std::chrono::milliseconds(1500));
    MustAdd(store, Own("globex", "Orders by status for globex", "SELECT 'globex'"));
    Example shared_user = Shared("Shared user example");
    shared_user.source = "user";
    MustAdd(store, shared_user);
    auto written = store.Save(saved);
    ASSERT_TRUE(written.has_value()) << written.error().message;
    EXPECT_EQ(*written, 3u);  // the seeds stay in their own file
    before = store.Examples();
    acme_before = Questions(store.Similar("revenue per region", "demo", "acme", 5));
  }
  auto file = ReadExamplesFile(saved);
  ASSERT_TRUE(file.has_value());
  for (const Example& e : *file) EXPECT_EQ(e.source, "user");

  clock_.Advance(seconds(3600));  // a restart, later
  ExampleStore restarted(clock_);
  ASSERT_EQ(restarted.Load(seeds, {.database = "demo"}), 2u);
  ASSERT_EQ(restarted.Load(saved), 3u);
  auto after = restarted.Examples();
  // Seeds are stamped at load time; user examples keep their time.
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    SCOPED_TRACE(after[i].question);
    EXPECT_EQ(after[i].question, before[i].question);
    EXPECT_EQ(after[i].sql, before[i].sql);
    EXPECT_EQ(after[i].database, before[i].database);
    EXPECT_EQ(after[i].tenant, before[i].tenant);
    EXPECT_EQ(after[i].source, before[i].source);
    if (after[i].source == "user") {
      EXPECT_EQ(after[i].added, before[i].added);
    }
  }
  EXPECT_EQ(Questions(restarted.Similar("revenue per region", "demo", "acme", 5)), acme_before);
  EXPECT_TRUE(restarted.Similar("orders by status for globex", "demo", "acme", 5).size() == 1);
}

TEST_F(ExampleStoreTest, LoadIsAllOrNothing) {
  ExampleStore store(clock_);
  MustAdd(store, Shared("Existing example"));
  const std::string path = Path("bad.jsonl");
  WriteText(path,
            "{\"question\": \"one\", \"sql\": \"SELECT 1\"}\n"
            "{\"question\": \"two\", \"sql\": \"SELECT 2\"}\n"
            "{\"question\": \"three\", \"sql\": \"SELECT 3\", \"tennant\": \"acme\"}\n");
  auto loaded = store.Load(path);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(loaded.error().message.rfind(path + ":3: unknown key \"tennant\"", 0), 0u)
      << loaded.error().message;
  EXPECT_EQ(Questions(store.Examples()), std::vector<std::string>{"Existing example"});

  auto missing = store.Load(Path("missing.jsonl"));
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST_F(ExampleStoreTest, ALaterLineReplacesAnEarlierOne) {
  ExampleStore store(clock_);
  const std::string path = Path("dupes.jsonl");
  WriteText(path,
            "{\"question\": \"Revenue by region\", \"sql\": \"SELECT 'old'\"}\n"
            "{\"question\": \"revenue by region.\", \"sql\": \"SELECT 'new'\"}\n");
  ASSERT_EQ(store.Load(path), 2u);
  ASSERT_EQ(store.Size(), 1u);
  EXPECT_EQ(store.Examples()[0].sql, "SELECT 'new'");
  EXPECT_EQ(store.Examples()[0].source, "seed");
}

TEST_F(ExampleStoreTest, SaveFailureIsUnavailable) {
  ExampleStore store(clock_);
  MustAdd(store, Own("acme", "q"));
  auto written = store.Save(Path("no/such/dir/examples.jsonl"));
  ASSERT_FALSE(written.has_value());
  EXPECT_EQ(written.error().code, ErrorCode::kUnavailable);
}

TEST_F(ExampleStoreTest, ConcurrentAddsAndQueries) {
  ExampleStore store(clock_, {.max_per_tenant = 50});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&store, t] {
      const std::string tenant = "tenant" + std::to_string(t);
      for (int i = 0; i < 100; ++i) {
        auto added = store.Add({.question = "revenue for product " + std::to_string(i),
                                .sql = "SELECT 1",
                                .database = "demo",
                                .tenant = tenant});
        EXPECT_TRUE(added.has_value());
        for (const Match& m : store.Similar("product revenue", "demo", tenant, 3)) {
          EXPECT_EQ(m.example.tenant, tenant);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(store.Size(), 200u);  // 4 tenants, 50 each
}

}  // namespace
}  // namespace helios::nl2sql::examples
