#include "security/sql_guard.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "security/test_data.h"
#include "sql/render.h"

namespace helios::security {
namespace {

using ::testing::HasSubstr;

void ExpectAccepted(std::string_view sql) {
  auto r = CheckPostgresSelect(sql);
  EXPECT_TRUE(r.has_value()) << sql << " -> " << (r ? "" : r.error().message);
}

void ExpectRefused(std::string_view sql, std::string_view reason) {
  auto r = CheckPostgresSelect(sql);
  ASSERT_FALSE(r.has_value()) << sql;
  EXPECT_EQ(r.error().code, ErrorCode::kUnsafeSql) << sql;
  EXPECT_THAT(r.error().message, HasSubstr(std::string(reason))) << sql;
}

// Found by fuzz/sql_guard_postgres_fuzz.cc: libpg_query copies invalid bytes into its JSON
// tree, which then failed to parse, and the SQL failed as an internal error.
TEST(SqlGuardTest, SqlThatIsNotUtf8IsRefusedNotAnInternalError) {
  ExpectRefused("SELECT \x83", "not valid UTF-8");
  ExpectRefused("SELECT name FROM regions WHERE name = '\xC3'", "not valid UTF-8");
  ExpectAccepted("SELECT name FROM regions WHERE name = 'Zürich'");
}

TEST(SqlGuardTest, AcceptsOrdinaryReads) {
  for (const char* sql : {
           "SELECT 1",
           "SELECT name FROM regions",
           "select * from customers where country = $1 order by name limit 10",
           "SELECT c.country, SUM(o.total_amount) AS revenue FROM orders o JOIN customers c ON "
           "o.customer_id = c.customer_id GROUP BY c.country HAVING SUM(o.total_amount) > 100 "
           "ORDER BY revenue DESC",
           "SELECT COUNT(DISTINCT customer_id) FROM orders",
           "WITH t AS (SELECT customer_id, count(*) n FROM orders GROUP BY 1) SELECT avg(n) FROM t",
           "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 5) "
           "SELECT x FROM n",
           "SELECT name, rank() OVER (PARTITION BY country ORDER BY name) FROM customers",
           "SELECT * FROM customers WHERE customer_id IN (SELECT customer_id FROM orders)",
           "SELECT a FROM t UNION SELECT b FROM u EXCEPT SELECT c FROM v",
           "VALUES (1, 'a'), (2, 'b')",
           "TABLE regions",
           "SELECT to_char(order_date, 'YYYY-MM'), date_trunc('month', order_date) FROM orders",
           "SELECT EXTRACT(YEAR FROM order_date), order_date::date, CAST(total AS numeric) FROM o",
           "SELECT substring(name FROM 1 FOR 3), trim(both ' ' from name), position('a' in name) "
           "FROM t",
           "SELECT name FROM t WHERE name ILIKE $1 ESCAPE '\\'",
           "SELECT coalesce(a, 0), nullif(b, 0), greatest(a, b), least(a, b) FROM t",
           "SELECT CASE WHEN x > 0 THEN 'pos' ELSE 'neg' END FROM t",
           "SELECT current_date, current_timestamp, now(), localtime FROM t",
           "SELECT ts AT TIME ZONE 'UTC' FROM t",
           "SELECT pg_catalog.count(*) FROM t",
           "SELECT round(avg(x)::numeric, 2), percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM "
           "t",
           "SELECT string_agg(name, ', ' ORDER BY name) FROM t",
           "SELECT count(*) FILTER (WHERE x > 1) FROM t",
           "SELECT * FROM generate_series(1, 10) g",
           "SELECT * FROM customers WHERE name = 'x''; DROP TABLE customers; --'",
           "SELECT '/* not a comment */', $$; DELETE FROM t; $$, E'\\'; DROP TABLE t'",
           "SELECT 1 -- ; DROP TABLE customers",
           "SELECT 1 /* nested /* comment */ ; DROP TABLE x */",
           "SELECT \"pg_sleep\" FROM t",  // a column, not a call
           "SELECT 1;",
       }) {
    ExpectAccepted(sql);
  }
}

TEST(SqlGuardTest, RefusesSeveralStatements) {
  ExpectRefused("SELECT 1; SELECT 2", "only one statement is allowed");
  ExpectRefused("SELECT 1; DROP TABLE customers", "only one statement is allowed");
  ExpectRefused("SELECT 1; /* */ DELETE FROM orders", "only one statement is allowed");
}

TEST(SqlGuardTest, RefusesOtherStatements) {
  ExpectRefused("DELETE FROM orders", "only SELECT statements are allowed; this is DELETE");
  ExpectRefused("insert into t values (1)", "this is INSERT");
  ExpectRefused("UPDATE t SET x = 1", "this is UPDATE");
  ExpectRefused("DROP TABLE t", "this is DROP");
  ExpectRefused("COPY t TO '/tmp/x'", "this is COPY");
  ExpectRefused("EXPLAIN ANALYZE DELETE FROM t", "this is EXPLAIN");
  ExpectRefused("SET search_path = evil", "this is SET");
  ExpectRefused("DO $$ BEGIN END $$", "this is DO");
  ExpectRefused("CREATE TABLE t AS SELECT 1", "this is CREATE TABLE AS");
  ExpectRefused("BEGIN", "this is BEGIN/COMMIT/ROLLBACK");
}

TEST(SqlGuardTest, RefusesSelectInto) {
  ExpectRefused("SELECT * INTO pwned FROM customers", "SELECT ... INTO writes a table");
  ExpectRefused("select name into temp t from customers", "SELECT ... INTO writes a table");
}

TEST(SqlGuardTest, RefusesLockingClausesAtAnyDepth) {
  ExpectRefused("SELECT * FROM t FOR UPDATE", "FOR UPDATE locks rows");
  ExpectRefused("SELECT * FROM t FOR SHARE", "FOR SHARE locks rows");
  ExpectRefused("SELECT * FROM t FOR NO KEY UPDATE", "FOR NO KEY UPDATE locks rows");
  ExpectRefused("SELECT * FROM t FOR KEY SHARE SKIP LOCKED", "FOR KEY SHARE locks rows");
  ExpectRefused("SELECT * FROM t WHERE id IN (SELECT id FROM u FOR UPDATE)",
                "FOR UPDATE locks rows");
  ExpectRefused("SELECT * FROM (SELECT * FROM u FOR UPDATE) s", "FOR UPDATE locks rows");
  ExpectRefused("WITH s AS (SELECT * FROM u FOR SHARE) SELECT * FROM s", "FOR SHARE locks rows");
}

TEST(SqlGuardTest, RefusesWritesInsideTheQuery) {
  ExpectRefused("WITH d AS (DELETE FROM orders RETURNING *) SELECT count(*) FROM d",
                "a data-modifying statement (DELETE) inside the query is not allowed");
  ExpectRefused("WITH u AS (UPDATE t SET x = 0 RETURNING 1) SELECT * FROM u", "(UPDATE)");
  ExpectRefused("WITH i AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM i", "(INSERT)");
  // Nested two levels deep, behind a harmless CTE.
  ExpectRefused(
      "WITH a AS (SELECT 1), b AS (WITH c AS (DELETE FROM t RETURNING 1) SELECT * FROM c) "
      "SELECT * FROM a, b",
      "(DELETE)");
  ExpectRefused("SELECT * FROM (WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d) s",
                "(DELETE)");
  // The write is reported before the lesser problems of the same statement.
  ExpectRefused(
      "WITH d AS (DELETE FROM t RETURNING *) SELECT pg_sleep(1) FROM pg_user, d FOR UPDATE",
      "(DELETE)");
}

TEST(SqlGuardTest, RefusesDangerousFunctionsInEveryForm) {
  ExpectRefused("SELECT pg_sleep(10)",
                "function pg_sleep is not allowed (it makes the server wait)");
  ExpectRefused("SELECT pg_catalog.pg_sleep(10)", "function pg_catalog.pg_sleep is not allowed");
  ExpectRefused("SELECT PG_SLEEP(10)", "function pg_sleep is not allowed");
  ExpectRefused("SELECT Pg_Sleep(10)", "function pg_sleep is not allowed");
  ExpectRefused("SELECT \"PG_SLEEP\"(10)", "function PG_SLEEP is not allowed");
  ExpectRefused("SELECT * FROM t WHERE pg_sleep(1) IS NULL", "function pg_sleep");
  ExpectRefused("SELECT * FROM t ORDER BY (SELECT pg_sleep(1))", "function pg_sleep");
  ExpectRefused("SELECT count(*) FILTER (WHERE pg_sleep(1) IS NULL) FROM t", "function pg_sleep");
  ExpectRefused("SELECT pg_sleep_for('1 minute')", "function pg_sleep_for");
  ExpectRefused("SELECT pg_read_file('/etc/passwd')", "it reads the server's files");
  ExpectRefused("SELECT pg_read_binary_file('x')", "function pg_read_binary_file");
  ExpectRefused("SELECT * FROM pg_ls_dir('.')", "function pg_ls_dir");
  ExpectRefused("SELECT lo_import('/etc/passwd')", "function lo_import");
  ExpectRefused("SELECT lo_export(1, '/tmp/x')", "function lo_export");
  ExpectRefused("SELECT lo_open(1, 1)", "it reads or writes large objects");
  ExpectRefused("SELECT * FROM dblink('x', 'y') AS t(a int)", "it connects to other databases");
  ExpectRefused("SELECT dblink_exec('x', 'DROP TABLE t')", "function dblink_exec");
  ExpectRefused("SELECT set_config('a', 'b', false)", "it changes server settings");
  ExpectRefused("SELECT current_setting('data_directory')", "it reads server settings");
  ExpectRefused("SELECT pg_terminate_backend(1)", "it controls the server");
  ExpectRefused("SELECT pg_cancel_backend(1)", "it controls the server");
  ExpectRefused("SELECT query_to_xml('delete from t', true, true, '')",
                "it runs SQL given as text");
  ExpectRefused("SELECT nextval('s')", "it changes a sequence");
  ExpectRefused("SELECT pg_advisory_lock(1)", "it takes locks");
  ExpectRefused("SELECT version()", "function version");
}

TEST(SqlGuardTest, RefusesFunctionsNotOnTheList) {
  ExpectRefused("SELECT my_function(1)",
                "function my_function is not allowed (it is not on the list of safe functions)");
  ExpectRefused("SELECT public.count(*) FROM t",
                "function public.count is not allowed (only built-in functions may be called)");
  ExpectRefused("SELECT a.b.c(1)", "function a.b.c is not allowed");
  ExpectRefused("SELECT \"COUNT\"(*) FROM t", "function COUNT is not allowed");
}

TEST(SqlGuardTest, RefusesSessionIdentityAndXml) {
  ExpectRefused("SELECT current_user", "CURRENT_USER is not allowed");
  ExpectRefused("SELECT session_user", "SESSION_USER is not allowed");
  ExpectRefused("SELECT user", "USER is not allowed");
  ExpectRefused("SELECT xmlparse(document '<x/>')", "XML functions are not allowed");
  ExpectRefused("SELECT * FROM XMLTABLE('/a' PASSING '<a/>' COLUMNS x int PATH '.')",
                "XML functions are not allowed");
}

TEST(SqlGuardTest, RefusesSystemCatalogs) {
  ExpectRefused("SELECT * FROM pg_shadow", "the system catalog pg_shadow is not allowed");
  ExpectRefused("SELECT rolpassword FROM pg_authid", "pg_authid");
  ExpectRefused("SELECT * FROM pg_user", "pg_user");
  ExpectRefused("SELECT * FROM pg_roles", "pg_roles");
  ExpectRefused("SELECT query FROM pg_stat_activity", "pg_stat_activity");
  ExpectRefused("SELECT * FROM pg_catalog.pg_tables", "the system schema pg_catalog");
  ExpectRefused("SELECT * FROM PG_CATALOG.regions", "the system schema");
  ExpectRefused("SELECT * FROM information_schema.columns", "information_schema");
  ExpectRefused("SELECT * FROM customers c JOIN pg_user u ON true", "pg_user");
  ExpectRefused("SELECT * FROM t WHERE x IN (SELECT usename FROM pg_user)", "pg_user");
  ExpectRefused("SELECT * FROM otherdb.public.t", "other databases");
}

TEST(SqlGuardTest, ParseErrorsAndOddInputAreRefused) {
  ExpectRefused("SELECT * FROM", "the SQL does not parse: syntax error at end of input");
  ExpectRefused("SELECT 'unterminated", "the SQL does not parse: unterminated quoted string");
  ExpectRefused("SELEC 1", "the SQL does not parse");
  ExpectRefused("", "the SQL holds no statement");
  ExpectRefused("  -- only a comment", "the SQL holds no statement");
  ExpectRefused(std::string("SELECT 1\0; DROP TABLE t", 23), "NUL");
  ExpectRefused(std::string(1'000'001, ' '), "longer than");
  ExpectRefused("ATTACH DATABASE 'x' AS y", "does not parse");
  ExpectRefused("PRAGMA writable_schema = 1", "does not parse");
  auto deep =
      CheckPostgresSelect("SELECT " + std::string(100000, '(') + "1" + std::string(100000, ')'));
  ASSERT_FALSE(deep.has_value());
  EXPECT_EQ(deep.error().code, ErrorCode::kUnsafeSql);
}

// The engine's own SQL for PostgreSQL must pass the guard: every golden question, rendered both
// with bound parameters and with inline literals.
TEST(SqlGuardTest, AcceptsTheEnginesPostgresSqlForEveryGoldenQuestion) {
  EXPECT_GT(testdata::ExpectEngineSqlPassesGuard(db::Dialect::kPostgres, &CheckPostgresSelect),
            200);
}

}  // namespace
}  // namespace helios::security
