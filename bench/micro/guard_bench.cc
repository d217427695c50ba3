// The SQL guards, per dialect: PostgreSQL's (libpg_query's parser and an allow-list walk),
// MySQL's (a lexer and rules over its tokens) and SQLite's (DataSource::Check on the demo
// database: prepare under the authorizer, read-only check); each on a simple SELECT, a join
// with GROUP BY, a long query with CTEs, subqueries and a window function, and a statement it
// refuses. Also the question screen (security/question_screen.h), the first check a question
// meets. See README.md.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <string>
#include <string_view>

#include "bench_env.h"
#include "security/mysql_guard.h"
#include "security/question_screen.h"
#include "security/sql_guard.h"

namespace helios::bench {
namespace {

enum class Dialect { kPostgres, kMysql, kSqlite };

struct Statement {
  std::string_view name;
  bool accepted;  // what the guard must decide; the benchmark fails otherwise
  std::string_view postgres, mysql, sqlite;
};

// {month} is the dialect's month-of-date expression.
constexpr std::string_view kLongTemplate =
    "WITH monthly AS (\n"
    "  SELECT {month} AS month, c.country, SUM(o.total_amount) AS revenue, COUNT(*) AS orders\n"
    "  FROM orders o JOIN customers c ON c.customer_id = o.customer_id\n"
    "  WHERE o.order_date >= '2024-01-01' AND o.order_date < '2025-01-01'\n"
    "    AND o.status <> 'cancelled'\n"
    "  GROUP BY 1, 2),\n"
    "ranked AS (\n"
    "  SELECT month, country, revenue, orders,\n"
    "         RANK() OVER (PARTITION BY month ORDER BY revenue DESC) AS rnk\n"
    "  FROM monthly),\n"
    "category_sales AS (\n"
    "  SELECT p.category_id, SUM(oi.quantity * oi.unit_price * (1 - oi.discount)) AS sales\n"
    "  FROM order_items oi JOIN products p ON p.product_id = oi.product_id\n"
    "  WHERE oi.order_id IN (SELECT order_id FROM orders WHERE order_date >= '2024-01-01')\n"
    "  GROUP BY p.category_id)\n"
    "SELECT r.month, r.country, r.revenue, r.orders,\n"
    "       ROUND(r.revenue * 100.0 / (SELECT SUM(m.revenue) FROM monthly m\n"
    "                                  WHERE m.month = r.month), 2) AS share_pct,\n"
    "       (SELECT cat.name FROM categories cat\n"
    "        JOIN category_sales s ON s.category_id = cat.category_id\n"
    "        ORDER BY s.sales DESC LIMIT 1) AS top_category,\n"
    "       COALESCE(NULLIF(UPPER(SUBSTR(r.country, 1, 3)), ''), 'N/A') AS code\n"
    "FROM ranked r\n"
    "WHERE r.rnk <= 3\n"
    "  AND EXISTS (SELECT 1 FROM employees e WHERE e.region_id IS NOT NULL)\n"
    "ORDER BY r.month, r.rnk";

std::string LongQuery(std::string_view month) {
  std::string out(kLongTemplate);
  const std::string_view placeholder = "{month}";
  out.replace(out.find(placeholder), placeholder.size(), month);
  return out;
}

const std::string& LongPostgres() {
  static const std::string s = LongQuery("to_char(o.order_date, 'YYYY-MM')");
  return s;
}
const std::string& LongMysql() {
  static const std::string s = LongQuery("DATE_FORMAT(o.order_date, '%Y-%m')");
  return s;
}
const std::string& LongSqlite() {
  static const std::string s = LongQuery("strftime('%Y-%m', o.order_date)");
  return s;
}

const Statement& StatementNamed(std::string_view name) {
  static const Statement kStatements[] = {
      {"simple_select", true,
       "SELECT COUNT(*) AS count FROM customers WHERE customers.country = $1",
       "SELECT COUNT(*) AS count FROM customers WHERE customers.country = ?",
       "SELECT COUNT(*) AS count FROM customers WHERE customers.country = ?1"},
      {"join_group_by", true,
       "SELECT customers.country, SUM(orders.total_amount) AS sum_total_amount FROM orders "
       "JOIN customers ON customers.customer_id = orders.customer_id GROUP BY customers.country "
       "ORDER BY sum_total_amount DESC LIMIT 100",
       "SELECT customers.country, SUM(orders.total_amount) AS sum_total_amount FROM orders "
       "JOIN customers ON customers.customer_id = orders.customer_id GROUP BY customers.country "
       "ORDER BY sum_total_amount DESC LIMIT 100",
       "SELECT customers.country, SUM(orders.total_amount) AS sum_total_amount FROM orders "
       "JOIN customers ON customers.customer_id = orders.customer_id GROUP BY customers.country "
       "ORDER BY sum_total_amount DESC LIMIT 100"},
      {"long_ctes", true, LongPostgres(), LongMysql(), LongSqlite()},
      {"rejected_function", false, "SELECT name, pg_sleep(5) FROM customers WHERE country = $1",
       "SELECT name, SLEEP(5) FROM customers WHERE country = ?",
       "SELECT name, load_extension('x') FROM customers WHERE country = ?1"},
  };
  for (const Statement& s : kStatements) {
    if (s.name == name) return s;
  }
  std::abort();
}

std::string_view DialectName(Dialect d) {
  switch (d) {
    case Dialect::kPostgres:
      return "postgres";
    case Dialect::kMysql:
      return "mysql";
    case Dialect::kSqlite:
      return "sqlite";
  }
  return "?";
}

void Guard(benchmark::State& state, Dialect dialect, const Statement& statement) {
  std::string_view sql;
  db::DataSource* sqlite = nullptr;
  switch (dialect) {
    case Dialect::kPostgres:
      sql = statement.postgres;
      break;
    case Dialect::kMysql:
      sql = statement.mysql;
      break;
    case Dialect::kSqlite: {
      sql = statement.sqlite;
      BenchEnv* env = BenchEnv::Get(state);
      if (env == nullptr) return;
      sqlite = &env->source();
      break;
    }
  }
  auto check = [&]() -> Result<void> {
    switch (dialect) {
      case Dialect::kPostgres:
        return security::CheckPostgresSelect(sql);
      case Dialect::kMysql:
        return security::CheckMysqlSelect(sql);
      case Dialect::kSqlite:
        return sqlite->Check(sql);
    }
    return {};
  };
  if (auto first = check(); first.has_value() != statement.accepted) {
    state.SkipWithError(
        (statement.accepted ? "refused: " + first.error().message : std::string("accepted"))
            .c_str());
    return;
  }
  for (auto _ : state) {
    auto verdict = check();
    benchmark::DoNotOptimize(verdict);
  }
  auto verdict = check();
  state.SetLabel(verdict ? fmt::format("accepted, {} bytes", sql.size())
                         : "refused: " + verdict.error().message);
}

void Screen(benchmark::State& state, std::string_view question, bool flagged) {
  if (security::ScreenQuestion(question).flagged != flagged) {
    state.SkipWithError(flagged ? "the attack was not flagged" : "the question was flagged");
    return;
  }
  for (auto _ : state) {
    security::Screening screening = security::ScreenQuestion(question);
    benchmark::DoNotOptimize(screening.flagged);
  }
  state.SetLabel(std::string(question));
}

}  // namespace

void RegisterGuardBenchmarks() {
  for (Dialect d : {Dialect::kPostgres, Dialect::kMysql, Dialect::kSqlite}) {
    for (std::string_view name :
         {"simple_select", "join_group_by", "long_ctes", "rejected_function"}) {
      const Statement& statement = StatementNamed(name);
      benchmark::RegisterBenchmark(fmt::format("Guard/{}/{}", DialectName(d), name).c_str(),
                                   [d, &statement](benchmark::State& s) { Guard(s, d, statement); })
          ->Unit(benchmark::kMicrosecond);
    }
  }
  for (const BenchQuestion& q : Questions()) {
    benchmark::RegisterBenchmark(fmt::format("Security/ScreenQuestion/{}", q.name).c_str(),
                                 [&q](benchmark::State& s) { Screen(s, q.question, false); })
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("Security/ScreenQuestion/stacked_attack", [](benchmark::State& s) {
    Screen(s, "customers in Germany'; DROP TABLE customers; --", true);
  })->Unit(benchmark::kMicrosecond);
}

}  // namespace helios::bench
