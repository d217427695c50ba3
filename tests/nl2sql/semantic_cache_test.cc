// The semantic cache through the whole pipeline, on the demo database, with the trap set in
// tests/data/cache: pairs of questions that differ only in a value, and paraphrases.
//
// The truth for every question is the pipeline's answer without a cache. A question asked
// after its pair's first must come back with exactly its own truth (a hit re-binds the values;
// a miss answers afresh) — never the first's rows. A paraphrase asked after its original must
// be a hit in at least half of the groups, each hit with the original's rows.
#include "cache/semantic_cache.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cache/embedder.h"
#include "common/text.h"
#include "conversation/session_store.h"
#include "nl2sql/answer_cache.h"
#include "nl2sql/demo_environment.h"
#include "nl2sql/pipeline.h"

namespace helios::nl2sql {
namespace {

using namespace std::chrono_literals;

std::vector<std::pair<std::string, std::string>> ReadPairs(const std::string& name) {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::ifstream in(std::string(HELIOS_SOURCE_DIR) + "/tests/data/cache/" + name);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto tab = line.find('\t');
    if (tab == std::string::npos) continue;
    pairs.emplace_back(text::Trim(line.substr(0, tab)), text::Trim(line.substr(tab + 1)));
  }
  return pairs;
}

class SemanticCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DemoEnvironment& env = DemoEnvironment::Get();
    ASSERT_TRUE(env.ok()) << "demo database: " << env.error();
    sessions_ = std::make_unique<conversation::MemorySessionStore>(
        env.clock(), conversation::MemoryStoreOptions{});
    store_ = std::make_unique<cache::MemoryCacheStore>(env.clock(), cache::StoreOptions{});
    cache_ = std::make_unique<AnswerCache>(*store_, embedder_, env.clock(), 0.85);
    PipelineOptions plain_options;
    plain_options.mode = Mode::kEngine;
    plain_ = std::make_unique<Pipeline>(env.source(), env.engine(), *sessions_, env.clock(),
                                        plain_options);
    PipelineOptions cached_options = plain_options;
    cached_options.cache = cache_.get();
    cached_ = std::make_unique<Pipeline>(env.source(), env.engine(), *sessions_, env.clock(),
                                         cached_options);
  }

  static AskRequest Request(const std::string& question) {
    AskRequest r;
    r.question = question;
    return r;
  }

  cache::HashingEmbedder embedder_;
  std::unique_ptr<conversation::MemorySessionStore> sessions_;
  std::unique_ptr<cache::MemoryCacheStore> store_;
  std::unique_ptr<AnswerCache> cache_;
  std::unique_ptr<Pipeline> plain_;
  std::unique_ptr<Pipeline> cached_;
};

TEST_F(SemanticCacheTest, AQuestionWithOtherValuesNeverGetsTheFirstQuestionsRows) {
  const auto pairs = ReadPairs("value_traps.tsv");
  ASSERT_GE(pairs.size(), 100u);
  size_t judged = 0, hits = 0, differing = 0;
  for (const auto& [first, second] : pairs) {
    auto truth_first = plain_->Ask(Request(first));
    auto truth_second = plain_->Ask(Request(second));
    if (!truth_first || !truth_second) continue;  // the engine declines: nothing to compare
    ++judged;
    if (truth_first->rows != truth_second->rows) ++differing;

    auto asked_first = cached_->Ask(Request(first));
    ASSERT_TRUE(asked_first.has_value()) << first << ": " << asked_first.error().message;
    auto asked_second = cached_->Ask(Request(second));
    ASSERT_TRUE(asked_second.has_value()) << second << ": " << asked_second.error().message;
    if (asked_second->cache_hit) ++hits;
    EXPECT_EQ(asked_second->rows, truth_second->rows)
        << "\"" << second << "\" after \"" << first << "\""
        << (asked_second->cache_hit ? " (a hit on \"" + asked_second->cached_question + "\")"
                                    : " (a miss)")
        << "\n  got SQL:      " << asked_second->sql << "\n  expected SQL: " << truth_second->sql;
    EXPECT_EQ(asked_second->sql, truth_second->sql) << second;
    EXPECT_EQ(asked_second->columns, truth_second->columns) << second;
  }
  fmt::print(
      "value traps: {} pairs, {} answered by the engine ({} with different rows), {} "
      "second questions served by re-binding a cached query\n",
      pairs.size(), judged, differing, hits);
  // The set must exercise the cache: most pairs are answerable and their rows differ.
  EXPECT_GE(judged, 100u);
  EXPECT_GE(differing * 10, judged * 9);
  // And re-binding must be what answers most of them (the point of a cache that is never
  // wrong is that it is still a cache).
  EXPECT_GE(hits * 2, judged);
}

TEST_F(SemanticCacheTest, ParaphrasesHitAtLeastHalfTheTimeAndEveryHitIsRight) {
  const auto groups = ReadPairs("paraphrases.tsv");
  ASSERT_GE(groups.size(), 50u);
  size_t judged = 0, hits = 0;
  for (const auto& [original, paraphrase] : groups) {
    auto truth = plain_->Ask(Request(original));
    if (!truth) continue;
    ++judged;
    auto asked_original = cached_->Ask(Request(original));
    ASSERT_TRUE(asked_original.has_value()) << original;
    auto asked = cached_->Ask(Request(paraphrase));
    if (!asked) continue;  // the engine declines the paraphrase and nothing matched: a miss
    if (!asked->cache_hit) continue;
    ++hits;
    EXPECT_EQ(asked->rows, truth->rows)
        << "\"" << paraphrase << "\" hit \"" << asked->cached_question
        << "\"\n  got SQL: " << asked->sql << "\n  original SQL: " << truth->sql;
  }
  fmt::print("paraphrases: {} groups, {} originals answered, {} paraphrases hit\n", groups.size(),
             judged, hits);
  EXPECT_GE(judged, 50u);
  EXPECT_GE(hits * 2, judged);
}

TEST_F(SemanticCacheTest, TenantsDataSourcesAndSchemaVersionsNeverShareEntries) {
  auto first = cached_->Ask(Request("top 5 customers by revenue"));
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_FALSE(first->cache_hit);
  auto again = cached_->Ask(Request("top 5 customers by revenue"));
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->cache_hit);
  EXPECT_EQ(again->rows, first->rows);

  AskRequest other_tenant = Request("top 5 customers by revenue");
  other_tenant.tenant_id = "globex";
  auto theirs = cached_->Ask(other_tenant);
  ASSERT_TRUE(theirs.has_value());
  EXPECT_FALSE(theirs->cache_hit);

  const cache::Key base{"default", "default", 1, embedder_.name(), "", "sig"};
  for (int field = 0; field < 4; ++field) {
    cache::Key key = base;
    if (field == 0) key.database = "warehouse";
    if (field == 1) key.schema_version = 2;
    if (field == 2) key.context = "SELECT 1";
    if (field == 3) key.embedder = "openai:text-embedding-3-small";
    EXPECT_NE(cache::BucketOf(key), cache::BucketOf(base)) << field;
  }
}

TEST_F(SemanticCacheTest, ASchemaChangeMeansEarlierEntriesAreNeverMatched) {
  DemoEnvironment& env = DemoEnvironment::Get();
  auto first = cached_->Ask(Request("top 5 customers by revenue"));
  ASSERT_TRUE(first.has_value()) << first.error().message;
  auto again = cached_->Ask(Request("top 5 customers by revenue"));
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->cache_hit);

  // The same database read again with a different schema: a new version, a new engine.
  auto catalog = env.source().Introspect();
  ASSERT_TRUE(catalog.has_value());
  auto changed = std::make_shared<db::SchemaCatalog>(**catalog);
  changed->version = (*catalog)->version + 1;
  auto index = engine::SchemaIndex::Build(changed, env.source(), 1000);
  ASSERT_TRUE(index.has_value());
  cached_->SetEngine(std::make_shared<const engine::Engine>(
      std::shared_ptr<const engine::SchemaIndex>(std::move(*index)), env.clock()));

  auto after = cached_->Ask(Request("top 5 customers by revenue"));
  ASSERT_TRUE(after.has_value()) << after.error().message;
  EXPECT_FALSE(after->cache_hit);
  EXPECT_EQ(after->rows, first->rows);
}

TEST_F(SemanticCacheTest, AFollowUpIsKeyedByTheTurnBeforeIt) {
  auto opened = cached_->Ask(Request("total revenue by country"));
  ASSERT_TRUE(opened.has_value());
  AskRequest follow = Request("only in Germany");
  follow.session_id = opened->session_id;
  auto edited = cached_->Ask(follow);
  ASSERT_TRUE(edited.has_value()) << edited.error().message;
  EXPECT_FALSE(edited->cache_hit);

  // The same follow-up after another question is another query.
  auto other = cached_->Ask(Request("number of orders by month"));
  ASSERT_TRUE(other.has_value());
  follow.session_id = other->session_id;
  auto after_other = cached_->Ask(follow);
  ASSERT_TRUE(after_other.has_value()) << after_other.error().message;
  EXPECT_FALSE(after_other->cache_hit);
  EXPECT_NE(after_other->sql, edited->sql);

  // After the same question, it is a hit, with the other value re-bound.
  auto reopened = cached_->Ask(Request("total revenue by country"));
  ASSERT_TRUE(reopened.has_value());
  AskRequest france = Request("only in France");
  france.session_id = reopened->session_id;
  auto hit = cached_->Ask(france);
  ASSERT_TRUE(hit.has_value()) << hit.error().message;
  EXPECT_TRUE(hit->cache_hit);
  auto truth_open = plain_->Ask(Request("total revenue by country"));
  ASSERT_TRUE(truth_open.has_value());
  AskRequest truth_follow = Request("only in France");
  truth_follow.session_id = truth_open->session_id;
  auto truth = plain_->Ask(truth_follow);
  ASSERT_TRUE(truth.has_value());
  EXPECT_EQ(hit->rows, truth->rows);
  EXPECT_EQ(hit->sql, truth->sql);
}

}  // namespace
}  // namespace helios::nl2sql
