// Re-binding cached queries that nest: values in subqueries, set operands and OR groups are
// places like the outer query's, so they are rebound, and an old value in two of them, or
// hiding in one, is a refusal rather than a mix of old and new values. (The rules on flat
// queries and SQL text are in tests/cache/rebind_test.cc.)
#include "nl2sql/rebind.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sql/ir.h"

namespace helios::nl2sql {
namespace {

using cache::Slot;
using sql::CompareOp;
using sql::Query;
using Values = std::vector<db::Value>;

sql::Predicate Filter(const char* table, const char* column, CompareOp op, Values values,
                      std::string phrase) {
  sql::Predicate p;
  p.lhs = sql::Expr::Col({table, column});
  p.op = op;
  p.values = std::move(values);
  p.phrase = std::move(phrase);
  return p;
}

Query Select(const char* table, const char* column, std::vector<sql::Predicate> where = {}) {
  Query q;
  q.from = table;
  q.select = {{sql::Expr::Col({table, column}), ""}};
  q.where = std::move(where);
  return q;
}

Query Combine(Query left, sql::SetOp op, Query right) {
  left.set_op = op;
  left.set_rhs = {std::move(right)};
  return left;
}

sql::Predicate Against(const char* table, const char* column, CompareOp op, Query sub,
                       std::string phrase = "") {
  sql::Predicate p;
  p.lhs = sql::Expr::Col({table, column});
  p.op = op;
  p.subquery = {std::move(sub)};
  p.phrase = std::move(phrase);
  return p;
}

Query Industries(const char* hq) {
  return Select("companies", "industry",
                {Filter("companies", "hq", CompareOp::kEq, {db::Value{hq}}, hq)});
}

Slot Hq(std::string c) { return {"value:companies.hq", c, c}; }
Slot Number(std::string n) { return {"number", n, n}; }
Slot Year(std::string y) { return {"year", y, y}; }

// "which industries have companies in both USA and China"
TEST(RebindNestedTest, ValuesOfBothSidesOfASetOperation) {
  Query q = Combine(Industries("USA"), sql::SetOp::kIntersect, Industries("China"));
  auto r = RebindQuery(q, {Hq("USA"), Hq("China")}, {Hq("France"), Hq("Japan")});
  ASSERT_TRUE(r);
  Query expected = Combine(Industries("France"), sql::SetOp::kIntersect, Industries("Japan"));
  EXPECT_EQ(*r, expected);
}

// "products priced above the average price of toys"
TEST(RebindNestedTest, ValuesInsideASubquery) {
  Query avg;
  avg.from = "products";
  avg.select = {{sql::Expr::Agg(sql::Aggregate::kAvg, {"products", "price"}), ""}};
  avg.where = {Filter("products", "category", CompareOp::kEq, {db::Value{"toys"}}, "")};
  Query q =
      Select("products", "name",
             {Against("products", "price", CompareOp::kGt, avg, "above the average of toys")});
  auto r = RebindQuery(q, {{"value:products.category", "toys", "toys"}},
                       {{"value:products.category", "games", "games"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->where[0].subquery[0].where[0].values, (Values{db::Value{"games"}}));
  // The words of the filter holding the subquery name the value: they follow it.
  EXPECT_EQ(r->where[0].phrase, "above the average of games");
  // Those words also gate the subquery's values: words that do not name the value keep it.
  q.where[0].phrase = "above the average";
  EXPECT_FALSE(RebindQuery(q, {{"value:products.category", "toys", "toys"}},
                           {{"value:products.category", "games", "games"}}));
}

// "employees in the 3 departments with the most employees"
TEST(RebindNestedTest, ALimitInsideASubquery) {
  Query biggest = Select("employees", "dept_id");
  biggest.group_by = {sql::Expr::Col({"employees", "dept_id"})};
  biggest.order_by = {{sql::Expr::CountStar(), true}};
  biggest.limit = 3;
  Query q = Select("employees", "name", {Against("employees", "dept_id", CompareOp::kIn, biggest)});
  auto r = RebindQuery(q, {Number("3")}, {Number("5")});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->where[0].subquery[0].limit, 5);
  EXPECT_FALSE(RebindQuery(q, {Number("3")}, {Number("0")}));  // still a positive row count
  // The same number as the outer LIMIT too: which one did the question mean?
  q.limit = 3;
  EXPECT_FALSE(RebindQuery(q, {Number("3")}, {Number("5")}));
}

// "employees of the 1 biggest department" to "... of the 3 biggest departments": compared
// with one value, the subquery may return one row only; with IN any number.
TEST(RebindNestedTest, ALimitThatWouldBreakAScalarSubqueryIsRefused) {
  Query biggest = Select("employees", "dept_id");
  biggest.group_by = {sql::Expr::Col({"employees", "dept_id"})};
  biggest.order_by = {{sql::Expr::CountStar(), true}};
  biggest.limit = 1;
  Query q = Select("employees", "name", {Against("employees", "dept_id", CompareOp::kEq, biggest)});
  ASSERT_TRUE(sql::Validate(q));
  EXPECT_FALSE(RebindQuery(q, {Number("1")}, {Number("3")}));
  q.where[0].op = CompareOp::kIn;
  auto r = RebindQuery(q, {Number("1")}, {Number("3")});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->where[0].subquery[0].limit, 3);
}

TEST(RebindNestedTest, AValueInTwoNestedPlacesIsRefused) {
  // USA on both sides: the one place a value slot claims is not one.
  Query q = Combine(Industries("USA"), sql::SetOp::kExcept, Industries("USA"));
  EXPECT_FALSE(RebindQuery(q, {Hq("USA")}, {Hq("France")}));
  // In the outer query and in a subquery.
  Query sub = Select("companies", "id",
                     {Filter("companies", "hq", CompareOp::kEq, {db::Value{"USA"}}, "USA")});
  Query outer = Industries("USA");
  outer.where.push_back(Against("companies", "id", CompareOp::kIn, sub));
  EXPECT_FALSE(RebindQuery(outer, {Hq("USA")}, {Hq("France")}));
}

// A year claims every place of its period: all of them move, at every depth, so no old year
// is left behind.
TEST(RebindNestedTest, AYearMovesEverywhereItIs) {
  auto in_year = [](const char* table) {
    return Filter(table, "ordered_at", CompareOp::kRange,
                  {db::Value{"2024-01-01"}, db::Value{"2025-01-01"}}, "in 2024");
  };
  Query avg;
  avg.from = "orders";
  avg.select = {{sql::Expr::Agg(sql::Aggregate::kAvg, {"orders", "total"}), ""}};
  avg.where = {in_year("orders")};
  Query q = Select("orders", "id",
                   {in_year("orders"), Against("orders", "total", CompareOp::kGt, avg, "in 2024")});
  q = Combine(q, sql::SetOp::kUnion, Select("returns", "order_id", {in_year("returns")}));
  auto r = RebindQuery(q, {Year("2024")}, {Year("2022")});
  ASSERT_TRUE(r);
  const Values moved = {db::Value{"2022-01-01"}, db::Value{"2023-01-01"}};
  EXPECT_EQ(r->where[0].values, moved);
  EXPECT_EQ(r->where[1].subquery[0].where[0].values, moved);
  EXPECT_EQ(r->set_rhs[0].where[0].values, moved);
  EXPECT_EQ(r->where[1].phrase, "in 2022");
  EXPECT_EQ(r->set_rhs[0].where[0].phrase, "in 2022");
}

// An old value hiding in a nested literal would survive the rebinding: refused.
TEST(RebindNestedTest, AnOldValueHiddenInANestedLiteralIsRefused) {
  Query q = Industries("USA");
  q.set_op = sql::SetOp::kExcept;
  q.set_rhs = {
      Select("companies", "industry",
             {Filter("companies", "name", CompareOp::kContains, {db::Value{"USA Inc"}}, "")})};
  EXPECT_FALSE(RebindQuery(q, {Hq("USA")}, {Hq("France")}));
  q.set_rhs[0].where[0].values = {db::Value{"Acme Inc"}};
  auto r = RebindQuery(q, {Hq("USA")}, {Hq("France")});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->where[0].values, (Values{db::Value{"France"}}));
  EXPECT_EQ(r->set_rhs[0].where[0].values, (Values{db::Value{"Acme Inc"}}));
}

// "companies in Germany or with more than 100 staff"
TEST(RebindNestedTest, MembersOfAnOrGroupUseTheGroupsWords) {
  sql::Predicate group;
  group.any = {Filter("companies", "hq", CompareOp::kEq, {db::Value{"Germany"}}, ""),
               Filter("companies", "staff", CompareOp::kGt, {db::Value{int64_t{100}}}, "")};
  group.phrase = "in Germany or with more than 100 staff";
  Query q = Select("companies", "name", {group});
  auto r = RebindQuery(q, {Hq("Germany"), Number("100")}, {Hq("Spain"), Number("250")});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->where[0].any[0].values, (Values{db::Value{"Spain"}}));
  EXPECT_EQ(r->where[0].any[1].values, (Values{db::Value{int64_t{250}}}));
  EXPECT_EQ(r->where[0].phrase, "in Spain or with more than 250 staff");
  // A member's own words win: here they do not name the number, so it is found nowhere.
  q.where[0].any[1].phrase = "big";
  EXPECT_FALSE(RebindQuery(q, {Hq("Germany"), Number("100")}, {Hq("Spain"), Number("250")}));
}

TEST(RebindNestedTest, AQueryWithoutNestingIsUnchangedByTheWalk) {
  Query q = Industries("USA");
  q.limit = 5;
  auto r = RebindQuery(q, {Hq("USA"), Number("5")}, {Hq("Peru"), Number("7")});
  ASSERT_TRUE(r);
  Query expected = Industries("Peru");
  expected.limit = 7;
  EXPECT_EQ(*r, expected);
}

}  // namespace
}  // namespace helios::nl2sql
