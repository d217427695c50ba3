#include "sql/render.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sql/keywords.h"

namespace helios::sql {
namespace {

using db::Dialect;

// An identifier stays bare only when the dialect reads it back as the same name: lower-case
// ASCII letters, digits and underscores (PostgreSQL folds upper case; the others would keep it,
// but quoting keeps the name exactly as the schema has it everywhere), not starting with a
// digit (MySQL reads 1e5 or 0x1f as numbers), and not a keyword the dialect needs quoted
// (sql/keywords.h).
bool NeedsQuoting(std::string_view id, Dialect dialect) {
  if (id.empty() || (id[0] >= '0' && id[0] <= '9')) return true;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return true;
  }
  return IsKeywordNeedingQuotes(id, dialect);
}

// One renderer per statement: the parameters of subqueries and set operands are numbered in
// one sequence, in the order their placeholders appear in the text.
class Renderer {
 public:
  explicit Renderer(const RenderOptions& o) : o_(o) {}

  RenderedSql Run(const Query& q) {
    std::string s = RenderQuery(q);
    return RenderedSql{std::move(s), std::move(params_)};
  }

 private:
  // A query with what it is combined with. A compound's ORDER BY and LIMIT come after its
  // last operand, where SQL applies them to all the rows; they name the columns by position,
  // which every dialect reads the same way (a name may match two columns, or in SQLite match
  // no result column when the left SELECT qualifies it).
  std::string RenderQuery(const Query& q) {
    if (!q.is_compound() || q.set_rhs.empty()) return RenderSelect(q, true);
    std::string s = RenderSelect(q, false);
    s += " ";
    s += SetOpKeyword(q.set_op);
    s += " " + RenderOperand(q.set_op, q.set_rhs.front());
    if (!q.order_by.empty()) {
      s += " ORDER BY ";
      for (size_t i = 0; i < q.order_by.size(); ++i) {
        if (i) s += ", ";
        const OrderItem& o = q.order_by[i];
        auto it = std::find_if(q.select.begin(), q.select.end(),
                               [&](const SelectItem& item) { return item.expr == o.expr; });
        // Validate() refuses an order item that is not selected; the expression is the best
        // that can be written for one (the database then says what is wrong).
        s += it != q.select.end() ? std::to_string(it - q.select.begin() + 1)
                                  : RenderExprIn(q, o.expr);
        s += o.descending ? " DESC" : " ASC";
      }
    }
    if (q.limit) s += fmt::format(" LIMIT {}", *q.limit);
    return s;
  }

  // The right side of a set operation. SQLite takes no parentheses around an operand, and
  // the dialects disagree on whether INTERSECT binds tighter than UNION, so an operand that is
  // itself compound, or has an ORDER BY or LIMIT of its own, becomes a derived table, whose
  // meaning no dialect reads differently. A chain of one associative operation
  // (a UNION b UNION c) stays flat.
  std::string RenderOperand(SetOp op, const Query& rhs) {
    const bool own_tail = !rhs.order_by.empty() || rhs.limit.has_value();
    const bool flat = !rhs.is_compound() || (rhs.set_op == op && op != SetOp::kExcept);
    if (!own_tail && flat) return RenderQuery(rhs);
    return "SELECT * FROM (" + RenderQuery(rhs) + ") AS t";
  }

  std::string RenderExprIn(const Query& q, const Expr& e) {
    const bool saved = qualify_;
    qualify_ = !q.joins.empty();
    std::string s = RenderExpr(e);
    qualify_ = saved;
    return s;
  }

  // One SELECT; with_tail adds its ORDER BY and LIMIT.
  std::string RenderSelect(const Query& q, bool with_tail) {
    const bool saved = qualify_;
    qualify_ = !q.joins.empty();
    std::string s = "SELECT ";
    if (q.distinct) s += "DISTINCT ";
    for (size_t i = 0; i < q.select.size(); ++i) {
      if (i) s += ", ";
      const auto& item = q.select[i];
      s += RenderExpr(item.expr);
      bool star = item.expr.column && item.expr.column->column == "*" && !item.expr.is_aggregate();
      if (!star) {
        std::string alias = item.alias.empty() ? DefaultAlias(item.expr) : item.alias;
        if (!(item.expr.agg == Aggregate::kNone && item.expr.grain == TimeGrain::kNone &&
              item.expr.column && item.expr.column->column == alias))
          s += " AS " + QuoteIdentifier(alias, o_.dialect);
      }
    }
    if (q.select.empty()) s += "*";
    s += " FROM " + QuoteIdentifier(q.from, o_.dialect);
    for (const auto& j : q.joins) {
      s += " JOIN " + QuoteIdentifier(j.table, o_.dialect) + " ON " + RenderColumn(j.left) + " = " +
           RenderColumn(j.right);
    }
    if (!q.where.empty()) s += " WHERE " + RenderPredicates(q.where);
    if (!q.group_by.empty()) {
      s += " GROUP BY ";
      for (size_t i = 0; i < q.group_by.size(); ++i) {
        if (i) s += ", ";
        s += RenderExpr(q.group_by[i]);
      }
    }
    if (!q.having.empty()) s += " HAVING " + RenderPredicates(q.having);
    if (with_tail) {
      if (!q.order_by.empty()) {
        s += " ORDER BY ";
        for (size_t i = 0; i < q.order_by.size(); ++i) {
          if (i) s += ", ";
          s += RenderExpr(q.order_by[i].expr);
          s += q.order_by[i].descending ? " DESC" : " ASC";
        }
      }
      if (q.limit) s += fmt::format(" LIMIT {}", *q.limit);
    }
    qualify_ = saved;
    return s;
  }

  std::string RenderColumn(const ColumnRef& c) {
    if (c.column == "*") return qualify_ ? QuoteIdentifier(c.table, o_.dialect) + ".*" : "*";
    if (!qualify_) return QuoteIdentifier(c.column, o_.dialect);
    return QuoteIdentifier(c.table, o_.dialect) + "." + QuoteIdentifier(c.column, o_.dialect);
  }

  std::string RenderGrain(const std::string& col, TimeGrain g) {
    switch (o_.dialect) {
      case Dialect::kSqlite:
        switch (g) {
          case TimeGrain::kYear:
            return fmt::format("strftime('%Y', {})", col);
          case TimeGrain::kMonth:
            return fmt::format("strftime('%Y-%m', {})", col);
          case TimeGrain::kWeek:
            // ISO 8601 weeks, as PostgreSQL's IYYY-IW and MySQL's %x-%v: the week's Thursday
            // decides its year (SQLite before 3.46 has no %G/%V).
            return fmt::format(
                "strftime('%Y', date({0}, '-3 days', 'weekday 4')) || '-W' || printf('%02d', "
                "(CAST(strftime('%j', date({0}, '-3 days', 'weekday 4')) AS INTEGER) - 1) / 7 + 1)",
                col);
          case TimeGrain::kDay:
            return fmt::format("date({})", col);
          case TimeGrain::kQuarter:
            return fmt::format(
                "strftime('%Y', {0}) || '-Q' || ((CAST(strftime('%m', {0}) AS INTEGER) + 2) / 3)",
                col);
          case TimeGrain::kNone:
            return col;
        }
        break;
      case Dialect::kPostgres:
        switch (g) {
          case TimeGrain::kYear:
            return fmt::format("to_char({}, 'YYYY')", col);
          case TimeGrain::kMonth:
            return fmt::format("to_char({}, 'YYYY-MM')", col);
          case TimeGrain::kWeek:
            return fmt::format("to_char({}, 'IYYY-\"W\"IW')", col);
          case TimeGrain::kDay:
            return fmt::format("to_char({}, 'YYYY-MM-DD')", col);
          case TimeGrain::kQuarter:
            return fmt::format("to_char({}, 'YYYY-\"Q\"Q')", col);
          case TimeGrain::kNone:
            return col;
        }
        break;
      case Dialect::kMysql:
        switch (g) {
          case TimeGrain::kYear:
            return fmt::format("DATE_FORMAT({}, '%Y')", col);
          case TimeGrain::kMonth:
            return fmt::format("DATE_FORMAT({}, '%Y-%m')", col);
          case TimeGrain::kWeek:
            return fmt::format("DATE_FORMAT({}, '%x-W%v')", col);
          case TimeGrain::kDay:
            return fmt::format("DATE_FORMAT({}, '%Y-%m-%d')", col);
          case TimeGrain::kQuarter:
            return fmt::format("CONCAT(YEAR({0}), '-Q', QUARTER({0}))", col);
          case TimeGrain::kNone:
            return col;
        }
        break;
    }
    return col;
  }

  std::string RenderExpr(const Expr& e) {
    if (!e.column) return e.agg == Aggregate::kCount ? "COUNT(*)" : "NULL";
    std::string col = RenderColumn(*e.column);
    if (e.grain != TimeGrain::kNone) col = RenderGrain(col, e.grain);
    switch (e.agg) {
      case Aggregate::kNone:
        return col;
      case Aggregate::kCount:
        return "COUNT(" + col + ")";
      case Aggregate::kCountDistinct:
        return "COUNT(DISTINCT " + col + ")";
      case Aggregate::kSum:
        return "SUM(" + col + ")";
      case Aggregate::kAvg:
        return "AVG(" + col + ")";
      case Aggregate::kMin:
        return "MIN(" + col + ")";
      case Aggregate::kMax:
        return "MAX(" + col + ")";
    }
    return col;
  }

  std::string Param(const db::Value& v) {
    if (o_.inline_literals) return QuoteLiteral(v, o_.dialect);
    params_.push_back(v);
    switch (o_.dialect) {
      case Dialect::kSqlite:
        return fmt::format("?{}", params_.size());
      case Dialect::kPostgres:
        return fmt::format("${}", params_.size());
      case Dialect::kMysql:
        return "?";
    }
    return "?";
  }

  std::string RenderPredicates(const std::vector<Predicate>& preds) {
    std::string s;
    for (size_t i = 0; i < preds.size(); ++i) {
      if (i) s += " AND ";
      s += RenderFilter(preds[i]);
    }
    return s;
  }

  // A filter with its negation. An OR group is already in parentheses.
  std::string RenderFilter(const Predicate& p) {
    if (p.is_any_of()) return p.negated ? "NOT " + RenderAnyOf(p) : RenderAnyOf(p);
    return p.negated ? "NOT (" + RenderPredicate(p) + ")" : RenderPredicate(p);
  }

  std::string RenderAnyOf(const Predicate& p) {
    std::string s = "(";
    for (size_t i = 0; i < p.any.size(); ++i) {
      if (i) s += " OR ";
      s += RenderFilter(p.any[i]);
    }
    return s + ")";
  }

  // lhs IN (SELECT ...) or lhs > (SELECT ...).
  std::string RenderSubqueryComparison(const std::string& lhs, const Predicate& p) {
    const Query& sub = p.subquery.front();
    std::string inner = RenderQuery(sub);
    std::string op;
    switch (p.op) {
      case CompareOp::kIn:
        // MySQL and MariaDB refuse LIMIT in an IN subquery ("This version ... doesn't yet
        // support 'LIMIT & IN/ALL/ANY/SOME subquery'") but take it in a derived table.
        if (o_.dialect == Dialect::kMysql && sub.limit)
          inner = "SELECT * FROM (" + inner + ") AS t";
        return lhs + " IN (" + inner + ")";
      case CompareOp::kEq:
        op = " = ";
        break;
      case CompareOp::kNe:
        op = " <> ";
        break;
      case CompareOp::kLt:
        op = " < ";
        break;
      case CompareOp::kLe:
        op = " <= ";
        break;
      case CompareOp::kGt:
        op = " > ";
        break;
      case CompareOp::kGe:
        op = " >= ";
        break;
      default:
        // Validate() refuses every other comparison with a subquery; what cannot be written
        // matches nothing.
        return "1 = 0";
    }
    return lhs + op + "(" + inner + ")";
  }

  std::string CaseInsensitiveEq(const std::string& lhs, const db::Value& v) {
    if (o_.dialect == Dialect::kSqlite) return lhs + " = " + Param(v) + " COLLATE NOCASE";
    return "LOWER(" + lhs + ") = LOWER(" + Param(v) + ")";
  }

  std::string RenderPredicate(const Predicate& p) {
    if (p.is_any_of()) return RenderAnyOf(p);
    std::string lhs = RenderExpr(p.lhs);
    if (p.has_subquery()) return RenderSubqueryComparison(lhs, p);
    auto v = [&](size_t i) -> db::Value { return i < p.values.size() ? p.values[i] : db::Value{}; };
    switch (p.op) {
      case CompareOp::kEq:
        if (db::IsNull(v(0))) return lhs + " IS NULL";
        if (p.case_insensitive) return CaseInsensitiveEq(lhs, v(0));
        return lhs + " = " + Param(v(0));
      case CompareOp::kNe:
        if (db::IsNull(v(0))) return lhs + " IS NOT NULL";
        if (p.case_insensitive) return "NOT (" + CaseInsensitiveEq(lhs, v(0)) + ")";
        return lhs + " <> " + Param(v(0));
      case CompareOp::kLt:
        return lhs + " < " + Param(v(0));
      case CompareOp::kLe:
        return lhs + " <= " + Param(v(0));
      case CompareOp::kGt:
        return lhs + " > " + Param(v(0));
      case CompareOp::kGe:
        return lhs + " >= " + Param(v(0));
      case CompareOp::kBetween: {
        // Placeholders are numbered in call order: bind the bounds in text order.
        std::string low = Param(v(0));
        std::string high = Param(v(1));
        return lhs + " BETWEEN " + low + " AND " + high;
      }
      case CompareOp::kRange: {
        std::string a = Param(v(0));
        std::string b = Param(v(1));
        return "(" + lhs + " >= " + a + " AND " + lhs + " < " + b + ")";
      }
      case CompareOp::kIn: {
        if (p.values.empty()) return "1 = 0";  // IN () is not valid SQL everywhere
        std::string s = lhs + " IN (";
        for (size_t i = 0; i < p.values.size(); ++i) {
          if (i) s += ", ";
          s += Param(p.values[i]);
        }
        return s + ")";
      }
      case CompareOp::kContains: {
        std::string needle = std::holds_alternative<std::string>(v(0)) ? std::get<std::string>(v(0))
                                                                       : db::ToDisplayString(v(0));
        std::string escaped;
        for (char c : needle) {
          if (c == '%' || c == '_' || c == '\\') escaped += '\\';
          escaped += c;
        }
        std::string pattern = "%" + escaped + "%";
        if (o_.dialect == Dialect::kPostgres)
          return lhs + " ILIKE " + Param(pattern) + " ESCAPE '\\'";
        if (o_.dialect == Dialect::kMysql)
          return "LOWER(" + lhs + ") LIKE LOWER(" + Param(pattern) + ") ESCAPE '\\\\'";
        return lhs + " LIKE " + Param(pattern) + " ESCAPE '\\'";
      }
      case CompareOp::kIsNull:
        return lhs + " IS NULL";
      case CompareOp::kIsNotNull:
        return lhs + " IS NOT NULL";
    }
    return "1 = 0";
  }

  const RenderOptions& o_;
  bool qualify_ = false;
  std::vector<db::Value> params_;
};

}  // namespace

std::string QuoteIdentifier(std::string_view id, db::Dialect dialect) {
  if (!NeedsQuoting(id, dialect)) return std::string(id);
  char q = dialect == db::Dialect::kMysql ? '`' : '"';
  std::string out(1, q);
  for (char c : id) {
    if (c == q) out += q;
    out += c;
  }
  out += q;
  return out;
}

std::string QuoteLiteral(const db::Value& value, db::Dialect dialect) {
  struct Visitor {
    db::Dialect dialect;
    std::string operator()(std::monostate) const { return "NULL"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const {
      if (!std::isfinite(d)) return "NULL";
      std::string s = fmt::format("{}", d);
      return s;
    }
    std::string operator()(const std::string& s) const {
      std::string out = "'";
      for (char c : s) {
        if (c == '\'') out += '\'';
        if (c == '\\' && dialect == db::Dialect::kMysql) out += '\\';
        out += c;
      }
      return out + "'";
    }
    std::string operator()(bool b) const {
      if (dialect == db::Dialect::kSqlite) return b ? "1" : "0";
      return b ? "TRUE" : "FALSE";
    }
    std::string operator()(const db::Decimal& d) const { return d.digits; }
    std::string operator()(const db::Blob& b) const {
      if (dialect == db::Dialect::kPostgres) {
        std::string out = "'\\x";
        for (uint8_t byte : b.bytes) out += fmt::format("{:02x}", byte);
        return out + "'::bytea";
      }
      std::string out = "X'";
      for (uint8_t byte : b.bytes) out += fmt::format("{:02X}", byte);
      return out + "'";
    }
  };
  return std::visit(Visitor{dialect}, value);
}

std::string DefaultAlias(const Expr& e) {
  if (!e.column) return e.agg == Aggregate::kCount ? "count" : "value";
  const std::string& c = e.column->column == "*" ? e.column->table : e.column->column;
  std::string base = c;
  if (e.grain != TimeGrain::kNone) base = std::string(TimeGrainName(e.grain));
  switch (e.agg) {
    case Aggregate::kNone:
      return base;
    case Aggregate::kCount:
      return "count_" + base;
    case Aggregate::kCountDistinct:
      return "distinct_" + base;
    case Aggregate::kSum:
      return "sum_" + base;
    case Aggregate::kAvg:
      return "avg_" + base;
    case Aggregate::kMin:
      return "min_" + base;
    case Aggregate::kMax:
      return "max_" + base;
  }
  return base;
}

RenderedSql Render(const Query& query, const RenderOptions& options) {
  return Renderer(options).Run(query);
}

}  // namespace helios::sql
