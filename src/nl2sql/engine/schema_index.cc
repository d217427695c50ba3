#include "nl2sql/engine/schema_index.h"

#include <algorithm>
#include <deque>
#include <map>
#include <set>

#include "common/text.h"
#include "nl2sql/engine/lexicon.h"
#include "sql/render.h"

namespace helios::nl2sql::engine {
namespace {

bool HasWord(const std::vector<std::string>& words, std::string_view w) {
  return std::find(words.begin(), words.end(), w) != words.end();
}

bool IsMoneyWord(std::string_view w) {
  static const std::set<std::string_view> kMoney = {"amount", "total", "revenue", "sales",
                                                    "price",  "cost",  "value",   "payment",
                                                    "fee",    "spend", "income",  "budget"};
  return kMoney.contains(w);
}

int MoneyRank(const std::vector<std::string>& words) {
  // Amount-like names are better overall measures than unit prices.
  if (HasWord(words, "amount") || HasWord(words, "revenue") || HasWord(words, "sales") ||
      HasWord(words, "total") || HasWord(words, "payment"))
    return 2;
  for (const auto& w : words)
    if (IsMoneyWord(w)) return 1;
  return 0;
}

}  // namespace

std::string NormalizeValueText(std::string_view s) {
  std::string out;
  bool space = false;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c >= 0x80) {
      if (space && !out.empty()) out += ' ';
      out += static_cast<char>(std::tolower(c));
      space = false;
    } else {
      space = true;
    }
  }
  return out;
}

std::string LemmatizeValueText(std::string_view normalized) {
  std::string out;
  for (const auto& w : text::Split(normalized, ' ')) {
    if (!out.empty()) out += ' ';
    out += Lemma(w);
  }
  return out;
}

namespace {

// The joining rule of the lookup forms: a space before each part once the text is not empty.
void AppendSpaced(std::string& out, std::string_view part) {
  if (!out.empty()) out += ' ';
  out += part;
}

}  // namespace

WordForms WordFormsOf(std::string_view raw, std::string_view lowercase) {
  WordForms forms;
  forms.normalized = NormalizeValueText(raw);
  for (const auto& part : text::Split(forms.normalized, ' ')) forms.lemmas.push_back(Lemma(part));
  if (!lowercase.empty()) forms.key = Key(lowercase);
  return forms;
}

void PhraseForms::Append(const WordForms& word) {
  // An empty word adds nothing to an empty value text (so neither to its lemmas); otherwise
  // LemmatizeValueText would split the joined text into exactly the parts of its words.
  if (!value_text.empty() || !word.normalized.empty()) {
    AppendSpaced(value_text, word.normalized);
    for (const auto& lemma : word.lemmas) AppendSpaced(lemmatized, lemma);
  }
  AppendSpaced(key, word.key);
}

std::string PhraseKey(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += ' ';
    out += Key(w);
  }
  return out;
}

void SchemaIndex::AddPhrase(const std::vector<std::string>& words, SchemaTarget target) {
  if (words.empty()) return;
  auto& list = phrases_[PhraseKey(words)];
  for (auto& existing : list) {
    if (existing.table == target.table && existing.column == target.column) {
      existing.quality = std::max(existing.quality, target.quality);
      return;
    }
  }
  list.push_back(target);
}

namespace {

// A name's words with abbreviations spelled out: "emp_fname" is "emp first name". "LName"
// splits into "l" and "name": a letter and the word after it are read as one.
std::vector<std::string> ExpandedWords(const std::vector<std::string>& w) {
  std::vector<std::string> expanded;
  for (size_t i = 0; i < w.size(); ++i) {
    if (w[i].size() == 1 && i + 1 < w.size()) {
      if (const auto& e = ExpandAbbreviation(w[i] + w[i + 1]); !e.empty()) {
        expanded.insert(expanded.end(), e.begin(), e.end());
        ++i;
        continue;
      }
    }
    const auto& e = ExpandAbbreviation(w[i]);
    if (e.empty()) {
      expanded.push_back(w[i]);
    } else {
      expanded.insert(expanded.end(), e.begin(), e.end());
    }
  }
  return expanded;
}

}  // namespace

void SchemaIndex::IndexTable(TableEntry& t) {
  AddPhrase(t.words, {&t, nullptr, kExact});
  // A single-word table is also named by that word's synonyms ("clients" for customer).
  if (t.words.size() == 1)
    for (const auto& syn : Synonyms(t.words[0])) AddPhrase({syn}, {&t, nullptr, kSynonym});
  // "order_items": the last word alone is a weak name for the table.
  if (t.words.size() > 1) AddPhrase({t.words.back()}, {&t, nullptr, kModifier});
  // "festival_detail", "player_info": the words before a word that says nothing name it.
  if (const auto& w = t.words;
      w.size() > 1 && (w.back() == "detail" || w.back() == "details" || w.back() == "info" ||
                       w.back() == "information" || w.back() == "data"))
    AddPhrase({w.begin(), w.end() - 1}, {&t, nullptr, kHead});
  // "referees_and_judges": each of the kinds of rows it holds names it.
  if (const auto& w = t.words; w.size() > 2) {
    const auto at = std::find(w.begin() + 1, w.end() - 1, "and");
    if (at != w.end() - 1) {
      AddPhrase({w.begin(), at}, {&t, nullptr, kHead});
      AddPhrase({at + 1, w.end()}, {&t, nullptr, kHead});
    }
  }

  // How many leading words of a column's name only repeat its table's: all of the table's
  // name ("customer_name" in customers), or the last word of a longer one ("booking_status_code"
  // in hotel_bookings).
  auto table_prefix = [&](const std::vector<std::string>& w) -> size_t {
    auto same = [](const std::string& a, const std::string& b) { return Key(a) == Key(b); };
    if (w.size() > t.words.size() && std::equal(t.words.begin(), t.words.end(), w.begin(), same))
      return t.words.size();
    if (w.size() > 1 && t.words.size() > 1 && same(w.front(), t.words.back())) return 1;
    return 0;
  };
  for (const ColumnEntry* c : t.columns) {
    const auto& w = c->words;
    AddPhrase(w, {&t, c, kExact});
    // Drop a leading table name: "customer_name" in customers is "name".
    if (const size_t prefix = table_prefix(w); prefix > 0) {
      std::vector<std::string> rest(w.begin() + static_cast<long>(prefix), w.end());
      if (!(rest.size() == 1 && rest[0] == "id")) AddPhrase(rest, {&t, c, kHead});
    }
    if (w.size() > 1 && w.back() != "id") AddPhrase({w.back()}, {&t, c, kHead});
    // "product_type_code" is what "the product type" names: a code column by the words before
    // "code" (and without the table's name, "the type of each product").
    if (w.size() >= 2 && w.back() == "code" && !c->is_key) {
      const std::vector<std::string> named(w.begin(), w.end() - 1);
      AddPhrase(named, {&t, c, kHead});
      if (const size_t prefix = table_prefix(named); prefix > 0)
        AddPhrase({named.begin() + static_cast<long>(prefix), named.end()}, {&t, c, kHead});
    }
    if (w.size() > 1 && w.front() != "id" && !c->is_key) AddPhrase({w.front()}, {&t, c, kModifier});
    if (!w.empty() && w.back() != "id") {
      for (const auto& syn : Synonyms(w.back())) {
        // "id" names a key, never a phone or serial "number".
        if (syn == "id" || syn == "identifier") continue;
        AddPhrase({syn}, {&t, c, kSynonym});
      }
    }
    // "max_temperature_f", "wind_speed_mph": a column is named without the unit it is kept in
    // ("the max temperature", "the wind speed"), and by its last word then ("temperature").
    if (static const std::set<std::string_view> kUnits = {"f", "c", "mph", "kmh", "kph", "inches",
                                                          "miles", "km", "kg", "lbs", "usd", "eur",
                                                          "pct", "cm", "mm", "ft", "secs", "ms"};
        w.size() > 1 && kUnits.contains(w.back())) {
      const std::vector<std::string> bare(w.begin(), w.end() - 1);
      AddPhrase(bare, {&t, c, kExact});
      if (bare.size() > 1) AddPhrase({bare.back()}, {&t, c, kHead});
    }
    // Abbreviated names are also named by their words: "fname" is "first name".
    const std::vector<std::string> expanded = ExpandedWords(w);
    if (expanded != w) {
      AddPhrase(expanded, {&t, c, kExact});
      if (expanded.size() > 1 && expanded.back() != "id")
        AddPhrase({expanded.back()}, {&t, c, kModifier});
      // "emp_fname" is also a "first name" (the words its abbreviation spells, after a prefix).
      if (expanded.size() > 2 && expanded.size() > w.size())
        AddPhrase({expanded.begin() + 1, expanded.end()}, {&t, c, kHead});
    }
    // "the ids of all vehicles": a table's own key is its "id".
    if (c->column->primary_key && !w.empty() && w.back() == "id") AddPhrase({"id"}, {&t, c, kHead});
    // Also one fused word ending in "id": "eid", "stuid", "actid".
    if (c->column->primary_key && w.size() == 1 && w[0].size() > 2 && w[0].size() <= 6 &&
        w[0].ends_with("id"))
      AddPhrase({"id"}, {&t, c, kHead});
  }
}

Result<std::unique_ptr<SchemaIndex>> SchemaIndex::Build(
    std::shared_ptr<const db::SchemaCatalog> catalog, db::DataSource& source, size_t max_distinct) {
  auto index = std::unique_ptr<SchemaIndex>(new SchemaIndex());
  index->catalog_ = std::move(catalog);
  const auto& cat = *index->catalog_;
  index->tables_.reserve(cat.tables.size());

  for (const auto& table : cat.tables) {
    TableEntry t;
    t.table = &table;
    t.words = text::SplitIdentifier(table.name);
    std::set<std::string> fk_columns;
    for (const auto& fk : table.foreign_keys) {
      fk_columns.insert(text::ToLower(fk.column));
      index->edges_.push_back({table.name, fk.column, fk.ref_table, fk.ref_column});
    }
    for (const auto& col : table.columns) {
      auto c = std::make_unique<ColumnEntry>();
      c->table = &table;
      c->column = &col;
      c->words = text::SplitIdentifier(col.name);
      c->is_key = col.primary_key || fk_columns.contains(text::ToLower(col.name)) ||
                  (!c->words.empty() && c->words.back() == "id");
      using F = db::TypeFamily;
      c->is_numeric = (col.family == F::kInteger || col.family == F::kReal) && !c->is_key;
      c->is_temporal = col.family == F::kDate || col.family == F::kDateTime ||
                       ((col.family == F::kText || col.family == F::kOther) &&
                        (HasWord(c->words, "date") || HasWord(c->words, "time")));
      c->is_text = col.family == F::kText || col.family == F::kOther;
      t.columns.push_back(c.get());
      index->columns_.push_back(std::move(c));
    }
    index->tables_.push_back(std::move(t));
  }

  // Foreign keys the schema does not declare (many databases declare none): a column named
  // exactly as another table's single-column primary key, of the same kind, refers to it
  // ("accounts.customer_id" to "customers.customer_id"). Only names of two words or more (never a
  // bare "id" or "code"), never between two tables already linked by a declared key, and never
  // from a column that is its own table's whole primary key (two tables keyed alike are no
  // parent and child).
  // Indexed by lower-cased names so that a schema of thousands of tables is read in one pass.
  {
    using Pair = std::pair<std::string, std::string>;
    auto pair_of = [](const std::string& a, const std::string& b) {
      std::string x = text::ToLower(a), y = text::ToLower(b);
      return x < y ? Pair{x, y} : Pair{y, x};
    };
    std::set<Pair> linked;
    for (const auto& e : index->edges_) linked.insert(pair_of(e.from_table, e.to_table));
    auto sole_key = [](const db::TableInfo& table) -> const db::ColumnInfo* {
      const db::ColumnInfo* key = nullptr;
      for (const auto& col : table.columns) {
        if (!col.primary_key) continue;
        if (key) return nullptr;
        key = &col;
      }
      return key;
    };
    // Every column by its lower-cased name, in the catalog's order.
    std::map<std::string, std::vector<std::pair<const db::TableInfo*, const db::ColumnInfo*>>>
        by_name;
    for (const auto& table : cat.tables)
      for (const auto& col : table.columns)
        by_name[text::ToLower(col.name)].emplace_back(&table, &col);
    std::vector<FkEdge> inferred;
    for (const auto& parent : cat.tables) {
      const db::ColumnInfo* key = sole_key(parent);
      if (!key || text::SplitIdentifier(key->name).size() < 2) continue;
      const auto namesakes = by_name.find(text::ToLower(key->name));
      for (const auto& [child, col] : namesakes->second) {
        if (child == &parent || col->family != key->family || sole_key(*child) == col ||
            linked.contains(pair_of(child->name, parent.name)))
          continue;
        inferred.push_back({child->name, col->name, parent.name, key->name});
      }
    }
    std::map<Pair, std::vector<ColumnEntry*>> entries;
    for (auto& owned : index->columns_)
      entries[{text::ToLower(owned->table->name), text::ToLower(owned->column->name)}].push_back(
          owned.get());
    for (auto& e : inferred) {
      const auto it = entries.find({text::ToLower(e.from_table), text::ToLower(e.from_column)});
      if (it != entries.end())
        for (ColumnEntry* c : it->second) {
          c->is_key = true;
          c->is_numeric = false;
        }
      index->edges_.push_back(std::move(e));
    }
  }

  // A table declared without a primary key whose rows other tables refer to by one column:
  // that column identifies its rows ("Dorm" referred to by its dormid).
  for (auto& t : index->tables_) {
    if (std::any_of(t.columns.begin(), t.columns.end(),
                    [](const ColumnEntry* c) { return c->column->primary_key; }))
      continue;
    std::set<std::string> referenced;
    for (const auto& e : index->edges_)
      if (text::ToLower(e.to_table) == text::ToLower(t.table->name))
        referenced.insert(text::ToLower(e.to_column));
    if (referenced.size() != 1) continue;
    for (auto& owned : index->columns_) {
      ColumnEntry* c = owned.get();
      if (c->table != t.table || text::ToLower(c->column->name) != *referenced.begin()) continue;
      c->is_key = true;
      c->is_numeric = false;
      t.primary_key = c;
    }
  }
  for (auto& t : index->tables_) {
    int best_label = 0;
    int best_money = 0;
    for (const ColumnEntry* c : t.columns) {
      if (c->column->primary_key && !t.primary_key) t.primary_key = c;
      const auto w = ExpandedWords(c->words);
      if (c->is_text && !c->is_key && !c->is_temporal) {
        int score = 0;
        if (w.size() == 1 && w[0] == "name")
          score = 5;
        else if (!w.empty() && w.back() == "name" && w.size() == t.words.size() + 1 &&
                 !HasWord(w, "first") &&
                 std::equal(
                     t.words.begin(), t.words.end(), w.begin(),
                     [](const std::string& a, const std::string& b) { return Key(a) == Key(b); }))
          score = 4;  // "player_name" of players, not "sponsor_name"
        else if (HasWord(w, "last") && HasWord(w, "name"))
          score = 4;
        else if (!w.empty() && w.back() == "name" && !HasWord(w, "first"))
          score = 3;
        else if (HasWord(w, "title"))
          score = 2;
        else if (!w.empty() && w.back() == "name")
          score = 1;
        if (score > best_label) {
          best_label = score;
          t.label = c;
        }
      }
      if (c->is_temporal && !t.date) t.date = c;
      if (c->is_numeric) {
        int rank = MoneyRank(w);
        if (rank > best_money) {
          best_money = rank;
          t.money = c;
          t.money_rank = rank;
        }
      }
    }
    if (t.label && HasWord(ExpandedWords(t.label->words), "last")) {
      for (const ColumnEntry* c : t.columns) {
        const auto w = ExpandedWords(c->words);
        if (HasWord(w, "first") && HasWord(w, "name")) t.second_label = c;
      }
    }
    // Prefer a date column named after the table or the row's creation.
    for (const ColumnEntry* c : t.columns) {
      if (!c->is_temporal) continue;
      for (const auto& w : c->words) {
        bool names_table = std::any_of(t.words.begin(), t.words.end(),
                                       [&](const std::string& tw) { return Key(tw) == Key(w); });
        if (names_table || w == "created") t.date = c;
      }
    }
    index->IndexTable(t);
  }

  // Values of low-cardinality text columns.
  for (auto& owned : index->columns_) {
    ColumnEntry* c = owned.get();
    if (!c->is_text) continue;
    if (HasWord(c->words, "email") || HasWord(c->words, "url") || HasWord(c->words, "phone"))
      continue;
    auto values = source.DistinctTextValues(c->table->name, c->column->name, max_distinct);
    if (!values) continue;  // an unreadable column only loses value linking
    c->distinct_values = values->size();
    // "Yes" and "No" (or "true"/"false", "Y"/"N") only: a flag held as text.
    if (!values->empty() && values->size() <= 2 && !c->is_key) {
      std::string yes, no;
      bool flag = true;
      for (const auto& v : *values) {
        const std::string w = text::ToLower(text::Trim(v));
        if (w == "yes" || w == "true" || w == "y")
          yes = v;
        else if (w == "no" || w == "false" || w == "n")
          no = v;
        else
          flag = false;
      }
      if (flag && !yes.empty()) {
        c->is_flag = true;
        c->flag_true = yes;
        c->flag_false = no;
      }
    }
    for (const auto& v : *values) {
      if (v.size() < 2 || v.size() > 80) continue;
      std::string lower = NormalizeValueText(v);
      if (lower.empty() || IsStopWord(lower)) continue;
      bool numeric = std::all_of(lower.begin(), lower.end(), [](char ch) {
        return std::isdigit(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-';
      });
      if (numeric) continue;
      size_t words = static_cast<size_t>(std::count(lower.begin(), lower.end(), ' ')) + 1;
      if (words > 6) continue;
      index->longest_value_words_ = std::max(index->longest_value_words_, words);
      index->values_[lower].push_back({c, v});
      c->values.push_back(v);
      std::string lemmas = LemmatizeValueText(lower);
      if (lemmas != lower) index->values_[lemmas].push_back({c, v});
    }
    // A sex or gender held as a code or a word ("M"/"F", "Male"/"Female"): the words people
    // use for it name those values ("female students", "men").
    if (HasWord(c->words, "sex") || HasWord(c->words, "gender")) {
      static const std::vector<std::string> kMale = {"male", "males", "man", "men", "boy", "boys"};
      static const std::vector<std::string> kFemale = {"female", "females", "woman",
                                                       "women",  "girl",    "girls"};
      for (const auto& v : *values) {
        const std::string w = text::ToLower(text::Trim(v));
        const std::vector<std::string>* words = w == "m" || w == "male"     ? &kMale
                                                : w == "f" || w == "female" ? &kFemale
                                                                            : nullptr;
        if (!words) continue;
        for (const auto& word : *words) {
          auto& targets = index->values_[word];
          const bool known = std::any_of(targets.begin(), targets.end(), [&](const ValueTarget& t) {
            return t.column == c && t.value == v;
          });
          if (!known) targets.push_back({c, v});
        }
      }
    }
  }
  // Flag columns: booleans, and integer columns holding only 0 and 1.
  for (auto& owned : index->columns_) {
    ColumnEntry* c = owned.get();
    if (c->is_key) continue;
    if (c->column->family == db::TypeFamily::kBoolean) {
      c->is_flag = true;
      continue;
    }
    if (c->column->family != db::TypeFamily::kInteger) continue;
    if (c->table->row_count < 0 || c->table->row_count > 1'000'000) continue;
    std::string q = "SELECT DISTINCT " + sql::QuoteIdentifier(c->column->name, source.dialect()) +
                    " FROM " + sql::QuoteIdentifier(c->table->name, source.dialect()) + " LIMIT 3";
    auto r = source.Execute(q, {}, {3, std::chrono::milliseconds(2000)});
    if (!r || r->rows.empty() || r->rows.size() > 2) continue;
    bool flag = true;
    for (const auto& row : r->rows) {
      if (row.empty() || !std::holds_alternative<int64_t>(row[0]))
        flag = false;
      else if (std::get<int64_t>(row[0]) != 0 && std::get<int64_t>(row[0]) != 1)
        flag = false;
    }
    c->is_flag = flag;
    if (flag) c->is_numeric = false;
  }
  index->BuildGraph();
  return index;
}

void SchemaIndex::BuildGraph() {
  for (size_t i = 0; i < tables_.size(); ++i)
    table_of_.try_emplace(text::ToLower(tables_[i].table->name), i);
  auto node = [&](const std::string& table) {
    auto [it, added] = node_of_.try_emplace(text::ToLower(table), adjacency_.size());
    if (added) adjacency_.emplace_back();
    return it->second;
  };
  for (size_t i = 0; i < edges_.size(); ++i) {
    const size_t a = node(edges_[i].from_table);
    const size_t b = node(edges_[i].to_table);
    if (a == b) continue;  // self-references never join two different tables
    adjacency_[a].emplace_back(i, b);
    adjacency_[b].emplace_back(i, a);
    referenced_.insert(text::ToLower(edges_[i].to_table));
  }
}

const TableEntry* SchemaIndex::FindTable(std::string_view name) const {
  auto found = table_of_.find(text::ToLower(name));
  return found == table_of_.end() ? nullptr : &tables_[found->second];
}

const ColumnEntry* SchemaIndex::FindColumn(std::string_view table, std::string_view column) const {
  const TableEntry* t = FindTable(table);
  if (!t) return nullptr;
  for (const ColumnEntry* c : t->columns)
    if (text::EqualsIgnoreCase(c->column->name, column)) return c;
  return nullptr;
}

const std::vector<SchemaTarget>* SchemaIndex::LookupPhrase(const std::string& keys) const {
  auto it = phrases_.find(keys);
  return it == phrases_.end() ? nullptr : &it->second;
}

const std::vector<ValueTarget>* SchemaIndex::LookupValue(const std::string& lowercase) const {
  auto it = values_.find(lowercase);
  return it == values_.end() ? nullptr : &it->second;
}

std::vector<FkEdge> SchemaIndex::ShortestPath(const std::string& from,
                                              const std::string& to) const {
  if (text::EqualsIgnoreCase(from, to)) return {};
  const auto source = node_of_.find(text::ToLower(from));
  const auto target = node_of_.find(text::ToLower(to));
  if (source == node_of_.end() || target == node_of_.end()) return {FkEdge{}};  // unreachable
  // Breadth first, neighbours in edge order: among paths of the same length, the one whose
  // edges come first in the schema wins, as it always has.
  constexpr size_t kNone = static_cast<size_t>(-1);
  std::vector<std::pair<size_t, size_t>> prev(adjacency_.size(), {kNone, kNone});  // node, edge
  std::vector<bool> seen(adjacency_.size(), false);
  std::deque<size_t> queue{source->second};
  seen[source->second] = true;
  while (!queue.empty()) {
    const size_t cur = queue.front();
    queue.pop_front();
    if (cur == target->second) break;
    for (const auto& [edge, next] : adjacency_[cur]) {
      if (seen[next]) continue;
      seen[next] = true;
      prev[next] = {cur, edge};
      queue.push_back(next);
    }
  }
  if (!seen[target->second]) return {FkEdge{}};  // marker: unreachable
  std::vector<FkEdge> path;
  for (size_t cur = target->second; cur != source->second; cur = prev[cur].first)
    path.push_back(edges_[prev[cur].second]);
  std::reverse(path.begin(), path.end());
  return path;
}

std::optional<std::vector<sql::Join>> SchemaIndex::PlanJoins(
    const std::string& from, const std::vector<std::string>& tables) const {
  std::vector<sql::Join> joins;
  std::vector<std::string> joined{from};
  auto is_joined = [&](const std::string& t) {
    return std::any_of(joined.begin(), joined.end(),
                       [&](const std::string& j) { return text::EqualsIgnoreCase(j, t); });
  };
  for (const auto& target : tables) {
    if (is_joined(target)) continue;
    // Shortest path from any table already joined.
    std::vector<FkEdge> best;
    bool found = false;
    for (const auto& start : joined) {
      auto path = ShortestPath(start, target);
      if (path.size() == 1 && path[0].from_table.empty()) continue;
      if (!found || path.size() < best.size()) {
        best = path;
        found = true;
      }
    }
    if (!found) return std::nullopt;
    for (const auto& e : best) {
      if (is_joined(e.from_table) && !is_joined(e.to_table)) {
        joins.push_back({e.to_table, {e.from_table, e.from_column}, {e.to_table, e.to_column}});
        joined.push_back(e.to_table);
      } else if (is_joined(e.to_table) && !is_joined(e.from_table)) {
        joins.push_back({e.from_table, {e.to_table, e.to_column}, {e.from_table, e.from_column}});
        joined.push_back(e.from_table);
      }
    }
  }
  return joins;
}

std::vector<FkEdge> SchemaIndex::EdgesBetween(const std::string& a, const std::string& b) const {
  std::vector<FkEdge> edges;
  const auto from = node_of_.find(text::ToLower(a));
  const auto to = node_of_.find(text::ToLower(b));
  if (from == node_of_.end() || to == node_of_.end() || from->second == to->second) return edges;
  for (const auto& [edge, next] : adjacency_[from->second])
    if (next == to->second) edges.push_back(edges_[edge]);
  return edges;
}

bool SchemaIndex::IsReferenced(std::string_view table) const {
  return referenced_.contains(text::ToLower(table));
}

bool SchemaIndex::FansOut(const std::string& from, const std::string& to) const {
  auto path = ShortestPath(from, to);
  std::string cur = text::ToLower(from);
  for (const auto& e : path) {
    if (e.from_table.empty()) return true;
    // Walking from the referenced side to the referencing side multiplies rows.
    if (text::ToLower(e.to_table) == cur) return true;
    cur = text::ToLower(e.to_table);
  }
  return false;
}

}  // namespace helios::nl2sql::engine
