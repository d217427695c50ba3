#include "sql/explain.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "sql/ir.h"

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

}  // namespace
}  // namespace helios::sql
