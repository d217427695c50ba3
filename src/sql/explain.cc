#include "sql/explain.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/text.h"
#include "sql/render.h"

namespace helios::sql {
namespace {

// `single`: the query is compared with one value, so it names one ("the dept id of ...").
std::string Rows(const Query& q, bool single = false);

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

// "a or b", "a, b or c" (with `last` "or"), "a nor b".
std::string Alternatives(const std::vector<std::string>& items, std::string_view last) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += (i + 1 == items.size()) ? fmt::format(" {} ", last) : ", ";
    out += items[i];
  }
  return out;
}

std::string WithoutArticle(const std::string& phrase) {
  return phrase.starts_with("the ") ? phrase.substr(4) : phrase;
}

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
    if (p.is_any_of()) {
      std::vector<std::string> parts;
      for (const auto& member : p.any) parts.push_back(Predicate(member));
      if (parts.size() == 1) return p.negated ? "not (" + parts[0] + ")" : parts[0];
      return p.negated ? "neither " + Alternatives(parts, "nor")
                       : "either " + Alternatives(parts, "or");
    }
    if (p.has_subquery()) return SubqueryPredicate(p);
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

  // Filters joined with "and"; an OR group before the last one is put in parentheses so that
  // the "and" after it does not read as part of it.
  std::string Predicates(const std::vector<sql::Predicate>& preds) const {
    std::vector<std::string> parts;
    for (size_t i = 0; i < preds.size(); ++i) {
      std::string part = Predicate(preds[i]);
      if (preds[i].is_any_of() && preds[i].any.size() > 1 && i + 1 < preds.size())
        part = "(" + part + ")";
      parts.push_back(std::move(part));
    }
    return JoinList(parts);
  }

 private:
  // "price is above the average price of products", "id is not one of the student id values
  // of enrolled".
  std::string SubqueryPredicate(const sql::Predicate& p) const {
    std::string lhs = Expression(p.lhs);
    std::string rows = Rows(p.subquery.front(), p.op != CompareOp::kIn);
    std::string verb;
    switch (p.op) {
      case CompareOp::kIn:
        return lhs + (p.negated ? " is not one of " : " is one of ") + rows;
      case CompareOp::kEq:
        verb = " is ";
        break;
      case CompareOp::kNe:
        verb = " is not ";
        break;
      case CompareOp::kLt:
        verb = " is below ";
        break;
      case CompareOp::kLe:
        verb = " is at most ";
        break;
      case CompareOp::kGt:
        verb = " is above ";
        break;
      case CompareOp::kGe:
        verb = " is at least ";
        break;
      default:
        verb = " is compared with ";
        break;
    }
    std::string out = lhs + verb + rows;
    return p.negated ? "not (" + out + ")" : out;
  }

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

// The rows of a query described on their own, before what combines them and their order:
// "Lists name of customers, where country is 'Germany'" (no final period).
std::string Describe(const Query& q) {
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
  if (!q.where.empty()) out += ", where " + ph.Predicates(q.where);
  if (!q.having.empty()) out += ", keeping only groups where " + ph.Predicates(q.having);
  return out;
}

// What a set operation adds to the rows of its left side: ", that are also among the industry
// values of companies where hq is 'China'".
std::string Combination(const Query& q) {
  if (!q.is_compound() || q.set_rhs.empty()) return "";
  const Query& rhs = q.set_rhs.front();
  // A compound operand in parentheses, so that what it combines is not read as combining
  // with the left side.
  const std::string rows = rhs.is_compound() ? "(" + Rows(rhs) + ")" : Rows(rhs);
  switch (q.set_op) {
    case SetOp::kIntersect:
      return ", that are also among " + rows;
    case SetOp::kExcept:
      return ", excluding those that are among " + rows;
    case SetOp::kUnion:
      return ", together with " + rows + ", each different row once";
    case SetOp::kUnionAll:
      return ", together with " + rows;
    case SetOp::kNone:
      break;
  }
  return "";
}

// "; sorted by total, highest first; only the first 5 rows".
std::string Tail(const Query& q) {
  Phraser ph(q);
  std::string out;
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
  return out;
}

// What a nested query returns, as a noun phrase: "the average price of products", "the
// student id values of enrolled where year is 2024", "the dept id values of employees with the
// highest number of employees".
std::string Rows(const Query& q, bool single) {
  Phraser ph(q);
  const std::string table = HumanName(q.from);
  std::vector<std::string> items;
  bool all_aggregates = !q.select.empty();
  bool star = q.select.empty();
  for (const auto& s : q.select) {
    if (s.expr.column && s.expr.column->column == "*" && !s.expr.is_aggregate()) star = true;
    if (!s.expr.is_aggregate()) all_aggregates = false;
    items.push_back(ph.Expression(s.expr));
  }
  std::string out;
  if (star) {
    out = "the rows of " + table;
  } else if (all_aggregates && q.group_by.empty()) {
    out = JoinList(items);
    // "the number of products" already names its table.
    const Expr& only = q.select.front().expr;
    bool names_table = q.select.size() == 1 && only.agg == Aggregate::kCount && !only.column;
    if (!names_table) out += " of " + table;
  } else {
    std::vector<std::string> bare;
    for (const auto& item : items) bare.push_back(WithoutArticle(item));
    out = "the " + JoinList(bare) + (single ? " of " : " values of ") + table;
  }
  if (!q.joins.empty()) {
    std::vector<std::string> tables;
    for (const auto& j : q.joins) tables.push_back(HumanName(j.table));
    out += " joined with " + JoinList(tables);
  }
  if (!q.where.empty()) out += " where " + ph.Predicates(q.where);
  if (!q.group_by.empty()) {
    // Grouping by what is listed says nothing more ("the dept id values ... for each dept id").
    bool grouped_by_listed = std::all_of(q.group_by.begin(), q.group_by.end(), [&](const Expr& g) {
      return std::any_of(q.select.begin(), q.select.end(),
                         [&](const SelectItem& s) { return s.expr == g; });
    });
    if (!grouped_by_listed) {
      std::vector<std::string> groups;
      for (const auto& g : q.group_by) groups.push_back(ph.Expression(g));
      out += " for each " + JoinList(groups);
    }
  }
  if (!q.having.empty()) out += ", keeping only groups where " + ph.Predicates(q.having);
  out += Combination(q);
  if (q.limit) {
    if (!q.order_by.empty()) {
      const OrderItem& o = q.order_by.front();
      std::string key = fmt::format("{} {}", o.descending ? "highest" : "lowest",
                                    WithoutArticle(ph.Expression(o.expr)));
      out +=
          *q.limit == 1 ? " with the " + key : fmt::format(", the {} with the {}", *q.limit, key);
    } else {
      out += *q.limit == 1 ? ", only the first one" : fmt::format(", only the first {}", *q.limit);
    }
  }
  return out;
}

}  // namespace

std::string HumanName(std::string_view identifier) {
  return text::Join(text::SplitIdentifier(identifier), " ");
}

std::string Explain(const Query& q) { return Describe(q) + Combination(q) + Tail(q) + "."; }

}  // namespace helios::sql
