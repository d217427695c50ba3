#include "sql/ir.h"

#include <fmt/format.h>

#include <algorithm>

namespace helios::sql {
namespace {

class TableCollector {
 public:
  explicit TableCollector(bool own_only = false) : own_only_(own_only) {}
  std::vector<std::string> Run(const Query& q) {
    AddQuery(q);
    return std::move(out_);
  }

 private:
  void Add(const std::string& t) {
    if (!t.empty() && std::find(out_.begin(), out_.end(), t) == out_.end()) out_.push_back(t);
  }
  void AddExpr(const Expr& e) {
    if (e.column) Add(e.column->table);
  }
  void AddPredicate(const Predicate& p) {
    AddExpr(p.lhs);
    for (const auto& member : p.any) AddPredicate(member);
    if (own_only_) return;
    for (const auto& sub : p.subquery) AddQuery(sub);
  }
  void AddQuery(const Query& q) {
    // The query's own tables first, in the order they always had, then what it nests.
    Add(q.from);
    for (const auto& j : q.joins) Add(j.table);
    for (const auto& s : q.select) AddExpr(s.expr);
    for (const auto& p : q.where) AddExpr(p.lhs);
    for (const auto& g : q.group_by) AddExpr(g);
    for (const auto& p : q.having) AddExpr(p.lhs);
    for (const auto& o : q.order_by) AddExpr(o.expr);
    for (const auto& p : q.where) AddPredicate(p);
    for (const auto& p : q.having) AddPredicate(p);
    if (own_only_) return;
    for (const auto& rhs : q.set_rhs) AddQuery(rhs);
  }

  bool own_only_;
  std::vector<std::string> out_;
};

std::unexpected<Error> Invalid(std::string_view what) {
  return Fail(ErrorCode::kInvalidArgument, fmt::format("The query is not well-formed: {}.", what));
}

bool IsStar(const Expr& e) { return e.column && e.column->column == "*" && !e.is_aggregate(); }

bool TakesSubquery(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
    case CompareOp::kNe:
    case CompareOp::kLt:
    case CompareOp::kLe:
    case CompareOp::kGt:
    case CompareOp::kGe:
    case CompareOp::kIn:
      return true;
    default:
      return false;
  }
}

// The number of columns a SELECT returns, when it can be told without the schema (no "*").
std::optional<size_t> ColumnCount(const Query& q) {
  if (q.select.empty()) return std::nullopt;
  for (const auto& s : q.select)
    if (IsStar(s.expr)) return std::nullopt;
  return q.select.size();
}

class Validator {
 public:
  Result<void> CheckQuery(const Query& q, int depth, bool nested) {
    if (depth > kMaxNesting)
      return Invalid(fmt::format("it nests more than {} levels deep", kMaxNesting));
    if (nested) {
      if (auto ok = CheckOwnTables(q); !ok) return ok;
    }
    for (const auto* list : {&q.where, &q.having})
      for (const auto& p : *list)
        if (auto ok = CheckPredicate(p, depth); !ok) return ok;
    if (q.set_op == SetOp::kNone) {
      if (!q.set_rhs.empty())
        return Invalid(
            "a query to combine with is given without a set "
            "operation");
      return {};
    }
    if (q.set_rhs.size() != 1)
      return Invalid(fmt::format("{} combines with exactly one query, not {}",
                                 SetOpKeyword(q.set_op), q.set_rhs.size()));
    const Query& rhs = q.set_rhs[0];
    if (auto ok = CheckQuery(rhs, depth + 1, true); !ok) return ok;
    auto left = ColumnCount(q), right = ColumnCount(rhs);
    if (left && right && *left != *right)
      return Invalid(fmt::format("the two sides of {} select {} and {} columns",
                                 SetOpKeyword(q.set_op), *left, *right));
    for (const auto& o : q.order_by) {
      bool selected = std::any_of(q.select.begin(), q.select.end(),
                                  [&](const SelectItem& s) { return s.expr == o.expr; });
      if (!selected)
        return Invalid(fmt::format("the rows of {} can only be sorted by columns they show",
                                   SetOpKeyword(q.set_op)));
    }
    return {};
  }

 private:
  Result<void> CheckPredicate(const Predicate& p, int depth) {
    if (p.is_any_of()) {
      if (depth + 1 > kMaxNesting)
        return Invalid(fmt::format("it nests more than {} levels deep", kMaxNesting));
      if (p.lhs != Expr{} || p.op != CompareOp::kEq || !p.values.empty() || p.has_subquery() ||
          p.case_insensitive)
        return Invalid("a group of alternative filters has a comparison of its own");
      for (const auto& member : p.any)
        if (auto ok = CheckPredicate(member, depth + 1); !ok) return ok;
      return {};
    }
    if (!p.has_subquery()) return {};
    if (p.subquery.size() != 1) return Invalid("a filter compares with more than one subquery");
    if (!TakesSubquery(p.op))
      return Invalid("a subquery can only be compared with =, <>, <, <=, >, >= or IN");
    if (!p.values.empty()) return Invalid("a filter compares with both values and a subquery");
    if (p.case_insensitive) return Invalid("a subquery cannot be compared ignoring case");
    const Query& sub = p.subquery[0];
    if (auto ok = CheckQuery(sub, depth + 1, true); !ok) return ok;
    if (sub.select.size() != 1 || IsStar(sub.select[0].expr))
      return Invalid("a subquery in a filter must select exactly one column");
    if (p.op != CompareOp::kIn) {
      bool one_row =
          (sub.limit && *sub.limit <= 1) ||
          (!sub.is_compound() && sub.group_by.empty() && sub.select[0].expr.is_aggregate());
      if (!one_row)
        return Invalid(
            "a subquery compared with a single value must return one row at most "
            "(an aggregate without grouping, or LIMIT 1)");
    }
    return {};
  }

  // A nested query reads only the tables of its own FROM and JOINs: an unqualified column of
  // an outer table would silently bind to a same-named column of the inner one.
  static Result<void> CheckOwnTables(const Query& q) {
    std::vector<std::string> own = {q.from};
    for (const auto& j : q.joins) own.push_back(j.table);
    auto check = [&](const ColumnRef& c) -> Result<void> {
      if (c.table.empty() || std::find(own.begin(), own.end(), c.table) != own.end()) return {};
      return Invalid(fmt::format(
          "a nested query reads {}.{} without selecting from {} (correlated subqueries are not "
          "supported)",
          c.table, c.column, c.table));
    };
    auto check_expr = [&](const Expr& e) -> Result<void> {
      return e.column ? check(*e.column) : Result<void>{};
    };
    for (const auto& j : q.joins) {
      if (auto ok = check(j.left); !ok) return ok;
      if (auto ok = check(j.right); !ok) return ok;
    }
    for (const auto& s : q.select)
      if (auto ok = check_expr(s.expr); !ok) return ok;
    for (const auto& g : q.group_by)
      if (auto ok = check_expr(g); !ok) return ok;
    for (const auto& o : q.order_by)
      if (auto ok = check_expr(o.expr); !ok) return ok;
    // Filters, with the members of OR groups (their subqueries are checked on their own).
    std::vector<const Predicate*> preds;
    for (const auto* list : {&q.where, &q.having})
      for (const auto& p : *list) preds.push_back(&p);
    while (!preds.empty()) {
      const Predicate* p = preds.back();
      preds.pop_back();
      if (auto ok = check_expr(p->lhs); !ok) return ok;
      for (const auto& member : p->any) preds.push_back(&member);
    }
    return {};
  }
};

}  // namespace

bool Query::is_aggregated() const {
  if (!group_by.empty() || !having.empty()) return true;
  return std::any_of(select.begin(), select.end(),
                     [](const SelectItem& s) { return s.expr.is_aggregate(); });
}

std::vector<std::string> Query::ReferencedTables() const { return TableCollector().Run(*this); }

std::vector<std::string> Query::OwnTables() const { return TableCollector(true).Run(*this); }

Result<void> Validate(const Query& query) { return Validator().CheckQuery(query, 0, false); }

std::string_view SetOpKeyword(SetOp op) {
  switch (op) {
    case SetOp::kNone:
      return "";
    case SetOp::kUnion:
      return "UNION";
    case SetOp::kUnionAll:
      return "UNION ALL";
    case SetOp::kIntersect:
      return "INTERSECT";
    case SetOp::kExcept:
      return "EXCEPT";
  }
  return "";
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

std::string_view SetOpName(SetOp op) {
  switch (op) {
    case SetOp::kNone:
      return "";
    case SetOp::kUnion:
      return "union";
    case SetOp::kUnionAll:
      return "union_all";
    case SetOp::kIntersect:
      return "intersect";
    case SetOp::kExcept:
      return "except";
  }
  return "";
}

}  // namespace helios::sql
