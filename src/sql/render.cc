#include "sql/render.h"

#include <fmt/format.h>

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

class Renderer {
 public:
  Renderer(const Query& q, const RenderOptions& o) : q_(q), o_(o) { qualify_ = !q.joins.empty(); }

  RenderedSql Run() {
    std::string s = "SELECT ";
    if (q_.distinct) s += "DISTINCT ";
    for (size_t i = 0; i < q_.select.size(); ++i) {
      if (i) s += ", ";
      const auto& item = q_.select[i];
      s += RenderExpr(item.expr);
      bool star = item.expr.column && item.expr.column->column == "*" && !item.expr.is_aggregate();
      if (!star) {
        std::string alias = item.alias.empty() ? DefaultAlias(item.expr) : item.alias;
        if (!(item.expr.agg == Aggregate::kNone && item.expr.grain == TimeGrain::kNone &&
              item.expr.column && item.expr.column->column == alias))
          s += " AS " + QuoteIdentifier(alias, o_.dialect);
      }
    }
    if (q_.select.empty()) s += "*";
    s += " FROM " + QuoteIdentifier(q_.from, o_.dialect);
    for (const auto& j : q_.joins) {
      s += " JOIN " + QuoteIdentifier(j.table, o_.dialect) + " ON " + RenderColumn(j.left) + " = " +
           RenderColumn(j.right);
    }
    if (!q_.where.empty()) s += " WHERE " + RenderPredicates(q_.where);
    if (!q_.group_by.empty()) {
      s += " GROUP BY ";
      for (size_t i = 0; i < q_.group_by.size(); ++i) {
        if (i) s += ", ";
        s += RenderExpr(q_.group_by[i]);
      }
    }
    if (!q_.having.empty()) s += " HAVING " + RenderPredicates(q_.having);
    if (!q_.order_by.empty()) {
      s += " ORDER BY ";
      for (size_t i = 0; i < q_.order_by.size(); ++i) {
        if (i) s += ", ";
        s += RenderExpr(q_.order_by[i].expr);
        s += q_.order_by[i].descending ? " DESC" : " ASC";
      }
    }
    if (q_.limit) s += fmt::format(" LIMIT {}", *q_.limit);
    return RenderedSql{std::move(s), std::move(params_)};
  }

 private:
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
      s += preds[i].negated ? "NOT (" + RenderPredicate(preds[i]) + ")" : RenderPredicate(preds[i]);
    }
    return s;
  }

  std::string CaseInsensitiveEq(const std::string& lhs, const db::Value& v) {
    if (o_.dialect == Dialect::kSqlite) return lhs + " = " + Param(v) + " COLLATE NOCASE";
    return "LOWER(" + lhs + ") = LOWER(" + Param(v) + ")";
  }

  std::string RenderPredicate(const Predicate& p) {
    std::string lhs = RenderExpr(p.lhs);
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

  const Query& q_;
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
  return Renderer(query, options).Run();
}

}  // namespace helios::sql
