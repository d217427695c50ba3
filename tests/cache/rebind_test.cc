// Re-binding cached queries to new values: the rules on hand-written queries and SQL (every
// refusal is a case where placing the value would risk a wrong answer), then the property
// that matters, with the real engine over the demo database: for two questions of one shape,
// re-binding the first one's query to the second one's values gives exactly the engine's
// query for the second, or nothing.
#include "nl2sql/rebind.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cache/demo_engine.h"
#include "common/clock.h"
#include "common/text.h"
#include "db/open.h"
#include "nl2sql/engine/engine.h"
#include "nl2sql/engine/schema_index.h"
#include "nl2sql/question_shape.h"
#include "sql/render.h"

namespace helios::nl2sql {
namespace {

using namespace std::chrono_literals;
using cache::Slot;
using sql::CompareOp;
using Slots = std::vector<Slot>;

sql::Predicate Filter(std::string column, CompareOp op, std::vector<db::Value> values,
                      std::string phrase) {
  sql::Predicate p;
  p.lhs = sql::Expr::Col({"orders", std::move(column)});
  p.op = op;
  p.values = std::move(values);
  p.phrase = std::move(phrase);
  return p;
}

sql::Query OrdersQuery() {
  sql::Query q;
  q.from = "orders";
  q.select = {{sql::Expr::Col({"orders", "*"}), ""}};
  return q;
}

Slot Number(std::string text, std::string value) { return {"number", text, value}; }
Slot Number(std::string text) { return {"number", text, text}; }
Slot Year(std::string y) { return {"year", y, y}; }
Slot Date(std::string d) { return {"date", d, d}; }
Slot Country(std::string c) { return {"value:customers.country", c, c}; }

// ---------------------------------------------------------------- the query IR

TEST(RebindQueryTest, PutsTheNewNumberInTheLimit) {
  sql::Query q = OrdersQuery();
  q.limit = 5;
  auto r = RebindQuery(q, {Number("5")}, {Number("ten", "10")});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->limit, 10);
}

TEST(RebindQueryTest, PutsValuesIntoFiltersAndTheirWords) {
  sql::Query q = OrdersQuery();
  q.where = {Filter("country", CompareOp::kEq, {db::Value{"Germany"}}, "Germany"),
             Filter("total_amount", CompareOp::kGt, {db::Value{int64_t{500}}}, "over 500"),
             Filter("order_date", CompareOp::kRange,
                    {db::Value{"2024-01-01"}, db::Value{"2025-01-01"}}, "in 2024")};
  q.where[0].case_insensitive = true;
  auto r = RebindQuery(q, {Country("Germany"), Number("500"), Year("2024")},
                       {Country("United States"), Number("1,500", "1500"), Year("2023")});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->where[0].values, (std::vector<db::Value>{db::Value{"United States"}}));
  EXPECT_EQ(r->where[0].phrase, "United States");
  EXPECT_TRUE(r->where[0].case_insensitive);
  EXPECT_EQ(r->where[1].values, (std::vector<db::Value>{db::Value{int64_t{1500}}}));
  EXPECT_EQ(r->where[1].phrase, "over 1,500");
  EXPECT_EQ(r->where[2].values,
            (std::vector<db::Value>{db::Value{"2023-01-01"}, db::Value{"2024-01-01"}}));
  EXPECT_EQ(r->where[2].phrase, "in 2023");
}

TEST(RebindQueryTest, AYearMovesEveryDateOfItsPeriodAndTheEndAfterIt) {
  sql::Query q = OrdersQuery();
  q.where = {Filter("order_date", CompareOp::kRange,
                    {db::Value{"2024-12-01"}, db::Value{"2025-01-01"}}, "in December 2024")};
  auto r = RebindQuery(q, {Year("2024")}, {Year("2021")});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->where[0].values,
            (std::vector<db::Value>{db::Value{"2021-12-01"}, db::Value{"2022-01-01"}}));
  EXPECT_EQ(r->where[0].phrase, "in December 2021");
  // "after 2020": the first day after the year.
  q.where = {Filter("hire_date", CompareOp::kGe, {db::Value{"2021-01-01"}}, "after 2020")};
  r = RebindQuery(q, {Year("2020")}, {Year("2017")});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->where[0].values, (std::vector<db::Value>{db::Value{"2018-01-01"}}));
}

TEST(RebindQueryTest, ADateMovesWithTheDayAfterIt) {
  sql::Query q = OrdersQuery();
  q.where = {Filter("order_date", CompareOp::kRange,
                    {db::Value{"2024-02-29"}, db::Value{"2024-03-01"}}, "on 2024-02-29")};
  auto r = RebindQuery(q, {Date("2024-02-29")}, {Date("2023-12-31")});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->where[0].values,
            (std::vector<db::Value>{db::Value{"2023-12-31"}, db::Value{"2024-01-01"}}));
  EXPECT_EQ(r->where[0].phrase, "on 2023-12-31");
}

TEST(RebindQueryTest, RefusesToMoveTheEndOfFebruaryToAYearOfAnotherLength) {
  sql::Query q = OrdersQuery();
  q.where = {Filter("order_date", CompareOp::kBetween,
                    {db::Value{"2023-02-01"}, db::Value{"2023-02-28"}}, "in February 2023")};
  EXPECT_FALSE(RebindQuery(q, {Year("2023")}, {Year("2024")}));
  auto r = RebindQuery(q, {Year("2023")}, {Year("2022")});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->where[0].values,
            (std::vector<db::Value>{db::Value{"2022-02-01"}, db::Value{"2022-02-28"}}));
}

TEST(RebindQueryTest, ListsAndQuotedNames) {
  sql::Query q = OrdersQuery();
  q.where = {Filter("country", CompareOp::kIn, {db::Value{"Germany"}, db::Value{"France"}},
                    "Germany or France"),
             Filter("name", CompareOp::kContains, {db::Value{"Nova"}}, "'Nova'")};
  auto r = RebindQuery(q, {Country("Germany"), Country("France"), {"quoted", "'Nova'", "Nova"}},
                       {Country("Spain"), Country("Italy"), {"quoted", "\"Pulse\"", "Pulse"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->where[0].values, (std::vector<db::Value>{db::Value{"Spain"}, db::Value{"Italy"}}));
  EXPECT_EQ(r->where[0].phrase, "Spain or Italy");
  EXPECT_EQ(r->where[1].values, (std::vector<db::Value>{db::Value{"Pulse"}}));
  EXPECT_EQ(r->where[1].phrase, "\"Pulse\"");
}

TEST(RebindQueryTest, NumbersOfAFilterAreIntegersOrDoublesTogether) {
  sql::Query q = OrdersQuery();
  q.where = {Filter("unit_price", CompareOp::kBetween,
                    {db::Value{int64_t{50}}, db::Value{int64_t{100}}}, "between 50 and 100")};
  auto r = RebindQuery(q, {Number("50"), Number("100")}, {Number("20"), Number("75.5")});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->where[0].values, (std::vector<db::Value>{db::Value{20.0}, db::Value{75.5}}));
  r = RebindQuery(*r, {Number("20"), Number("75.5")}, {Number("20"), Number("75")});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->where[0].values,
            (std::vector<db::Value>{db::Value{int64_t{20}}, db::Value{int64_t{75}}}));
}

TEST(RebindQueryTest, IdenticalValuesLeaveTheQueryAsItWas) {
  sql::Query q = OrdersQuery();
  q.limit = 3;
  q.where = {Filter("country", CompareOp::kEq, {db::Value{"Spain"}}, "Spain")};
  auto r = RebindQuery(q, {Number("3"), Country("Spain")}, {Number("3"), Country("Spain")});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, q);
  auto none = RebindQuery(OrdersQuery(), {}, {});
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, OrdersQuery());
}

TEST(RebindQueryTest, RefusesSlotsThatDoNotMatch) {
  sql::Query q = OrdersQuery();
  q.limit = 5;
  EXPECT_FALSE(RebindQuery(q, {Number("5")}, {}));
  EXPECT_FALSE(RebindQuery(q, {Number("5")}, {Year("2024")}));
  EXPECT_FALSE(RebindQuery(q, {{"colour", "red", "red"}}, {{"colour", "blue", "blue"}}));
  EXPECT_FALSE(RebindQuery(q, {Number("5")}, {Number("lots", "lots")}));
}

TEST(RebindQueryTest, RefusesAValueFoundNowhere) {
  sql::Query q = OrdersQuery();
  q.limit = 5;
  EXPECT_FALSE(RebindQuery(q, {Number("7")}, {Number("8")}));
  EXPECT_FALSE(RebindQuery(q, {Number("5"), Country("Germany")}, {Number("6"), Country("France")}));
}

TEST(RebindQueryTest, RefusesANumberThatIsInTwoPlaces) {
  // "the top 1 discontinued products": the 1 of the limit, or of "discontinued = 1"?
  sql::Query q = OrdersQuery();
  q.limit = 1;
  q.where = {Filter("discontinued", CompareOp::kEq, {db::Value{int64_t{1}}}, "discontinued")};
  EXPECT_FALSE(RebindQuery(q, {Number("1")}, {Number("3")}));
  // "the top 5 products with at least 5 in stock": each 5 claims both places.
  q.limit = 5;
  q.where = {Filter("stock", CompareOp::kGe, {db::Value{int64_t{5}}}, "at least 5")};
  EXPECT_FALSE(RebindQuery(q, {Number("5"), Number("5")}, {Number("10"), Number("5")}));
}

TEST(RebindQueryTest, RefusesAPlaceTwoSlotsClaim) {
  sql::Query q = OrdersQuery();
  q.where = {Filter("order_date", CompareOp::kRange,
                    {db::Value{"2024-01-01"}, db::Value{"2025-01-01"}}, "in 2024"),
             Filter("signup_date", CompareOp::kRange,
                    {db::Value{"2024-01-01"}, db::Value{"2025-01-01"}}, "in 2024")};
  EXPECT_FALSE(RebindQuery(q, {Year("2024"), Year("2024")}, {Year("2023"), Year("2024")}));
}

TEST(RebindQueryTest, RefusesToChangeHalfAFilter) {
  sql::Query q = OrdersQuery();
  q.where = {Filter("country", CompareOp::kIn, {db::Value{"Germany"}, db::Value{"France"}},
                    "Germany or France")};
  EXPECT_FALSE(RebindQuery(q, {Country("Germany")}, {Country("Spain")}));
  // A period of the conversation's previous turn ("last year") is no place for a year.
  q.where = {Filter("order_date", CompareOp::kRange,
                    {db::Value{"2023-01-01"}, db::Value{"2024-01-01"}}, "in 2023"),
             Filter("order_date", CompareOp::kRange,
                    {db::Value{"2024-01-01"}, db::Value{"2025-01-01"}}, "last year")};
  auto r = RebindQuery(q, {Year("2023")}, {Year("2022")});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->where[0].values,
            (std::vector<db::Value>{db::Value{"2022-01-01"}, db::Value{"2023-01-01"}}));
  EXPECT_EQ(r->where[1].values,
            (std::vector<db::Value>{db::Value{"2024-01-01"}, db::Value{"2025-01-01"}}));
}

TEST(RebindQueryTest, RefusesAnOldValueLeftInsideAnotherLiteral) {
  sql::Query q = OrdersQuery();
  q.where = {Filter("country", CompareOp::kEq, {db::Value{"Germany"}}, "Germany"),
             Filter("name", CompareOp::kContains, {db::Value{"Germany Direct"}}, "Germany Direct")};
  EXPECT_FALSE(RebindQuery(q, {Country("Germany")}, {Country("France")}));
}

TEST(RebindQueryTest, ResultsMustStayWellFormed) {
  sql::Query q = OrdersQuery();
  q.limit = 5;
  EXPECT_FALSE(RebindQuery(q, {Number("5")}, {Number("0")}));
  EXPECT_FALSE(RebindQuery(q, {Number("5")}, {Number("-3")}));
  EXPECT_FALSE(RebindQuery(q, {Number("5")}, {Number("2.5")}));
  EXPECT_FALSE(RebindQuery(q, {Number("5")}, {Number("5.0", "5")}));  // "top 5.0" is no rank
  sql::Query between = OrdersQuery();
  between.where = {Filter("unit_price", CompareOp::kBetween,
                          {db::Value{int64_t{50}}, db::Value{int64_t{100}}}, "between 50 and 100")};
  EXPECT_FALSE(RebindQuery(between, {Number("50"), Number("100")}, {Number("150"), Number("100")}));
  EXPECT_TRUE(RebindQuery(between, {Number("50"), Number("100")}, {Number("100"), Number("100")}));
  sql::Query range = OrdersQuery();
  range.where = {Filter("order_date", CompareOp::kRange,
                        {db::Value{"2022-01-01"}, db::Value{"2024-01-01"}},
                        "between 2022 and 2023")};
  EXPECT_FALSE(RebindQuery(range, {Year("2022"), Year("2023")}, {Year("2025"), Year("2023")}));
  EXPECT_TRUE(RebindQuery(range, {Year("2022"), Year("2023")}, {Year("2020"), Year("2023")}));
}

TEST(RebindQueryTest, ValuesKeepTheCaseTheyAreStoredIn) {
  sql::Query q = OrdersQuery();
  q.where = {Filter("status", CompareOp::kEq, {db::Value{"cancelled"}}, "Cancelled")};
  auto r = RebindQuery(q, {{"value:orders.status", "Cancelled", "cancelled"}},
                       {{"value:orders.status", "Returned", "returned"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->where[0].values, (std::vector<db::Value>{db::Value{"returned"}}));
  EXPECT_EQ(r->where[0].phrase, "Returned");
}

// ---------------------------------------------------------------- SQL text

std::optional<std::string> Sql(std::string_view sql, const Slots& old_slots,
                               const Slots& new_slots) {
  return RebindSql(sql, old_slots, new_slots);
}

TEST(RebindSqlTest, RewritesLiteralsInPlace) {
  EXPECT_EQ(Sql("SELECT name FROM customers WHERE country = 'Germany' ORDER BY name LIMIT 5",
                {Number("5"), Country("Germany")}, {Number("10"), Country("United States")}),
            "SELECT name FROM customers WHERE country = 'United States' ORDER BY name LIMIT 10");
  EXPECT_EQ(Sql("SELECT * FROM t WHERE a IN ('Germany','France')",
                {Country("Germany"), Country("France")}, {Country("Spain"), Country("Italy")}),
            "SELECT * FROM t WHERE a IN ('Spain','Italy')");
}

TEST(RebindSqlTest, LeavesCommentsAndIdentifiersAlone) {
  EXPECT_EQ(Sql("-- top 5 in Germany\nSELECT t1.col_2, x5 /* 5 'Germany' */ FROM t1 "
                "WHERE t1.c = 'Germany' AND t1.n > 5",
                {Number("5"), Country("Germany")}, {Number("7"), Country("France")}),
            "-- top 5 in Germany\nSELECT t1.col_2, x5 /* 5 'Germany' */ FROM t1 "
            "WHERE t1.c = 'France' AND t1.n > 7");
  EXPECT_EQ(Sql("SELECT `sales 2024` FROM s WHERE y = 2024", {Year("2024")}, {Year("2023")}),
            "SELECT `sales 2024` FROM s WHERE y = 2023");
  // MySQL reads "..." as a string: a double-quoted old value might be one.
  EXPECT_FALSE(Sql("SELECT \"sales 2024\" FROM s WHERE y = 2024", {Year("2024")}, {Year("2023")}));
  EXPECT_EQ(Sql("SELECT \"total\" FROM s WHERE y = 2024", {Year("2024")}, {Year("2023")}),
            "SELECT \"total\" FROM s WHERE y = 2023");
  // $1 is a placeholder, not the number 1.
  EXPECT_EQ(Sql("SELECT * FROM t WHERE a = $1 AND b > 1", {Number("1")}, {Number("2")}),
            "SELECT * FROM t WHERE a = $1 AND b > 2");
}

TEST(RebindSqlTest, RefusesANumberThatIsInTwoPlaces) {
  EXPECT_FALSE(Sql("SELECT * FROM products WHERE discontinued = 1 ORDER BY unit_price DESC LIMIT 1",
                   {Number("1")}, {Number("3")}));
  EXPECT_FALSE(Sql("SELECT ROUND(AVG(x), 2) FROM t GROUP BY c ORDER BY 2 DESC LIMIT 2",
                   {Number("2")}, {Number("4")}));
}

TEST(RebindSqlTest, RefusesAValueHiddenInAnotherLiteral) {
  EXPECT_FALSE(Sql("SELECT * FROM o WHERE strftime('%Y', d) = '2024' OR d LIKE '2024%'",
                   {Year("2024")}, {Year("2023")}));
  EXPECT_FALSE(Sql("SELECT * FROM o WHERE country LIKE '%Germany%'", {Country("Germany")},
                   {Country("France")}));
  EXPECT_FALSE(Sql("SELECT * FROM o WHERE d > date('now', '-7 days') LIMIT 5", {Number("7")},
                   {Number("30")}));
}

TEST(RebindSqlTest, StringsKeepTheirQuotingAndCase) {
  Slot acme{"entity", "O'Brien", "O'Brien"};
  Slot other{"entity", "D'Arcy", "D'Arcy"};
  EXPECT_EQ(Sql("SELECT * FROM c WHERE name = 'O''Brien'", {acme}, {other}),
            "SELECT * FROM c WHERE name = 'D''Arcy'");
  EXPECT_EQ(
      Sql("SELECT * FROM c WHERE country = N'Germany'", {Country("Germany")}, {Country("France")}),
      "SELECT * FROM c WHERE country = N'France'");
  EXPECT_EQ(
      Sql("SELECT * FROM c WHERE country = E'Germany'", {Country("Germany")}, {Country("France")}),
      "SELECT * FROM c WHERE country = E'France'");
  EXPECT_EQ(Sql("SELECT * FROM c WHERE LOWER(country) = 'germany'", {Country("Germany")},
                {Country("United States")}),
            "SELECT * FROM c WHERE LOWER(country) = 'united states'");
  EXPECT_EQ(Sql("SELECT * FROM c WHERE UPPER(country) = 'GERMANY'", {Country("Germany")},
                {Country("France")}),
            "SELECT * FROM c WHERE UPPER(country) = 'FRANCE'");
  EXPECT_FALSE(
      Sql("SELECT * FROM c WHERE country = 'GerMany'", {Country("Germany")}, {Country("France")}));
}

TEST(RebindSqlTest, NamesInsidePatterns) {
  Slot acme{"entity", "Acme", "Acme"};
  EXPECT_EQ(
      Sql("SELECT * FROM c WHERE name LIKE '%Acme%'", {acme}, {{"entity", "Globex", "Globex"}}),
      "SELECT * FROM c WHERE name LIKE '%Globex%'");
  EXPECT_EQ(Sql("SELECT * FROM c WHERE lower(name) LIKE '%acme%'", {acme},
                {{"entity", "Globex", "Globex"}}),
            "SELECT * FROM c WHERE lower(name) LIKE '%globex%'");
  // A wildcard in the new name would change the pattern.
  EXPECT_FALSE(Sql("SELECT * FROM c WHERE name LIKE '%Acme%'", {acme}, {{"entity", "50%", "50%"}}));
  // Values match whole literals only.
  EXPECT_FALSE(
      Sql("SELECT * FROM c WHERE name LIKE 'Germany%'", {Country("Germany")}, {Country("France")}));
}

TEST(RebindSqlTest, RefusesTextItCannotReadWithoutKnowingTheDialect) {
  const Slots old_slots{Country("Germany")}, new_slots{Country("France")};
  for (const char* sql :
       {"SELECT * FROM c WHERE country = 'Germany' AND note = 'it\\'s'",  // MySQL escapes
        "SELECT * FROM c WHERE country = 'Germany' /* a /* nested */ comment */",
        "SELECT * FROM c WHERE country = 'Germany",  // unterminated
        "SELECT * FROM c WHERE country = 'Germany' /* unterminated",
        "SELECT * FROM c WHERE country = 'Germany' # a MySQL comment",
        "SELECT * FROM c WHERE country = $$Germany$$ OR country = 'Germany'",
        "SELECT * FROM c WHERE country = U&'Germany'"})
    EXPECT_FALSE(Sql(sql, old_slots, new_slots)) << sql;
}

TEST(RebindSqlTest, Numbers) {
  EXPECT_EQ(Sql("SELECT * FROM t WHERE profit > -5", {Number("-5")}, {Number("-10")}),
            "SELECT * FROM t WHERE profit > (-10)");
  EXPECT_EQ(Sql("SELECT * FROM t WHERE x - 5 > 0", {Number("5")}, {Number("3")}),
            "SELECT * FROM t WHERE x - 3 > 0");
  EXPECT_EQ(Sql("SELECT * FROM t WHERE x > 5", {Number("5")}, {Number("-3")}),
            "SELECT * FROM t WHERE x > (-3)");
  EXPECT_EQ(Sql("SELECT * FROM t WHERE price > 20.0", {Number("20")}, {Number("30")}),
            "SELECT * FROM t WHERE price > 30.0");
  EXPECT_EQ(Sql("SELECT * FROM t WHERE d > .5", {Number("0.5")}, {Number("0.25")}),
            "SELECT * FROM t WHERE d > 0.25");
  EXPECT_EQ(Sql("SELECT * FROM t WHERE x < 1e3", {Number("1000")}, {Number("$2k", "2000")}),
            "SELECT * FROM t WHERE x < 2000.0");
  EXPECT_EQ(Sql("SELECT * FROM t WHERE y = '2'", {Number("2")}, {Number("3")}),
            "SELECT * FROM t WHERE y = '3'");
}

TEST(RebindSqlTest, RowCountsStayPositiveIntegers) {
  const char* sql = "SELECT * FROM t ORDER BY x DESC LIMIT 5";
  EXPECT_EQ(Sql(sql, {Number("5")}, {Number("12")}), "SELECT * FROM t ORDER BY x DESC LIMIT 12");
  EXPECT_FALSE(Sql(sql, {Number("5")}, {Number("0")}));
  EXPECT_FALSE(Sql(sql, {Number("5")}, {Number("2.5")}));
  EXPECT_FALSE(Sql(sql, {Number("5")}, {Number("-1")}));  // LIMIT -1: every row in SQLite
  EXPECT_FALSE(
      Sql("SELECT * FROM t ORDER BY x FETCH FIRST 5 ROWS ONLY", {Number("5")}, {Number("0")}));
  EXPECT_EQ(Sql("SELECT TOP 5 * FROM t ORDER BY x", {Number("5")}, {Number("6")}),
            "SELECT TOP 6 * FROM t ORDER BY x");
}

TEST(RebindSqlTest, YearsInTheFormsModelsWriteThem) {
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM o WHERE strftime('%Y', order_date) = '2024'", {Year("2024")},
                {Year("2023")}),
            "SELECT COUNT(*) FROM o WHERE strftime('%Y', order_date) = '2023'");
  EXPECT_EQ(
      Sql("SELECT COUNT(*) FROM o WHERE order_date >= '2024-01-01' AND order_date < "
          "'2025-01-01'",
          {Year("2024")}, {Year("2023")}),
      "SELECT COUNT(*) FROM o WHERE order_date >= '2023-01-01' AND order_date < '2024-01-01'");
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM o WHERE order_date BETWEEN '2024-03-01' AND '2024-03-31'",
                {Year("2024")}, {Year("2022")}),
            "SELECT COUNT(*) FROM o WHERE order_date BETWEEN '2022-03-01' AND '2022-03-31'");
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM o WHERE EXTRACT(YEAR FROM d) = 2024", {Year("2024")},
                {Year("2025")}),
            "SELECT COUNT(*) FROM o WHERE EXTRACT(YEAR FROM d) = 2025");
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM o WHERE strftime('%Y-%m', d) = '2024-03'", {Year("2024")},
                {Year("2025")}),
            "SELECT COUNT(*) FROM o WHERE strftime('%Y-%m', d) = '2025-03'");
  EXPECT_EQ(Sql("SELECT * FROM o WHERE d >= '2024-12-01 00:00:00' AND d < '2025-01-01 00:00:00'",
                {Year("2024")}, {Year("2020")}),
            "SELECT * FROM o WHERE d >= '2020-12-01 00:00:00' AND d < '2021-01-01 00:00:00'");
  // The end of February moves with the year's length; a model's inclusive end cannot.
  EXPECT_FALSE(Sql("SELECT * FROM o WHERE d BETWEEN '2023-02-01' AND '2023-02-28'", {Year("2023")},
                   {Year("2024")}));
  // "after 2020" as the first day of 2021, with nothing of 2020 beside it: "2021-01-01" might
  // as well be a date of its own.
  EXPECT_FALSE(
      Sql("SELECT * FROM e WHERE hire_date >= '2021-01-01'", {Year("2020")}, {Year("2017")}));
}

TEST(RebindSqlTest, DatesAndTheDayAfter) {
  EXPECT_EQ(Sql("SELECT * FROM o WHERE d >= '2024-02-29' AND d < '2024-03-01'",
                {Date("2024-02-29")}, {Date("2024-12-31")}),
            "SELECT * FROM o WHERE d >= '2024-12-31' AND d < '2025-01-01'");
  EXPECT_EQ(Sql("SELECT * FROM o WHERE DATE(d) = '2024-02-29'", {Date("2024-02-29")},
                {Date("2024-03-15")}),
            "SELECT * FROM o WHERE DATE(d) = '2024-03-15'");
  EXPECT_FALSE(
      Sql("SELECT * FROM o WHERE d < '2024-03-01'", {Date("2024-02-29")}, {Date("2024-03-15")}));
}

// ---------------------------------------------------------------- with the engine

std::string Shown(const sql::Query& q) { return sql::Render(q, {db::Dialect::kSqlite, true}).text; }

bool SameShape(const QuestionShape& a, const QuestionShape& b) {
  if (a.signature != b.signature || a.slots.size() != b.slots.size()) return false;
  for (size_t i = 0; i < a.slots.size(); ++i)
    if (a.slots[i].type != b.slots[i].type) return false;
  return true;
}

class RebindWithEngineTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(DemoEngine::Get().failure(), ""); }
  static const DemoEngine& demo() { return DemoEngine::Get(); }

  struct Outcome {
    int same_shape = 0, equal = 0, refused = 0;
  };
  // For each (previous, q1, q2) of one shape: the re-bound query of q1 is nullopt or equals
  // the engine's query for q2; the same for the SQL rendered from q1's query.
  void Check(const std::vector<std::vector<std::string>>& cases, bool with_previous, Outcome* ir,
             Outcome* sql) {
    for (const auto& c : cases) {
      std::optional<sql::Query> previous;
      size_t first = 0;
      if (with_previous) {
        auto p = demo().engine().Understand(c[0], nullptr);
        ASSERT_TRUE(p) << c[0] << ": " << p.error().message;
        previous = p->query;
        first = 1;
      }
      const std::string& q1 = c[first];
      const std::string& q2 = c[first + 1];
      auto s1 = ShapeQuestion(q1, demo().index());
      auto s2 = ShapeQuestion(q2, demo().index());
      if (!SameShape(s1, s2)) continue;
      const sql::Query* prev = previous ? &*previous : nullptr;
      auto u1 = demo().engine().Understand(q1, prev);
      auto u2 = demo().engine().Understand(q2, prev);
      ASSERT_TRUE(u1) << q1 << ": " << u1.error().message;
      ASSERT_TRUE(u2) << q2 << ": " << u2.error().message;
      ++ir->same_shape;
      ++sql->same_shape;
      auto rebound = RebindQuery(u1->query, s1.slots, s2.slots);
      if (!rebound) {
        ++ir->refused;
      } else {
        EXPECT_EQ(*rebound, u2->query) << q1 << " -> " << q2 << "\n  got  " << Shown(*rebound)
                                       << "\n  want " << Shown(u2->query);
        if (*rebound == u2->query) ++ir->equal;
      }
      auto text = RebindSql(Shown(u1->query), s1.slots, s2.slots);
      if (!text) {
        ++sql->refused;
      } else {
        EXPECT_EQ(*text, Shown(u2->query)) << q1 << " -> " << q2;
        if (*text == Shown(u2->query)) ++sql->equal;
      }
    }
  }
};

TEST_F(RebindWithEngineTest, TrapPairsGetTheEnginesQueryForTheNewValuesOrAMiss) {
  auto rows = ReadTsv("value_traps.tsv");
  ASSERT_GE(rows.size(), 120u);
  Outcome ir, sql;
  Check(rows, false, &ir, &sql);
  std::cout << "value traps: " << rows.size() << " pairs, " << ir.same_shape
            << " of one shape; query IR: " << ir.equal << " re-bound exactly, " << ir.refused
            << " refused; SQL text: " << sql.equal << " re-bound exactly, " << sql.refused
            << " refused\n";
  RecordProperty("ir_equal", ir.equal);
  RecordProperty("ir_refused", ir.refused);
  RecordProperty("sql_equal", sql.equal);
  RecordProperty("sql_refused", sql.refused);
  // Nearly every pair of one shape is served, and refusals are the ambiguous ones.
  EXPECT_GE(ir.equal, ir.same_shape * 9 / 10);
  EXPECT_GE(ir.refused, 1);
  EXPECT_GE(sql.equal, sql.same_shape / 2);
}

TEST_F(RebindWithEngineTest, ParaphrasesWithTheSameValuesKeepTheQuery) {
  auto rows = ReadTsv("paraphrases.tsv");
  int shared = 0;
  for (const auto& row : rows) {
    auto s1 = ShapeQuestion(row[0], demo().index());
    auto s2 = ShapeQuestion(row[1], demo().index());
    if (!SameShape(s1, s2)) continue;
    ++shared;
    auto u1 = demo().engine().Understand(row[0], nullptr);
    auto u2 = demo().engine().Understand(row[1], nullptr);
    ASSERT_TRUE(u1 && u2) << row[0] << " | " << row[1];
    auto rebound = RebindQuery(u1->query, s1.slots, s2.slots);
    ASSERT_TRUE(rebound) << row[0] << " | " << row[1];
    EXPECT_EQ(Shown(*rebound), Shown(u2->query)) << row[0] << " | " << row[1];
  }
  EXPECT_GT(shared, 0);
}

// Follow-ups: the cached query was an edit of the conversation's previous query (the cache
// key holds that query), and the new follow-up is re-bound into the edit.
TEST_F(RebindWithEngineTest, FollowUpsOfOneConversation) {
  const std::vector<std::vector<std::string>> cases = {
      {"How many customers are in Germany?", "and in France?", "and in Japan?"},
      {"How many orders were placed in 2024?", "what about 2023?", "what about 2022?"},
      {"top 10 customers in Canada by revenue", "top 5 instead", "top 3 instead"},
      {"top 10 customers in Canada by revenue", "only corporate customers",
       "only consumer customers"},
      {"Show revenue by country", "only for 2024", "only for 2023"},
      {"number of orders per year", "only cancelled ones", "only returned ones"},
      {"Which products are priced over 500?", "more than 800 instead", "more than 300 instead"},
      {"revenue by country for delivered orders", "just the top 3", "just the top 7"},
  };
  Outcome ir, sql;
  Check(cases, true, &ir, &sql);
  std::cout << "follow-ups: " << cases.size() << " cases, " << ir.same_shape
            << " of one shape; query IR: " << ir.equal << " re-bound exactly, " << ir.refused
            << " refused\n";
  EXPECT_GE(ir.same_shape, 6);
  EXPECT_GE(ir.equal, ir.same_shape - 1);
}

}  // namespace
}  // namespace helios::nl2sql
