#include "nl2sql/suggestions.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>

#include "common/sha256.h"
#include "common/text.h"
#include "nl2sql/engine/lexicon.h"
#include "security/question_screen.h"
#include "sql/render.h"

namespace helios::nl2sql {
namespace {

using engine::ColumnEntry;
using engine::SchemaIndex;
using engine::TableEntry;
using sql::Aggregate;
using sql::CompareOp;
using sql::Expr;
using sql::Query;
using sql::TimeGrain;

// Rows of the answer read for values; enough to find its common values, cheap at any size.
constexpr size_t kRowsScanned = 256;

// A question to offer, and the change it promises: checked on the engine's reading of it, so
// that a candidate the engine reads some other way is not offered.
struct Candidate {
  std::string text;
  std::function<bool(const Query&)> promised;
};

sql::ColumnRef Ref(const ColumnEntry* c) { return {c->table->name, c->column->name}; }

std::string Words(const ColumnEntry* c) { return text::Join(c->words, " "); }

bool HasPredicate(const Query& q, const sql::ColumnRef& column, CompareOp op,
                  const std::string& value) {
  return std::any_of(q.where.begin(), q.where.end(), [&](const sql::Predicate& p) {
    if (!p.lhs.column || *p.lhs.column != column || p.op != op || p.negated) return false;
    return std::any_of(p.values.begin(), p.values.end(), [&](const db::Value& v) {
      const auto* s = std::get_if<std::string>(&v);
      return s && text::EqualsIgnoreCase(*s, value);
    });
  });
}

bool GroupsBy(const Query& q, const Expr& e) {
  return std::find(q.group_by.begin(), q.group_by.end(), e) != q.group_by.end();
}

TimeGrain GrainOf(const Query& q) {
  for (const Expr& g : q.group_by)
    if (g.grain != TimeGrain::kNone) return g.grain;
  return TimeGrain::kNone;
}

// A column that names a place reads better with "in": "only in Germany", "only in Berlin".
bool NamesAPlace(const ColumnEntry* c) {
  static const std::set<std::string, std::less<>> kPlaces = {
      "country", "city",     "region", "state", "province", "territory", "location",
      "area",    "district", "county", "town",  "zone",     "continent", "place"};
  for (const std::string& w : c->words)
    if (kPlaces.contains(w)) return true;
  // A lookup table's name column ("regions.name") names what the table holds.
  for (const std::string& w : text::SplitIdentifier(c->table->name))
    if (kPlaces.contains(engine::Lemma(text::ToLower(w)))) return c->words.size() == 1;
  return false;
}

// "2024-03", "2024-Q1", "2024": the year of a calendar period as a database renders it.
std::optional<int> YearOf(const db::Value& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) {
    if (*i >= 1000 && *i <= 9999) return static_cast<int>(*i);
    return std::nullopt;
  }
  const auto* s = std::get_if<std::string>(&v);
  if (!s || s->size() < 4) return std::nullopt;
  for (size_t i = 0; i < 4; ++i)
    if (!std::isdigit(static_cast<unsigned char>((*s)[i]))) return std::nullopt;
  if (s->size() > 4 && std::isdigit(static_cast<unsigned char>((*s)[4]))) return std::nullopt;
  return std::stoi(s->substr(0, 4));
}

// Reads the answered query and makes the candidates of each kind of edit, each kind's best
// first. Touches nothing but the schema index and the answer's rows.
class Generator {
 public:
  Generator(const SchemaIndex& index, const Query& q, const SuggestOptions& options)
      : index_(index), q_(q), options_(options), from_(index.FindTable(q.from)) {
    MapRowColumns();
  }

  // Kinds of edit, the most useful first.
  std::vector<std::vector<Candidate>> Families() {
    std::vector<std::vector<Candidate>> f;
    f.push_back(SwapValue());
    f.push_back(OtherYear());
    f.push_back(Narrow());
    f.push_back(TopN());
    f.push_back(TimeBreakdown());
    f.push_back(Regroup());
    f.push_back(OnlyYear());
    f.push_back(Exclude());
    f.push_back(Measure());
    f.push_back(Count());
    f.push_back(SortFlip());
    return f;
  }

 private:
  const ColumnEntry* ColumnOf(const Expr& e) const {
    if (!e.column || e.column->column == "*") return nullptr;
    return index_.FindColumn(e.column->table, e.column->column);
  }

  // The tables of the query: the main one, then the joined ones.
  std::vector<const TableEntry*> QueryTables() const {
    std::vector<const TableEntry*> out;
    if (from_) out.push_back(from_);
    for (const sql::Join& j : q_.joins)
      if (const TableEntry* t = index_.FindTable(j.table);
          t && std::find(out.begin(), out.end(), t) == out.end())
        out.push_back(t);
    return out;
  }

  // Tables the query's tables refer to (a filter there joins without repeating rows).
  std::vector<const TableEntry*> ParentTables() const {
    std::vector<const TableEntry*> tables = QueryTables(), out;
    for (const TableEntry* t : tables) {
      for (const db::ForeignKey& fk : t->table->foreign_keys) {
        const TableEntry* parent = index_.FindTable(fk.ref_table);
        if (!parent || std::find(tables.begin(), tables.end(), parent) != tables.end() ||
            std::find(out.begin(), out.end(), parent) != out.end())
          continue;
        if (index_.FansOut(q_.from, parent->table->name)) continue;
        out.push_back(parent);
      }
    }
    return out;
  }

  bool Grouped(const ColumnEntry* c) const { return GroupsBy(q_, Expr::Col(Ref(c))); }

  bool Filtered(const ColumnEntry* c) const {
    return std::any_of(q_.where.begin(), q_.where.end(), [&](const sql::Predicate& p) {
      return p.lhs.column && *p.lhs.column == Ref(c);
    });
  }

  // The table's date, or one of a table it refers to (two steps at most): what the engine
  // groups by when asked "by month".
  const ColumnEntry* DateOf(const TableEntry* t, int depth = 0) const {
    if (!t) return nullptr;
    if (t->date) return t->date;
    if (depth >= 2) return nullptr;
    for (const db::ForeignKey& fk : t->table->foreign_keys) {
      const TableEntry* parent = index_.FindTable(fk.ref_table);
      if (parent && parent != t)
        if (const ColumnEntry* c = DateOf(parent, depth + 1)) return c;
    }
    return nullptr;
  }

  // A stored value the engine links to `c` (and so reads back as a filter on it).
  bool Linked(const ColumnEntry* c, const std::string& value) const {
    const auto* targets = index_.LookupValue(engine::NormalizeValueText(value));
    return targets && std::any_of(targets->begin(), targets->end(),
                                  [&](const engine::ValueTarget& v) { return v.column == c; });
  }

  // Its values are shared by many rows ("country", "status"), unlike a description.
  static bool Repeats(const ColumnEntry* c) {
    const int64_t rows = c->table->row_count;
    return rows < 0 || 2 * static_cast<int64_t>(c->distinct_values) <= rows;
  }

  // A category-like text column: its values are indexed, few and shared by many rows, or it
  // names the rows of a lookup table other than the main one ("regions.name" for employees).
  // Filtering a list to one of its own names is no refinement.
  bool Categorical(const ColumnEntry* c) const {
    if (!c->is_text || c->is_key || c->is_temporal || c->is_flag || c->distinct_values < 2)
      return false;
    const TableEntry* t = index_.FindTable(c->table->name);
    if (t && (c == t->label || c == t->second_label)) return t != from_;
    return Repeats(c);
  }

  // Which column each cell of the answer's rows holds (null: not a plain column).
  void MapRowColumns() {
    if (!options_.rows || options_.rows->empty()) return;
    std::vector<const ColumnEntry*> cells;
    for (const sql::SelectItem& s : q_.select) {
      const Expr& e = s.expr;
      if (e.column && e.column->column == "*" && !e.is_aggregate()) {
        const TableEntry* t = index_.FindTable(e.column->table);
        if (!t) return;
        cells.insert(cells.end(), t->columns.begin(), t->columns.end());
        continue;
      }
      cells.push_back(!e.is_aggregate() && e.grain == TimeGrain::kNone ? ColumnOf(e) : nullptr);
    }
    if (options_.rows->front().size() != cells.size()) return;
    row_columns_ = std::move(cells);
  }

  size_t CellOf(const ColumnEntry* c) const {
    auto it = std::find(row_columns_.begin(), row_columns_.end(), c);
    return it == row_columns_.end() ? row_columns_.size()
                                    : static_cast<size_t>(it - row_columns_.begin());
  }

  // The answer's values of a column, the most frequent first (ties: the first shown first),
  // only those the engine links back to the column.
  std::vector<std::string> RowValues(const ColumnEntry* c) const {
    size_t cell = CellOf(c);
    if (cell == row_columns_.size()) return {};
    std::map<std::string, std::pair<size_t, size_t>> seen;  // value -> (count, first row)
    const std::vector<db::Row>& rows = *options_.rows;
    for (size_t r = 0; r < rows.size() && r < kRowsScanned; ++r) {
      const auto* s = cell < rows[r].size() ? std::get_if<std::string>(&rows[r][cell]) : nullptr;
      if (!s || s->empty()) continue;
      auto [it, inserted] = seen.try_emplace(*s, 0, r);
      ++it->second.first;
    }
    std::vector<std::pair<std::string, std::pair<size_t, size_t>>> ordered(seen.begin(),
                                                                           seen.end());
    std::stable_sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
      if (a.second.first != b.second.first) return a.second.first > b.second.first;
      return a.second.second < b.second.second;
    });
    std::vector<std::string> out;
    for (const auto& [value, stats] : ordered)
      if (Linked(c, value)) out.push_back(value);
    return out;
  }

  std::vector<std::string> StoredValues(const ColumnEntry* c) const {
    if (!options_.known_values) return {};
    std::vector<std::string> out;
    for (std::string& v : options_.known_values(*c))
      if (Linked(c, v)) out.push_back(std::move(v));
    return out;
  }

  static Candidate Filter(const ColumnEntry* c, const std::string& value, std::string text) {
    sql::ColumnRef ref = Ref(c);
    return {std::move(text), [ref, value](const Query& q) {
              return HasPredicate(q, ref, CompareOp::kEq, value) ||
                     HasPredicate(q, ref, CompareOp::kIn, value);
            }};
  }

  // "what about France?" when the answer is about Germany.
  std::vector<Candidate> SwapValue() const {
    std::vector<Candidate> out;
    for (const sql::Predicate& p : q_.where) {
      if (p.op != CompareOp::kEq || p.negated || p.values.size() != 1) continue;
      const auto* current = std::get_if<std::string>(&p.values[0]);
      const ColumnEntry* c = ColumnOf(p.lhs);
      if (!current || !c || !c->is_text) continue;
      for (const std::string& v : StoredValues(c)) {
        if (text::EqualsIgnoreCase(v, *current)) continue;
        out.push_back(Filter(c, v, fmt::format("what about {}?", v)));
        if (out.size() == 2) return out;
      }
    }
    return out;
  }

  // "in 2024 instead" when the answer is about the calendar year 2025.
  std::vector<Candidate> OtherYear() const {
    for (const sql::Predicate& p : q_.where) {
      if (p.op != CompareOp::kRange || p.negated || p.values.size() != 2) continue;
      const auto* begin = std::get_if<std::string>(&p.values[0]);
      const auto* end = std::get_if<std::string>(&p.values[1]);
      if (!begin || !end) continue;
      std::optional<int> year = YearOf(p.values[0]);
      if (!year || *begin != fmt::format("{:04d}-01-01", *year) ||
          *end != fmt::format("{:04d}-01-01", *year + 1))
        continue;
      const int other = *year - 1;
      return {{fmt::format("in {} instead", other), [other](const Query& q) {
                 return std::any_of(q.where.begin(), q.where.end(), [&](const sql::Predicate& w) {
                   return w.op == CompareOp::kRange && !w.values.empty() &&
                          YearOf(w.values[0]) == other;
                 });
               }}};
    }
    return {};
  }

  // "only in Germany", "only delivered", "only discontinued": a filter on a category shown in
  // the answer or reachable from its tables.
  std::vector<Candidate> Narrow() const {
    constexpr size_t kAlternatives = 3;
    std::vector<Candidate> out;
    std::set<const ColumnEntry*> tried;
    auto add = [&](const ColumnEntry* c, const std::string& v) {
      tried.insert(c);
      out.push_back(Filter(c, v, (NamesAPlace(c) ? "only in " : "only ") + v));
    };
    // The answer's own values first: what the user is looking at.
    for (const ColumnEntry* c : row_columns_) {
      if (out.size() == kAlternatives) return out;
      if (!c || tried.contains(c) || !Categorical(c) || Grouped(c) || Filtered(c)) continue;
      std::vector<std::string> values = RowValues(c);
      if (!values.empty()) add(c, values.front());
    }
    // Then stored values of the query's tables and of the tables they refer to, the columns
    // with fewest values (the broadest categories) first.
    std::vector<const ColumnEntry*> columns;
    for (const auto& tables : {QueryTables(), ParentTables()}) {
      std::vector<const ColumnEntry*> level;
      for (const TableEntry* t : tables)
        for (const ColumnEntry* c : t->columns)
          if (!tried.contains(c) && Categorical(c) && !Grouped(c) && !Filtered(c))
            level.push_back(c);
      std::stable_sort(level.begin(), level.end(), [](const ColumnEntry* a, const ColumnEntry* b) {
        return a->distinct_values < b->distinct_values;
      });
      columns.insert(columns.end(), level.begin(), level.end());
    }
    for (const ColumnEntry* c : columns) {
      if (out.size() == kAlternatives) return out;
      std::vector<std::string> values = StoredValues(c);
      if (!values.empty()) add(c, values.front());
    }
    // Yes/no columns of the main table read as adjectives: "only discontinued".
    if (from_ && out.size() < kAlternatives) {
      for (const ColumnEntry* c : from_->columns) {
        if (!c->is_flag || Filtered(c)) continue;
        sql::ColumnRef ref = Ref(c);
        out.push_back(
            {fmt::format("only {}", Words(c)), [ref](const Query& q) {
               return std::any_of(q.where.begin(), q.where.end(), [&](const sql::Predicate& p) {
                 return p.lhs.column && *p.lhs.column == ref && p.op == CompareOp::kEq;
               });
             }});
        if (out.size() == kAlternatives) break;
      }
    }
    return out;
  }

  // "top 5 instead" of many groups, "top 10 instead" of a shorter ranking.
  std::vector<Candidate> TopN() const {
    const bool ranked = !q_.group_by.empty() || !q_.order_by.empty();
    if (!ranked || GrainOf(q_) != TimeGrain::kNone) return {};
    const int64_t n = q_.limit && *q_.limit < 10 ? 10 : 5;
    if (options_.rows) {
      const auto shown = static_cast<int64_t>(options_.rows->size());
      if (q_.limit && n > *q_.limit && shown < *q_.limit) return {};  // there are no more
      if ((!q_.limit || n < *q_.limit) && shown <= n) return {};      // nothing to cut
    }
    return {{fmt::format("top {} instead", n), [n](const Query& q) { return q.limit == n; }}};
  }

  static Candidate ByGrain(TimeGrain g, bool instead) {
    return {fmt::format("by {}{}", sql::TimeGrainName(g), instead ? " instead" : ""),
            [g](const Query& q) { return GrainOf(q) == g; }};
  }

  // "by month" of a total, "by year instead" of a monthly series.
  std::vector<Candidate> TimeBreakdown() const {
    if (!q_.is_aggregated()) return {};
    std::vector<TimeGrain> grains;
    switch (GrainOf(q_)) {
      case TimeGrain::kNone:
        if (!DateOf(from_)) return {};
        grains = {TimeGrain::kMonth, TimeGrain::kYear};
        break;
      case TimeGrain::kYear:
        grains = {TimeGrain::kMonth, TimeGrain::kQuarter};
        break;
      case TimeGrain::kQuarter:
        grains = {TimeGrain::kMonth, TimeGrain::kYear};
        break;
      case TimeGrain::kMonth:
        grains = {TimeGrain::kYear, TimeGrain::kQuarter};
        break;
      case TimeGrain::kWeek:
        grains = {TimeGrain::kMonth, TimeGrain::kDay};
        break;
      case TimeGrain::kDay:
        grains = {TimeGrain::kWeek, TimeGrain::kMonth};
        break;
    }
    std::vector<Candidate> out;
    for (TimeGrain g : grains) out.push_back(ByGrain(g, !q_.group_by.empty()));
    return out;
  }

  // "by segment instead": another category of the grouped table; "by segment" of a total.
  std::vector<Candidate> Regroup() const {
    if (!q_.is_aggregated()) return {};
    const TableEntry* base = from_;
    for (const Expr& g : q_.group_by) {
      if (g.grain != TimeGrain::kNone) continue;
      if (const ColumnEntry* c = ColumnOf(g)) {
        base = index_.FindTable(c->table->name);
        break;
      }
    }
    if (!base) return {};
    std::vector<const ColumnEntry*> columns;
    for (const ColumnEntry* c : base->columns) {
      bool one_value = std::any_of(q_.where.begin(), q_.where.end(), [&](const sql::Predicate& p) {
        return p.lhs.column && *p.lhs.column == Ref(c) && p.op == CompareOp::kEq && !p.negated;
      });
      if (c->is_text && !c->is_key && !c->is_temporal && !c->is_flag && c->distinct_values >= 2 &&
          Repeats(c) && c != base->label && c != base->second_label && !Grouped(c) && !one_value)
        columns.push_back(c);
    }
    std::stable_sort(columns.begin(), columns.end(),
                     [](const ColumnEntry* a, const ColumnEntry* b) {
                       return a->distinct_values < b->distinct_values;
                     });
    std::vector<Candidate> out;
    const bool instead = !q_.group_by.empty();
    for (const ColumnEntry* c : columns) {
      Expr e = Expr::Col(Ref(c));
      out.push_back({fmt::format("by {}{}", Words(c), instead ? " instead" : ""),
                     [e](const Query& q) { return GroupsBy(q, e); }});
      if (out.size() == 2) break;
    }
    return out;
  }

  // "only in 2025" of a monthly series that spans several years: the latest year shown.
  std::vector<Candidate> OnlyYear() const {
    const TimeGrain grain = GrainOf(q_);
    if (grain == TimeGrain::kNone || grain == TimeGrain::kYear || !options_.rows) return {};
    if (std::any_of(q_.where.begin(), q_.where.end(),
                    [](const sql::Predicate& p) { return p.op == CompareOp::kRange; }))
      return {};
    size_t cell = q_.select.size();
    for (size_t i = 0; i < q_.select.size(); ++i)
      if (q_.select[i].expr.grain != TimeGrain::kNone) cell = i;
    if (cell == q_.select.size()) return {};
    std::set<int> years;
    for (const db::Row& row : *options_.rows)
      if (cell < row.size())
        if (std::optional<int> y = YearOf(row[cell])) years.insert(*y);
    if (years.size() < 2) return {};
    const int latest = *years.rbegin();
    return {{fmt::format("only in {}", latest), [latest](const Query& q) {
               return std::any_of(q.where.begin(), q.where.end(), [&](const sql::Predicate& p) {
                 return p.op == CompareOp::kRange && !p.values.empty() &&
                        YearOf(p.values[0]) == latest;
               });
             }}};
  }

  // The row of the largest group: the first of an answer ranked by its measure, else the one
  // with the largest measure.
  size_t LargestRow() const {
    const std::vector<db::Row>& rows = *options_.rows;
    if (!q_.order_by.empty() && q_.order_by.front().expr.is_aggregate() &&
        q_.order_by.front().descending)
      return 0;
    size_t measure = q_.select.size();
    for (size_t i = 0; i < q_.select.size() && measure == q_.select.size(); ++i)
      if (q_.select[i].expr.is_aggregate()) measure = i;
    size_t best = 0;
    std::optional<double> best_value;
    for (size_t r = 0; r < rows.size() && r < kRowsScanned; ++r) {
      std::optional<double> v =
          measure < rows[r].size() ? db::AsDouble(rows[r][measure]) : std::nullopt;
      if (v && (!best_value || *v > *best_value)) {
        best = r;
        best_value = v;
      }
    }
    return best;
  }

  // "excluding United States": the answer without its largest group.
  std::vector<Candidate> Exclude() const {
    if (q_.group_by.empty() || row_columns_.empty()) return {};
    const db::Row& largest = (*options_.rows)[LargestRow()];
    for (const Expr& g : q_.group_by) {
      const ColumnEntry* c = g.grain == TimeGrain::kNone ? ColumnOf(g) : nullptr;
      if (!c || !Categorical(c) || CellOf(c) >= largest.size()) continue;
      const auto* value = std::get_if<std::string>(&largest[CellOf(c)]);
      if (!value || !Linked(c, *value)) continue;
      sql::ColumnRef ref = Ref(c);
      return {{"excluding " + *value, [ref, value = *value](const Query& q) {
                 return HasPredicate(q, ref, CompareOp::kNe, value);
               }}};
    }
    return {};
  }

  // "average instead" of a total, "maximum instead" of an average.
  std::vector<Candidate> Measure() const {
    if (!q_.is_aggregated()) return {};
    for (const sql::SelectItem& s : q_.select) {
      const Expr& e = s.expr;
      const ColumnEntry* c = ColumnOf(e);
      if (!c || !c->is_numeric) continue;  // the average of dates or names means nothing
      Aggregate to;
      std::string word;
      if (e.agg == Aggregate::kSum || e.agg == Aggregate::kMin || e.agg == Aggregate::kMax) {
        to = Aggregate::kAvg;
        word = "average";
      } else if (e.agg == Aggregate::kAvg) {
        // Not the total: a sum of unit prices means nothing, the largest one does.
        to = Aggregate::kMax;
        word = "maximum";
      } else {
        continue;
      }
      Expr wanted = Expr::Agg(to, *e.column);
      return {{word + " instead", [wanted](const Query& q) {
                 return std::any_of(q.select.begin(), q.select.end(),
                                    [&](const sql::SelectItem& i) { return i.expr == wanted; });
               }}};
    }
    // A count of rows that carry an amount: its average instead.
    const bool counts = std::any_of(q_.select.begin(), q_.select.end(), [](const auto& s) {
      return s.expr.agg == Aggregate::kCount && !s.expr.column;
    });
    if (counts && from_ && from_->money) {
      Expr wanted = Expr::Agg(Aggregate::kAvg, Ref(from_->money));
      return {{"average instead", [wanted](const Query& q) {
                 return std::any_of(q.select.begin(), q.select.end(),
                                    [&](const sql::SelectItem& i) { return i.expr == wanted; });
               }}};
    }
    return {};
  }

  // "how many are there?" of a list.
  std::vector<Candidate> Count() const {
    if (q_.is_aggregated()) return {};
    if (options_.rows && options_.rows->size() <= 1) return {};
    return {{"how many are there?", [](const Query& q) {
               return q.select.size() == 1 && q.select[0].expr.agg != Aggregate::kNone &&
                      q.group_by.empty();
             }}};
  }

  // "lowest first" of a ranking, "newest first" of a series.
  std::vector<Candidate> SortFlip() const {
    bool descending = false;
    bool temporal = false;
    if (!q_.order_by.empty()) {
      const sql::OrderItem& o = q_.order_by.front();
      descending = o.descending;
      if (!o.expr.is_aggregate()) {
        const ColumnEntry* c = ColumnOf(o.expr);
        if (!c) return {};
        temporal = o.expr.grain != TimeGrain::kNone || c->is_temporal;
        if (!temporal && !c->is_numeric) return {};  // text sorts: A to Z is the only reading
      }
    } else if (q_.group_by.empty() || !q_.is_aggregated()) {
      return {};
    } else {
      descending = false;  // unordered groups: offer the largest first
    }
    const bool want_descending = !descending;
    std::string text = temporal ? (want_descending ? "newest first" : "oldest first")
                                : (want_descending ? "highest first" : "lowest first");
    return {{std::move(text), [want_descending](const Query& q) {
               return !q.order_by.empty() && q.order_by.front().descending == want_descending;
             }}};
  }

  const SchemaIndex& index_;
  const Query& q_;
  const SuggestOptions& options_;
  const TableEntry* from_;
  std::vector<const ColumnEntry*> row_columns_;  // empty: the rows are not used
};

}  // namespace

struct FollowUpChecks::State {
  struct Entry {
    sql::Query answered;  // compared in full: the key's SQL alone might not tell two apart
    std::optional<sql::Query> reading;
  };
  struct ListEntry {
    sql::Query answered;
    std::vector<std::string> suggestions;
  };
  static constexpr size_t kShards = 16;
  struct Shard {
    std::mutex mu;
    // Whose checks these are, and of which day (relative dates are read against it).
    uint64_t engine = 0;
    std::chrono::sys_days day{};
    std::unordered_map<std::string, Entry> entries;    // answered SQL + '\n' + candidate
    std::unordered_map<std::string, ListEntry> lists;  // answered SQL + '\n' + rows digest

    // Forgets everything when the engine or the day is not the one remembered for.
    void Use(const engine::Engine& engine) {
      const std::chrono::sys_days today = engine.Today();
      if (this->engine == engine.id() && day == today) return;
      entries.clear();
      lists.clear();
      this->engine = engine.id();
      day = today;
    }
    bool Current(const engine::Engine& engine) const {
      return this->engine == engine.id() && day == engine.Today();
    }
  };
  std::array<Shard, kShards> shards;

  static std::string Key(const std::string& answered_sql, const std::string& candidate) {
    std::string key;
    key.reserve(answered_sql.size() + 1 + candidate.size());
    key += answered_sql;
    key += '\n';
    key += candidate;
    return key;
  }
  Shard& ShardOf(const std::string& key) { return shards[std::hash<std::string>{}(key) % kShards]; }
};

FollowUpChecks::FollowUpChecks() : state_(std::make_unique<State>()) {}
FollowUpChecks::~FollowUpChecks() = default;

std::optional<std::optional<sql::Query>> FollowUpChecks::Find(const engine::Engine& engine,
                                                              const std::string& answered_sql,
                                                              const sql::Query& answered,
                                                              const std::string& candidate) const {
  const std::string key = State::Key(answered_sql, candidate);
  State::Shard& shard = state_->ShardOf(key);
  std::lock_guard lock(shard.mu);
  if (!shard.Current(engine)) return std::nullopt;
  auto it = shard.entries.find(key);
  if (it == shard.entries.end() || !(it->second.answered == answered)) return std::nullopt;
  return it->second.reading;
}

void FollowUpChecks::Remember(const engine::Engine& engine, const std::string& answered_sql,
                              const sql::Query& answered, const std::string& candidate,
                              std::optional<sql::Query> reading) {
  std::string key = State::Key(answered_sql, candidate);
  State::Shard& shard = state_->ShardOf(key);
  std::lock_guard lock(shard.mu);
  shard.Use(engine);
  if (shard.entries.size() >= kMaxEntries / State::kShards && !shard.entries.contains(key)) {
    shard.entries.erase(shard.entries.begin());
  }
  shard.entries.insert_or_assign(std::move(key), State::Entry{answered, std::move(reading)});
}

size_t FollowUpChecks::size() const {
  size_t n = 0;
  for (State::Shard& shard : state_->shards) {
    std::lock_guard lock(shard.mu);
    n += shard.entries.size();
  }
  return n;
}

std::optional<std::vector<std::string>> FollowUpChecks::FindList(
    const engine::Engine& engine, const std::string& answered_sql, const sql::Query& answered,
    const std::string& rows_digest) const {
  const std::string key = State::Key(answered_sql, rows_digest);
  State::Shard& shard = state_->ShardOf(key);
  std::lock_guard lock(shard.mu);
  if (!shard.Current(engine)) return std::nullopt;
  auto it = shard.lists.find(key);
  if (it == shard.lists.end() || !(it->second.answered == answered)) return std::nullopt;
  return it->second.suggestions;
}

void FollowUpChecks::RememberList(const engine::Engine& engine, const std::string& answered_sql,
                                  const sql::Query& answered, const std::string& rows_digest,
                                  std::vector<std::string> suggestions) {
  std::string key = State::Key(answered_sql, rows_digest);
  State::Shard& shard = state_->ShardOf(key);
  std::lock_guard lock(shard.mu);
  shard.Use(engine);
  if (shard.lists.size() >= kMaxEntries / State::kShards && !shard.lists.contains(key)) {
    shard.lists.erase(shard.lists.begin());
  }
  shard.lists.insert_or_assign(std::move(key), State::ListEntry{answered, std::move(suggestions)});
}

size_t FollowUpChecks::lists() const {
  size_t n = 0;
  for (State::Shard& shard : state_->shards) {
    std::lock_guard lock(shard.mu);
    n += shard.lists.size();
  }
  return n;
}

std::string RowsDigest(const std::vector<db::Row>& rows) {
  // Each value as its type's tag, then its bytes with their length: no two different row sets
  // encode the same (a string "1" and an integer 1, or "ab","c" and "a","bc", differ).
  std::string encoded;
  auto put_size = [&](uint64_t n) { encoded.append(reinterpret_cast<const char*>(&n), sizeof n); };
  auto put_bytes = [&](std::string_view b) {
    put_size(b.size());
    encoded += b;
  };
  put_size(rows.size());
  for (const db::Row& row : rows) {
    put_size(row.size());
    for (const db::Value& v : row) {
      encoded += static_cast<char>('0' + v.index());
      if (const auto* i = std::get_if<int64_t>(&v)) {
        encoded.append(reinterpret_cast<const char*>(i), sizeof *i);
      } else if (const auto* d = std::get_if<double>(&v)) {
        encoded.append(reinterpret_cast<const char*>(d), sizeof *d);
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        put_bytes(*s);
      } else if (const auto* b = std::get_if<bool>(&v)) {
        encoded += *b ? '1' : '0';
      } else if (const auto* blob = std::get_if<db::Blob>(&v)) {
        put_bytes(std::string_view(reinterpret_cast<const char*>(blob->bytes.data()),
                                   blob->bytes.size()));
      } else if (const auto* dec = std::get_if<db::Decimal>(&v)) {
        put_bytes(dec->digits);
      }
    }
  }
  return sha256::Bytes(encoded);
}

std::vector<std::string> SuggestFollowUps(const engine::Engine& engine, const sql::Query& answered,
                                          const SuggestOptions& options) {
  // The edits below look at the outer SELECT only; a combined query offers none.
  if (answered.is_compound()) return {};
  Generator generator(engine.index(), answered, options);
  std::vector<std::vector<Candidate>> families = generator.Families();

  struct Kept {
    size_t family;
    std::string text;
  };
  std::vector<Kept> kept;
  std::vector<Query> readings;  // the queries of the kept suggestions: each is a different edit
  std::set<std::string> asked;
  size_t budget = options.max_candidates;
  // The engine's reading of a candidate as an edit of the answered query, when it is one
  // with enough confidence; remembered in options.checks.
  const std::string answered_sql = options.checks != nullptr
                                       ? sql::Render(answered, {db::Dialect::kSqlite, true}).text
                                       : std::string();
  auto read = [&](const std::string& text) -> std::optional<Query> {
    if (options.checks != nullptr) {
      if (auto known = options.checks->Find(engine, answered_sql, answered, text)) return *known;
    }
    std::optional<Query> reading;
    if (!security::ScreenQuestion(text).flagged) {
      auto understood = engine.Understand(text, &answered);
      if (understood && understood->follow_up &&
          understood->confidence >= options.confidence_threshold &&
          !(understood->query == answered)) {
        reading = std::move(understood->query);
      }
    }
    if (options.checks != nullptr)
      options.checks->Remember(engine, answered_sql, answered, text, reading);
    return reading;
  };
  auto check = [&](const Candidate& c) {
    std::optional<Query> reading = read(c.text);
    if (!reading) return false;
    if (c.promised && !c.promised(*reading)) return false;
    if (std::find(readings.begin(), readings.end(), *reading) != readings.end()) return false;
    readings.push_back(std::move(*reading));
    return true;
  };

  // Round robin over the kinds of edit, so that the budget is spread: first one suggestion of
  // each kind (a kind's next candidate is tried when its previous one failed), then more of a
  // kind when there is room left.
  std::vector<size_t> next(families.size(), 0);
  std::vector<bool> has(families.size(), false);
  for (bool one_per_kind : {true, false}) {
    bool tried = true;
    while (tried && kept.size() < options.max_suggestions && budget > 0) {
      tried = false;
      for (size_t f = 0; f < families.size(); ++f) {
        if (kept.size() >= options.max_suggestions || budget == 0) break;
        if ((one_per_kind && has[f]) || next[f] >= families[f].size()) continue;
        const Candidate& c = families[f][next[f]++];
        tried = true;
        if (!asked.insert(c.text).second) continue;
        --budget;
        if (check(c)) {
          kept.push_back({f, c.text});
          has[f] = true;
        }
      }
    }
  }
  std::stable_sort(kept.begin(), kept.end(),
                   [](const Kept& a, const Kept& b) { return a.family < b.family; });
  std::vector<std::string> out;
  for (Kept& k : kept) out.push_back(std::move(k.text));
  return out;
}

}  // namespace helios::nl2sql
