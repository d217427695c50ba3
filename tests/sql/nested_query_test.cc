// Nested queries in the IR: subqueries in filters, OR groups and set operations. Validate's
// rules, the SQL each dialect gets (parameters numbered across the whole statement), and the
// rendered SQL run on SQLite (bound and inline, same rows) and accepted by the PostgreSQL and
// MySQL allow-lists.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "db/open.h"
#include "security/mysql_guard.h"
#include "security/sql_guard.h"
#include "sql/ir.h"
#include "sql/nested_builders.h"
#include "sql/render.h"
#include "support/sqlite_file.h"

namespace helios::sql {
namespace {

using db::Dialect;
using db::Value;
using Values = std::vector<Value>;

Value S(const char* s) { return Value{std::string(s)}; }
Value I(int64_t i) { return Value{i}; }

Expr Col(const char* table, const char* column) { return Expr::Col(ColumnRef{table, column}); }

Predicate Pred(Expr lhs, CompareOp op, Values values = {}) {
  Predicate p;
  p.lhs = std::move(lhs);
  p.op = op;
  p.values = std::move(values);
  return p;
}

Query Industries(const char* hq) {
  return Select("companies", "industry", {Pred(Col("companies", "hq"), CompareOp::kEq, {S(hq)})});
}

// products priced above the average
Query AboveAverage() {
  Query avg;
  avg.from = "products";
  avg.select = {{Expr::Agg(Aggregate::kAvg, ColumnRef{"products", "price"}), ""}};
  Query q = Select("products", "name",
                   {Against(Col("products", "price"), CompareOp::kGt, std::move(avg))});
  q.order_by = {{Col("products", "name"), false}};
  return q;
}

// the department with the most employees: GROUP BY, ORDER BY COUNT(*) DESC, LIMIT 1
Query BiggestDepartment() {
  Query biggest = Select("employees", "dept_id");
  biggest.group_by = {Col("employees", "dept_id")};
  biggest.order_by = {{Expr::CountStar(), true}};
  biggest.limit = 1;
  return biggest;
}

Error ValidateError(const Query& q) {
  auto ok = Validate(q);
  EXPECT_FALSE(ok.has_value()) << "accepted";
  return ok ? Error() : ok.error();
}

// ---------------------------------------------------------------------------------------------
// Validate

TEST(ValidateTest, AcceptsEveryNewShapeAndPlainQueries) {
  Query plain = Select("orders", "id", {Pred(Col("orders", "status"), CompareOp::kEq, {S("x")})});
  plain.limit = 3;
  EXPECT_TRUE(Validate(plain).has_value());
  EXPECT_TRUE(Validate(Query{}).has_value());
  EXPECT_TRUE(Validate(AboveAverage()).has_value());
  EXPECT_TRUE(
      Validate(Select("employees", "name",
                      {Against(Col("employees", "dept_id"), CompareOp::kEq, BiggestDepartment())}))
          .has_value());
  EXPECT_TRUE(Validate(Select("students", "name",
                              {Against(Col("students", "id"), CompareOp::kIn,
                                       Select("enrolled", "student_id"), true)}))
                  .has_value());
  EXPECT_TRUE(
      Validate(Combine(Industries("USA"), SetOp::kIntersect, Industries("China"))).has_value());
  EXPECT_TRUE(
      Validate(Select("companies", "name",
                      {AnyOf({Pred(Col("companies", "hq"), CompareOp::kEq, {S("USA")}),
                              Pred(Col("companies", "industry"), CompareOp::kEq, {S("retail")})})}))
          .has_value());
}

TEST(ValidateTest, SubqueriesOnlyWithComparisonsThatTakeOne) {
  for (CompareOp op : {CompareOp::kBetween, CompareOp::kRange, CompareOp::kContains,
                       CompareOp::kIsNull, CompareOp::kIsNotNull}) {
    Query q = Select("products", "name",
                     {Against(Col("products", "price"), op, Select("products", "price"))});
    EXPECT_EQ(ValidateError(q).code, ErrorCode::kInvalidArgument);
  }
  Query both =
      Select("students", "name",
             {Against(Col("students", "id"), CompareOp::kIn, Select("enrolled", "student_id"))});
  both.where[0].values = {I(1)};
  EXPECT_NE(ValidateError(both).message.find("both values and a subquery"), std::string::npos);
  Query nocase = Select("students", "name",
                        {Against(Col("students", "name"), CompareOp::kEq, BiggestDepartment())});
  nocase.where[0].case_insensitive = true;
  EXPECT_NE(ValidateError(nocase).message.find("ignoring case"), std::string::npos);
  Query two = both;
  two.where[0].values.clear();
  two.where[0].subquery.push_back(Select("enrolled", "student_id"));
  EXPECT_NE(ValidateError(two).message.find("more than one subquery"), std::string::npos);
}

TEST(ValidateTest, ASubquerySelectsOneColumnAndAScalarOneRow) {
  Query wide = Select("enrolled", "student_id");
  wide.select.push_back({Col("enrolled", "course"), ""});
  EXPECT_NE(ValidateError(
                Select("students", "name", {Against(Col("students", "id"), CompareOp::kIn, wide)}))
                .message.find("exactly one column"),
            std::string::npos);
  Query star;
  star.from = "enrolled";
  EXPECT_EQ(ValidateError(
                Select("students", "name", {Against(Col("students", "id"), CompareOp::kIn, star)}))
                .code,
            ErrorCode::kInvalidArgument);
  // Many rows compared with one value: PostgreSQL and MySQL fail, SQLite takes the first.
  Query many =
      Select("products", "name",
             {Against(Col("products", "price"), CompareOp::kGt, Select("products", "price"))});
  EXPECT_NE(ValidateError(many).message.find("one row at most"), std::string::npos);
  Query grouped = AboveAverage();
  grouped.where[0].subquery[0].group_by = {Col("products", "name")};
  EXPECT_EQ(ValidateError(grouped).code, ErrorCode::kInvalidArgument);
  // LIMIT 1 makes any query a scalar; IN takes any number of rows.
  many.where[0].subquery[0].limit = 1;
  EXPECT_TRUE(Validate(many).has_value());
  many.where[0].subquery[0].limit.reset();
  many.where[0].op = CompareOp::kIn;
  EXPECT_TRUE(Validate(many).has_value());
}

TEST(ValidateTest, OrGroupsHaveNoComparisonOfTheirOwn) {
  Predicate group = AnyOf(
      {Pred(Col("c", "a"), CompareOp::kEq, {I(1)}), Pred(Col("c", "b"), CompareOp::kEq, {I(2)})});
  Query q = Select("c", "a", {group});
  EXPECT_TRUE(Validate(q).has_value());
  for (int field = 0; field < 4; ++field) {
    Predicate bad = group;
    if (field == 0) bad.lhs = Col("c", "a");
    if (field == 1) bad.op = CompareOp::kGt;
    if (field == 2) bad.values = {I(1)};
    if (field == 3) bad.case_insensitive = true;
    EXPECT_NE(ValidateError(Select("c", "a", {bad})).message.find("alternative filters"),
              std::string::npos)
        << field;
  }
  // Members are checked like any filter.
  group.any[1] = Against(Col("c", "b"), CompareOp::kContains, Select("d", "x"));
  EXPECT_EQ(ValidateError(Select("c", "a", {group})).code, ErrorCode::kInvalidArgument);
}

TEST(ValidateTest, SetOperationsNeedOneOperandWithAsManyColumns) {
  Query q = Industries("USA");
  q.set_rhs = {Industries("China")};
  EXPECT_NE(ValidateError(q).message.find("without a set operation"), std::string::npos);
  q.set_op = SetOp::kUnion;
  q.set_rhs.clear();
  EXPECT_NE(ValidateError(q).message.find("exactly one query, not 0"), std::string::npos);
  q.set_rhs = {Industries("China"), Industries("Germany")};
  EXPECT_EQ(ValidateError(q).code, ErrorCode::kInvalidArgument);
  Query wide = Industries("China");
  wide.select.push_back({Col("companies", "name"), ""});
  Query mismatch = Combine(Industries("USA"), SetOp::kExcept, wide);
  EXPECT_NE(ValidateError(mismatch).message.find("select 1 and 2 columns"), std::string::npos);
  // With "*" the count is not known without the schema: left to the database.
  Query star;
  star.from = "companies";
  EXPECT_TRUE(Validate(Combine(star, SetOp::kUnion, wide)).has_value());
}

TEST(ValidateTest, ACompoundIsSortedOnlyByColumnsItShows) {
  Query q = Combine(Industries("USA"), SetOp::kUnion, Industries("China"));
  q.order_by = {{Col("companies", "industry"), true}};
  q.limit = 2;
  EXPECT_TRUE(Validate(q).has_value());
  q.order_by = {{Col("companies", "name"), true}};
  EXPECT_NE(ValidateError(q).message.find("sorted by columns they show"), std::string::npos);
  // The right operand's own ORDER BY applies to it alone, before combining: any expression.
  q.order_by.clear();
  q.set_rhs[0].order_by = {{Col("companies", "name"), true}};
  q.set_rhs[0].limit = 1;
  EXPECT_TRUE(Validate(q).has_value());
}

TEST(ValidateTest, NestedQueriesReadOnlyTheirOwnTables) {
  // "students enrolled in a course named like their own name": correlated, not supported.
  Query sub =
      Select("enrolled", "student_id", {Pred(Col("students", "name"), CompareOp::kEq, {S("x")})});
  Query q = Select("students", "name", {Against(Col("students", "id"), CompareOp::kIn, sub)});
  EXPECT_NE(ValidateError(q).message.find("students.name"), std::string::npos);
  // The same column is fine once the subquery joins its table.
  q.where[0].subquery[0].joins = {
      Join{"students", ColumnRef{"enrolled", "student_id"}, ColumnRef{"students", "id"}}};
  EXPECT_TRUE(Validate(q).has_value());
  // Inside an OR group of a set operand too.
  Query rhs = Select("companies", "industry",
                     {AnyOf({Pred(Col("companies", "hq"), CompareOp::kEq, {S("USA")}),
                             Pred(Col("products", "price"), CompareOp::kGt, {I(1)})})});
  EXPECT_EQ(ValidateError(Combine(Industries("China"), SetOp::kUnion, rhs)).code,
            ErrorCode::kInvalidArgument);
}

TEST(ValidateTest, NestingIsBounded) {
  Query q = Industries("USA");
  for (int i = 0; i < kMaxNesting; ++i) q = Combine(Industries("USA"), SetOp::kUnion, q);
  EXPECT_TRUE(Validate(q).has_value());
  q = Combine(Industries("USA"), SetOp::kUnion, q);
  EXPECT_NE(ValidateError(q).message.find("levels deep"), std::string::npos);

  Predicate p = Pred(Col("c", "a"), CompareOp::kEq, {I(1)});
  for (int i = 0; i < kMaxNesting; ++i) p = AnyOf({p, Pred(Col("c", "a"), CompareOp::kEq, {I(2)})});
  EXPECT_TRUE(Validate(Select("c", "a", {p})).has_value());
  p = AnyOf({p});
  EXPECT_EQ(ValidateError(Select("c", "a", {p})).code, ErrorCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// What the query says about itself

TEST(NestedQueryTest, ReferencedTablesIncludeNestedOnesAfterTheOuterOnes) {
  Query q = Select(
      "employees", "name",
      {AnyOf(
          {Against(Col("employees", "dept_id"), CompareOp::kEq, BiggestDepartment()),
           Against(Col("employees", "id"), CompareOp::kIn, Select("managers", "employee_id"))})});
  q = Combine(q, SetOp::kExcept, Select("contractors", "name"));
  EXPECT_EQ(q.ReferencedTables(),
            (std::vector<std::string>{"employees", "managers", "contractors"}));
  Query plain = Select("orders", "id");
  plain.joins = {Join{"customers", {"orders", "customer_id"}, {"customers", "id"}}};
  EXPECT_EQ(plain.ReferencedTables(), (std::vector<std::string>{"orders", "customers"}));
}

TEST(NestedQueryTest, IsAggregatedLooksAtTheOuterSelectOnly) {
  EXPECT_FALSE(AboveAverage().is_aggregated());
  Query count;
  count.from = "products";
  count.select = {{Expr::CountStar(), ""}};
  EXPECT_TRUE(count.is_aggregated());
  EXPECT_TRUE(Combine(count, SetOp::kUnionAll, Select("products", "id")).is_aggregated());
  EXPECT_FALSE(Combine(Select("products", "id"), SetOp::kUnionAll, count).is_aggregated());
}

TEST(NestedQueryTest, ValuesCompareDeeply) {
  Query a = Combine(AboveAverage(), SetOp::kUnion, Industries("USA"));
  Query b = a;
  EXPECT_EQ(a, b);
  b.set_rhs[0].where[0].values[0] = S("China");
  EXPECT_NE(a, b);
  b = a;
  b.where[0].subquery[0].select[0].expr.agg = Aggregate::kMax;
  EXPECT_NE(a, b);
}

// ---------------------------------------------------------------------------------------------
// SQL text

RenderedSql Bound(const Query& q, Dialect d) { return Render(q, {d, false}); }
std::string Inline(const Query& q, Dialect d) {
  RenderedSql r = Render(q, {d, true});
  EXPECT_TRUE(r.params.empty()) << r.text;
  return r.text;
}

TEST(RenderNestedTest, InAndNotInSubquery) {
  Query sub = Select("enrolled", "student_id",
                     {Pred(Col("enrolled", "student_id"), CompareOp::kIsNotNull)});
  Query q = Select("students", "name", {Against(Col("students", "id"), CompareOp::kIn, sub)});
  EXPECT_EQ(Bound(q, Dialect::kSqlite).text,
            "SELECT name FROM students WHERE id IN (SELECT student_id FROM enrolled WHERE "
            "student_id IS NOT NULL)");
  q.where[0].negated = true;
  EXPECT_EQ(Bound(q, Dialect::kPostgres).text,
            "SELECT name FROM students WHERE NOT (id IN (SELECT student_id FROM enrolled WHERE "
            "student_id IS NOT NULL))");
  EXPECT_EQ(Bound(q, Dialect::kMysql).text, Bound(q, Dialect::kPostgres).text);
}

TEST(RenderNestedTest, ScalarSubqueryForEveryComparison) {
  const std::vector<std::pair<CompareOp, const char*>> ops = {
      {CompareOp::kEq, "="},  {CompareOp::kNe, "<>"}, {CompareOp::kLt, "<"},
      {CompareOp::kLe, "<="}, {CompareOp::kGt, ">"},  {CompareOp::kGe, ">="}};
  for (const auto& [op, sql] : ops) {
    Query q = AboveAverage();
    q.where[0].op = op;
    for (Dialect d : {Dialect::kSqlite, Dialect::kPostgres, Dialect::kMysql}) {
      EXPECT_EQ(Bound(q, d).text, std::string("SELECT name FROM products WHERE price ") + sql +
                                      " (SELECT AVG(price) AS avg_price FROM products) ORDER BY "
                                      "name ASC");
    }
  }
}

TEST(RenderNestedTest, OrGroupsAreParenthesized) {
  Query q =
      Select("companies", "name",
             {Pred(Col("companies", "name"), CompareOp::kNe, {S("x")}),
              AnyOf({Pred(Col("companies", "hq"), CompareOp::kEq, {S("Germany")}),
                     Pred(Col("companies", "industry"), CompareOp::kIn, {S("retail"), S("food")}),
                     Pred(Col("companies", "hq"), CompareOp::kEq, {S("USA")})})});
  q.where[1].any[2].negated = true;
  RenderedSql r = Bound(q, Dialect::kPostgres);
  EXPECT_EQ(r.text,
            "SELECT name FROM companies WHERE name <> $1 AND (hq = $2 OR industry IN ($3, $4) OR "
            "NOT (hq = $5))");
  EXPECT_EQ(r.params, (Values{S("x"), S("Germany"), S("retail"), S("food"), S("USA")}));
  q.where[1].negated = true;
  EXPECT_EQ(Inline(q, Dialect::kSqlite),
            "SELECT name FROM companies WHERE name <> 'x' AND NOT (hq = 'Germany' OR industry IN "
            "('retail', 'food') OR NOT (hq = 'USA'))");
}

TEST(RenderNestedTest, SetOperationsInEveryDialect) {
  const std::vector<std::pair<SetOp, const char*>> ops = {{SetOp::kUnion, "UNION"},
                                                          {SetOp::kUnionAll, "UNION ALL"},
                                                          {SetOp::kIntersect, "INTERSECT"},
                                                          {SetOp::kExcept, "EXCEPT"}};
  for (const auto& [op, word] : ops) {
    Query q = Combine(Industries("USA"), op, Industries("China"));
    RenderedSql sqlite = Bound(q, Dialect::kSqlite);
    EXPECT_EQ(sqlite.text, std::string("SELECT industry FROM companies WHERE hq = ?1 ") + word +
                               " SELECT industry FROM companies WHERE hq = ?2");
    EXPECT_EQ(sqlite.params, (Values{S("USA"), S("China")}));
    EXPECT_EQ(Bound(q, Dialect::kPostgres).text,
              std::string("SELECT industry FROM companies WHERE hq = $1 ") + word +
                  " SELECT industry FROM companies WHERE hq = $2");
    EXPECT_EQ(Bound(q, Dialect::kMysql).text,
              std::string("SELECT industry FROM companies WHERE hq = ? ") + word +
                  " SELECT industry FROM companies WHERE hq = ?");
    EXPECT_EQ(Inline(q, Dialect::kMysql),
              std::string("SELECT industry FROM companies WHERE hq = 'USA' ") + word +
                  " SELECT industry FROM companies WHERE hq = 'China'");
  }
}

TEST(RenderNestedTest, ACompoundIsSortedAndCutAfterItsLastOperandByPosition) {
  Query left = Industries("USA");
  left.select.push_back({Expr::CountStar(), "n"});
  left.group_by = {Col("companies", "industry")};
  Query right = Industries("China");
  right.select.push_back({Expr::CountStar(), "n"});
  right.group_by = {Col("companies", "industry")};
  Query q = Combine(left, SetOp::kUnionAll, right);
  q.order_by = {{Expr::CountStar(), true}, {Col("companies", "industry"), false}};
  q.limit = 3;
  EXPECT_EQ(Bound(q, Dialect::kPostgres).text,
            "SELECT industry, COUNT(*) AS n FROM companies WHERE hq = $1 GROUP BY industry UNION "
            "ALL SELECT industry, COUNT(*) AS n FROM companies WHERE hq = $2 GROUP BY industry "
            "ORDER BY 2 DESC, 1 ASC LIMIT 3");
}

TEST(RenderNestedTest, OperandsWithTheirOwnOrderOrOtherOperationsBecomeDerivedTables) {
  // Its own LIMIT: a derived table, so that it cuts the operand only.
  Query first = Select("companies", "name");
  first.order_by = {{Col("companies", "name"), false}};
  first.limit = 2;
  Query q = Combine(Select("companies", "name"), SetOp::kUnion, first);
  EXPECT_EQ(Bound(q, Dialect::kSqlite).text,
            "SELECT name FROM companies UNION SELECT * FROM (SELECT name FROM companies ORDER BY "
            "name ASC LIMIT 2) AS t");
  // a UNION (b INTERSECT c): SQLite would read the flat form as (a UNION b) INTERSECT c.
  Query mixed = Combine(Industries("Germany"), SetOp::kUnion,
                        Combine(Industries("USA"), SetOp::kIntersect, Industries("China")));
  EXPECT_EQ(Bound(mixed, Dialect::kMysql).text,
            "SELECT industry FROM companies WHERE hq = ? UNION SELECT * FROM (SELECT industry "
            "FROM companies WHERE hq = ? INTERSECT SELECT industry FROM companies WHERE hq = ?) "
            "AS t");
  // a EXCEPT (b EXCEPT c) is not (a EXCEPT b) EXCEPT c.
  Query except = Combine(Industries("USA"), SetOp::kExcept,
                         Combine(Industries("China"), SetOp::kExcept, Industries("Germany")));
  EXPECT_NE(Bound(except, Dialect::kSqlite).text.find("EXCEPT SELECT * FROM ("), std::string::npos);
  // One associative operation all along stays flat.
  Query chain = Combine(Industries("USA"), SetOp::kUnion,
                        Combine(Industries("China"), SetOp::kUnion, Industries("Germany")));
  RenderedSql r = Bound(chain, Dialect::kPostgres);
  EXPECT_EQ(r.text,
            "SELECT industry FROM companies WHERE hq = $1 UNION SELECT industry FROM companies "
            "WHERE hq = $2 UNION SELECT industry FROM companies WHERE hq = $3");
  EXPECT_EQ(r.params, (Values{S("USA"), S("China"), S("Germany")}));
}

TEST(RenderNestedTest, MysqlInSubqueryWithALimitIsADerivedTable) {
  Query q = Select("employees", "name",
                   {Against(Col("employees", "dept_id"), CompareOp::kIn, BiggestDepartment())});
  const std::string inner =
      "SELECT dept_id FROM employees GROUP BY dept_id ORDER BY COUNT(*) DESC LIMIT 1";
  EXPECT_EQ(Bound(q, Dialect::kMysql).text,
            "SELECT name FROM employees WHERE dept_id IN (SELECT * FROM (" + inner + ") AS t)");
  EXPECT_EQ(Bound(q, Dialect::kPostgres).text,
            "SELECT name FROM employees WHERE dept_id IN (" + inner + ")");
  // A scalar subquery takes its LIMIT everywhere.
  q.where[0].op = CompareOp::kEq;
  EXPECT_EQ(Bound(q, Dialect::kMysql).text,
            "SELECT name FROM employees WHERE dept_id = (" + inner + ")");
}

// Placeholders of the outer query, its subqueries (in WHERE and HAVING) and its set operand
// are numbered in text order across the whole statement.
TEST(RenderNestedTest, ParametersAreNumberedAcrossTheWholeStatement) {
  Query cheap = Select("products", "id", {Pred(Col("products", "price"), CompareOp::kLt, {I(5)})});
  Query avg;
  avg.from = "orders";
  avg.select = {{Expr::Agg(Aggregate::kAvg, ColumnRef{"orders", "qty"}), ""}};
  avg.where = {Pred(Col("orders", "status"), CompareOp::kEq, {S("done")})};
  Query left;
  left.from = "orders";
  left.select = {{Col("orders", "customer_id"), ""}};
  left.where = {Pred(Col("orders", "status"), CompareOp::kEq, {S("open")}),
                Against(Col("orders", "product_id"), CompareOp::kIn, cheap),
                Pred(Col("orders", "qty"), CompareOp::kBetween, {I(1), I(9)})};
  left.group_by = {Col("orders", "customer_id")};
  left.having = {
      Against(Expr::Agg(Aggregate::kSum, ColumnRef{"orders", "qty"}), CompareOp::kGt, avg)};
  Query q = Combine(left, SetOp::kExcept,
                    Select("orders", "customer_id",
                           {Pred(Col("orders", "status"), CompareOp::kEq, {S("void")})}));
  q.limit = 10;
  const Values params = {S("open"), I(5), I(1), I(9), S("done"), S("void")};
  RenderedSql pg = Bound(q, Dialect::kPostgres);
  EXPECT_EQ(pg.text,
            "SELECT customer_id FROM orders WHERE status = $1 AND product_id IN (SELECT id FROM "
            "products WHERE price < $2) AND qty BETWEEN $3 AND $4 GROUP BY customer_id HAVING "
            "SUM(qty) > (SELECT AVG(qty) AS avg_qty FROM orders WHERE status = $5) EXCEPT SELECT "
            "customer_id FROM orders WHERE status = $6 LIMIT 10");
  EXPECT_EQ(pg.params, params);
  RenderedSql sqlite = Bound(q, Dialect::kSqlite);
  EXPECT_NE(sqlite.text.find("status = ?5) EXCEPT SELECT customer_id FROM orders WHERE status = "
                             "?6 LIMIT 10"),
            std::string::npos);
  EXPECT_EQ(sqlite.params, params);
  RenderedSql mysql = Bound(q, Dialect::kMysql);
  EXPECT_EQ(std::count(mysql.text.begin(), mysql.text.end(), '?'), 6);
  EXPECT_EQ(mysql.params, params);
  EXPECT_EQ(Inline(q, Dialect::kPostgres),
            "SELECT customer_id FROM orders WHERE status = 'open' AND product_id IN (SELECT id "
            "FROM products WHERE price < 5) AND qty BETWEEN 1 AND 9 GROUP BY customer_id HAVING "
            "SUM(qty) > (SELECT AVG(qty) AS avg_qty FROM orders WHERE status = 'done') EXCEPT "
            "SELECT customer_id FROM orders WHERE status = 'void' LIMIT 10");
}

// A subquery qualifies its columns when it joins, whatever the outer query does.
TEST(RenderNestedTest, EachQueryQualifiesItsOwnColumns) {
  Query sub = Select("enrolled", "student_id");
  sub.joins = {Join{"courses", {"enrolled", "course_id"}, {"courses", "id"}}};
  sub.where = {Pred(Col("courses", "title"), CompareOp::kEq, {S("math")})};
  Query q = Select("students", "name",
                   {Against(Col("students", "id"), CompareOp::kIn, sub),
                    Pred(Col("students", "year"), CompareOp::kEq, {I(2)})});
  EXPECT_EQ(
      Inline(q, Dialect::kSqlite),
      "SELECT name FROM students WHERE id IN (SELECT enrolled.student_id FROM enrolled JOIN "
      "courses ON enrolled.course_id = courses.id WHERE courses.title = 'math') AND year = 2");
}

// ---------------------------------------------------------------------------------------------
// Rendered SQL runs on SQLite (bound and inline give the same rows) and passes the allow-lists
// of PostgreSQL (libpg_query) and MySQL.

class NestedExecuteTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::filesystem::path(std::filesystem::temp_directory_path() /
                                     ("helios-nested-test-" + std::to_string(::getpid())));
    std::filesystem::create_directories(*dir_);
    std::string path = (*dir_ / "nested.db").string();
    const char* kSchema = R"sql(
      CREATE TABLE companies(id INTEGER PRIMARY KEY, name TEXT, industry TEXT, hq TEXT);
      INSERT INTO companies VALUES
        (1, 'Acme', 'tech', 'USA'), (2, 'Bolt', 'tech', 'China'), (3, 'Cargo', 'retail', 'USA'),
        (4, 'Delta', 'energy', 'China'), (5, 'Echo', 'energy', 'USA'),
        (6, 'Fox', 'finance', 'Germany');
      CREATE TABLE students(id INTEGER PRIMARY KEY, name TEXT);
      INSERT INTO students VALUES (1, 'Ann'), (2, 'Ben'), (3, 'Cid'), (4, 'Dee');
      CREATE TABLE enrolled(student_id INTEGER, course TEXT);
      INSERT INTO enrolled VALUES (1, 'math'), (1, 'art'), (3, 'math'), (NULL, 'ghost');
      CREATE TABLE products(id INTEGER PRIMARY KEY, name TEXT, price REAL);
      INSERT INTO products VALUES (1, 'pen', 10), (2, 'cup', 20), (3, 'lamp', 30), (4, 'desk', 40);
      CREATE TABLE employees(id INTEGER PRIMARY KEY, name TEXT, dept_id INTEGER);
      INSERT INTO employees VALUES
        (1, 'Ava', 1), (2, 'Bo', 1), (3, 'Cy', 1), (4, 'Di', 2), (5, 'Ed', 3), (6, 'Flo', 3);
    )sql";
    ASSERT_EQ(helios::testing::ExecSqlite(path, kSchema), "");
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

  // The query's rows on SQLite, bound and inline (which must agree), after checking that the
  // query is valid and that its PostgreSQL and MySQL renderings pass their allow-lists.
  static std::vector<db::Row> Run(const Query& q) {
    auto valid = Validate(q);
    EXPECT_TRUE(valid.has_value()) << valid.error().message;
    for (bool inline_literals : {false, true}) {
      RenderedSql pg = Render(q, {Dialect::kPostgres, inline_literals});
      auto pg_ok = security::CheckPostgresSelect(pg.text);
      EXPECT_TRUE(pg_ok.has_value()) << pg.text << ": " << pg_ok.error().message;
      RenderedSql my = Render(q, {Dialect::kMysql, inline_literals});
      auto my_ok = security::CheckMysqlSelect(my.text);
      EXPECT_TRUE(my_ok.has_value()) << my.text << ": " << my_ok.error().message;
    }
    RenderedSql bound = Render(q, {Dialect::kSqlite, false});
    RenderedSql shown = Render(q, {Dialect::kSqlite, true});
    auto a = source_->Execute(bound.text, bound.params, {});
    auto b = source_->Execute(shown.text, {}, {});
    EXPECT_TRUE(a.has_value()) << bound.text << ": " << (a ? "" : a.error().message);
    EXPECT_TRUE(b.has_value()) << shown.text << ": " << (b ? "" : b.error().message);
    if (!a || !b) return {};
    EXPECT_EQ(a->rows, b->rows) << bound.text << "\n" << shown.text;
    return a->rows;
  }

  static std::vector<db::Row> Names(std::vector<const char*> names) {
    std::vector<db::Row> rows;
    for (const char* n : names) rows.push_back({S(n)});
    return rows;
  }

  static Query Sorted(Query q) {
    q.order_by = {{q.select[0].expr, false}};
    return q;
  }

  static std::filesystem::path* dir_;
  static db::DataSource* source_;
};

std::filesystem::path* NestedExecuteTest::dir_ = nullptr;
db::DataSource* NestedExecuteTest::source_ = nullptr;

TEST_F(NestedExecuteTest, IndustriesWithCompaniesInBothCountries) {
  EXPECT_EQ(Run(Sorted(Combine(Industries("USA"), SetOp::kIntersect, Industries("China")))),
            Names({"energy", "tech"}));
}

TEST_F(NestedExecuteTest, IndustriesInOneCountryButNotTheOther) {
  EXPECT_EQ(Run(Sorted(Combine(Industries("USA"), SetOp::kExcept, Industries("China")))),
            Names({"retail"}));
}

TEST_F(NestedExecuteTest, UnionRemovesRepeatsAndUnionAllKeepsThem) {
  EXPECT_EQ(Run(Sorted(Combine(Industries("USA"), SetOp::kUnion, Industries("Germany")))),
            Names({"energy", "finance", "retail", "tech"}));
  EXPECT_EQ(Run(Sorted(Combine(Industries("USA"), SetOp::kUnionAll, Industries("China")))),
            Names({"energy", "energy", "retail", "tech", "tech"}));
}

TEST_F(NestedExecuteTest, ACompoundsOrderAndLimitApplyToAllItsRows) {
  Query q = Combine(Industries("USA"), SetOp::kUnion, Industries("Germany"));
  q.order_by = {{Col("companies", "industry"), true}};
  q.limit = 2;
  EXPECT_EQ(Run(q), Names({"tech", "retail"}));
}

TEST_F(NestedExecuteTest, AnOperandsOwnLimitCutsOnlyIt) {
  Query first_two = Select("companies", "name");
  first_two.order_by = {{Col("companies", "name"), false}};
  first_two.limit = 2;
  Query q = Combine(
      Select("companies", "name", {Pred(Col("companies", "hq"), CompareOp::kEq, {S("Germany")})}),
      SetOp::kUnion, first_two);
  EXPECT_EQ(Run(Sorted(q)), Names({"Acme", "Bolt", "Fox"}));
}

TEST_F(NestedExecuteTest, NestedSetOperationsKeepTheirGrouping) {
  // Germany's {finance} UNION (USA's {tech, retail, energy} INTERSECT China's {tech, energy}).
  Query mixed = Combine(Industries("Germany"), SetOp::kUnion,
                        Combine(Industries("USA"), SetOp::kIntersect, Industries("China")));
  EXPECT_EQ(Run(Sorted(mixed)), Names({"energy", "finance", "tech"}));
  // USA's {tech, retail, energy} EXCEPT (China's {tech, energy} EXCEPT Delta's {energy}).
  Query delta = Select("companies", "industry",
                       {Pred(Col("companies", "name"), CompareOp::kEq, {S("Delta")})});
  Query except = Combine(Industries("USA"), SetOp::kExcept,
                         Combine(Industries("China"), SetOp::kExcept, delta));
  EXPECT_EQ(Run(Sorted(except)), Names({"energy", "retail"}));
}

TEST_F(NestedExecuteTest, StudentsWhoNeverEnrolled) {
  Query enrolled = Select("enrolled", "student_id",
                          {Pred(Col("enrolled", "student_id"), CompareOp::kIsNotNull)});
  Query q = Sorted(
      Select("students", "name", {Against(Col("students", "id"), CompareOp::kIn, enrolled, true)}));
  EXPECT_EQ(Run(q), Names({"Ben", "Dee"}));
  // Without the IS NOT NULL, the NULL among the enrolled ids makes NOT IN keep nothing (ir.h).
  q.where[0].subquery[0].where.clear();
  EXPECT_EQ(Run(q), Names({}));
  // The same question as EXCEPT, which has no such trap.
  Query except =
      Combine(Select("students", "id"), SetOp::kExcept, Select("enrolled", "student_id"));
  EXPECT_EQ(Run(Sorted(except)), (std::vector<db::Row>{{I(2)}, {I(4)}}));
}

TEST_F(NestedExecuteTest, ProductsPricedAboveTheAverage) {
  EXPECT_EQ(Run(AboveAverage()), Names({"desk", "lamp"}));
}

TEST_F(NestedExecuteTest, EmployeesInTheDepartmentWithTheMostEmployees) {
  Query q =
      Sorted(Select("employees", "name",
                    {Against(Col("employees", "dept_id"), CompareOp::kEq, BiggestDepartment())}));
  EXPECT_EQ(Run(q), Names({"Ava", "Bo", "Cy"}));
  q.where[0].op = CompareOp::kIn;
  EXPECT_EQ(Run(q), Names({"Ava", "Bo", "Cy"}));
}

TEST_F(NestedExecuteTest, OrGroups) {
  Query q =
      Sorted(Select("companies", "name",
                    {AnyOf({Pred(Col("companies", "hq"), CompareOp::kEq, {S("Germany")}),
                            Pred(Col("companies", "industry"), CompareOp::kEq, {S("retail")})})}));
  EXPECT_EQ(Run(q), Names({"Cargo", "Fox"}));
  // neither USA nor China
  q.where = {AnyOf({Pred(Col("companies", "hq"), CompareOp::kEq, {S("USA")}),
                    Pred(Col("companies", "hq"), CompareOp::kEq, {S("China")})},
                   true)};
  EXPECT_EQ(Run(q), Names({"Fox"}));
  // AND binds the group as a whole: tech companies in Germany or China.
  q.where = {Pred(Col("companies", "industry"), CompareOp::kEq, {S("tech")}),
             AnyOf({Pred(Col("companies", "hq"), CompareOp::kEq, {S("Germany")}),
                    Pred(Col("companies", "hq"), CompareOp::kEq, {S("China")})})};
  EXPECT_EQ(Run(q), Names({"Bolt"}));
}

TEST_F(NestedExecuteTest, ASubqueryInsideASetOperandAndAnOrGroup) {
  // Industries of US companies that are also those of a company whose id is among the ids
  // of math students, or which is in Germany.
  Query rhs = Select(
      "companies", "industry",
      {AnyOf({Against(Col("companies", "id"), CompareOp::kIn,
                      Select("enrolled", "student_id",
                             {Pred(Col("enrolled", "course"), CompareOp::kEq, {S("math")})})),
              Pred(Col("companies", "hq"), CompareOp::kEq, {S("Germany")})})});
  // rhs: ids 1 and 3 (Acme tech, Cargo retail) or Fox finance.
  EXPECT_EQ(Run(Sorted(Combine(Industries("USA"), SetOp::kIntersect, rhs))),
            Names({"retail", "tech"}));
}

}  // namespace
}  // namespace helios::sql
