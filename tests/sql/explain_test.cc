#include "sql/explain.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "sql/ir.h"
#include "sql/nested_builders.h"

namespace helios::sql {
namespace {

using ::testing::AllOf;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

ColumnRef C(std::string table, std::string column) {
  return ColumnRef{std::move(table), std::move(column)};
}
Predicate Pred(Expr lhs, CompareOp op, std::vector<db::Value> values = {}) {
  Predicate p;
  p.lhs = std::move(lhs);
  p.op = op;
  p.values = std::move(values);
  return p;
}

TEST(HumanNameTest, SplitsIdentifiersIntoWords) {
  EXPECT_EQ(HumanName("total_amount"), "total amount");
  EXPECT_EQ(HumanName("CustomerName"), "customer name");
  EXPECT_EQ(HumanName("order items"), "order items");
  EXPECT_EQ(HumanName("HTTPCode2"), "http code 2");
  EXPECT_EQ(HumanName("name"), "name");
}

TEST(ExplainTest, ListingNamesColumnsAndTable) {
  Query q;
  q.from = "customers";
  q.select = {{Expr::Col(C("customers", "name")), ""}, {Expr::Col(C("customers", "email")), ""}};
  std::string e = Explain(q);
  EXPECT_THAT(e, AllOf(StartsWith("Lists "), HasSubstr("name and email"), HasSubstr("customers"),
                       EndsWith(".")));
}

TEST(ExplainTest, CountWithFilterNamesTheTableAndTheValue) {
  Query q;
  q.from = "customers";
  q.select = {{Expr::CountStar(), ""}};
  q.where = {Pred(Expr::Col(C("customers", "country")), CompareOp::kEq, {std::string("Germany")})};
  std::string e = Explain(q);
  EXPECT_THAT(e, AllOf(HasSubstr("customers"), HasSubstr("where"),
                       HasSubstr("country is 'Germany'"), EndsWith(".")));
}

TEST(ExplainTest, TopNSaysHighestFirstAndTheLimit) {
  Query q;
  q.from = "orders";
  q.joins = {Join{"customers", C("orders", "customer_id"), C("customers", "customer_id")}};
  Expr revenue = Expr::Agg(Aggregate::kSum, C("orders", "total_amount"));
  q.select = {{Expr::Col(C("customers", "name")), ""}, {revenue, ""}};
  q.group_by = {Expr::Col(C("customers", "name"))};
  q.order_by = {OrderItem{revenue, true}};
  q.limit = 5;
  std::string e = Explain(q);
  EXPECT_THAT(e, AllOf(HasSubstr("total amount"), HasSubstr("orders"), HasSubstr("customers"),
                       HasSubstr("name"), HasSubstr("highest first"), HasSubstr("first 5 rows")));
  EXPECT_THAT(e, Not(HasSubstr("lowest first")));

  q.order_by[0].descending = false;
  q.limit = 1;
  e = Explain(q);
  EXPECT_THAT(e, AllOf(HasSubstr("lowest first"), Not(HasSubstr("highest first")),
                       HasSubstr("first row"), Not(HasSubstr("first 1 rows"))));
}

TEST(ExplainTest, EachAggregateIsWordedDifferently) {
  auto explain = [](Aggregate a) {
    Query q;
    q.from = "products";
    q.select = {{Expr::Agg(a, C("products", "unit_price")), ""}};
    return Explain(q);
  };
  std::set<std::string> seen;
  for (Aggregate a : {Aggregate::kCount, Aggregate::kCountDistinct, Aggregate::kSum,
                      Aggregate::kAvg, Aggregate::kMin, Aggregate::kMax}) {
    std::string e = explain(a);
    EXPECT_THAT(e, AllOf(HasSubstr("unit price"), HasSubstr("products"))) << AggregateName(a);
    seen.insert(e);
  }
  EXPECT_EQ(seen.size(), 6u);
  EXPECT_THAT(explain(Aggregate::kAvg), HasSubstr("average"));
}

TEST(ExplainTest, TimeGrainAndHaving) {
  Query q;
  q.from = "orders";
  Expr month{Aggregate::kNone, C("orders", "order_date"), TimeGrain::kMonth};
  q.select = {{month, ""}, {Expr::CountStar(), ""}};
  q.group_by = {month};
  q.having = {Pred(Expr::CountStar(), CompareOp::kGt, {int64_t{100}})};
  std::string e = Explain(q);
  EXPECT_THAT(
      e, AllOf(HasSubstr("month of order date"), HasSubstr("groups"), HasSubstr("more than 100")));
}

TEST(ExplainTest, EveryComparisonIsWordedWithItsValues) {
  auto where = [](CompareOp op, std::vector<db::Value> values) {
    Query q;
    q.from = "orders";
    q.select = {{Expr::Col(C("orders", "order_id")), ""}};
    q.where = {Pred(Expr::Col(C("orders", "total_amount")), op, std::move(values))};
    return Explain(q);
  };
  using V = std::vector<db::Value>;
  std::set<std::string> seen;
  auto check = [&](CompareOp op, V values, std::vector<std::string> phrases) {
    std::string e = where(op, std::move(values));
    for (const auto& phrase : phrases) EXPECT_THAT(e, HasSubstr(phrase));
    EXPECT_THAT(e, HasSubstr("total amount"));
    seen.insert(e);
  };
  check(CompareOp::kEq, V{int64_t{5}}, {"total amount is 5"});
  check(CompareOp::kNe, V{int64_t{5}}, {"not 5"});
  check(CompareOp::kLt, V{int64_t{5}}, {"less than 5"});
  check(CompareOp::kLe, V{int64_t{5}}, {"at most 5"});
  check(CompareOp::kGt, V{2.5}, {"more than 2.5"});
  check(CompareOp::kGe, V{int64_t{5}}, {"at least 5"});
  check(CompareOp::kBetween, V{int64_t{100}, int64_t{200}}, {"between 100 and 200"});
  check(CompareOp::kRange, V{std::string("2024-01-01"), std::string("2025-01-01")},
        {"'2024-01-01'", "'2025-01-01'"});
  check(CompareOp::kIn, V{std::string("a"), std::string("b")}, {"'a', 'b'"});
  check(CompareOp::kContains, V{std::string("gold")}, {"contains 'gold'"});
  check(CompareOp::kIsNull, V{}, {});
  check(CompareOp::kIsNotNull, V{}, {});
  EXPECT_EQ(seen.size(), 12u);
}

TEST(ExplainTest, SeveralFiltersAreJoinedWithAnd) {
  Query q;
  q.from = "customers";
  q.select = {{Expr::CountStar(), ""}};
  q.where = {
      Pred(Expr::Col(C("customers", "country")), CompareOp::kEq, {std::string("Spain")}),
      Pred(Expr::Col(C("customers", "segment")), CompareOp::kEq, {std::string("Corporate")})};
  EXPECT_THAT(Explain(q), HasSubstr("country is 'Spain' and segment is 'Corporate'"));
}

TEST(ExplainTest, DistinctListing) {
  Query q;
  q.from = "customers";
  q.distinct = true;
  q.select = {{Expr::Col(C("customers", "country")), ""}};
  EXPECT_THAT(Explain(q), StartsWith("Lists the different country"));
}

// ---------------------------------------------------------------------------------------------
// Nested queries: subqueries, OR groups and set operations.

Query Industries(const char* hq) {
  return Select("companies", "industry",
                {Pred(Expr::Col(C("companies", "hq")), CompareOp::kEq, {std::string(hq)})});
}

TEST(ExplainNestedTest, SetOperationsSayHowTheRowsCombine) {
  const std::string left = "Lists industry of companies, where hq is 'USA', ";
  const std::string right = "the industry values of companies where hq is 'China'";
  EXPECT_EQ(Explain(Combine(Industries("USA"), SetOp::kIntersect, Industries("China"))),
            left + "that are also among " + right + ".");
  EXPECT_EQ(Explain(Combine(Industries("USA"), SetOp::kExcept, Industries("China"))),
            left + "excluding those that are among " + right + ".");
  EXPECT_EQ(Explain(Combine(Industries("USA"), SetOp::kUnion, Industries("China"))),
            left + "together with " + right + ", each different row once.");
  EXPECT_EQ(Explain(Combine(Industries("USA"), SetOp::kUnionAll, Industries("China"))),
            left + "together with " + right + ".");
}

TEST(ExplainNestedTest, ACompoundsOrderComesLastAndANestedOneIsInParentheses) {
  Query q = Combine(Industries("Germany"), SetOp::kUnion,
                    Combine(Industries("USA"), SetOp::kIntersect, Industries("China")));
  q.order_by = {{Expr::Col(C("companies", "industry")), true}};
  q.limit = 2;
  EXPECT_EQ(Explain(q),
            "Lists industry of companies, where hq is 'Germany', together with (the industry "
            "values of companies where hq is 'USA', that are also among the industry values of "
            "companies where hq is 'China'), each different row once; sorted by industry, "
            "highest first; only the first 2 rows.");
}

TEST(ExplainNestedTest, ScalarSubqueries) {
  Query avg;
  avg.from = "products";
  avg.select = {{Expr::Agg(Aggregate::kAvg, C("products", "price")), ""}};
  EXPECT_EQ(Explain(Select("products", "name",
                           {Against(Expr::Col(C("products", "price")), CompareOp::kGt, avg)})),
            "Lists name of products, where price is above the average price of products.");
  Query count;
  count.from = "products";
  count.select = {{Expr::CountStar(), ""}};
  EXPECT_EQ(Explain(Select("shops", "name",
                           {Against(Expr::Col(C("shops", "stock")), CompareOp::kLt, count)})),
            "Lists name of shops, where stock is below the number of products.");
  // "employees in the department with the most employees"
  Query biggest = Select("employees", "dept_id");
  biggest.group_by = {Expr::Col(C("employees", "dept_id"))};
  biggest.order_by = {{Expr::CountStar(), true}};
  biggest.limit = 1;
  EXPECT_EQ(
      Explain(Select("employees", "name",
                     {Against(Expr::Col(C("employees", "dept_id")), CompareOp::kEq, biggest)})),
      "Lists name of employees, where dept id is the dept id of employees with the highest "
      "number of employees.");
}

TEST(ExplainNestedTest, InSubqueries) {
  Query enrolled = Select("enrolled", "student_id",
                          {Pred(Expr::Col(C("enrolled", "student_id")), CompareOp::kIsNotNull)});
  Query q = Select("students", "name",
                   {Against(Expr::Col(C("students", "id")), CompareOp::kIn, enrolled, true)});
  EXPECT_EQ(Explain(q),
            "Lists name of students, where id is not one of the student id values of enrolled "
            "where student id is present.");
  q.where[0].negated = false;
  q.where[0].subquery[0].order_by = {{Expr::Col(C("enrolled", "student_id")), false}};
  q.where[0].subquery[0].limit = 3;
  EXPECT_EQ(Explain(q),
            "Lists name of students, where id is one of the student id values of enrolled where "
            "student id is present, the 3 with the lowest student id.");
}

TEST(ExplainNestedTest, OrGroups) {
  Predicate usa = Pred(Expr::Col(C("companies", "hq")), CompareOp::kEq, {std::string("USA")});
  Predicate tech =
      Pred(Expr::Col(C("companies", "industry")), CompareOp::kEq, {std::string("tech")});
  Predicate big = Pred(Expr::Col(C("companies", "staff")), CompareOp::kGt, {int64_t{100}});
  // Before another filter the group is in parentheses, so the "and" is not read into it.
  EXPECT_EQ(Explain(Select("companies", "name", {AnyOf({usa, tech}), big})),
            "Lists name of companies, where (either hq is 'USA' or industry is 'tech') and staff "
            "is more than 100.");
  EXPECT_EQ(Explain(Select("companies", "name", {big, AnyOf({usa, tech, big})})),
            "Lists name of companies, where staff is more than 100 and either hq is 'USA', "
            "industry is 'tech' or staff is more than 100.");
  EXPECT_EQ(Explain(Select("companies", "name", {AnyOf({usa, tech}, true)})),
            "Lists name of companies, where neither hq is 'USA' nor industry is 'tech'.");
}

}  // namespace
}  // namespace helios::sql
