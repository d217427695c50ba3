#include "nl2sql/examples/question_terms.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace helios::nl2sql::examples {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(NormalizeQuestion, FoldsCasePunctuationAndSpaces) {
  EXPECT_EQ(NormalizeQuestion("  Top 5 customers,   by REVENUE?! "), "top 5 customers by revenue");
  EXPECT_EQ(NormalizeQuestion("top 5 customers by revenue"),
            NormalizeQuestion("Top 5 Customers by revenue."));
  EXPECT_NE(NormalizeQuestion("top 5 customers"), NormalizeQuestion("top 50 customers"));
  EXPECT_EQ(NormalizeQuestion("Umsatz für München"), "umsatz für münchen");
  EXPECT_EQ(NormalizeQuestion("?!"), "");
}

TEST(QuestionTerms, LemmatisesAndDropsStopWordsAndValues) {
  // "the", "of", "show", "me", "in" are stop words; 5, 2024 and the quoted value are values.
  EXPECT_EQ(QuestionTerms("Show me the 5 customers in 2024 from 'New York'"),
            QuestionTerms("customer"));
  EXPECT_EQ(QuestionTerms("categories"), QuestionTerms("category"));
  EXPECT_EQ(QuestionTerms("sold"), QuestionTerms("sell"));
  EXPECT_THAT(QuestionTerms("the of a please"), IsEmpty());
  EXPECT_THAT(QuestionTerms(""), IsEmpty());
}

TEST(QuestionTerms, KeepsWordsThatShapeTheSql) {
  // Stop words to the engine, but a COUNT and a GROUP BY to the SQL.
  EXPECT_EQ(QuestionTerms("how many customers").size(), 2u);
  EXPECT_EQ(QuestionTerms("revenue per region").size(), 3u);
  EXPECT_EQ(QuestionTerms("total orders").size(), 2u);
}

TEST(QuestionTerms, SynonymsShareATerm) {
  EXPECT_EQ(Term("sales"), Term("revenue"));
  EXPECT_EQ(Term("revenue"), Term("amount"));
  EXPECT_EQ(Term("clients"), Term("customer"));
  EXPECT_EQ(Term("staff"), Term("employees"));
  EXPECT_EQ(Term("top"), Term("most"));
  EXPECT_EQ(Term("highest"), Term("best"));
  EXPECT_EQ(Term("count"), Term("number"));
  EXPECT_NE(Term("top"), Term("lowest"));
  EXPECT_NE(Term("customer"), Term("product"));
  EXPECT_EQ(Term("zebra"), Term("zebras"));
}

TEST(QuestionTerms, RepeatsAreKeptInOrder) {
  const auto terms = QuestionTerms("customers and their customers' orders");
  ASSERT_EQ(terms.size(), 3u);
  EXPECT_EQ(terms[0], terms[1]);
  EXPECT_THAT(terms, ElementsAre(Term("customer"), Term("customer"), Term("order")));
}

}  // namespace
}  // namespace helios::nl2sql::examples
