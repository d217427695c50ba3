#include "sql/render.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "db/open.h"
#include "sql/ir.h"

namespace helios::sql {
namespace {

using db::Dialect;
using db::Value;
using Values = std::vector<Value>;

ColumnRef C(std::string table, std::string column) {
  return ColumnRef{std::move(table), std::move(column)};
}
SelectItem Item(Expr e, std::string alias = "") {
  return SelectItem{std::move(e), std::move(alias)};
}
Expr Grain(ColumnRef c, TimeGrain g) { return Expr{Aggregate::kNone, std::move(c), g}; }
Predicate Pred(Expr lhs, CompareOp op, Values values = {}, bool case_insensitive = false) {
  Predicate p;
  p.lhs = std::move(lhs);
  p.op = op;
  p.values = std::move(values);
  p.case_insensitive = case_insensitive;
  return p;
}

RenderedSql Bound(const Query& q, Dialect d = Dialect::kSqlite) { return Render(q, {d, false}); }
std::string Inline(const Query& q, Dialect d = Dialect::kSqlite) {
  RenderedSql r = Render(q, {d, true});
  EXPECT_TRUE(r.params.empty()) << "inline rendering must not produce parameters: " << r.text;
  return r.text;
}

// ---------------------------------------------------------------------------------------------
// Identifiers and literals

TEST(QuoteIdentifierTest, PlainLowercaseNamesStayBare) {
  for (Dialect d : {Dialect::kSqlite, Dialect::kPostgres, Dialect::kMysql}) {
    EXPECT_EQ(QuoteIdentifier("name", d), "name");
    EXPECT_EQ(QuoteIdentifier("order_items", d), "order_items");
    EXPECT_EQ(QuoteIdentifier("_x1", d), "_x1");
  }
}

TEST(QuoteIdentifierTest, OddNamesAreQuotedWithDoubleQuotes) {
  EXPECT_EQ(QuoteIdentifier("order items", Dialect::kSqlite), "\"order items\"");
  EXPECT_EQ(QuoteIdentifier("CustomerName", Dialect::kSqlite), "\"CustomerName\"");
  EXPECT_EQ(QuoteIdentifier("order", Dialect::kSqlite), "\"order\"");
  EXPECT_EQ(QuoteIdentifier("select", Dialect::kSqlite), "\"select\"");
  EXPECT_EQ(QuoteIdentifier("SELECT", Dialect::kSqlite), "\"SELECT\"");
  EXPECT_EQ(QuoteIdentifier("group", Dialect::kPostgres), "\"group\"");
  EXPECT_EQ(QuoteIdentifier("2024sales", Dialect::kSqlite), "\"2024sales\"");
  EXPECT_EQ(QuoteIdentifier("unit-price", Dialect::kPostgres), "\"unit-price\"");
  EXPECT_EQ(QuoteIdentifier("M\xC3\xBCller", Dialect::kSqlite), "\"M\xC3\xBCller\"");
  EXPECT_EQ(QuoteIdentifier("", Dialect::kSqlite), "\"\"");
}

TEST(QuoteIdentifierTest, EmbeddedQuoteCharacterIsDoubled) {
  EXPECT_EQ(QuoteIdentifier("my\"col", Dialect::kSqlite), "\"my\"\"col\"");
  EXPECT_EQ(QuoteIdentifier("my\"col", Dialect::kPostgres), "\"my\"\"col\"");
  EXPECT_EQ(QuoteIdentifier("a\"\"b", Dialect::kSqlite), "\"a\"\"\"\"b\"");
}

TEST(QuoteIdentifierTest, MysqlUsesBackticks) {
  EXPECT_EQ(QuoteIdentifier("order items", Dialect::kMysql), "`order items`");
  EXPECT_EQ(QuoteIdentifier("order", Dialect::kMysql), "`order`");
  EXPECT_EQ(QuoteIdentifier("CustomerName", Dialect::kMysql), "`CustomerName`");
  EXPECT_EQ(QuoteIdentifier("my`col", Dialect::kMysql), "`my``col`");
  EXPECT_EQ(QuoteIdentifier("my\"col", Dialect::kMysql), "`my\"col`");
}

// Keywords are quoted where the dialect needs it: what one server reserves another reads as a
// plain name, and quoting only where needed keeps the SQL shown to people readable.
TEST(QuoteIdentifierTest, KeywordsAreQuotedWhereTheDialectNeedsIt) {
  struct Case {
    const char* word;
    bool sqlite;
    bool postgres;
    bool mysql;
  };
  for (const Case& c : {
           Case{"order", true, true, true},
           Case{"window", true, true, true},
           Case{"offset", true, true, true},
           Case{"check", true, true, true},
           Case{"rank", false, false, true},  // reserved since MySQL 8.0.2
           Case{"change", false, false, true},
           Case{"release", true, false, true},
           Case{"key", true, false, true},
           Case{"rows", true, false, true},
           Case{"interval", false, true, true},
           Case{"user", false, true, false},
           Case{"analyse", false, true, false},
           Case{"time", false, true, false},         // PostgreSQL: cannot name a type
           Case{"session_user", false, true, true},  // MySQL: the allow-list refuses it bare
           Case{"_utf8mb4", false, false, true},     // MySQL: a character set introducer
           Case{"name", false, false, false},        // a keyword PostgreSQL does not reserve
           Case{"year", false, false, false},
           Case{"status", false, false, false},
           Case{"amount", false, false, false},
       }) {
    const std::string w = c.word;
    EXPECT_EQ(QuoteIdentifier(w, Dialect::kSqlite), c.sqlite ? "\"" + w + "\"" : w);
    EXPECT_EQ(QuoteIdentifier(w, Dialect::kPostgres), c.postgres ? "\"" + w + "\"" : w);
    EXPECT_EQ(QuoteIdentifier(w, Dialect::kMysql), c.mysql ? "`" + w + "`" : w);
  }
}

TEST(QuoteIdentifierTest, NamesStartingWithADigitAreQuoted) {
  for (const char* w : {"2024", "1e5", "0x1f", "9_lives"}) {
    EXPECT_EQ(QuoteIdentifier(w, Dialect::kMysql), "`" + std::string(w) + "`");
    EXPECT_EQ(QuoteIdentifier(w, Dialect::kPostgres), "\"" + std::string(w) + "\"");
  }
  EXPECT_EQ(QuoteIdentifier("x2024", Dialect::kMysql), "x2024");
}

// SQLite's keywords as the linked library reports them, lower case.
std::vector<std::string> SqliteKeywords() {
  std::vector<std::string> words;
  for (int i = 0; i < sqlite3_keyword_count(); ++i) {
    const char* name = nullptr;
    int length = 0;
    if (sqlite3_keyword_name(i, &name, &length) != SQLITE_OK) continue;
    std::string w(name, static_cast<size_t>(length));
    for (char& ch : w) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    words.push_back(std::move(w));
  }
  return words;
}

TEST(QuoteIdentifierTest, EverySqliteKeywordIsQuotedForSqliteOnly) {
  const std::vector<std::string> words = SqliteKeywords();
  ASSERT_GE(words.size(), 140u);  // 147 in SQLite 3.40
  for (const std::string& w : words) {
    EXPECT_EQ(QuoteIdentifier(w, Dialect::kSqlite), "\"" + w + "\"");
  }
  // Words SQLite does not reserve stay bare even where another dialect would quote them.
  EXPECT_EQ(QuoteIdentifier("rank", Dialect::kSqlite), "rank");
  EXPECT_EQ(QuoteIdentifier("user", Dialect::kSqlite), "user");
}

TEST(QuoteLiteralTest, ScalarsInEveryDialect) {
  for (Dialect d : {Dialect::kSqlite, Dialect::kPostgres, Dialect::kMysql}) {
    EXPECT_EQ(QuoteLiteral(Value{}, d), "NULL");
    EXPECT_EQ(QuoteLiteral(Value{int64_t{42}}, d), "42");
    EXPECT_EQ(QuoteLiteral(Value{int64_t{-7}}, d), "-7");
    EXPECT_EQ(QuoteLiteral(Value{19.99}, d), "19.99");
    EXPECT_EQ(QuoteLiteral(Value{0.5}, d), "0.5");
    EXPECT_EQ(QuoteLiteral(Value{std::string("Germany")}, d), "'Germany'");
    EXPECT_EQ(QuoteLiteral(Value{std::string("")}, d), "''");
    EXPECT_EQ(QuoteLiteral(Value{std::string("O'Brien")}, d), "'O''Brien'");
    EXPECT_EQ(QuoteLiteral(Value{std::string("''")}, d), "''''''");
  }
}

TEST(QuoteLiteralTest, NonFiniteDoublesBecomeNull) {
  EXPECT_EQ(QuoteLiteral(Value{std::numeric_limits<double>::infinity()}, Dialect::kSqlite), "NULL");
  EXPECT_EQ(QuoteLiteral(Value{-std::numeric_limits<double>::infinity()}, Dialect::kPostgres),
            "NULL");
  EXPECT_EQ(QuoteLiteral(Value{std::nan("")}, Dialect::kMysql), "NULL");
}

TEST(QuoteLiteralTest, BlobsAreHexLiterals) {
  EXPECT_EQ(QuoteLiteral(Value{db::Blob{{0xDE, 0xAD, 0x00, 0x01}}}, Dialect::kSqlite),
            "X'DEAD0001'");
  EXPECT_EQ(QuoteLiteral(Value{db::Blob{}}, Dialect::kSqlite), "X''");
}

TEST(QuoteLiteralTest, BackslashIsEscapedOnlyForMysql) {
  EXPECT_EQ(QuoteLiteral(Value{std::string("a\\b")}, Dialect::kSqlite), "'a\\b'");
  EXPECT_EQ(QuoteLiteral(Value{std::string("a\\b")}, Dialect::kPostgres), "'a\\b'");
  EXPECT_EQ(QuoteLiteral(Value{std::string("a\\b")}, Dialect::kMysql), "'a\\\\b'");
  EXPECT_EQ(QuoteLiteral(Value{std::string("it\\'s")}, Dialect::kMysql), "'it\\\\''s'");
}

TEST(DefaultAliasTest, NamesFollowTheExpression) {
  EXPECT_EQ(DefaultAlias(Expr::CountStar()), "count");
  EXPECT_EQ(DefaultAlias(Expr::Col(C("customers", "name"))), "name");
  EXPECT_EQ(DefaultAlias(Expr::Agg(Aggregate::kCount, C("orders", "ship_date"))),
            "count_ship_date");
  EXPECT_EQ(DefaultAlias(Expr::Agg(Aggregate::kCountDistinct, C("orders", "customer_id"))),
            "distinct_customer_id");
  EXPECT_EQ(DefaultAlias(Expr::Agg(Aggregate::kSum, C("orders", "total_amount"))),
            "sum_total_amount");
  EXPECT_EQ(DefaultAlias(Expr::Agg(Aggregate::kAvg, C("orders", "total_amount"))),
            "avg_total_amount");
  EXPECT_EQ(DefaultAlias(Expr::Agg(Aggregate::kMin, C("orders", "total_amount"))),
            "min_total_amount");
  EXPECT_EQ(DefaultAlias(Expr::Agg(Aggregate::kMax, C("orders", "total_amount"))),
            "max_total_amount");
  EXPECT_EQ(DefaultAlias(Grain(C("orders", "order_date"), TimeGrain::kMonth)), "month");
  EXPECT_EQ(DefaultAlias(Grain(C("orders", "order_date"), TimeGrain::kQuarter)), "quarter");
}

// ---------------------------------------------------------------------------------------------
// Whole statements

TEST(RenderTest, SingleColumnAndSelectStar) {
  Query q;
  q.from = "customers";
  q.select = {Item(Expr::Col(C("customers", "name")))};
  EXPECT_EQ(Bound(q).text, "SELECT name FROM customers");

  Query all;
  all.from = "customers";
  EXPECT_EQ(Bound(all).text, "SELECT * FROM customers");
  all.select = {Item(Expr::Col(C("customers", "*")))};
  EXPECT_EQ(Bound(all).text, "SELECT * FROM customers");
}

TEST(RenderTest, OddIdentifiersAreQuotedEverywhere) {
  Query q;
  q.from = "order items";
  q.select = {Item(Expr::Col(C("order items", "Unit Price"))),
              Item(Expr::Col(C("order items", "order"))),
              Item(Expr::Agg(Aggregate::kSum, C("order items", "Unit Price")))};
  q.where = {Pred(Expr::Col(C("order items", "MixedCase")), CompareOp::kEq, {int64_t{3}})};
  q.group_by = {Expr::Col(C("order items", "Unit Price")), Expr::Col(C("order items", "order"))};
  RenderedSql r = Bound(q);
  EXPECT_EQ(r.text,
            "SELECT \"Unit Price\", \"order\", SUM(\"Unit Price\") AS \"sum_Unit Price\" "
            "FROM \"order items\" WHERE \"MixedCase\" = ?1 GROUP BY \"Unit Price\", \"order\"");
  EXPECT_EQ(r.params, (Values{int64_t{3}}));
  EXPECT_EQ(Bound(q, Dialect::kMysql).text,
            "SELECT `Unit Price`, `order`, SUM(`Unit Price`) AS `sum_Unit Price` "
            "FROM `order items` WHERE `MixedCase` = ? GROUP BY `Unit Price`, `order`");
}

TEST(RenderTest, ExplicitAliasIsQuotedWhenNeeded) {
  Query q;
  q.from = "orders";
  q.select = {Item(Expr::CountStar(), "number of orders"), Item(Expr::CountStar(), "n")};
  EXPECT_EQ(Bound(q).text, "SELECT COUNT(*) AS \"number of orders\", COUNT(*) AS n FROM orders");
  EXPECT_EQ(Bound(q, Dialect::kMysql).text,
            "SELECT COUNT(*) AS `number of orders`, COUNT(*) AS n FROM orders");
}

TEST(RenderTest, JoinsQualifyEveryColumn) {
  Query q;
  q.from = "orders";
  q.joins = {Join{"customers", C("orders", "customer_id"), C("customers", "customer_id")}};
  q.select = {Item(Expr::Col(C("customers", "country"))), Item(Expr::CountStar())};
  q.where = {
      Pred(Expr::Col(C("customers", "segment")), CompareOp::kEq, {std::string("Corporate")})};
  q.group_by = {Expr::Col(C("customers", "country"))};
  q.order_by = {OrderItem{Expr::CountStar(), true}};
  q.limit = 5;
  RenderedSql r = Bound(q);
  EXPECT_EQ(r.text,
            "SELECT customers.country, COUNT(*) AS count FROM orders JOIN customers ON "
            "orders.customer_id = customers.customer_id WHERE customers.segment = ?1 GROUP BY "
            "customers.country ORDER BY COUNT(*) DESC LIMIT 5");
  EXPECT_EQ(r.params, (Values{std::string("Corporate")}));
}

TEST(RenderTest, JoinsWithOddTableNamesAndStar) {
  Query q;
  q.from = "order items";
  q.joins = {Join{"Customer", C("order items", "customer_id"), C("Customer", "id")}};
  q.select = {Item(Expr::Col(C("order items", "*"))), Item(Expr::Col(C("Customer", "name")))};
  EXPECT_EQ(Bound(q).text,
            "SELECT \"order items\".*, \"Customer\".name FROM \"order items\" JOIN \"Customer\" "
            "ON \"order items\".customer_id = \"Customer\".id");
  EXPECT_EQ(Bound(q, Dialect::kMysql).text,
            "SELECT `order items`.*, `Customer`.name FROM `order items` JOIN `Customer` "
            "ON `order items`.customer_id = `Customer`.id");
}

TEST(RenderTest, EveryAggregate) {
  Query q;
  q.from = "orders";
  ColumnRef amount = C("orders", "total_amount");
  q.select = {Item(Expr::CountStar()),
              Item(Expr::Agg(Aggregate::kCount, C("orders", "ship_date"))),
              Item(Expr::Agg(Aggregate::kCountDistinct, C("orders", "customer_id"))),
              Item(Expr::Agg(Aggregate::kSum, amount)),
              Item(Expr::Agg(Aggregate::kAvg, amount)),
              Item(Expr::Agg(Aggregate::kMin, amount)),
              Item(Expr::Agg(Aggregate::kMax, amount))};
  EXPECT_EQ(Bound(q).text,
            "SELECT COUNT(*) AS count, COUNT(ship_date) AS count_ship_date, COUNT(DISTINCT "
            "customer_id) AS distinct_customer_id, SUM(total_amount) AS sum_total_amount, "
            "AVG(total_amount) AS avg_total_amount, MIN(total_amount) AS min_total_amount, "
            "MAX(total_amount) AS max_total_amount FROM orders");
  EXPECT_TRUE(q.is_aggregated());
}

struct GrainCase {
  Dialect dialect;
  TimeGrain grain;
  std::string expr;  // the rendering of order_date truncated to the grain
};

class TimeGrainTest : public ::testing::TestWithParam<GrainCase> {};

TEST_P(TimeGrainTest, RendersInSelectGroupAndOrder) {
  const GrainCase& c = GetParam();
  Query q;
  q.from = "orders";
  Expr e = Grain(C("orders", "order_date"), c.grain);
  q.select = {Item(e), Item(Expr::CountStar())};
  q.group_by = {e};
  q.order_by = {OrderItem{e, false}};
  std::string name(TimeGrainName(c.grain));
  EXPECT_EQ(Bound(q, c.dialect).text, "SELECT " + c.expr + " AS " + name +
                                          ", COUNT(*) AS count FROM orders GROUP BY " + c.expr +
                                          " ORDER BY " + c.expr + " ASC");
}

INSTANTIATE_TEST_SUITE_P(
    AllDialects, TimeGrainTest,
    ::testing::Values(
        GrainCase{Dialect::kSqlite, TimeGrain::kYear, "strftime('%Y', order_date)"},
        GrainCase{Dialect::kSqlite, TimeGrain::kMonth, "strftime('%Y-%m', order_date)"},
        GrainCase{Dialect::kSqlite, TimeGrain::kWeek,
                  "strftime('%Y', date(order_date, '-3 days', 'weekday 4')) || '-W' || "
                  "printf('%02d', (CAST(strftime('%j', date(order_date, '-3 days', 'weekday 4')) "
                  "AS INTEGER) - 1) / 7 + 1)"},
        GrainCase{Dialect::kSqlite, TimeGrain::kDay, "date(order_date)"},
        GrainCase{Dialect::kSqlite, TimeGrain::kQuarter,
                  "strftime('%Y', order_date) || '-Q' || ((CAST(strftime('%m', order_date) AS "
                  "INTEGER) + 2) / 3)"},
        GrainCase{Dialect::kPostgres, TimeGrain::kYear, "to_char(order_date, 'YYYY')"},
        GrainCase{Dialect::kPostgres, TimeGrain::kMonth, "to_char(order_date, 'YYYY-MM')"},
        GrainCase{Dialect::kPostgres, TimeGrain::kWeek, "to_char(order_date, 'IYYY-\"W\"IW')"},
        GrainCase{Dialect::kPostgres, TimeGrain::kDay, "to_char(order_date, 'YYYY-MM-DD')"},
        GrainCase{Dialect::kPostgres, TimeGrain::kQuarter, "to_char(order_date, 'YYYY-\"Q\"Q')"},
        GrainCase{Dialect::kMysql, TimeGrain::kYear, "DATE_FORMAT(order_date, '%Y')"},
        GrainCase{Dialect::kMysql, TimeGrain::kMonth, "DATE_FORMAT(order_date, '%Y-%m')"},
        GrainCase{Dialect::kMysql, TimeGrain::kWeek, "DATE_FORMAT(order_date, '%x-W%v')"},
        GrainCase{Dialect::kMysql, TimeGrain::kDay, "DATE_FORMAT(order_date, '%Y-%m-%d')"},
        GrainCase{Dialect::kMysql, TimeGrain::kQuarter,
                  "CONCAT(YEAR(order_date), '-Q', QUARTER(order_date))"}));

struct OpCase {
  std::string name;
  Dialect dialect;
  Predicate predicate;
  std::string where;  // the expected WHERE clause
  Values params;
};

class CompareOpTest : public ::testing::TestWithParam<OpCase> {};

TEST_P(CompareOpTest, RendersWithBoundParameters) {
  const OpCase& c = GetParam();
  Query q;
  q.from = "orders";
  q.select = {Item(Expr::Col(C("orders", "order_id")))};
  q.where = {c.predicate};
  RenderedSql r = Bound(q, c.dialect);
  EXPECT_EQ(r.text, "SELECT order_id FROM orders WHERE " + c.where);
  EXPECT_EQ(r.params, c.params);
}

Expr Amount() { return Expr::Col(C("orders", "total_amount")); }
Expr Status() { return Expr::Col(C("orders", "status")); }
Expr OrderDate() { return Expr::Col(C("orders", "order_date")); }
Expr ShipDate() { return Expr::Col(C("orders", "ship_date")); }
Value S(const char* s) { return Value{std::string(s)}; }
Value I(int64_t i) { return Value{i}; }

INSTANTIATE_TEST_SUITE_P(
    AllOps, CompareOpTest,
    ::testing::Values(
        OpCase{"SqliteEq",
               Dialect::kSqlite,
               Pred(Amount(), CompareOp::kEq, {I(100)}),
               "total_amount = ?1",
               {I(100)}},
        OpCase{"SqliteNe",
               Dialect::kSqlite,
               Pred(Amount(), CompareOp::kNe, {I(100)}),
               "total_amount <> ?1",
               {I(100)}},
        OpCase{"SqliteLt",
               Dialect::kSqlite,
               Pred(Amount(), CompareOp::kLt, {Value{9.5}}),
               "total_amount < ?1",
               {Value{9.5}}},
        OpCase{"SqliteLe",
               Dialect::kSqlite,
               Pred(Amount(), CompareOp::kLe, {I(10)}),
               "total_amount <= ?1",
               {I(10)}},
        OpCase{"SqliteGt",
               Dialect::kSqlite,
               Pred(Amount(), CompareOp::kGt, {I(10)}),
               "total_amount > ?1",
               {I(10)}},
        OpCase{"SqliteGe",
               Dialect::kSqlite,
               Pred(Amount(), CompareOp::kGe, {I(10)}),
               "total_amount >= ?1",
               {I(10)}},
        OpCase{"SqliteRange",
               Dialect::kSqlite,
               Pred(OrderDate(), CompareOp::kRange, {S("2024-01-01"), S("2024-02-01")}),
               "(order_date >= ?1 AND order_date < ?2)",
               {S("2024-01-01"), S("2024-02-01")}},
        OpCase{"SqliteIn",
               Dialect::kSqlite,
               Pred(Status(), CompareOp::kIn, {S("shipped"), S("delivered"), S("returned")}),
               "status IN (?1, ?2, ?3)",
               {S("shipped"), S("delivered"), S("returned")}},
        OpCase{"SqliteContains",
               Dialect::kSqlite,
               Pred(Status(), CompareOp::kContains, {S("ship")}),
               "status LIKE ?1 ESCAPE '\\'",
               {S("%ship%")}},
        OpCase{"SqliteIsNull",
               Dialect::kSqlite,
               Pred(ShipDate(), CompareOp::kIsNull),
               "ship_date IS NULL",
               {}},
        OpCase{"SqliteIsNotNull",
               Dialect::kSqlite,
               Pred(ShipDate(), CompareOp::kIsNotNull),
               "ship_date IS NOT NULL",
               {}},
        OpCase{"SqliteEqIgnoringCase",
               Dialect::kSqlite,
               Pred(Status(), CompareOp::kEq, {S("Shipped")}, true),
               "status = ?1 COLLATE NOCASE",
               {S("Shipped")}},
        OpCase{"SqliteNeIgnoringCase",
               Dialect::kSqlite,
               Pred(Status(), CompareOp::kNe, {S("Shipped")}, true),
               "NOT (status = ?1 COLLATE NOCASE)",
               {S("Shipped")}},
        OpCase{"PostgresEq",
               Dialect::kPostgres,
               Pred(Amount(), CompareOp::kEq, {I(100)}),
               "total_amount = $1",
               {I(100)}},
        OpCase{"PostgresRange",
               Dialect::kPostgres,
               Pred(OrderDate(), CompareOp::kRange, {S("2024-01-01"), S("2025-01-01")}),
               "(order_date >= $1 AND order_date < $2)",
               {S("2024-01-01"), S("2025-01-01")}},
        OpCase{"PostgresIn",
               Dialect::kPostgres,
               Pred(Status(), CompareOp::kIn, {S("a"), S("b")}),
               "status IN ($1, $2)",
               {S("a"), S("b")}},
        OpCase{"PostgresContains",
               Dialect::kPostgres,
               Pred(Status(), CompareOp::kContains, {S("ship")}),
               "status ILIKE $1 ESCAPE '\\'",
               {S("%ship%")}},
        OpCase{"PostgresEqIgnoringCase",
               Dialect::kPostgres,
               Pred(Status(), CompareOp::kEq, {S("Shipped")}, true),
               "LOWER(status) = LOWER($1)",
               {S("Shipped")}},
        OpCase{"PostgresNeIgnoringCase",
               Dialect::kPostgres,
               Pred(Status(), CompareOp::kNe, {S("Shipped")}, true),
               "NOT (LOWER(status) = LOWER($1))",
               {S("Shipped")}},
        OpCase{"MysqlEq",
               Dialect::kMysql,
               Pred(Amount(), CompareOp::kGe, {I(5)}),
               "total_amount >= ?",
               {I(5)}},
        OpCase{"MysqlIn",
               Dialect::kMysql,
               Pred(Status(), CompareOp::kIn, {S("a"), S("b"), S("c")}),
               "status IN (?, ?, ?)",
               {S("a"), S("b"), S("c")}},
        OpCase{"MysqlContains",
               Dialect::kMysql,
               Pred(Status(), CompareOp::kContains, {S("ship")}),
               "LOWER(status) LIKE LOWER(?) ESCAPE '\\\\'",
               {S("%ship%")}},
        OpCase{"MysqlEqIgnoringCase",
               Dialect::kMysql,
               Pred(Status(), CompareOp::kEq, {S("Shipped")}, true),
               "LOWER(status) = LOWER(?)",
               {S("Shipped")}},
        OpCase{"MysqlIsNull",
               Dialect::kMysql,
               Pred(ShipDate(), CompareOp::kIsNull),
               "ship_date IS NULL",
               {}}),
    [](const ::testing::TestParamInfo<OpCase>& info) { return info.param.name; });

TEST(RenderTest, BetweenPlaceholdersFollowTextOrder) {
  Query q;
  q.from = "orders";
  q.select = {Item(Expr::Col(C("orders", "order_id")))};
  q.where = {Pred(Amount(), CompareOp::kBetween, {I(100), I(200)})};
  RenderedSql sqlite = Bound(q, Dialect::kSqlite);
  EXPECT_EQ(sqlite.text, "SELECT order_id FROM orders WHERE total_amount BETWEEN ?1 AND ?2");
  EXPECT_EQ(sqlite.params, (Values{I(100), I(200)}));
  EXPECT_EQ(Bound(q, Dialect::kPostgres).text,
            "SELECT order_id FROM orders WHERE total_amount BETWEEN $1 AND $2");
  // MySQL placeholders are positional: the low bound must come first.
  RenderedSql mysql = Bound(q, Dialect::kMysql);
  EXPECT_EQ(mysql.text, "SELECT order_id FROM orders WHERE total_amount BETWEEN ? AND ?");
  EXPECT_EQ(mysql.params, (Values{I(100), I(200)}));
}

TEST(RenderTest, ContainsEscapesLikeWildcards) {
  auto pattern = [](Value needle, Dialect d = Dialect::kSqlite) {
    Query q;
    q.from = "customers";
    q.select = {Item(Expr::Col(C("customers", "name")))};
    q.where = {Pred(Expr::Col(C("customers", "name")), CompareOp::kContains, {std::move(needle)})};
    RenderedSql r = Render(q, {d, false});
    EXPECT_EQ(r.params.size(), 1u);
    return r.params.empty() ? Value{} : r.params[0];
  };
  EXPECT_EQ(pattern(S("50%_off")), S("%50\\%\\_off%"));
  EXPECT_EQ(pattern(S("a\\b")), S("%a\\\\b%"));
  EXPECT_EQ(pattern(S("%")), S("%\\%%"));
  EXPECT_EQ(pattern(S("plain")), S("%plain%"));
  EXPECT_EQ(pattern(I(42)), S("%42%"));
  EXPECT_EQ(pattern(S("50%_off"), Dialect::kPostgres), S("%50\\%\\_off%"));
  EXPECT_EQ(pattern(S("50%_off"), Dialect::kMysql), S("%50\\%\\_off%"));
}

TEST(RenderTest, ParametersAreNumberedAcrossWhereAndHaving) {
  Query q;
  q.from = "orders";
  q.select = {Item(Expr::Col(C("orders", "customer_id"))), Item(Expr::CountStar())};
  q.where = {Pred(Status(), CompareOp::kEq, {S("delivered")}),
             Pred(Amount(), CompareOp::kGe, {I(10)}), Pred(Amount(), CompareOp::kLt, {I(500)})};
  q.group_by = {Expr::Col(C("orders", "customer_id"))};
  q.having = {Pred(Expr::CountStar(), CompareOp::kGe, {I(3)})};
  RenderedSql r = Bound(q);
  EXPECT_EQ(r.text,
            "SELECT customer_id, COUNT(*) AS count FROM orders WHERE status = ?1 AND "
            "total_amount >= ?2 AND total_amount < ?3 GROUP BY customer_id HAVING COUNT(*) >= ?4");
  EXPECT_EQ(r.params, (Values{S("delivered"), I(10), I(500), I(3)}));
  EXPECT_EQ(Bound(q, Dialect::kPostgres).text,
            "SELECT customer_id, COUNT(*) AS count FROM orders WHERE status = $1 AND "
            "total_amount >= $2 AND total_amount < $3 GROUP BY customer_id HAVING COUNT(*) >= $4");
  EXPECT_EQ(Bound(q, Dialect::kMysql).text,
            "SELECT customer_id, COUNT(*) AS count FROM orders WHERE status = ? AND "
            "total_amount >= ? AND total_amount < ? GROUP BY customer_id HAVING COUNT(*) >= ?");
}

TEST(RenderTest, InlineLiteralsAreQuotedAndLeaveNoPlaceholders) {
  Query q;
  q.from = "customers";
  q.select = {Item(Expr::Col(C("customers", "customer_id")))};
  q.where = {
      Pred(Expr::Col(C("customers", "name")), CompareOp::kEq, {S("O'Brien")}),
      Pred(Expr::Col(C("customers", "score")), CompareOp::kGt, {Value{2.5}}),
      Pred(Expr::Col(C("customers", "photo")), CompareOp::kEq, {Value{db::Blob{{0xDE, 0xAD}}}}),
      Pred(Expr::Col(C("customers", "country")), CompareOp::kEq, {S("germany")}, true),
      Pred(Expr::Col(C("customers", "name")), CompareOp::kContains, {S("50%_")}),
      Pred(Expr::Col(C("customers", "customer_id")), CompareOp::kIn, {I(1), I(2)})};
  EXPECT_EQ(Inline(q),
            "SELECT customer_id FROM customers WHERE name = 'O''Brien' AND score > 2.5 AND "
            "photo = X'DEAD' AND country = 'germany' COLLATE NOCASE AND name LIKE "
            "'%50\\%\\_%' ESCAPE '\\' AND customer_id IN (1, 2)");
  EXPECT_EQ(Inline(q, Dialect::kPostgres),
            "SELECT customer_id FROM customers WHERE name = 'O''Brien' AND score > 2.5 AND "
            "photo = '\\xdead'::bytea AND LOWER(country) = LOWER('germany') AND name ILIKE "
            "'%50\\%\\_%' ESCAPE '\\' AND customer_id IN (1, 2)");
}

// "= NULL" never matches in SQL; equality with NULL renders as IS NULL, in both forms.
TEST(RenderTest, EqualityWithNullIsIsNull) {
  Query q;
  q.from = "customers";
  q.select = {Item(Expr::Col(C("customers", "name")))};
  q.where = {Pred(Expr::Col(C("customers", "score")), CompareOp::kEq, {Value{}})};
  EXPECT_EQ(Inline(q), "SELECT name FROM customers WHERE score IS NULL");
  RenderedSql bound = Bound(q);
  EXPECT_EQ(bound.text, "SELECT name FROM customers WHERE score IS NULL");
  EXPECT_TRUE(bound.params.empty());
  q.where[0].op = CompareOp::kNe;
  EXPECT_EQ(Inline(q), "SELECT name FROM customers WHERE score IS NOT NULL");
  q.where[0] = Pred(Expr::Col(C("customers", "score")), CompareOp::kIn, {});
  EXPECT_EQ(Inline(q), "SELECT name FROM customers WHERE 1 = 0");
}

TEST(RenderTest, DistinctOrderByAndLimit) {
  Query q;
  q.from = "customers";
  q.distinct = true;
  q.select = {Item(Expr::Col(C("customers", "country"))), Item(Expr::Col(C("customers", "city")))};
  q.order_by = {OrderItem{Expr::Col(C("customers", "country")), false},
                OrderItem{Expr::Col(C("customers", "city")), true}};
  q.limit = 1;
  EXPECT_EQ(Bound(q).text,
            "SELECT DISTINCT country, city FROM customers ORDER BY country ASC, city DESC LIMIT 1");
  q.limit = 0;
  EXPECT_EQ(Bound(q).text,
            "SELECT DISTINCT country, city FROM customers ORDER BY country ASC, city DESC LIMIT 0");
}

TEST(RenderTest, IsDeterministicAndLeavesTheQueryUntouched) {
  Query q;
  q.from = "orders";
  q.select = {Item(Expr::Agg(Aggregate::kSum, C("orders", "total_amount")))};
  q.where = {Pred(Status(), CompareOp::kIn, {S("a"), S("b")})};
  const Query copy = q;
  RenderedSql a = Bound(q);
  RenderedSql b = Bound(q);
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.params, b.params);
  EXPECT_EQ(q, copy);
}

// ---------------------------------------------------------------------------------------------
// Rendered SQL runs on SQLite, and the bound and inline forms return the same rows.

class RenderExecuteTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("helios-render-test-" + std::to_string(::getpid())));
    std::filesystem::create_directories(*dir_);
    std::string path = (*dir_ / "odd.db").string();
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const char* kSchema = R"sql(
      CREATE TABLE customers(customer_id INTEGER PRIMARY KEY, name TEXT, country TEXT,
                             signup_date TEXT, score REAL, photo BLOB, "order" TEXT,
                             "MixedCase" INTEGER);
      INSERT INTO customers VALUES
        (1, 'O''Brien', 'Ireland', '2024-01-15', 4.5, X'DEAD', 'first', 10),
        (2, 'Müller', 'Germany', '2024-02-20', 3.25, NULL, 'second', 20),
        (3, '50%_off Ltd', 'germany', '2024-02-28', NULL, X'00FF', 'third', 30),
        (4, '500_off', 'France', '2024-05-01', 2.0, NULL, NULL, 40),
        (5, 'back\slash', 'France', '2025-01-01', 1.5, NULL, 'fifth', 50);
      CREATE TABLE "order items"(item_id INTEGER PRIMARY KEY,
                                 customer_id INTEGER REFERENCES customers(customer_id),
                                 "Unit Price" REAL, quantity INTEGER, "order date" TEXT);
      INSERT INTO "order items" VALUES
        (1, 1, 10.0, 2, '2024-01-20'),
        (2, 1, 5.5, 1, '2024-02-03'),
        (3, 2, 100.0, 3, '2024-02-10'),
        (4, 3, 1.25, 4, '2024-03-15'),
        (5, 4, 20.0, 1, '2024-03-31'),
        (6, 2, 7.0, 2, '2025-01-05');
    )sql";
    char* err = nullptr;
    int rc = sqlite3_exec(db, kSchema, nullptr, nullptr, &err);
    std::string message = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << message;
    auto source = db::OpenDataSource("sqlite://" + path);
    ASSERT_TRUE(source.has_value()) << source.error().message;
    source_ = source->release();
  }
  static void TearDownTestSuite() {
    delete source_;
    source_ = nullptr;
    std::error_code ec;
    std::filesystem::remove_all(*dir_, ec);
    delete dir_;
  }

  // Runs the bound and the inline rendering; both must succeed and return the same rows.
  static std::vector<db::Row> RunBoth(const Query& q) {
    RenderedSql bound = Render(q, {Dialect::kSqlite, false});
    RenderedSql shown = Render(q, {Dialect::kSqlite, true});
    auto a = source_->Execute(bound.text, bound.params, {});
    auto b = source_->Execute(shown.text, {}, {});
    EXPECT_TRUE(a.has_value()) << bound.text << ": " << (a ? "" : a.error().message);
    EXPECT_TRUE(b.has_value()) << shown.text << ": " << (b ? "" : b.error().message);
    if (!a || !b) return {};
    EXPECT_EQ(a->columns, b->columns) << bound.text << "\n" << shown.text;
    EXPECT_EQ(a->rows, b->rows) << bound.text << "\n" << shown.text;
    return a->rows;
  }

  static Query Ids(std::vector<Predicate> where) {
    Query q;
    q.from = "customers";
    q.select = {Item(Expr::Col(C("customers", "customer_id")))};
    q.where = std::move(where);
    q.order_by = {OrderItem{Expr::Col(C("customers", "customer_id")), false}};
    return q;
  }
  static std::vector<db::Row> IdRows(std::vector<int64_t> ids) {
    std::vector<db::Row> rows;
    for (int64_t id : ids) rows.push_back({Value{id}});
    return rows;
  }
  static Expr Cust(const char* column) { return Expr::Col(C("customers", column)); }

  static std::filesystem::path* dir_;
  static db::DataSource* source_;
};

std::filesystem::path* RenderExecuteTest::dir_ = nullptr;
db::DataSource* RenderExecuteTest::source_ = nullptr;

TEST_F(RenderExecuteTest, StringWithQuoteBinds) {
  EXPECT_EQ(RunBoth(Ids({Pred(Cust("name"), CompareOp::kEq, {S("O'Brien")})})), IdRows({1}));
}

TEST_F(RenderExecuteTest, InjectionAttemptIsJustAValue) {
  EXPECT_EQ(RunBoth(Ids({Pred(Cust("name"), CompareOp::kEq, {S("x' OR '1'='1")})})), IdRows({}));
  EXPECT_EQ(RunBoth(Ids({Pred(Cust("name"), CompareOp::kEq, {S("x'; DROP TABLE customers; --")})})),
            IdRows({}));
  EXPECT_EQ(RunBoth(Ids({})), IdRows({1, 2, 3, 4, 5}));
}

TEST_F(RenderExecuteTest, CaseInsensitiveEquality) {
  EXPECT_EQ(RunBoth(Ids({Pred(Cust("country"), CompareOp::kEq, {S("GERMANY")}, true)})),
            IdRows({2, 3}));
  EXPECT_EQ(RunBoth(Ids({Pred(Cust("country"), CompareOp::kEq, {S("GERMANY")}, false)})),
            IdRows({}));
  EXPECT_EQ(RunBoth(Ids({Pred(Cust("country"), CompareOp::kNe, {S("germany")}, true)})),
            IdRows({1, 4, 5}));
}

TEST_F(RenderExecuteTest, ContainsTreatsWildcardsLiterally) {
  EXPECT_EQ(RunBoth(Ids({Pred(Cust("name"), CompareOp::kContains, {S("50%_")})})), IdRows({3}));
  EXPECT_EQ(RunBoth(Ids({Pred(Cust("name"), CompareOp::kContains, {S("%")})})), IdRows({3}));
  EXPECT_EQ(RunBoth(Ids({Pred(Cust("name"), CompareOp::kContains, {S("_")})})), IdRows({3, 4}));
  EXPECT_EQ(RunBoth(Ids({Pred(Cust("name"), CompareOp::kContains, {S("\\")})})), IdRows({5}));
  EXPECT_EQ(RunBoth(Ids({Pred(Cust("name"), CompareOp::kContains, {S("o'b")})})), IdRows({1}));
}

TEST_F(RenderExecuteTest, BlobDoubleAndNullValues) {
  EXPECT_EQ(RunBoth(Ids({Pred(Cust("photo"), CompareOp::kEq, {Value{db::Blob{{0xDE, 0xAD}}}})})),
            IdRows({1}));
  EXPECT_EQ(RunBoth(Ids({Pred(Cust("score"), CompareOp::kGt, {Value{3.0}})})), IdRows({1, 2}));
  EXPECT_EQ(RunBoth(Ids({Pred(Cust("score"), CompareOp::kEq, {Value{3.25}})})), IdRows({2}));
  EXPECT_EQ(RunBoth(Ids({Pred(Cust("score"), CompareOp::kEq, {Value{}})})), IdRows({3}));
  EXPECT_EQ(RunBoth(Ids({Pred(Cust("score"), CompareOp::kIsNull)})), IdRows({3}));
  EXPECT_EQ(RunBoth(Ids({Pred(Cust("order"), CompareOp::kIsNotNull)})), IdRows({1, 2, 3, 5}));
}

TEST_F(RenderExecuteTest, RangesAndLists) {
  EXPECT_EQ(RunBoth(Ids({Pred(Cust("score"), CompareOp::kBetween, {Value{2.0}, Value{4.5}})})),
            IdRows({1, 2, 4}));
  EXPECT_EQ(RunBoth(Ids({Pred(Cust("signup_date"), CompareOp::kRange,
                              {S("2024-02-01"), S("2024-03-01")})})),
            IdRows({2, 3}));
  EXPECT_EQ(RunBoth(Ids({Pred(Cust("country"), CompareOp::kIn, {S("Germany"), S("France")})})),
            IdRows({2, 4, 5}));
  EXPECT_EQ(RunBoth(Ids({Pred(Cust("MixedCase"), CompareOp::kGe, {I(30)}),
                         Pred(Cust("MixedCase"), CompareOp::kLt, {I(50)}),
                         Pred(Cust("order"), CompareOp::kNe, {S("third")})})),
            IdRows({}));
  EXPECT_EQ(RunBoth(Ids({Pred(Cust("MixedCase"), CompareOp::kLe, {I(20)}),
                         Pred(Cust("order"), CompareOp::kEq, {S("second")})})),
            IdRows({2}));
}

TEST_F(RenderExecuteTest, AggregatesKeepTheirTypes) {
  Query q;
  q.from = "customers";
  q.select = {Item(Expr::CountStar()),
              Item(Expr::Agg(Aggregate::kCount, C("customers", "score"))),
              Item(Expr::Agg(Aggregate::kCountDistinct, C("customers", "country"))),
              Item(Expr::Agg(Aggregate::kSum, C("customers", "MixedCase"))),
              Item(Expr::Agg(Aggregate::kAvg, C("customers", "score"))),
              Item(Expr::Agg(Aggregate::kMin, C("customers", "signup_date"))),
              Item(Expr::Agg(Aggregate::kMax, C("customers", "score")))};
  auto rows = RunBoth(q);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0],
            (db::Row{I(5), I(4), I(4), I(150), Value{2.8125}, S("2024-01-15"), Value{4.5}}));
}

TEST_F(RenderExecuteTest, JoinGroupOrderOverOddIdentifiers) {
  Query q;
  q.from = "order items";
  q.joins = {Join{"customers", C("order items", "customer_id"), C("customers", "customer_id")}};
  Expr price_sum = Expr::Agg(Aggregate::kSum, C("order items", "Unit Price"));
  q.select = {Item(Expr::Col(C("customers", "country"))), Item(price_sum, "total price")};
  q.group_by = {Expr::Col(C("customers", "country"))};
  q.order_by = {OrderItem{price_sum, true}};
  RenderedSql r = Bound(q);
  auto result = source_->Execute(r.text, r.params, {});
  ASSERT_TRUE(result.has_value()) << r.text << ": " << result.error().message;
  EXPECT_EQ(result->columns, (std::vector<std::string>{"country", "total price"}));
  EXPECT_EQ(RunBoth(q), (std::vector<db::Row>{{S("Germany"), Value{107.0}},
                                              {S("France"), Value{20.0}},
                                              {S("Ireland"), Value{15.5}},
                                              {S("germany"), Value{1.25}}}));
}

TEST_F(RenderExecuteTest, TimeGrainsGroupCalendarPeriods) {
  auto by = [](TimeGrain g) {
    Query q;
    q.from = "order items";
    Expr e = Grain(C("order items", "order date"), g);
    q.select = {Item(e), Item(Expr::CountStar())};
    q.group_by = {e};
    q.order_by = {OrderItem{e, false}};
    return RunBoth(q);
  };
  EXPECT_EQ(by(TimeGrain::kYear), (std::vector<db::Row>{{S("2024"), I(5)}, {S("2025"), I(1)}}));
  EXPECT_EQ(by(TimeGrain::kQuarter),
            (std::vector<db::Row>{{S("2024-Q1"), I(5)}, {S("2025-Q1"), I(1)}}));
  EXPECT_EQ(
      by(TimeGrain::kMonth),
      (std::vector<db::Row>{
          {S("2024-01"), I(1)}, {S("2024-02"), I(2)}, {S("2024-03"), I(2)}, {S("2025-01"), I(1)}}));
  EXPECT_EQ(by(TimeGrain::kDay).size(), 6u);
  EXPECT_EQ(by(TimeGrain::kWeek).front(), (db::Row{S("2024-W03"), I(1)}));
}

TEST_F(RenderExecuteTest, HavingDistinctAndLimit) {
  Query having;
  having.from = "order items";
  having.select = {Item(Expr::Col(C("order items", "customer_id"))), Item(Expr::CountStar())};
  having.group_by = {Expr::Col(C("order items", "customer_id"))};
  having.having = {Pred(Expr::CountStar(), CompareOp::kGe, {I(2)})};
  having.order_by = {OrderItem{Expr::Col(C("order items", "customer_id")), false}};
  EXPECT_EQ(RunBoth(having), (std::vector<db::Row>{{I(1), I(2)}, {I(2), I(2)}}));

  Query distinct;
  distinct.from = "customers";
  distinct.distinct = true;
  distinct.select = {Item(Cust("country"))};
  distinct.order_by = {OrderItem{Cust("country"), false}};
  EXPECT_EQ(RunBoth(distinct),
            (std::vector<db::Row>{{S("France")}, {S("Germany")}, {S("Ireland")}, {S("germany")}}));

  Query top = Ids({});
  top.order_by = {OrderItem{Cust("score"), true}};
  top.limit = 2;
  EXPECT_EQ(RunBoth(top), IdRows({1, 2}));
}

// A table and a column named after every SQLite keyword: the rendered SQL (a join, filters,
// grouping, HAVING, ordering, an alias) runs through the SQLite data source and returns the
// expected rows.
TEST(RenderKeywordsTest, EverySqliteKeywordWorksAsTableColumnAndAlias) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                    ("helios-render-keywords-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "keywords.db").string();
  const std::vector<std::string> words = SqliteKeywords();
  std::string ddl = "CREATE TABLE kw_base(k INTEGER); INSERT INTO kw_base VALUES (1);";
  for (const std::string& w : words)
    ddl += fmt::format(
        "CREATE TABLE \"{0}\"(\"{0}\" INTEGER, k INTEGER); "
        "INSERT INTO \"{0}\" VALUES (42, 1);",
        w);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, ddl.c_str(), nullptr, nullptr, &err);
  const std::string message = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << message;
  auto source = db::OpenDataSource("sqlite://" + path);
  ASSERT_TRUE(source.has_value()) << source.error().message;

  for (const std::string& w : words) {
    SCOPED_TRACE(w);
    const ColumnRef col = C(w, w);
    Query grouped;
    grouped.from = w;
    grouped.select = {Item(Expr::Col(col)), Item(Expr::CountStar())};
    grouped.where = {Pred(Expr::Col(col), CompareOp::kGt, {Value{int64_t{1}}}),
                     Pred(Expr::Col(col), CompareOp::kIn, {Value{int64_t{42}}, Value{int64_t{7}}})};
    grouped.group_by = {Expr::Col(col)};
    grouped.having = {Pred(Expr::CountStar(), CompareOp::kGe, {Value{int64_t{1}}})};
    grouped.order_by = {OrderItem{Expr::Col(col), true}};
    grouped.limit = 5;
    Query joined;
    joined.from = "kw_base";
    joined.joins = {Join{w, C("kw_base", "k"), C(w, "k")}};
    joined.select = {Item(Expr::Agg(Aggregate::kMax, col), w)};
    joined.where = {Pred(Expr::Col(col), CompareOp::kEq, {Value{int64_t{42}}})};

    for (bool inline_literals : {false, true}) {
      RenderedSql a = Render(grouped, {Dialect::kSqlite, inline_literals});
      auto ra = (*source)->Execute(a.text, a.params, {});
      ASSERT_TRUE(ra.has_value()) << a.text << ": " << ra.error().message;
      EXPECT_EQ(ra->rows, (std::vector<db::Row>{{Value{int64_t{42}}, Value{int64_t{1}}}}))
          << a.text;
      RenderedSql b = Render(joined, {Dialect::kSqlite, inline_literals});
      auto rb = (*source)->Execute(b.text, b.params, {});
      ASSERT_TRUE(rb.has_value()) << b.text << ": " << rb.error().message;
      EXPECT_EQ(rb->rows, (std::vector<db::Row>{{Value{int64_t{42}}}})) << b.text;
      EXPECT_EQ(rb->columns, std::vector<std::string>{w}) << b.text;
    }
  }
  source->reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace helios::sql
