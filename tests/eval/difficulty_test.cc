// Spider's difficulty classes of hand-picked gold queries from the Spider training and
// development sets, with the class the official evaluation gives them.
#include "eval/difficulty.h"

#include <gtest/gtest.h>

namespace helios::eval {
namespace {

TEST(DifficultyTest, ClassifiesSpiderGoldQueriesOfEachClass) {
  EXPECT_EQ(ClassifySpider("SELECT count(*) FROM singer"), Difficulty::kEasy);
  EXPECT_EQ(ClassifySpider("SELECT name FROM head WHERE born_state != 'California'"),
            Difficulty::kEasy);
  EXPECT_EQ(ClassifySpider("SELECT name ,  country ,  age FROM singer ORDER BY age DESC"),
            Difficulty::kMedium);
  // One component (GROUP BY); the HAVING aggregate alone is not "more than one".
  EXPECT_EQ(
      ClassifySpider("SELECT born_state FROM head GROUP BY born_state HAVING count(*)  >=  3"),
      Difficulty::kEasy);
  EXPECT_EQ(ClassifySpider("SELECT T1.name FROM department AS T1 JOIN management AS T2 ON "
                           "T1.department_id = T2.department_id WHERE T2.temporary_acting = 'Yes'"),
            Difficulty::kMedium);
  EXPECT_EQ(ClassifySpider("SELECT T2.name FROM singer_in_concert AS T1 JOIN singer AS T2 ON "
                           "T1.singer_id = T2.singer_id JOIN concert AS T3 ON T1.concert_id = "
                           "T3.concert_id WHERE T3.year = 2014"),
            Difficulty::kHard);
  EXPECT_EQ(ClassifySpider("SELECT name FROM stadium WHERE stadium_id NOT IN (SELECT stadium_id "
                           "FROM concert)"),
            Difficulty::kHard);
  EXPECT_EQ(ClassifySpider("SELECT T2.name ,  T2.capacity FROM concert AS T1 JOIN stadium AS T2 "
                           "ON T1.stadium_id  =  T2.stadium_id WHERE T1.year  >=  2014 GROUP BY "
                           "T2.stadium_id ORDER BY count(*) DESC LIMIT 1"),
            Difficulty::kExtra);
  EXPECT_EQ(ClassifySpider("SELECT country FROM singer WHERE age  >  40 INTERSECT SELECT country "
                           "FROM singer WHERE age  <  30"),
            Difficulty::kHard);
  EXPECT_EQ(ClassifySpider("SELECT name ,  capacity FROM stadium WHERE average  >  (SELECT "
                           "avg(average) FROM stadium) EXCEPT SELECT name, capacity FROM stadium "
                           "WHERE capacity > 100"),
            Difficulty::kExtra);
}

TEST(DifficultyTest, CountsTheComponentsTheRulesLookAt) {
  HardnessCounts c;
  ASSERT_TRUE(
      CountHardness("SELECT a, count(*), max(b) FROM t JOIN u ON t.id = u.id WHERE x LIKE "
                    "'%y%' OR z = 1 GROUP BY a, c ORDER BY a LIMIT 3",
                    c));
  // WHERE, GROUP BY, ORDER BY, LIMIT, one join, one OR, one LIKE.
  EXPECT_EQ(c.component1, 7);
  EXPECT_EQ(c.component2, 0);
  // Two aggregates, three select columns, two WHERE conditions, two GROUP BY columns.
  EXPECT_EQ(c.others, 4);

  ASSERT_TRUE(
      CountHardness("SELECT a FROM t WHERE b IN (SELECT b FROM u WHERE c LIKE 'x' OR d = "
                    "1) UNION SELECT a FROM v",
                    c));
  // Nothing inside the subquery counts toward the outer query's components.
  EXPECT_EQ(c.component1, 1);
  EXPECT_EQ(c.component2, 2);
  EXPECT_EQ(c.others, 0);
}

TEST(DifficultyTest, ThresholdsFollowEvalHardness) {
  EXPECT_EQ(ClassifyCounts({1, 0, 0}), Difficulty::kEasy);
  EXPECT_EQ(ClassifyCounts({1, 0, 2}), Difficulty::kMedium);
  EXPECT_EQ(ClassifyCounts({2, 0, 1}), Difficulty::kMedium);
  EXPECT_EQ(ClassifyCounts({2, 0, 3}), Difficulty::kHard);
  EXPECT_EQ(ClassifyCounts({3, 0, 2}), Difficulty::kHard);
  EXPECT_EQ(ClassifyCounts({1, 1, 0}), Difficulty::kHard);
  EXPECT_EQ(ClassifyCounts({4, 0, 0}), Difficulty::kExtra);
  EXPECT_EQ(ClassifyCounts({1, 1, 1}), Difficulty::kExtra);
  EXPECT_EQ(ClassifyCounts({3, 0, 3}), Difficulty::kExtra);
}

TEST(DifficultyTest, QueriesThePostgresParserCannotReadAreUnknown) {
  EXPECT_EQ(ClassifySpider("SELECT `name` FROM singer"), Difficulty::kUnknown);
  EXPECT_EQ(ClassifySpider("SELECT FROM WHERE"), Difficulty::kUnknown);
  EXPECT_EQ(ClassifySpider("DELETE FROM singer"), Difficulty::kUnknown);
  EXPECT_EQ(DifficultyName(Difficulty::kUnknown), "unknown");
}

}  // namespace
}  // namespace helios::eval
