#include "sql/explain.h"

#include <fmt/format.h>

#include "common/text.h"
#include "sql/render.h"

namespace helios::sql {
namespace {

// Column and table phrasing for one query. With joins, columns are named with their table
// ("categories name"), since several tables may have a column of that name.
class Phraser {
 public:
  explicit Phraser(const Query& q) : q_(q), qualify_(!q.joins.empty()) {}

  std::string Column(const ColumnRef& c) const {
    if (c.column == "*") return "all columns of " + HumanName(c.table);
    std::string col = HumanName(c.column);
    if (!qualify_) return col;
    std::string table = Singular(HumanName(c.table));
    // "customer customer id" reads as "customer id".
    if (col.starts_with(table + " ")) return col;
    return table + " " + col;
  }

  std::string Expression(const Expr& e) const {
    std::string col;
    if (e.column) {
      col = Column(*e.column);
      if (e.grain != TimeGrain::kNone) col = fmt::format("{} of {}", TimeGrainName(e.grain), col);
    }
    switch (e.agg) {
      case Aggregate::kNone:
        return col;
      case Aggregate::kCount:
        return e.column ? "the number of " + col + " values"
                        : "the number of " + HumanName(q_.from);
      case Aggregate::kCountDistinct:
        // COUNT(DISTINCT key) counts the rows of the key's table.
        if (e.column && IsKeyOf(*e.column)) return "the number of " + HumanName(e.column->table);
        return "the number of different " + col + " values";
      case Aggregate::kSum:
        return "the sum of " + col;
      case Aggregate::kAvg:
        return "the average " + col;
      case Aggregate::kMin:
        return "the lowest " + col;
      case Aggregate::kMax:
        return "the highest " + col;
    }
    return col;
  }

  std::string Predicate(const sql::Predicate& p) const {
    if (p.negated) {
      sql::Predicate plain = p;
      plain.negated = false;
      return "not (" + Predicate(plain) + ")";
    }
    std::string lhs = Expression(p.lhs);
    auto v = [&](size_t i) { return i < p.values.size() ? Value(p.values[i]) : "?"; };
    switch (p.op) {
      case CompareOp::kEq:
        return lhs + " is " + v(0);
      case CompareOp::kNe:
        return lhs + " is not " + v(0);
      case CompareOp::kLt:
        return lhs + " is less than " + v(0);
      case CompareOp::kLe:
        return lhs + " is at most " + v(0);
      case CompareOp::kGt:
        return lhs + " is more than " + v(0);
      case CompareOp::kGe:
        return lhs + " is at least " + v(0);
      case CompareOp::kBetween:
        return lhs + " is between " + v(0) + " and " + v(1);
      case CompareOp::kRange:
        return lhs + " is on or after " + v(0) + " and before " + v(1);
      case CompareOp::kIn: {
        std::vector<std::string> parts;
        for (size_t i = 0; i < p.values.size(); ++i) parts.push_back(v(i));
        return lhs + " is one of " + text::Join(parts, ", ");
      }
      case CompareOp::kContains:
        return lhs + " contains " + v(0);
      case CompareOp::kIsNull:
        return lhs + " is missing";
      case CompareOp::kIsNotNull:
        return lhs + " is present";
    }
    return lhs;
  }

 private:
  // "categories" -> "category", "orders" -> "order", "order items" -> "order item".
  static std::string Singular(std::string words) {
    if (words.ends_with("ies") && words.size() > 4) return words.substr(0, words.size() - 3) + "y";
    if (words.ends_with("s") && !words.ends_with("ss") && words.size() > 3) words.pop_back();
    return words;
  }

  static std::string Value(const db::Value& v) {
    if (std::holds_alternative<std::string>(v)) return "'" + std::get<std::string>(v) + "'";
    return db::ToDisplayString(v);
  }
  // A column named "<table>_id" or "id" in its table is taken as that table's key.
  static bool IsKeyOf(const ColumnRef& c) {
    auto words = text::SplitIdentifier(c.column);
    return !words.empty() && words.back() == "id";
  }

  const Query& q_;
  bool qualify_;
};

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
  Phraser ph(q);
  std::string out;
  std::vector<std::string> measures, columns;
  for (const auto& s : q.select) {
    if (s.expr.is_aggregate())
      measures.push_back(ph.Expression(s.expr));
    else
      columns.push_back(ph.Expression(s.expr));
  }
  bool count_only = q.group_by.empty() && q.select.size() == 1 &&
                    q.select[0].expr.agg == Aggregate::kCount && !q.select[0].expr.column;
  if (count_only) {
    out = "Counts the rows of " + HumanName(q.from);
  } else if (q.is_aggregated()) {
    if (measures.empty()) {
      out = "Lists each different " + JoinList(columns) + " of " + HumanName(q.from);
    } else {
      out = "Computes " + JoinList(measures);
      if (!q.group_by.empty()) {
        std::vector<std::string> groups;
        for (const auto& g : q.group_by) groups.push_back(ph.Expression(g));
        out += " for each " + JoinList(groups);
      } else {
        out += " over " + HumanName(q.from);
      }
    }
  } else {
    bool star = columns.size() == 1 && columns[0].starts_with("all columns");
    out = (q.distinct ? "Lists the different " : "Lists ") + JoinList(columns) +
          (star ? "" : " of " + HumanName(q.from));
  }
  if (!q.joins.empty()) {
    std::vector<std::string> tables;
    for (const auto& j : q.joins) tables.push_back(HumanName(j.table));
    out += ", joining " + HumanName(q.from) + " with " + JoinList(tables) +
           " along their foreign keys";
  }
  if (!q.where.empty()) {
    std::vector<std::string> preds;
    for (const auto& p : q.where) preds.push_back(ph.Predicate(p));
    out += ", where " + JoinList(preds);
  }
  if (!q.having.empty()) {
    std::vector<std::string> preds;
    for (const auto& p : q.having) preds.push_back(ph.Predicate(p));
    out += ", keeping only groups where " + JoinList(preds);
  }
  if (!q.order_by.empty()) {
    std::vector<std::string> keys;
    for (const auto& o : q.order_by)
      keys.push_back(ph.Expression(o.expr) + (o.descending ? ", highest first" : ", lowest first"));
    out += "; sorted by " + JoinList(keys);
  }
  if (q.limit) {
    out +=
        *q.limit == 1 ? "; only the first row" : fmt::format("; only the first {} rows", *q.limit);
  }
  out += ".";
  return out;
}

}  // namespace helios::sql
