// Builders for the nested parts of the query IR in tests: a one-column SELECT, a set operation,
// a comparison with a subquery and an OR group (sql/ir.h).
#pragma once

#include <utility>
#include <vector>

#include "sql/ir.h"

namespace helios::sql {

// SELECT <column> FROM <table> [WHERE ...]
inline Query Select(const char* table, const char* column, std::vector<Predicate> where = {}) {
  Query q;
  q.from = table;
  q.select = {{Expr::Col(ColumnRef{table, column}), ""}};
  q.where = std::move(where);
  return q;
}

// left <op> right
inline Query Combine(Query left, SetOp op, Query right) {
  left.set_op = op;
  left.set_rhs = {std::move(right)};
  return left;
}

inline Predicate Against(Expr lhs, CompareOp op, Query sub, bool negated = false) {
  Predicate p;
  p.lhs = std::move(lhs);
  p.op = op;
  p.subquery = {std::move(sub)};
  p.negated = negated;
  return p;
}

inline Predicate AnyOf(std::vector<Predicate> members, bool negated = false) {
  Predicate p;
  p.any = std::move(members);
  p.negated = negated;
  return p;
}

}  // namespace helios::sql
