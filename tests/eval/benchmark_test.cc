// Reading benchmark files: Spider/BIRD and SParC/CoSQL forms, detection, malformed input.
#include "eval/benchmark.h"

#include <gtest/gtest.h>

#include <string>

namespace helios::eval {
namespace {

const std::string kDataDir = std::string(HELIOS_SOURCE_DIR) + "/tests/data/eval/";

TEST(BenchmarkTest, ReadsSpiderFormAsOneTurnPerItem) {
  auto b = ParseBenchmark(R"([{"db_id": "a", "question": "q1", "query": "SELECT 1"},
                              {"db_id": "b", "question": "q2", "query": "SELECT 2"}])");
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->format, Format::kSpider);
  ASSERT_EQ(b->items.size(), 2u);
  EXPECT_EQ(b->items[1].database, "b");
  ASSERT_EQ(b->items[1].turns.size(), 1u);
  EXPECT_EQ(b->items[1].turns[0].question, "q2");
  EXPECT_EQ(b->items[1].turns[0].gold_sql, "SELECT 2");
}

TEST(BenchmarkTest, ReadsBirdsSqlField) {
  auto b =
      ParseBenchmark(R"([{"db_id": "a", "question": "q", "SQL": "SELECT 3", "evidence": ""}])");
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->items[0].turns[0].gold_sql, "SELECT 3");
}

TEST(BenchmarkTest, ReadsSparcFormWithTurnsInOrderAndIgnoresFinal) {
  auto b = ParseBenchmark(R"([{"database_id": "d", "interaction": [
      {"utterance": "u1", "query": "SELECT 1"}, {"utterance": "u2", "query": "SELECT 2"}],
      "final": {"utterance": "all", "query": "SELECT 2"}}])");
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->format, Format::kSparc);
  ASSERT_EQ(b->items.size(), 1u);
  EXPECT_EQ(b->items[0].database, "d");
  ASSERT_EQ(b->items[0].turns.size(), 2u);
  EXPECT_EQ(b->items[0].turns[0].question, "u1");
  EXPECT_EQ(b->items[0].turns[1].gold_sql, "SELECT 2");
}

TEST(BenchmarkTest, AnExplicitFormatOverridesDetection) {
  auto b =
      ParseBenchmark(R"([{"db_id": "a", "question": "q", "query": "SELECT 1"}])", Format::kSparc);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(b.error().message.find("database_id"), std::string::npos) << b.error().message;
}

TEST(BenchmarkTest, MalformedInputIsAnInvalidArgumentThatSaysWhere) {
  auto bad_json = ParseBenchmark("[{\"db_id\": ");
  ASSERT_FALSE(bad_json);
  EXPECT_EQ(bad_json.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad_json.error().message.find("not valid JSON"), std::string::npos);

  auto not_array = ParseBenchmark(R"({"db_id": "a"})");
  ASSERT_FALSE(not_array);
  EXPECT_EQ(not_array.error().code, ErrorCode::kInvalidArgument);

  auto missing = ParseBenchmark(R"([{"db_id": "a", "question": "q", "query": "SELECT 1"},
                                    {"db_id": "a", "question": "q"}])");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(missing.error().message.find("element 1"), std::string::npos)
      << missing.error().message;

  auto not_string = ParseBenchmark(R"([{"db_id": 3, "question": "q", "query": "SELECT 1"}])");
  ASSERT_FALSE(not_string);
  EXPECT_NE(not_string.error().message.find("db_id"), std::string::npos);

  auto empty_turns = ParseBenchmark(R"([{"database_id": "d", "interaction": []}])");
  ASSERT_FALSE(empty_turns);
  EXPECT_NE(empty_turns.error().message.find("interaction"), std::string::npos);

  auto unknown = ParseBenchmark(R"([{"text": "q"}])");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("--format"), std::string::npos);
}

TEST(BenchmarkTest, ParsesFormatNames) {
  EXPECT_EQ(ParseFormat("spider"), Format::kSpider);
  EXPECT_EQ(ParseFormat("BIRD"), Format::kSpider);
  EXPECT_EQ(ParseFormat("cosql"), Format::kSparc);
  EXPECT_EQ(ParseFormat("auto"), Format::kAuto);
  ASSERT_FALSE(ParseFormat("wikisql"));
  EXPECT_EQ(ParseFormat("wikisql").error().code, ErrorCode::kInvalidArgument);
}

TEST(BenchmarkTest, AMissingFileIsNotFound) {
  auto b = ReadBenchmark(kDataDir + "no_such_file.json");
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, ErrorCode::kNotFound);
}

TEST(BenchmarkTest, ReadsTheFixtures) {
  auto spider = ReadBenchmark(kDataDir + "tiny_spider.json");
  ASSERT_TRUE(spider) << spider.error().message;
  EXPECT_EQ(spider->format, Format::kSpider);
  EXPECT_EQ(spider->items.size(), 7u);
  auto sparc = ReadBenchmark(kDataDir + "tiny_sparc.json");
  ASSERT_TRUE(sparc) << sparc.error().message;
  EXPECT_EQ(sparc->format, Format::kSparc);
  ASSERT_EQ(sparc->items.size(), 3u);
  EXPECT_EQ(sparc->items[0].turns.size(), 3u);
}

// The hand-written conversations on the Spider training databases (SParC form).
TEST(BenchmarkTest, ReadsTheConversationsFile) {
  auto b = ReadBenchmark(kDataDir + "conversations.json");
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->format, Format::kSparc);
  ASSERT_FALSE(b->items.empty());
  for (const Item& item : b->items) {
    EXPECT_FALSE(item.database.empty());
    ASSERT_FALSE(item.turns.empty());
    for (const Turn& t : item.turns) {
      EXPECT_FALSE(t.question.empty());
      EXPECT_FALSE(t.gold_sql.empty());
    }
  }
}

}  // namespace
}  // namespace helios::eval
