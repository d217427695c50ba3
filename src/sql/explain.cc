#include "sql/explain.h"

#include <fmt/format.h>

#include "common/text.h"
#include "sql/render.h"

namespace helios::sql {
namespace {

std::string ColumnPhrase(const ColumnRef& c) {
  if (c.column == "*") return "all columns of " + HumanName(c.table);
  return HumanName(c.column);
}

std::string ExprPhrase(const Expr& e, const std::string& from) {
  std::string col;
  if (e.column) {
    col = ColumnPhrase(*e.column);
    if (e.grain != TimeGrain::kNone)
      col = fmt::format("{} of {}", TimeGrainName(e.grain), col);
  }
  switch (e.agg) {
    case Aggregate::kNone: return col;
    case Aggregate::kCount:
      return e.column ? "the number of " + col + " values"
                      : "the number of " + HumanName(from) + " rows";
    case Aggregate::kCountDistinct: return "the number of different " + col + " values";
    case Aggregate::kSum: return "the total " + col;
    case Aggregate::kAvg: return "the average " + col;
    case Aggregate::kMin: return "the smallest " + col;
    case Aggregate::kMax: return "the largest " + col;
  }
  return col;
}

std::string ValuePhrase(const db::Value& v) {
  if (std::holds_alternative<std::string>(v)) return "'" + std::get<std::string>(v) + "'";
  return db::ToDisplayString(v);
}

std::string PredicatePhrase(const Predicate& p, const std::string& from) {
  std::string lhs = ExprPhrase(p.lhs, from);
  auto v = [&](size_t i) { return i < p.values.size() ? ValuePhrase(p.values[i]) : "?"; };
  switch (p.op) {
    case CompareOp::kEq: return lhs + " is " + v(0);
    case CompareOp::kNe: return lhs + " is not " + v(0);
    case CompareOp::kLt: return lhs + " is less than " + v(0);
    case CompareOp::kLe: return lhs + " is at most " + v(0);
    case CompareOp::kGt: return lhs + " is more than " + v(0);
    case CompareOp::kGe: return lhs + " is at least " + v(0);
    case CompareOp::kBetween: return lhs + " is between " + v(0) + " and " + v(1);
    case CompareOp::kRange:
      return lhs + " is from " + v(0) + " up to (not including) " + v(1);
    case CompareOp::kIn: {
      std::vector<std::string> parts;
      for (size_t i = 0; i < p.values.size(); ++i) parts.push_back(v(i));
      return lhs + " is one of " + text::Join(parts, ", ");
    }
    case CompareOp::kContains: return lhs + " contains " + v(0);
    case CompareOp::kIsNull: return lhs + " is missing";
    case CompareOp::kIsNotNull: return lhs + " is present";
  }
  return lhs;
}

std::string JoinList(const std::vector<std::string>& items) {
  if (items.empty()) return "";
  if (items.size() == 1) return items[0];
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += (i + 1 == items.size()) ? " and " : ", ";
    out += items[i];
  }
  return out;
}

}  // namespace

std::string HumanName(std::string_view identifier) {
  return text::Join(text::SplitIdentifier(identifier), " ");
}

std::string Explain(const Query& q) {
  std::string from = q.from;
  std::string out;
  std::vector<std::string> measures, columns;
  for (const auto& s : q.select) {
    if (s.expr.is_aggregate())
      measures.push_back(ExprPhrase(s.expr, from));
    else
      columns.push_back(ExprPhrase(s.expr, from));
  }
  if (q.is_aggregated()) {
    if (measures.empty() && !q.group_by.empty()) {
      out = "Lists each different " + JoinList(columns) + " of " + HumanName(from);
    } else {
      out = "Computes " + JoinList(measures) + " of " + HumanName(from);
      if (!q.group_by.empty()) {
        std::vector<std::string> groups;
        for (const auto& g : q.group_by) groups.push_back(ExprPhrase(g, from));
        out += " for each " + JoinList(groups);
      }
    }
  } else {
    out = (q.distinct ? "Lists the different " : "Lists ") + JoinList(columns) +
          (columns.size() == 1 && columns[0].starts_with("all columns") ? "" : " of " + HumanName(from));
  }
  if (!q.joins.empty()) {
    std::vector<std::string> tables;
    for (const auto& j : q.joins) tables.push_back(HumanName(j.table));
    out += ", joined with " + JoinList(tables) + " along their foreign keys";
  }
  if (!q.where.empty()) {
    std::vector<std::string> preds;
    for (const auto& p : q.where) preds.push_back(PredicatePhrase(p, from));
    out += ", where " + JoinList(preds);
  }
  if (!q.having.empty()) {
    std::vector<std::string> preds;
    for (const auto& p : q.having) preds.push_back(PredicatePhrase(p, from));
    out += ", keeping only groups where " + JoinList(preds);
  }
  if (!q.order_by.empty()) {
    std::vector<std::string> keys;
    for (const auto& o : q.order_by)
      keys.push_back(ExprPhrase(o.expr, from) + (o.descending ? ", highest first" : ", lowest first"));
    out += "; sorted by " + JoinList(keys);
  }
  if (q.limit) out += fmt::format("; only the first {} row{}", *q.limit, *q.limit == 1 ? "" : "s");
  out += ".";
  return out;
}

}  // namespace helios::sql
