// The query IR: what the built-in engine produces and what follow-ups edit. It is a value
// type (copyable, comparable) with no SQL text in it; render.h turns it into a dialect's SQL
// with bound parameters, explain.h into English and a chart suggestion.
//
// A Query is one SELECT over `from` joined along foreign keys (`joins`), with ANDed filters.
// Three things nest:
//  - a filter may compare with a subquery instead of values ("price above the average price":
//    price > (SELECT AVG(price) FROM products); "never enrolled": id NOT IN (SELECT ...));
//  - a filter may be the OR of other filters ("in Germany or cheaper than 10");
//  - a Query may be combined with another by UNION, INTERSECT or EXCEPT.
// Nested queries are uncorrelated: each reads only the tables of its own FROM and JOINs.
// Validate() states every rule a well-formed query follows; Render() expects one.
//
// Thread-safety: plain values; Validate() and the member functions are pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "db/value.h"

namespace helios::sql {

struct ColumnRef {
  std::string table;
  std::string column;  // "*" means every column of `table`
  bool operator==(const ColumnRef&) const = default;
};

enum class Aggregate { kNone, kCount, kCountDistinct, kSum, kAvg, kMin, kMax };

// Truncation of a date column to a calendar period, for grouping by time.
enum class TimeGrain { kNone, kYear, kQuarter, kMonth, kWeek, kDay };

// A value expression: a column, a column truncated to a period, an aggregate over a column,
// or COUNT(*) (agg == kCount with no column).
struct Expr {
  Aggregate agg = Aggregate::kNone;
  std::optional<ColumnRef> column;
  TimeGrain grain = TimeGrain::kNone;
  bool operator==(const Expr&) const = default;

  static Expr Col(ColumnRef c) { return Expr{Aggregate::kNone, std::move(c), TimeGrain::kNone}; }
  static Expr CountStar() { return Expr{Aggregate::kCount, std::nullopt, TimeGrain::kNone}; }
  static Expr Agg(Aggregate a, ColumnRef c) { return Expr{a, std::move(c), TimeGrain::kNone}; }
  bool is_aggregate() const { return agg != Aggregate::kNone; }
};

struct SelectItem {
  Expr expr;
  std::string alias;  // output column name; empty lets the renderer choose
  bool operator==(const SelectItem&) const = default;
};

enum class CompareOp {
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kBetween,   // values[0] <= x <= values[1]
  kRange,     // values[0] <= x < values[1] (calendar periods)
  kIn,        // x IN (values...)
  kContains,  // case-insensitive substring match
  kIsNull,
  kIsNotNull,
};

struct Query;

// One filter. Three forms:
//  - plain: `lhs op values`;
//  - against a subquery (`subquery` has one element, `values` is empty): with kIn,
//    `lhs IN (SELECT ...)` (negated: NOT IN); with kEq, kNe, kLt, kLe, kGt or kGe,
//    `lhs > (SELECT ...)`, a scalar subquery, which must return one row at most (aggregated
//    without GROUP BY, or LIMIT 1). The subquery selects exactly one column.
//    Beware NOT IN: when the subquery's column holds a NULL, NOT IN keeps no row at all (SQL's
//    three-valued logic), so "never enrolled" should filter that column with kIsNotNull in the
//    subquery unless it cannot be NULL (a primary key);
//  - an OR group (`any` is not empty): true when any of those filters is; lhs, op, values,
//    subquery and case_insensitive keep their defaults. `phrase` and `negated` apply to the
//    group as a whole.
// `subquery` is a std::vector<Query> rather than a std::optional<Query> or a pointer because
// Query is incomplete here: std::vector allows that (C++17) and keeps the type a value with a
// defaulted operator== (checked with GCC 12, -std=c++23).
struct Predicate {
  Expr lhs;  // a column in WHERE; may be an aggregate in HAVING
  CompareOp op = CompareOp::kEq;
  std::vector<db::Value> values;
  bool case_insensitive = false;  // text equality ignoring case
  // Words of the question that produced the filter ("in Germany", "last year"), for the
  // explanation; empty when none.
  std::string phrase;
  bool negated = false;         // NOT (...): "not in 2024"
  std::vector<Query> subquery;  // zero or one: compare with its rows instead of `values`
  std::vector<Predicate> any;   // non-empty: the OR of these (see above for what is unused)
  bool operator==(const Predicate&) const = default;

  bool is_any_of() const { return !any.empty(); }
  bool has_subquery() const { return !subquery.empty(); }
};

// JOIN `table` ON left = right, where left is a column of a table already in the query.
struct Join {
  std::string table;
  ColumnRef left;
  ColumnRef right;
  bool operator==(const Join&) const = default;
};

struct OrderItem {
  Expr expr;
  bool descending = false;
  bool operator==(const OrderItem&) const = default;
};

// How a query is combined with the one in Query::set_rhs.
enum class SetOp {
  kNone,
  kUnion,      // rows of either, duplicates removed
  kUnionAll,   // rows of both, duplicates kept
  kIntersect,  // distinct rows of the left that the right has too
  kExcept,     // distinct rows of the left that the right does not have
};

struct Query {
  std::string from;
  std::vector<Join> joins;
  bool distinct = false;
  std::vector<SelectItem> select;
  std::vector<Predicate> where;
  std::vector<Expr> group_by;
  std::vector<Predicate> having;
  // In a compound query (set_op != kNone) `order_by` and `limit` sort and cut the combined
  // rows, as in SQL, and each order item must be one of the expressions of `select` (a
  // compound's rows can only be sorted by their columns).
  std::vector<OrderItem> order_by;
  std::optional<int64_t> limit;
  // This SELECT combined with set_rhs[0] (one element when set_op != kNone, none otherwise):
  // `this set_op (set_rhs[0])`. The right query may itself be compound, and may have its own
  // ORDER BY and LIMIT, which apply to it alone. Both sides select the same number of columns.
  SetOp set_op = SetOp::kNone;
  std::vector<Query> set_rhs;
  bool operator==(const Query&) const = default;

  // Whether this query's own SELECT aggregates (GROUP BY, HAVING or an aggregate selected).
  // Subqueries and set operands are not looked at: the rows a compound query returns have
  // the columns of its left SELECT.
  bool is_aggregated() const;
  bool is_compound() const { return set_op != SetOp::kNone; }
  // Every table the query mentions: from, joins, the tables of all expressions, and those of
  // its subqueries and set operands, in that order, each once.
  std::vector<std::string> ReferencedTables() const;
  // The tables of this SELECT alone (from, joins, its expressions and OR groups), without its
  // subqueries and set operands: what its FROM and JOINs must cover.
  std::vector<std::string> OwnTables() const;
};

// How deep queries and OR groups may nest (a subquery, a set operand and an OR group are each
// one level). Deeper ones are refused by Validate and by the JSON reader (sql/ir_json.h).
inline constexpr int kMaxNesting = 32;

// kInvalidArgument, with a message for the user, when the query breaks a rule of this header:
// a subquery with a comparison that cannot take one, values or case-insensitivity beside a
// subquery, a subquery that does not select exactly one column, a scalar subquery that may
// return several rows, an OR group with other fields set, set_rhs not matching set_op, set
// operands selecting different numbers of columns, a compound ordered by something it does not
// select, a nested query reading a table it does not name in FROM or JOIN (a correlated
// subquery), or nesting deeper than kMaxNesting.
Result<void> Validate(const Query& query);

std::string_view AggregateName(Aggregate a);  // "count", "sum", ...
std::string_view TimeGrainName(TimeGrain g);  // "year", "month", ...
std::string_view SetOpName(SetOp op);
std::string_view SetOpKeyword(
    SetOp op);  // "UNION", "UNION ALL", "INTERSECT", "EXCEPT"; "" for kNone         // "union",
                // "union_all", "intersect", "except"

}  // namespace helios::sql
