// The benchmark comparison (execution accuracy) that the `eval` command and the engine tests use.
#include "eval/compare.h"

#include <gtest/gtest.h>

#include <string>

namespace helios::eval {
namespace {

ResultTable Table(std::vector<std::string> columns, std::vector<db::Row> rows) {
  return {std::move(columns), std::move(rows)};
}

TEST(CompareResultsTest, SameRowsInAnotherOrderMatchWhenTheGoldDoesNotOrder) {
  auto gold = Table({"name"}, {{std::string("a")}, {std::string("b")}});
  auto got = Table({"name"}, {{std::string("b")}, {std::string("a")}});
  EXPECT_EQ(CompareResults(gold, got, false), "");
  EXPECT_NE(CompareResults(gold, got, true), "");
}

TEST(CompareResultsTest, ExtraAnswerColumnsAreAllowedInAnyPosition) {
  auto gold = Table({"name", "age"}, {{std::string("a"), int64_t{3}}});
  auto got = Table({"id", "age", "name"}, {{int64_t{7}, int64_t{3}, std::string("a")}});
  EXPECT_EQ(CompareResults(gold, got, false), "");
}

TEST(CompareResultsTest, AMissingGoldColumnIsADifference) {
  auto gold = Table({"name", "age"}, {{std::string("a"), int64_t{3}}});
  auto got = Table({"name"}, {{std::string("a")}});
  const std::string diff = CompareResults(gold, got, false);
  EXPECT_NE(diff.find("gold column 'age'"), std::string::npos) << diff;
}

TEST(CompareResultsTest, NumbersCompareWithASmallRelativeTolerance) {
  auto gold = Table({"avg"}, {{1.0 / 3.0}});
  EXPECT_EQ(CompareResults(gold, Table({"x"}, {{0.3333333333}}), false), "");
  EXPECT_NE(CompareResults(gold, Table({"x"}, {{0.334}}), false), "");
  // An integer and a real of the same value are equal.
  EXPECT_EQ(CompareResults(Table({"n"}, {{int64_t{5}}}), Table({"n"}, {{5.0}}), false), "");
}

TEST(CompareResultsTest, RowCountsMustBeEqual) {
  auto gold = Table({"n"}, {{int64_t{1}}, {int64_t{1}}});
  const std::string diff = CompareResults(gold, Table({"n"}, {{int64_t{1}}}), false);
  EXPECT_NE(diff.find("expected 2 rows, got 1"), std::string::npos) << diff;
}

TEST(CompareResultsTest, RowsMatchAsWholesNotColumnByColumn) {
  // Each column holds the same values, but the pairs differ.
  auto gold = Table({"a", "b"}, {{int64_t{1}, int64_t{2}}, {int64_t{2}, int64_t{1}}});
  auto got = Table({"a", "b"}, {{int64_t{1}, int64_t{1}}, {int64_t{2}, int64_t{2}}});
  EXPECT_NE(CompareResults(gold, got, false), "");
}

TEST(HasOrderByTest, OnlyATopLevelOrderByCounts) {
  EXPECT_TRUE(HasOrderBy("SELECT name FROM t ORDER BY age"));
  EXPECT_TRUE(HasOrderBy("select name from t order by age desc limit 1"));
  EXPECT_FALSE(HasOrderBy("SELECT name FROM t WHERE id IN (SELECT id FROM u ORDER BY x LIMIT 3)"));
  EXPECT_FALSE(HasOrderBy("SELECT name FROM t"));
}

}  // namespace
}  // namespace helios::eval
