#include "sql/ir.h"

#include <algorithm>

namespace helios::sql {

bool Query::is_aggregated() const {
  if (!group_by.empty() || !having.empty()) return true;
  return std::any_of(select.begin(), select.end(),
                     [](const SelectItem& s) { return s.expr.is_aggregate(); });
}

std::vector<std::string> Query::ReferencedTables() const {
  std::vector<std::string> out;
  auto add = [&](const std::string& t) {
    if (!t.empty() && std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
  };
  auto add_expr = [&](const Expr& e) {
    if (e.column) add(e.column->table);
  };
  add(from);
  for (const auto& j : joins) add(j.table);
  for (const auto& s : select) add_expr(s.expr);
  for (const auto& p : where) add_expr(p.lhs);
  for (const auto& g : group_by) add_expr(g);
  for (const auto& p : having) add_expr(p.lhs);
  for (const auto& o : order_by) add_expr(o.expr);
  return out;
}

std::string_view AggregateName(Aggregate a) {
  switch (a) {
    case Aggregate::kNone:
      return "";
    case Aggregate::kCount:
      return "count";
    case Aggregate::kCountDistinct:
      return "count_distinct";
    case Aggregate::kSum:
      return "sum";
    case Aggregate::kAvg:
      return "avg";
    case Aggregate::kMin:
      return "min";
    case Aggregate::kMax:
      return "max";
  }
  return "";
}

std::string_view TimeGrainName(TimeGrain g) {
  switch (g) {
    case TimeGrain::kNone:
      return "";
    case TimeGrain::kYear:
      return "year";
    case TimeGrain::kQuarter:
      return "quarter";
    case TimeGrain::kMonth:
      return "month";
    case TimeGrain::kWeek:
      return "week";
    case TimeGrain::kDay:
      return "day";
  }
  return "";
}

}  // namespace helios::sql
