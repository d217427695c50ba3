#include "sql/ir_json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sql/ir.h"

namespace helios::sql {
namespace {

using db::Value;
using nlohmann::json;

ColumnRef C(std::string table, std::string column) {
  return ColumnRef{std::move(table), std::move(column)};
}

Predicate Pred(Expr lhs, CompareOp op, std::vector<Value> values = {}) {
  Predicate p;
  p.lhs = std::move(lhs);
  p.op = op;
  p.values = std::move(values);
  return p;
}

// Through text, as a store keeps it.
Query RoundTrip(const Query& q) {
  std::string text = QueryToJson(q).dump();
  auto back = QueryFromJson(json::parse(text));
  EXPECT_TRUE(back.has_value()) << back.error().message << "\n" << text;
  return back ? *back : Query{};
}

Value RoundTrip(const Value& v) {
  std::string text = ValueToJson(v).dump();
  auto back = ValueFromJson(json::parse(text));
  EXPECT_TRUE(back.has_value()) << back.error().message << "\n" << text;
  return back ? *back : Value(std::string("<failed>"));
}

// The error for `text`, failing the test when it parses.
Error QueryError(const std::string& text) {
  auto q = QueryFromJson(json::parse(text));
  EXPECT_FALSE(q.has_value()) << text << " was accepted";
  return q ? Error() : q.error();
}

// What the engine builds for "revenue by month of German customers in 2024 who are not on the
// trial plan, months over 1000, highest first, top 5".
Query EngineShapedQuery() {
  Query q;
  q.from = "orders";
  q.joins = {Join{"customers", C("orders", "customer_id"), C("customers", "id")},
             Join{"plans", C("customers", "plan_id"), C("plans", "id")}};
  q.select = {{Expr{Aggregate::kNone, C("orders", "ordered_at"), TimeGrain::kMonth}, "month"},
              {Expr::Agg(Aggregate::kSum, C("orders", "total")), "revenue"}};
  Predicate country = Pred(Expr::Col(C("customers", "country")), CompareOp::kEq, {"Germany"});
  country.case_insensitive = true;
  country.phrase = "German customers";
  Predicate year =
      Pred(Expr::Col(C("orders", "ordered_at")), CompareOp::kRange, {"2024-01-01", "2025-01-01"});
  year.phrase = "in 2024";
  Predicate plan = Pred(Expr::Col(C("plans", "name")), CompareOp::kIn, {"trial", "free"});
  plan.negated = true;
  plan.phrase = "not on the trial plan";
  q.where = {country, year, plan};
  q.group_by = {Expr{Aggregate::kNone, C("orders", "ordered_at"), TimeGrain::kMonth}};
  q.having = {Pred(Expr::Agg(Aggregate::kSum, C("orders", "total")), CompareOp::kGt,
                   {db::Decimal{"1000.00"}})};
  q.order_by = {{Expr::Agg(Aggregate::kSum, C("orders", "total")), true}};
  q.limit = 5;
  return q;
}

TEST(IrJsonTest, EngineShapedQueryRoundTrips) {
  Query q = EngineShapedQuery();
  EXPECT_EQ(RoundTrip(q), q);
  q.distinct = true;
  q.select.push_back({Expr::CountStar(), "orders"});
  q.select.push_back({Expr::Agg(Aggregate::kCountDistinct, C("customers", "id")), ""});
  q.select.push_back({Expr::Col(C("customers", "*")), ""});
  EXPECT_EQ(RoundTrip(q), q);
}

TEST(IrJsonTest, EmptyQueryIsAnEmptyObject) {
  EXPECT_EQ(QueryToJson(Query{}).dump(), "{}");
  auto q = QueryFromJson(json::object());
  ASSERT_TRUE(q.has_value()) << q.error().message;
  EXPECT_EQ(*q, Query{});
}

TEST(IrJsonTest, DefaultsAreLeftOutAndReadBack) {
  Query q;
  q.from = "customers";
  q.select = {{Expr::CountStar(), ""}};
  EXPECT_EQ(QueryToJson(q).dump(), R"({"from":"customers","select":[{"expr":{"agg":"count"}}]})");
  EXPECT_EQ(RoundTrip(q), q);
}

TEST(IrJsonTest, EveryAggregateRoundTrips) {
  for (Aggregate a : {Aggregate::kNone, Aggregate::kCount, Aggregate::kCountDistinct,
                      Aggregate::kSum, Aggregate::kAvg, Aggregate::kMin, Aggregate::kMax}) {
    Query q;
    q.from = "t";
    q.select = {{Expr::Agg(a, C("t", "x")), "v"}};
    q.order_by = {{Expr::Agg(a, C("t", "x")), false}};
    Query back = RoundTrip(q);
    EXPECT_EQ(back, q) << static_cast<int>(a);
    EXPECT_EQ(back.select[0].expr.agg, a);
  }
}

TEST(IrJsonTest, EveryTimeGrainRoundTrips) {
  for (TimeGrain g : {TimeGrain::kNone, TimeGrain::kYear, TimeGrain::kQuarter, TimeGrain::kMonth,
                      TimeGrain::kWeek, TimeGrain::kDay}) {
    Query q;
    q.from = "t";
    q.group_by = {Expr{Aggregate::kNone, C("t", "d"), g}};
    Query back = RoundTrip(q);
    EXPECT_EQ(back, q) << static_cast<int>(g);
    EXPECT_EQ(back.group_by[0].grain, g);
  }
}

TEST(IrJsonTest, EveryComparisonAndPredicateFlagRoundTrips) {
  for (CompareOp op :
       {CompareOp::kEq, CompareOp::kNe, CompareOp::kLt, CompareOp::kLe, CompareOp::kGt,
        CompareOp::kGe, CompareOp::kBetween, CompareOp::kRange, CompareOp::kIn,
        CompareOp::kContains, CompareOp::kIsNull, CompareOp::kIsNotNull}) {
    for (int flags = 0; flags < 4; ++flags) {
      Query q;
      q.from = "t";
      Predicate p = Pred(Expr::Col(C("t", "x")), op, {int64_t{1}, "two"});
      p.case_insensitive = flags & 1;
      p.negated = flags & 2;
      p.phrase = flags ? "the words" : "";
      q.where = {p};
      q.having = {p};
      Query back = RoundTrip(q);
      EXPECT_EQ(back, q) << static_cast<int>(op) << " " << flags;
      EXPECT_EQ(back.where[0].op, op);
    }
  }
}

TEST(IrJsonTest, LimitKeepsEveryInt64AndZeroDiffersFromNone) {
  for (int64_t limit : {int64_t{0}, int64_t{1}, int64_t{-1}, (int64_t{1} << 53) + 1,
                        std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()}) {
    Query q;
    q.from = "t";
    q.limit = limit;
    Query back = RoundTrip(q);
    ASSERT_TRUE(back.limit.has_value());
    EXPECT_EQ(*back.limit, limit);
  }
  Query none;
  none.from = "t";
  EXPECT_FALSE(RoundTrip(none).limit.has_value());
  auto explicit_null = QueryFromJson(json::parse(R"({"from":"t","limit":null})"));
  ASSERT_TRUE(explicit_null.has_value()) << explicit_null.error().message;
  EXPECT_FALSE(explicit_null->limit.has_value());
}

TEST(IrJsonTest, MissingColumnDiffersFromAnEmptyOne) {
  Query q;
  q.select = {{Expr{Aggregate::kCount, std::nullopt, TimeGrain::kNone}, ""},
              {Expr{Aggregate::kCount, ColumnRef{}, TimeGrain::kNone}, ""}};
  Query back = RoundTrip(q);
  EXPECT_EQ(back, q);
  EXPECT_FALSE(back.select[0].expr.column.has_value());
  EXPECT_TRUE(back.select[1].expr.column.has_value());
}

TEST(IrJsonTest, EveryValueKindRoundTrips) {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  std::vector<uint8_t> blob_bytes(all_bytes.begin(), all_bytes.end());
  std::vector<Value> values = {
      Value(),
      int64_t{0},
      int64_t{5},
      int64_t{-5},
      (int64_t{1} << 53) + 1,
      std::numeric_limits<int64_t>::max(),
      std::numeric_limits<int64_t>::min(),
      0.1,
      1.0 / 3.0,
      5.0,
      -2.5e-300,
      std::numeric_limits<double>::max(),
      std::numeric_limits<double>::lowest(),
      std::numeric_limits<double>::denorm_min(),
      std::numeric_limits<double>::infinity(),
      -std::numeric_limits<double>::infinity(),
      std::string(),
      std::string("5"),
      std::string("M\xC3\xBCller \xE2\x82\xAC \xF0\x9F\x98\x80"),
      std::string("quote \" backslash \\ newline \n tab \t"),
      std::string("nul\0inside", 10),
      std::string("\xFF\xFE not UTF-8 \xC3"),
      all_bytes,
      db::Blob{},
      db::Blob{blob_bytes},
      true,
      false,
      db::Decimal{"-1234.50"},
      db::Decimal{"5"},
      db::Decimal{"0.000000000000000000000000000001"},
      db::Decimal{""},
  };
  for (const Value& v : values) {
    Value back = RoundTrip(v);
    EXPECT_EQ(back.index(), v.index()) << ValueToJson(v).dump();
    EXPECT_EQ(back, v) << ValueToJson(v).dump();
  }
}

TEST(IrJsonTest, DoublesKeepTheirExactBits) {
  Value neg_zero = RoundTrip(Value(-0.0));
  ASSERT_TRUE(std::holds_alternative<double>(neg_zero));
  EXPECT_TRUE(std::signbit(std::get<double>(neg_zero)));
  Value zero = RoundTrip(Value(0.0));
  ASSERT_TRUE(std::holds_alternative<double>(zero));
  EXPECT_FALSE(std::signbit(std::get<double>(zero)));

  Value nan = RoundTrip(Value(std::numeric_limits<double>::quiet_NaN()));
  ASSERT_TRUE(std::holds_alternative<double>(nan));
  EXPECT_TRUE(std::isnan(std::get<double>(nan)));

  // 0.1 and its neighbours are three different doubles and stay so.
  double tenth = 0.1;
  for (double d : {std::nextafter(tenth, 0.0), tenth, std::nextafter(tenth, 1.0)}) {
    Value back = RoundTrip(Value(d));
    ASSERT_TRUE(std::holds_alternative<double>(back));
    EXPECT_EQ(std::get<double>(back), d);
  }
  EXPECT_EQ(ValueToJson(Value(0.1)).dump(), R"({"double":"0.1"})");
}

TEST(IrJsonTest, TypeTagsKeepLookAlikesApart) {
  std::vector<Value> five = {int64_t{5}, 5.0, std::string("5"), db::Decimal{"5"}};
  std::vector<std::string> texts;
  for (const Value& v : five) texts.push_back(ValueToJson(v).dump());
  EXPECT_EQ(texts[0], R"({"int":"5"})");
  EXPECT_EQ(texts[1], R"({"double":"5"})");
  EXPECT_EQ(texts[2], R"({"string":"5"})");
  EXPECT_EQ(texts[3], R"({"decimal":"5"})");
  for (const Value& v : five) EXPECT_EQ(RoundTrip(v), v);

  std::vector<Value> empties = {Value(), std::string(), db::Blob{}, db::Decimal{""}, false};
  for (const Value& v : empties) EXPECT_EQ(RoundTrip(v).index(), v.index());
  EXPECT_EQ(ValueToJson(Value()).dump(), R"({"null":null})");
  EXPECT_EQ(ValueToJson(db::Blob{{0x00, 0xAB, 0xFF}}).dump(), R"({"blob":"00abff"})");
  EXPECT_EQ(ValueToJson(Value(true)).dump(), R"({"bool":true})");
}

TEST(IrJsonTest, BadJsonIsRefusedSayingWhere) {
  struct Case {
    const char* json;
    const char* expected;  // a part of the message
  };
  const Case cases[] = {
      {R"([])", "expected an object, got array"},
      {R"({"fro":"t"})", "unknown field \"fro\""},
      {R"({"from":5})", "from: expected a string, got number"},
      {R"({"distinct":"yes"})", "distinct: expected true or false"},
      {R"({"select":{}})", "select: expected a list"},
      {R"({"select":[{"expr":{"agg":"median"}}]})", "select[0].expr.agg: unknown aggregate"},
      {R"({"group_by":[{"grain":"decade"}]})", "group_by[0].grain: unknown time grain"},
      {R"({"where":[{"lhs":{},"op":"like"}]})", "where[0].op: unknown comparison \"like\""},
      {R"({"where":[{"op":"eq"}]})", "where[0]: a filter needs \"lhs\""},
      {R"({"where":[{"lhs":{},"values":[5]}]})", "where[0].values[0]: expected an object"},
      {R"({"where":[{"lhs":{},"values":[{"int":5}]}]})", "values[0].int: expected a string"},
      {R"({"where":[{"lhs":{},"values":[{"int":"12x"}]}]})", "\"12x\" is not a 64-bit integer"},
      {R"({"where":[{"lhs":{},"values":[{"int":"9223372036854775808"}]}]})",
       "is not a 64-bit integer"},
      {R"({"where":[{"lhs":{},"values":[{"int":" 1"}]}]})", "is not a 64-bit integer"},
      {R"({"where":[{"lhs":{},"values":[{"double":"0.1x"}]}]})", "is not a floating-point"},
      {R"({"where":[{"lhs":{},"values":[{"double":""}]}]})", "is not a floating-point"},
      {R"({"where":[{"lhs":{},"values":[{"blob":"abc"}]}]})", "even number of digits"},
      {R"({"where":[{"lhs":{},"values":[{"blob":"zz"}]}]})", "may only contain 0-9 and a-f"},
      {R"({"where":[{"lhs":{},"values":[{"integer":"1"}]}]})", "unknown value type \"integer\""},
      {R"({"where":[{"lhs":{},"values":[{"int":"1","string":"1"}]}]})", "exactly one member"},
      {R"({"where":[{"lhs":{},"values":[{}]}]})", "exactly one member"},
      {R"({"where":[{"lhs":{},"values":[{"null":0}]}]})", "values[0].null: expected null"},
      {R"({"having":[{"lhs":{"column":{"table":1}}}]})", "having[0].lhs.column.table"},
      {R"({"joins":[{"table":"t","left":{},"right":[]}]})", "joins[0].right: expected an object"},
      {R"({"order_by":[{"expr":{},"descending":1}]})", "order_by[0].descending"},
      {R"({"limit":2.5})", "limit: expected an integer"},
      {R"({"limit":"5"})", "limit: expected an integer"},
      {R"({"limit":9223372036854775808})", "limit: the integer is too large"},
  };
  for (const Case& c : cases) {
    Error e = QueryError(c.json);
    EXPECT_EQ(e.code, ErrorCode::kInvalidArgument) << c.json;
    EXPECT_NE(e.message.find(c.expected), std::string::npos)
        << c.json << " gave: " << e.message << "\nexpected to contain: " << c.expected;
  }
}

TEST(IrJsonTest, BadValueJsonIsRefused) {
  auto v = ValueFromJson(json::parse(R"({"bool":"true"})"));
  ASSERT_FALSE(v.has_value());
  EXPECT_EQ(v.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(v.error().message.find("bool: expected true or false"), std::string::npos)
      << v.error().message;
}

// ---------------------------------------------------------------------------------------------
// Nested queries: subqueries, OR groups and set operations.

Query Combine(Query left, SetOp op, Query right) {
  left.set_op = op;
  left.set_rhs = {std::move(right)};
  return left;
}

Query Industries(const char* hq) {
  Query q;
  q.from = "companies";
  q.select = {{Expr::Col(C("companies", "industry")), ""}};
  q.where = {Pred(Expr::Col(C("companies", "hq")), CompareOp::kEq, {std::string(hq)})};
  return q;
}

// Industries in the USA that are also those of companies whose id is among the enrolled
// students' (a subquery) or that are big, excluding the industries of EngineShapedQuery's...
Query NestedQuery() {
  Query enrolled;
  enrolled.from = "enrolled";
  enrolled.select = {{Expr::Col(C("enrolled", "student_id")), ""}};
  enrolled.where = {
      Pred(Expr::Col(C("enrolled", "year")), CompareOp::kRange, {"2024-01-01", "2025-01-01"})};
  enrolled.order_by = {{Expr::Col(C("enrolled", "student_id")), true}};
  enrolled.limit = 3;
  Predicate in = Pred(Expr::Col(C("companies", "id")), CompareOp::kIn);
  in.subquery = {enrolled};
  in.negated = true;
  Predicate big = Pred(Expr::Col(C("companies", "staff")), CompareOp::kGt, {int64_t{100}});
  Predicate group;
  group.any = {in, big};
  group.phrase = "not enrolled or big";
  group.negated = true;
  Query rhs = Industries("China");
  rhs.where.push_back(group);
  Query avg;
  avg.from = "companies";
  avg.select = {{Expr::Agg(Aggregate::kAvg, C("companies", "staff")), ""}};
  Predicate above = Pred(Expr::Agg(Aggregate::kSum, C("companies", "staff")), CompareOp::kGe);
  above.subquery = {avg};
  rhs.group_by = {Expr::Col(C("companies", "industry"))};
  rhs.having = {above};
  Query q = Combine(Industries("USA"), SetOp::kIntersect,
                    Combine(rhs, SetOp::kExcept, Industries("Germany")));
  q.order_by = {{Expr::Col(C("companies", "industry")), false}};
  q.limit = 10;
  return q;
}

TEST(IrJsonNestedTest, NestedQueriesRoundTrip) {
  Query q = NestedQuery();
  EXPECT_EQ(RoundTrip(q), q);
  for (SetOp op : {SetOp::kUnion, SetOp::kUnionAll, SetOp::kIntersect, SetOp::kExcept}) {
    Query c = Combine(Industries("USA"), op, Industries("China"));
    EXPECT_EQ(RoundTrip(c), c);
  }
  // Lossless even where Validate would refuse: two subqueries, a set operand without an
  // operation.
  Query odd = Industries("USA");
  odd.where[0].subquery = {Industries("A"), Industries("B")};
  odd.set_rhs = {Industries("C")};
  EXPECT_EQ(RoundTrip(odd), odd);
}

TEST(IrJsonNestedTest, NewFieldsAreListsNamedAsInTheIr) {
  Query q = Combine(Industries("USA"), SetOp::kUnionAll, Industries("China"));
  Predicate in = Pred(Expr::Col(C("companies", "id")), CompareOp::kIn);
  Query sub;
  sub.from = "t";
  in.subquery = {sub};
  Predicate group;
  group.any = {in};
  q.where = {group};
  EXPECT_EQ(QueryToJson(q).dump(),
            R"({"from":"companies","select":[{"expr":{"column":{"column":"industry",)"
            R"("table":"companies"}}}],"set_op":"union_all","set_rhs":[{"from":"companies",)"
            R"("select":[{"expr":{"column":{"column":"industry","table":"companies"}}}],)"
            R"("where":[{"lhs":{"column":{"column":"hq","table":"companies"}},"values":)"
            R"([{"string":"China"}]}]}],"where":[{"any":[{"lhs":{"column":{"column":"id",)"
            R"("table":"companies"}},"op":"in","subquery":[{"from":"t"}]}],"lhs":{}}]})");
}

TEST(IrJsonNestedTest, JsonWrittenBeforeNestingStillReads) {
  auto q = QueryFromJson(json::parse(
      R"({"from":"orders","select":[{"expr":{"agg":"count"}}],"where":[{"lhs":{"column":)"
      R"({"table":"orders","column":"status"}},"values":[{"string":"paid"}]}],"limit":5})"));
  ASSERT_TRUE(q.has_value()) << q.error().message;
  EXPECT_EQ(q->set_op, SetOp::kNone);
  EXPECT_TRUE(q->set_rhs.empty());
  ASSERT_EQ(q->where.size(), 1u);
  EXPECT_TRUE(q->where[0].subquery.empty());
  EXPECT_TRUE(q->where[0].any.empty());
  EXPECT_EQ(q->where[0].values, (std::vector<Value>{std::string("paid")}));
  EXPECT_EQ(q->limit, 5);
  // "none" is the default operation spelled out.
  auto none = QueryFromJson(json::parse(R"({"set_op":"none"})"));
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(*none, Query{});
}

TEST(IrJsonNestedTest, BadNestedJsonIsRefusedSayingWhere) {
  struct Case {
    const char* json;
    const char* expected;
  };
  const Case cases[] = {
      {R"({"set_op":"minus"})", "set_op: unknown set operation \"minus\""},
      {R"({"set_op":2})", "set_op: expected a string"},
      {R"({"set_rhs":{}})", "set_rhs: expected a list"},
      {R"({"set_rhs":[[]]})", "set_rhs[0]: expected an object"},
      {R"({"set_rhs":[{"form":"t"}]})", "set_rhs[0]: unknown field \"form\""},
      {R"({"where":[{"lhs":{},"subquery":{}}]})", "where[0].subquery: expected a list"},
      {R"({"where":[{"lhs":{},"subquery":[{"where":[{"lhs":{},"values":[{"int":"x"}]}]}]}]})",
       "where[0].subquery[0].where[0].values[0].int: \"x\" is not a 64-bit integer"},
      {R"({"having":[{"lhs":{},"any":[{"op":"eq"}]}]})", "having[0].any[0]: a filter needs"},
      {R"({"where":[{"lhs":{},"any":[{"lhs":{},"any":"x"}]}]})", "where[0].any[0].any: expected"},
      {R"({"set_rhs":[{"where":[{"lhs":{},"any":[{"lhs":{},"op":"near"}]}]}]})",
       "set_rhs[0].where[0].any[0].op: unknown comparison"},
  };
  for (const Case& c : cases) {
    Error e = QueryError(c.json);
    EXPECT_EQ(e.code, ErrorCode::kInvalidArgument) << c.json;
    EXPECT_NE(e.message.find(c.expected), std::string::npos)
        << c.json << " gave: " << e.message << "\nexpected to contain: " << c.expected;
  }
}

// The reader stops where Validate does, so that no JSON can make it recurse without bound.
TEST(IrJsonNestedTest, NestingDeeperThanTheLimitIsRefused) {
  Query q = Industries("USA");
  for (int i = 0; i < kMaxNesting; ++i) q = Combine(Industries("USA"), SetOp::kUnion, q);
  EXPECT_EQ(RoundTrip(q), q);
  Query deeper = Combine(Industries("USA"), SetOp::kUnion, q);
  auto back = QueryFromJson(QueryToJson(deeper));
  ASSERT_FALSE(back.has_value());
  EXPECT_NE(back.error().message.find("nest more than 32 levels"), std::string::npos)
      << back.error().message;

  Predicate p = Pred(Expr::Col(C("c", "a")), CompareOp::kEq, {int64_t{1}});
  for (int i = 0; i <= kMaxNesting; ++i) {
    Predicate group;
    group.any = {p};
    p = group;
  }
  Query deep_or;
  deep_or.where = {p};
  EXPECT_FALSE(QueryFromJson(QueryToJson(deep_or)).has_value());
  deep_or.where = {p.any[0]};
  EXPECT_EQ(RoundTrip(deep_or), deep_or);

  // Far deeper text is refused as quickly, without reading it all.
  std::string text = R"({"from":"t"})";
  for (int i = 0; i < 5000; ++i) text = R"({"set_op":"union","set_rhs":[)" + text + "]}";
  EXPECT_FALSE(QueryFromJson(json::parse(text)).has_value());
}

}  // namespace
}  // namespace helios::sql
