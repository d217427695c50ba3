// The figures of a run: coverage, precision and accuracy, by difficulty, by database and by
// interaction, and what the JSON report and the summary show.
#include "eval/report.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace helios::eval {
namespace {

QuestionResult R(size_t item, Outcome o, std::string db = "a", Difficulty d = Difficulty::kEasy) {
  QuestionResult r;
  r.database = std::move(db);
  r.item = item;
  r.outcome = o;
  r.difficulty = d;
  r.question = "q" + std::to_string(item);
  r.gold_sql = "SELECT 1";
  return r;
}

TEST(FiguresTest, CoveragePrecisionAndAccuracy) {
  Figures f;
  for (Outcome o : {Outcome::kCorrect, Outcome::kCorrect, Outcome::kCorrect, Outcome::kWrong,
                    Outcome::kDeclined, Outcome::kDeclined, Outcome::kError, Outcome::kGoldError})
    f.Add(o);
  EXPECT_EQ(f.questions, 7u);  // the gold error is not scored
  EXPECT_EQ(f.answered, 4u);
  EXPECT_EQ(f.correct, 3u);
  EXPECT_EQ(f.declined, 2u);
  EXPECT_EQ(f.errors, 1u);
  EXPECT_DOUBLE_EQ(f.coverage(), 4.0 / 7.0);
  EXPECT_DOUBLE_EQ(f.precision(), 3.0 / 4.0);
  EXPECT_DOUBLE_EQ(f.accuracy(), 3.0 / 7.0);
  // accuracy = coverage * precision
  EXPECT_DOUBLE_EQ(f.accuracy(), f.coverage() * f.precision());
}

TEST(FiguresTest, NothingAnsweredGivesZerosNotNaN) {
  Figures f;
  EXPECT_EQ(f.coverage(), 0.0);
  EXPECT_EQ(f.precision(), 0.0);
  f.Add(Outcome::kDeclined);
  EXPECT_EQ(f.precision(), 0.0);
  EXPECT_EQ(f.accuracy(), 0.0);
}

TEST(SummarizeTest, SplitsByDifficultyAndDatabase) {
  Report r = Summarize(Format::kSpider, {R(0, Outcome::kCorrect, "a", Difficulty::kEasy),
                                         R(1, Outcome::kWrong, "a", Difficulty::kHard),
                                         R(2, Outcome::kGoldError, "b", Difficulty::kHard),
                                         R(3, Outcome::kDeclined, "b", Difficulty::kUnknown)});
  EXPECT_EQ(r.items, 4u);
  EXPECT_EQ(r.databases, 2u);
  EXPECT_EQ(r.gold_errors, 1u);
  EXPECT_EQ(r.overall.questions, 3u);
  EXPECT_EQ(r.by_difficulty[Difficulty::kEasy].correct, 1u);
  EXPECT_EQ(r.by_difficulty[Difficulty::kHard].questions, 1u);
  EXPECT_EQ(r.by_difficulty[Difficulty::kUnknown].declined, 1u);
  EXPECT_EQ(r.by_database["a"].answered, 2u);
  EXPECT_EQ(r.by_database["b"].questions, 1u);
  EXPECT_FALSE(r.interactions.has_value());
}

TEST(SummarizeTest, SameColumnFiguresCountOnlyAnswersWithTheGoldsColumns) {
  QuestionResult exact = R(0, Outcome::kCorrect);
  exact.same_columns = true;
  QuestionResult wider = R(1, Outcome::kCorrect);  // right rows, one column more than the gold
  Report r =
      Summarize(Format::kSpider, {exact, wider, R(2, Outcome::kWrong), R(3, Outcome::kDeclined)});
  EXPECT_EQ(r.overall.correct, 2u);
  EXPECT_EQ(r.overall_same_columns.questions, 4u);
  EXPECT_EQ(r.overall_same_columns.answered, 3u);
  EXPECT_EQ(r.overall_same_columns.correct, 1u);
  EXPECT_EQ(ReportToJson(r)["overall_same_columns"]["correct"], 1);
  EXPECT_NE(SummaryText(r, 5, 0).find("with the gold's columns only"), std::string::npos);
}

TEST(SummarizeTest, AnInteractionIsCorrectOnlyWhenEveryTurnIs) {
  Report r = Summarize(Format::kSparc, {
                                           // 0: all correct
                                           R(0, Outcome::kCorrect),
                                           R(0, Outcome::kCorrect),
                                           // 1: answered, one turn wrong
                                           R(1, Outcome::kCorrect),
                                           R(1, Outcome::kWrong),
                                           // 2: a turn declined
                                           R(2, Outcome::kDeclined),
                                           R(2, Outcome::kCorrect),
                                           // 3: a gold error: left out
                                           R(3, Outcome::kCorrect),
                                           R(3, Outcome::kGoldError),
                                           // 4: an error
                                           R(4, Outcome::kError),
                                       });
  ASSERT_TRUE(r.interactions.has_value());
  EXPECT_EQ(r.interactions->questions, 4u);
  EXPECT_EQ(r.interactions->answered, 2u);
  EXPECT_EQ(r.interactions->correct, 1u);
  EXPECT_EQ(r.interactions->declined, 1u);
  EXPECT_EQ(r.interactions->errors, 1u);
  EXPECT_EQ(r.overall.questions, 8u);
  EXPECT_EQ(r.overall.correct, 5u);
  EXPECT_EQ(r.items, 5u);
}

TEST(ReportJsonTest, ListsWrongAnswersWithBothResultsFirstRows) {
  QuestionResult wrong = R(0, Outcome::kWrong);
  wrong.predicted_sql = "SELECT 2";
  wrong.gold_columns = {"n"};
  wrong.gold_rows = {{int64_t{1}}};
  wrong.predicted_columns = {"m"};
  wrong.predicted_rows = {{std::string("x")}};
  Report r = Summarize(Format::kSpider, {wrong, R(1, Outcome::kGoldError)});
  auto j = ReportToJson(r);
  EXPECT_EQ(j["overall"]["questions"], 1);
  EXPECT_EQ(j["overall"]["precision"], 0.0);
  EXPECT_EQ(j["gold_errors"], 1);
  ASSERT_EQ(j["wrong"].size(), 1u);
  EXPECT_EQ(j["wrong"][0]["question"], "q0");
  EXPECT_EQ(j["wrong"][0]["gold_sql"], "SELECT 1");
  EXPECT_EQ(j["wrong"][0]["predicted_sql"], "SELECT 2");
  EXPECT_EQ(j["wrong"][0]["gold"]["rows"][0][0], 1);
  EXPECT_EQ(j["wrong"][0]["predicted"]["rows"][0][0], "x");
  EXPECT_EQ(j["gold_error_list"].size(), 1u);

  const std::string text = SummaryText(r, 5, 1);
  EXPECT_NE(text.find("predicted: SELECT 2"), std::string::npos) << text;
  EXPECT_NE(text.find("1 gold query failed"), std::string::npos) << text;
  EXPECT_EQ(SummaryText(r, 5, 0).find("predicted: SELECT 2"), std::string::npos);
}

}  // namespace
}  // namespace helios::eval
