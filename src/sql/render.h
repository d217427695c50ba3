// Renders the query IR to one dialect's SQL. Values from questions never enter the SQL text
// that runs: they become bound parameters (inline_literals = false), those of subqueries and
// set operands included, numbered in the order their placeholders appear in the whole
// statement. The inline form, with literals quoted by the dialect's rules, is for showing the
// SQL to people.
//
// Nested shapes: `x IN (SELECT ...)`, `x > (SELECT ...)`, `(a OR b)`, and
// `SELECT ... INTERSECT SELECT ...` with a compound's ORDER BY and LIMIT after its last operand
// (naming columns by position: ORDER BY 2 DESC). A set operand that is itself compound or has
// its own ORDER BY/LIMIT is written as a derived table (SELECT * FROM (...) AS t), as is a
// MySQL IN subquery with a LIMIT. INTERSECT and EXCEPT are written as they are for MySQL:
// they need MySQL 8.0.31 or MariaDB 10.3.
//
// Render expects a query that passes sql::Validate (ir.h); for one that does not it still
// returns text, which the database refuses or which matches nothing.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "db/data_source.h"
#include "sql/ir.h"

namespace helios::sql {

struct RenderedSql {
  std::string text;
  std::vector<db::Value> params;  // in placeholder order
};

struct RenderOptions {
  db::Dialect dialect = db::Dialect::kSqlite;
  bool inline_literals = false;
};

RenderedSql Render(const Query& query, const RenderOptions& options);

// Identifier quoting, only when needed ("order items" -> "order items", name -> name).
std::string QuoteIdentifier(std::string_view identifier, db::Dialect dialect);
// A literal quoted by the dialect's rules ('O''Brien', 42, NULL).
std::string QuoteLiteral(const db::Value& value, db::Dialect dialect);
// The output column name used when a select item has no alias ("total_amount", "count").
std::string DefaultAlias(const Expr& expr);

}  // namespace helios::sql
