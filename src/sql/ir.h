// The query IR: what the built-in engine produces and what follow-ups edit. It is a value
// type (copyable, comparable) with no SQL text in it; render.h turns it into a dialect's SQL
// with bound parameters, explain.h into English and a chart suggestion.
//
// A Query is one SELECT over `from` joined along foreign keys (`joins`), with ANDed filters.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

struct Predicate {
  Expr lhs;  // a column in WHERE; may be an aggregate in HAVING
  CompareOp op = CompareOp::kEq;
  std::vector<db::Value> values;
  bool case_insensitive = false;  // text equality ignoring case
  // Words of the question that produced the filter ("in Germany", "last year"), for the
  // explanation; empty when none.
  std::string phrase;
  bool negated = false;  // NOT (...): "not in 2024"
  bool operator==(const Predicate&) const = default;
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

struct Query {
  std::string from;
  std::vector<Join> joins;
  bool distinct = false;
  std::vector<SelectItem> select;
  std::vector<Predicate> where;
  std::vector<Expr> group_by;
  std::vector<Predicate> having;
  std::vector<OrderItem> order_by;
  std::optional<int64_t> limit;
  bool operator==(const Query&) const = default;

  bool is_aggregated() const;
  // Every table the query mentions: from, joins, and the tables of all expressions.
  std::vector<std::string> ReferencedTables() const;
};

std::string_view AggregateName(Aggregate a);  // "count", "sum", ...
std::string_view TimeGrainName(TimeGrain g);  // "year", "month", ...

}  // namespace helios::sql
