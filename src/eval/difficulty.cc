#include "eval/difficulty.h"

#include <pg_query.h>

#include <array>
#include <nlohmann/json.hpp>

#include "common/text.h"

namespace helios::eval {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 5> kAggregates = {"count", "sum", "avg", "min", "max"};

bool IsAggregate(const json& func_call) {
  if (!func_call.contains("funcname") || !func_call["funcname"].is_array() ||
      func_call["funcname"].empty())
    return false;
  const json& last = func_call["funcname"].back();
  if (!last.contains("String")) return false;
  const json& s = last["String"];
  // libpg_query 15 names the field "sval", 13 "str".
  const json* name = s.contains("sval") ? &s["sval"] : s.contains("str") ? &s["str"] : nullptr;
  if (name == nullptr || !name->is_string()) return false;
  const std::string lower = text::ToLower(name->get<std::string>());
  for (auto a : kAggregates)
    if (lower == a) return true;
  return false;
}

// What one expression holds, not looking inside subqueries.
struct ExprCounts {
  int aggregates = 0;
  int likes = 0;
  int subqueries = 0;
};

void Scan(const json& node, ExprCounts& c) {
  if (node.is_array()) {
    for (const auto& n : node) Scan(n, c);
    return;
  }
  if (!node.is_object()) return;
  for (const auto& [key, value] : node.items()) {
    if (key == "SubLink") {
      ++c.subqueries;
      if (value.contains("testexpr")) Scan(value["testexpr"], c);
      continue;
    }
    if (key == "SelectStmt" || key == "RangeSubselect") continue;
    if (key == "FuncCall" && IsAggregate(value)) ++c.aggregates;
    if (key == "A_Expr" && value.value("kind", "") == "AEXPR_LIKE") ++c.likes;
    if (key == "A_Expr" && value.value("kind", "") == "AEXPR_ILIKE") ++c.likes;
    Scan(value, c);
  }
}

// A condition (WHERE, HAVING, JOIN ... ON): its leaf comparisons, ORs and what they hold.
struct CondCounts {
  int leaves = 0;
  int ors = 0;
  ExprCounts expr;
};

void ScanCondition(const json& node, CondCounts& c) {
  if (node.is_object() && node.contains("BoolExpr")) {
    const json& b = node["BoolExpr"];
    const json& args = b.contains("args") ? b["args"] : json::array();
    if (b.value("boolop", "") == "OR_EXPR" && !args.empty())
      c.ors += static_cast<int>(args.size()) - 1;
    for (const auto& a : args) ScanCondition(a, c);
    return;
  }
  ++c.leaves;
  Scan(node, c.expr);
}

// Table units in FROM (tables and subqueries), and the join conditions.
void ScanFrom(const json& node, int& units, CondCounts& conds) {
  if (node.is_array()) {
    for (const auto& n : node) ScanFrom(n, units, conds);
    return;
  }
  if (!node.is_object()) return;
  if (node.contains("JoinExpr")) {
    const json& j = node["JoinExpr"];
    if (j.contains("larg")) ScanFrom(j["larg"], units, conds);
    if (j.contains("rarg")) ScanFrom(j["rarg"], units, conds);
    if (j.contains("quals")) ScanCondition(j["quals"], conds);
    return;
  }
  if (node.contains("RangeVar") || node.contains("RangeSubselect") ||
      node.contains("RangeFunction"))
    ++units;
}

int AggregatesIn(const json& node) {
  ExprCounts c;
  Scan(node, c);
  return c.aggregates;
}

}  // namespace

std::string_view DifficultyName(Difficulty d) {
  switch (d) {
    case Difficulty::kEasy:
      return "easy";
    case Difficulty::kMedium:
      return "medium";
    case Difficulty::kHard:
      return "hard";
    case Difficulty::kExtra:
      return "extra";
    case Difficulty::kUnknown:
      return "unknown";
  }
  return "unknown";
}

Difficulty ClassifyCounts(const HardnessCounts& c) {
  const int c1 = c.component1, c2 = c.component2, o = c.others;
  if (c1 <= 1 && o == 0 && c2 == 0) return Difficulty::kEasy;
  if ((o <= 2 && c1 <= 1 && c2 == 0) || (c1 <= 2 && o < 2 && c2 == 0)) return Difficulty::kMedium;
  if ((o > 2 && c1 <= 2 && c2 == 0) || (c1 > 2 && c1 <= 3 && o <= 2 && c2 == 0) ||
      (c1 <= 1 && o == 0 && c2 <= 1))
    return Difficulty::kHard;
  return Difficulty::kExtra;
}

bool CountHardness(const std::string& sql, HardnessCounts& counts) {
  PgQueryParseResult parsed = pg_query_parse(sql.c_str());
  json tree;
  const bool ok = parsed.error == nullptr && parsed.parse_tree != nullptr;
  if (ok) tree = json::parse(parsed.parse_tree, nullptr, /*allow_exceptions=*/false);
  pg_query_free_parse_result(parsed);
  if (!ok || !tree.is_object() || !tree.contains("stmts") || tree["stmts"].size() != 1)
    return false;
  const json& stmt = tree["stmts"][0]["stmt"];
  if (!stmt.is_object() || !stmt.contains("SelectStmt")) return false;

  // The left-most SELECT of a set operation; the operation itself is one nested query.
  const json* select = &stmt["SelectStmt"];
  HardnessCounts out;
  if (select->value("op", "SETOP_NONE") != "SETOP_NONE") ++out.component2;
  while (select->value("op", "SETOP_NONE") != "SETOP_NONE" && select->contains("larg"))
    select = &(*select)["larg"];
  const json& s = *select;

  CondCounts where, having, join;
  if (s.contains("whereClause")) ScanCondition(s["whereClause"], where);
  if (s.contains("havingClause")) ScanCondition(s["havingClause"], having);
  int units = 0;
  if (s.contains("fromClause")) ScanFrom(s["fromClause"], units, join);
  const size_t group_by = s.contains("groupClause") ? s["groupClause"].size() : 0;
  const bool order_by = s.contains("sortClause") && !s["sortClause"].empty();
  const bool limit = s.contains("limitCount");

  out.component1 += where.leaves > 0 ? 1 : 0;
  out.component1 += group_by > 0 ? 1 : 0;
  out.component1 += order_by ? 1 : 0;
  out.component1 += limit ? 1 : 0;
  out.component1 += units > 1 ? units - 1 : 0;
  out.component1 += where.ors + having.ors + join.ors;
  out.component1 += where.expr.likes + having.expr.likes + join.expr.likes;
  out.component2 += where.expr.subqueries + having.expr.subqueries + join.expr.subqueries;

  const size_t select_columns = s.contains("targetList") ? s["targetList"].size() : 0;
  int aggregates = where.expr.aggregates + having.expr.aggregates;
  if (s.contains("targetList")) aggregates += AggregatesIn(s["targetList"]);
  if (s.contains("groupClause")) aggregates += AggregatesIn(s["groupClause"]);
  if (s.contains("sortClause")) aggregates += AggregatesIn(s["sortClause"]);
  out.others += aggregates > 1 ? 1 : 0;
  out.others += select_columns > 1 ? 1 : 0;
  out.others += where.leaves > 1 ? 1 : 0;
  out.others += group_by > 1 ? 1 : 0;
  counts = out;
  return true;
}

Difficulty ClassifySpider(const std::string& sql) {
  HardnessCounts counts;
  if (!CountHardness(sql, counts)) return Difficulty::kUnknown;
  return ClassifyCounts(counts);
}

}  // namespace helios::eval
