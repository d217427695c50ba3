#include "nl2sql/prompt/schema_linker.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <set>

#include "common/text.h"
#include "nl2sql/engine/lexicon.h"
#include "nl2sql/engine/tokenizer.h"
#include "nl2sql/prompt/sql_references.h"

namespace helios::nl2sql::prompt {
namespace {

using engine::ColumnEntry;
using engine::SchemaTarget;
using engine::TableEntry;
using engine::Token;

// How much one piece of evidence adds to a table's score. A phrase naming the table itself
// counts most; a stored value nearly as much (it pins a column); a column name less, since
// column names repeat across tables; a bare word of a name least.
constexpr double kTableNameWeight = 3.0;
constexpr double kValueWeight = 2.5;
constexpr double kColumnNameWeight = 1.2;
constexpr int kWordQuality = 1;  // on the engine's scale, where kExact is 6
// A lowercase single word found among stored values ("jazz", "open"): likely, not certain.
constexpr double kLowercaseValueStrength = 0.8;
// All the words of a multi-word table name, anywhere in the question ("customers ... events"
// for customer_events), count nearly as much as the name itself.
constexpr double kScatteredNameShare = 0.8;
// The previous turns: their questions and the SQL answering them.
constexpr double kHistoryQuestionWeight = 0.5;
constexpr double kPreviousSqlTableWeight = 3.0;
constexpr double kPreviousSqlColumnWeight = 1.0;
constexpr size_t kHistoryTurns = 3;
// Priority boosts for a linked table's columns, used only to order them for the budget.
constexpr double kTypeHintBoost = 0.3;
constexpr double kLabelBoost = 0.2;
// A path longer than this many bridge tables is not a join anyone meant.
constexpr size_t kMaxBridges = 3;
// Context tables are looked for this many joins away from the linked ones.
constexpr size_t kContextHops = 3;
constexpr size_t kUnreachable = static_cast<size_t>(-1);
// More bridge tables than this between two linked tables: keep only the best path.
constexpr size_t kMaxUnionBridges = 3;
// Room kept for the "-- N more tables not shown" line.
constexpr size_t kOmittedTablesNoteBytes = 40;
// A name word this long or longer also matches question words it begins ("dept").
constexpr size_t kMinAbbreviation = 4;
// A question word's stem also matches a name word that only adds this many letters to it.
constexpr size_t kMaxSuffix = 3;

bool IsYear(const Token& t) {
  return t.kind == Token::Kind::kNumber && t.integer && t.raw.size() == 4 && t.number >= 1800 &&
         t.number <= 2100;
}

bool IsTemporalWord(std::string_view w) {
  static const std::set<std::string_view> kWords = {
      "year",  "years",  "month",  "months", "date",     "dates",  "day",
      "days",  "when",   "recent", "latest", "earliest", "oldest", "newest",
      "since", "before", "after",  "during", "time"};
  return kWords.contains(w);
}

double Specificity(size_t alternatives) {
  return alternatives <= 1 ? 1.0 : 1.0 / std::sqrt(static_cast<double>(alternatives));
}

}  // namespace

struct SchemaLinker::Scores {
  std::vector<double> table;  // by position in index().tables()
  std::map<const ColumnEntry*, double> evidence;
  std::map<const ColumnEntry*, std::vector<std::string>> values;
  bool number = false;
  bool temporal = false;
};

SchemaLinker::SchemaLinker(std::shared_ptr<const engine::SchemaIndex> index)
    : index_(std::move(index)) {
  const auto& tables = index_->tables();
  std::unordered_map<std::string, size_t> by_name;
  for (size_t i = 0; i < tables.size(); ++i) {
    table_pos_[tables[i].table] = i;
    by_name.emplace(text::ToLower(tables[i].table->name), i);
  }
  neighbours_.resize(tables.size());
  for (size_t i = 0; i < tables.size(); ++i) {
    for (const auto& fk : tables[i].table->foreign_keys) {
      auto it = by_name.find(text::ToLower(fk.ref_table));
      if (it == by_name.end() || it->second == i) continue;
      const size_t j = it->second;
      if (std::find(neighbours_[i].begin(), neighbours_[i].end(), j) == neighbours_[i].end()) {
        neighbours_[i].push_back(j);
        neighbours_[j].push_back(i);
      }
    }
  }
  for (auto& n : neighbours_) std::sort(n.begin(), n.end());
  auto add = [](std::unordered_map<std::string, std::vector<SchemaTarget>>& map,
                const std::string& key, SchemaTarget target) {
    auto& list = map[key];
    for (const auto& t : list)
      if (t.table == target.table && t.column == target.column) return;
    list.push_back(target);
  };
  auto add_words = [&](const std::vector<std::string>& words, SchemaTarget target) {
    std::string compound;
    for (const auto& w : words) {
      compound += w;
      if (w == "id" || w.size() < 2) continue;
      add(word_keys_, engine::Key(w), target);
      if (w.size() < kMinAbbreviation || !std::isalpha(static_cast<unsigned char>(w[0]))) continue;
      // "dept" in a question about departments, "prereq" for prerequisites.
      add(prefixes_, w, target);
      // "advises" (stem "advis") for advisor, "rented" for rental.
      for (size_t len = std::max(kMinAbbreviation, w.size() - std::min(w.size(), kMaxSuffix));
           len < w.size(); ++len)
        add(stem_prefixes_, w.substr(0, len), target);
    }
    // "laptime" for a table lap_times.
    if (words.size() > 1) add(word_keys_, engine::Key(compound), target);
  };
  static_assert(static_cast<size_t>(db::Dialect::kMysql) + 1 == kDialects);
  templates_.resize(tables.size());
  table_bytes_.resize(tables.size());
  for (auto& p : prepared_) p.reserve(tables.size());
  for (size_t i = 0; i < tables.size(); ++i) {
    const db::TableInfo& info = *tables[i].table;
    LinkedTable& t = templates_[i];
    t.name = info.name;
    for (const ColumnEntry* c : tables[i].columns) {
      LinkedColumn lc;
      lc.name = c->column->name;
      lc.type = c->column->declared_type;
      lc.primary_key = c->column->primary_key;
      for (const auto& fk : info.foreign_keys) {
        if (text::EqualsIgnoreCase(fk.column, lc.name)) {
          lc.ref_table = fk.ref_table;
          lc.ref_column = fk.ref_column;
          break;
        }
      }
      t.columns.push_back(std::move(lc));
    }
    for (size_t d = 0; d < kDialects; ++d)
      prepared_[d].push_back(
          std::make_shared<const PreparedTable>(PrepareTable(t, static_cast<db::Dialect>(d))));
    // Renderings are per table: the whole schema's is the sum of its tables'.
    table_bytes_[i] = prepared_[static_cast<size_t>(db::Dialect::kSqlite)][i]->bytes;
    whole_bytes_ += table_bytes_[i];
  }
  table_words_.resize(tables.size());
  for (size_t i = 0; i < tables.size(); ++i) {
    const TableEntry& t = tables[i];
    add_words(t.words, {&t, nullptr, 1});
    for (const ColumnEntry* c : t.columns) add_words(c->words, {&t, c, 1});
    for (const auto& w : t.words)
      if (w != "id" && !engine::IsStopWord(w)) table_words_[i].push_back(engine::Key(w));
  }
}

void SchemaLinker::ScoreText(std::string_view question, double weight, const LinkOptions& options,
                             Scores& s) const {
  const std::vector<Token> tokens = engine::Tokenize(question);
  const size_t max_len = std::max<size_t>(4, index_->longest_value_words());

  // `quality` > 0 overrides the targets' own (the word maps hold none).
  auto add_targets = [&](const std::vector<SchemaTarget>& targets, size_t len, int quality) {
    std::map<size_t, double> per_table;  // the phrase's best contribution to each table
    std::set<size_t> distinct;
    for (const auto& tg : targets) distinct.insert(table_pos_.at(tg.table->table));
    const double spec = Specificity(distinct.size());
    const double len_factor = 1.0 + 0.5 * static_cast<double>(len - 1);
    for (const auto& tg : targets) {
      const double q = static_cast<double>(quality > 0 ? quality : tg.quality) / engine::kExact;
      const size_t pos = table_pos_.at(tg.table->table);
      double contribution;
      if (!tg.column) {
        contribution = kTableNameWeight * q * len_factor * spec;
      } else {
        s.evidence[tg.column] += q * len_factor * spec * weight;
        contribution = kColumnNameWeight * q * len_factor * spec;
      }
      per_table[pos] = std::max(per_table[pos], contribution);
    }
    for (const auto& [pos, c] : per_table) s.table[pos] += c * weight;
  };
  auto add_values = [&](const std::vector<engine::ValueTarget>& values, double strength) {
    std::set<const ColumnEntry*> columns;
    for (const auto& v : values) columns.insert(v.column);
    const double spec = Specificity(columns.size());
    std::map<size_t, double> per_table;
    for (const auto& v : values) {
      const size_t pos = table_pos_.at(v.column->table);
      per_table[pos] = std::max(per_table[pos], kValueWeight * strength * spec);
      auto& list = s.values[v.column];
      if (list.size() < options.max_matched_values &&
          std::find(list.begin(), list.end(), v.value) == list.end())
        list.push_back(v.value);
    }
    for (const auto* c : columns) s.evidence[c] += 2.0 * strength * spec * weight;
    for (const auto& [pos, c] : per_table) s.table[pos] += c * weight;
  };

  // Each token as stored values are written, once: phrases of up to max_len tokens join them.
  std::vector<std::string> value_words(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i].kind == Token::Kind::kWord || tokens[i].kind == Token::Kind::kNumber)
      value_words[i] = engine::NormalizeValueText(tokens[i].raw);
  std::vector<bool> covered(tokens.size(), false);
  for (size_t i = 0; i < tokens.size(); ++i) {
    const Token& t = tokens[i];
    if (t.kind == Token::Kind::kQuoted) {
      const std::string v = engine::NormalizeValueText(t.text);
      const auto* values = index_->LookupValue(v);
      if (!values) values = index_->LookupValue(engine::LemmatizeValueText(v));
      if (values) add_values(*values, 1.0);
      continue;
    }
    if (t.kind == Token::Kind::kDate || IsYear(t)) s.temporal = true;
    if (t.kind == Token::Kind::kNumber && !IsYear(t)) s.number = true;
    if (t.kind == Token::Kind::kWord && IsTemporalWord(t.text)) s.temporal = true;
    if (t.kind != Token::Kind::kWord && t.kind != Token::Kind::kNumber) continue;

    for (size_t len = std::min(max_len, tokens.size() - i); len >= 1; --len) {
      bool usable = true, all_words = true;
      std::vector<std::string> words;
      words.reserve(len);
      std::string value_text;
      for (size_t k = i; k < i + len; ++k) {
        const Token& w = tokens[k];
        if (w.kind != Token::Kind::kWord && w.kind != Token::Kind::kNumber) usable = false;
        if (w.kind != Token::Kind::kWord) all_words = false;
        if (!usable) break;
        words.push_back(w.text);
        if (!value_text.empty()) value_text += ' ';
        value_text += value_words[k];
      }
      if (!usable) continue;
      bool matched = false;
      const bool lone_stop_word = len == 1 && engine::IsStopWord(t.text);
      if (!lone_stop_word && value_text.size() >= 2) {
        const auto* values = index_->LookupValue(value_text);
        if (!values) values = index_->LookupValue(engine::LemmatizeValueText(value_text));
        if (values) {
          // A lowercase single word ("red", "open") is weaker evidence than a name.
          add_values(*values, len > 1 || t.capitalized ? 1.0 : kLowercaseValueStrength);
          matched = true;
        }
      }
      if (all_words) {
        const auto* targets = index_->LookupPhrase(engine::PhraseKey(words));
        if (!targets && len == 2)  // "sign up" for a column named "signup"
          targets = index_->LookupPhrase(engine::Key(engine::Lemma(words[0]) + words[1]));
        if (targets) {
          int best = 0;
          for (const auto& tg : *targets) best = std::max(best, tg.quality);
          if (!lone_stop_word || best >= engine::kExact) {
            add_targets(*targets, len, 0);
            matched = true;
          }
        }
      }
      // "first name" for a column fname, "last name" for lname.
      if (!matched && all_words && len == 2 && !words[0].empty()) {
        if (auto it = word_keys_.find(engine::Key(words[0].substr(0, 1) + words[1]));
            it != word_keys_.end()) {
          add_targets(it->second, len, engine::kHead);
          matched = true;
        }
      }
      if (matched)
        for (size_t k = i; k < i + len; ++k) covered[k] = true;
    }
    if (t.kind != Token::Kind::kWord || covered[i]) continue;
    if (engine::IsStopWord(t.text) || t.text.size() < 3) continue;
    // A word of a longer name: "headquarters" for a column "headquarter_city".
    if (auto it = word_keys_.find(t.key); it != word_keys_.end()) {
      add_targets(it->second, 1, kWordQuality);
      covered[i] = true;
      continue;
    }
    // An abbreviation in a name: "prereq" for "prerequisites" (the longest one only).
    for (size_t len = t.text.size() - 1; len >= kMinAbbreviation && !covered[i]; --len) {
      if (auto it = prefixes_.find(t.text.substr(0, len)); it != prefixes_.end()) {
        add_targets(it->second, 1, kWordQuality);
        covered[i] = true;
      }
    }
    if (covered[i]) continue;
    if (auto it = stem_prefixes_.find(t.key); it != stem_prefixes_.end()) {
      add_targets(it->second, 1, kWordQuality);
      continue;
    }
    // "French" for a stored "France".
    if (t.capitalized) {
      for (const auto& noun : engine::Pertainyms(t.text)) {
        if (const auto* values = index_->LookupValue(engine::NormalizeValueText(noun))) {
          add_values(*values, 1.0);
          break;
        }
      }
    }
  }
  // All the words of a multi-word table name, in any order and place.
  std::set<std::string> keys;
  for (const Token& t : tokens)
    if (t.kind == Token::Kind::kWord) keys.insert(t.key);
  for (size_t pos = 0; pos < table_words_.size(); ++pos) {
    const auto& words = table_words_[pos];
    if (words.size() < 2) continue;
    if (std::all_of(words.begin(), words.end(),
                    [&](const std::string& k) { return keys.contains(k); }))
      s.table[pos] += kTableNameWeight * kScatteredNameShare * weight;
  }
}

void SchemaLinker::ScoreSql(std::string_view sql, double weight, Scores& s) const {
  const SqlReferences refs = ExtractReferences(sql, index_->catalog());
  for (const auto& name : refs.tables)
    if (const TableEntry* t = index_->FindTable(name))
      s.table[table_pos_.at(t->table)] += kPreviousSqlTableWeight * weight;
  for (const auto& c : refs.columns)
    if (const ColumnEntry* col = index_->FindColumn(c.table, c.column))
      s.evidence[col] += kPreviousSqlColumnWeight * weight;
}

std::vector<size_t> SchemaLinker::Distances(const std::vector<size_t>& from) const {
  const size_t n = neighbours_.size();
  std::vector<size_t> dist(n, kUnreachable);
  std::deque<size_t> queue;
  for (size_t f : from) {
    dist[f] = 0;
    queue.push_back(f);
  }
  while (!queue.empty()) {
    const size_t cur = queue.front();
    queue.pop_front();
    if (dist[cur] > kMaxBridges + 1) break;
    for (size_t next : neighbours_[cur]) {
      if (dist[next] != kUnreachable) continue;
      dist[next] = dist[cur] + 1;
      queue.push_back(next);
    }
  }
  return dist;
}

std::vector<size_t> SchemaLinker::Bridges(const std::vector<bool>& in, size_t to,
                                          const std::vector<double>& scores, size_t slack,
                                          bool& reachable) const {
  const size_t n = neighbours_.size();
  std::vector<size_t> sources;
  for (size_t i = 0; i < n; ++i)
    if (in[i]) sources.push_back(i);
  const std::vector<size_t> from_in = Distances(sources);
  const size_t d = from_in[to];
  reachable = d != kUnreachable && d - 1 <= kMaxBridges;
  std::vector<size_t> bridges;
  if (!reachable) return bridges;
  const std::vector<size_t> from_to = Distances({to});
  auto on_path = [&](size_t i, size_t length) {
    return !in[i] && i != to && from_in[i] != kUnreachable && from_to[i] != kUnreachable &&
           from_in[i] + from_to[i] <= length;
  };
  // Every table on a join path at most `slack` steps longer than the shortest, nearest first:
  // the shortest is not always the meaningful one. A direct join needs no detour.
  const size_t limit = d <= 1 ? d : d + slack;
  for (size_t i = 0; i < n; ++i)
    if (on_path(i, limit)) bridges.push_back(i);
  if (bridges.size() > kMaxUnionBridges) {
    // Too many ways round (a hub with many fact tables): the one shortest path whose tables
    // the question supports best, ties to the earlier table.
    std::vector<double> best(n, -1);
    std::vector<size_t> next(n, n);
    std::vector<size_t> layer;
    for (size_t i = 0; i < n; ++i)
      if (on_path(i, d)) layer.push_back(i);
    std::stable_sort(layer.begin(), layer.end(),
                     [&](size_t a, size_t b) { return from_to[a] < from_to[b]; });
    for (size_t v : layer) {
      if (from_to[v] == 1) {
        best[v] = scores[v];
        continue;
      }
      for (size_t w : neighbours_[v]) {
        if (!on_path(w, d) || from_to[w] + 1 != from_to[v]) continue;
        if (best[w] + scores[v] > best[v]) {
          best[v] = best[w] + scores[v];
          next[v] = w;
        }
      }
    }
    size_t start = n;
    for (size_t v : layer)
      if (from_in[v] == 1 && (start == n || best[v] > best[start])) start = v;
    bridges.clear();
    for (size_t v = start; v < n; v = next[v]) bridges.push_back(v);
    return bridges;
  }
  std::stable_sort(bridges.begin(), bridges.end(),
                   [&](size_t a, size_t b) { return from_in[a] < from_in[b]; });
  return bridges;
}

LinkedSchema SchemaLinker::Link(std::string_view question, std::span<const Turn> history,
                                const LinkOptions& options) const {
  const auto& tables = index_->tables();
  const size_t n = tables.size();
  Scores s;
  s.table.assign(n, 0.0);
  ScoreText(question, 1.0, options, s);
  {
    double decay = 1.0;
    size_t used = 0;
    for (auto it = history.rbegin(); it != history.rend() && used < kHistoryTurns;
         ++it, ++used, decay /= 2) {
      if (!it->question.empty())
        ScoreText(it->question, kHistoryQuestionWeight * decay, options, s);
      if (!it->sql.empty()) ScoreSql(it->sql, decay, s);
    }
  }

  // Tables in score order (ties: catalog order).
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return s.table[a] > s.table[b]; });
  const double best = n ? s.table[order[0]] : 0.0;
  const double threshold = std::max(options.min_table_score, options.relative_threshold * best);

  // Groups: a linked table preceded by the bridge tables joining it to those before it.
  std::vector<std::vector<size_t>> groups;
  std::vector<bool> included(n, false), bridge(n, false);
  std::vector<bool> optional(n, false);  // context: no loss worth mentioning if left out
  const bool small = whole_bytes_ <= options.small_schema_tokens * 4;
  if (best < options.min_table_score) {
    // Nothing in the question names the schema clearly: offer what fits, the tables with any
    // evidence first.
    for (size_t pos : order) groups.push_back({pos});
  } else {
    for (size_t pos : order) {
      if (s.table[pos] < threshold) break;
      if (included[pos]) {
        bridge[pos] = false;
        continue;
      }
      std::vector<size_t> group;
      if (!groups.empty()) {
        bool reachable = false;
        std::vector<size_t> path = Bridges(included, pos, s.table, options.join_slack, reachable);
        if (reachable) {
          for (size_t b : path) {
            bridge[b] = true;
            included[b] = true;
            group.push_back(b);
          }
        }
      }
      group.push_back(pos);
      included[pos] = true;
      groups.push_back(std::move(group));
    }
    // Tables with some evidence of their own next to a linked one: the child table holding
    // the facts about a linked entity, the lookup table naming one of its codes.
    std::vector<bool> linked(n, false);
    for (size_t i = 0; i < n; ++i) linked[i] = included[i] && !bridge[i];
    auto adjacent = [&](size_t pos) {
      return std::any_of(neighbours_[pos].begin(), neighbours_[pos].end(),
                         [&](size_t nb) { return linked[nb]; });
    };
    for (size_t pos : order) {
      if (s.table[pos] < options.neighbour_threshold) break;
      if (included[pos] || !adjacent(pos)) continue;
      included[pos] = true;
      groups.push_back({pos});
    }
    for (size_t i = 0; i < n; ++i) linked[i] = included[i] && !bridge[i];
    // Context: the other neighbours of linked tables, while the schema stays small next to
    // the whole (or absolutely small). Questions leave the table holding their facts unnamed
    // ("pilots without any record", "the store that owns most items").
    size_t size = 0;
    for (size_t i = 0; i < n; ++i) size += included[i] ? table_bytes_[i] : 0;
    const double cap = std::min(std::max(options.context_share * static_cast<double>(whole_bytes_),
                                         static_cast<double>(options.context_floor_tokens) * 4),
                                static_cast<double>(options.token_budget) * 4);
    // Nearest first: all tables one join away (best score first), then two, ...
    for (size_t hop = 0; hop < kContextHops; ++hop) {
      std::vector<size_t> ring;
      for (size_t pos : order)
        if (!included[pos] && adjacent(pos)) ring.push_back(pos);
      bool added = false;
      for (size_t pos : ring) {
        const size_t bytes = table_bytes_[pos];
        if (static_cast<double>(size + bytes) > cap) continue;
        size += bytes;
        included[pos] = true;
        optional[pos] = true;
        groups.push_back({pos});
        added = true;
      }
      if (!added) break;
      for (size_t i = 0; i < n; ++i) linked[i] = included[i];
    }
    // A small schema is cheaper to send whole than to risk leaving out what the question
    // needs: the rest follows, least relevant last.
    if (small)
      for (size_t pos : order)
        if (!included[pos]) {
          included[pos] = true;
          optional[pos] = true;
          groups.push_back({pos});
        }
  }

  // Candidate tables with every column; `core` marks keys and columns the text named.
  std::vector<Candidate> candidates;
  for (size_t g = 0; g < groups.size(); ++g) {
    for (size_t pos : groups[g]) {
      const TableEntry& te = tables[pos];
      Candidate cand;
      cand.group = g;
      cand.table = templates_[pos];
      cand.table.prepared = prepared_[static_cast<size_t>(options.dialect)][pos];
      cand.table.score = s.table[pos];
      cand.table.bridge = bridge[pos];
      cand.optional = bridge[pos] || optional[pos];
      for (size_t i = 0; i < te.columns.size(); ++i) {
        const ColumnEntry* c = te.columns[i];
        LinkedColumn& lc = cand.table.columns[i];
        double evidence = 0;
        if (auto it = s.evidence.find(c); it != s.evidence.end()) evidence = it->second;
        if (auto it = s.values.find(c); it != s.values.end()) lc.matched_values = it->second;
        double boost = 0;
        if (s.number && c->is_numeric) boost += kTypeHintBoost;
        if (s.temporal && (c->is_temporal ||
                           std::find(c->words.begin(), c->words.end(), "year") != c->words.end()))
          boost += kTypeHintBoost;
        if (c == te.label || c == te.second_label) boost += kLabelBoost;
        lc.score = evidence + boost;
        cand.core.push_back(c->is_key || !lc.ref_table.empty() || evidence > 0 ||
                            !lc.matched_values.empty());
      }
      cand.chosen.assign(cand.table.columns.size(), true);
      candidates.push_back(std::move(cand));
    }
  }

  return FitBudget(std::move(candidates), options);
}

LinkedSchema SchemaLinker::FitBudget(std::vector<Candidate> candidates,
                                     const LinkOptions& options) {
  auto all_chosen = [](const Candidate& cand) {
    return std::find(cand.chosen.begin(), cand.chosen.end(), false) == cand.chosen.end();
  };
  // The tables as shown, with their chosen columns (those with none left out); the candidates
  // are not used after.
  auto assemble = [&](size_t omitted_tables) {
    LinkedSchema out;
    out.omitted_tables = omitted_tables;
    for (auto& cand : candidates) {
      if (all_chosen(cand)) {
        if (!cand.chosen.empty()) out.tables.push_back(std::move(cand.table));
        continue;
      }
      if (std::find(cand.chosen.begin(), cand.chosen.end(), true) == cand.chosen.end()) continue;
      LinkedTable t = std::move(cand.table);
      std::vector<LinkedColumn> columns = std::move(t.columns);
      t.columns.clear();
      t.prepared = nullptr;  // it shows every column
      for (size_t i = 0; i < columns.size(); ++i) {
        if (cand.chosen[i])
          t.columns.push_back(std::move(columns[i]));
        else
          ++t.omitted_columns;
      }
      out.tables.push_back(std::move(t));
    }
    return out;
  };
  // Each table's size as rendered with its chosen columns, without rendering it.
  auto bytes = [&](const Candidate& cand) {
    return TableBytes(cand.table, options.dialect, all_chosen(cand) ? nullptr : &cand.chosen);
  };
  const size_t budget_bytes = options.token_budget * 4;

  // Everything linked fits: done (the common case on ordinary schemas).
  size_t total = 0;
  for (const auto& cand : candidates) {
    total += bytes(cand);
    if (total > budget_bytes) break;
  }
  if (total <= budget_bytes) return assemble(0);

  // Otherwise build it up: each group's tables with their keys and named columns, in order,
  // while they fit (with the line saying how many tables were left out, once there is one);
  // then the other columns of the tables shown, most relevant first.
  auto room = [&](size_t omitted) {
    const size_t note = omitted > 0 ? kOmittedTablesNoteBytes : 0;
    return budget_bytes - std::min(budget_bytes, note);
  };
  size_t used = 0;
  size_t omitted_tables = 0;
  for (size_t first = 0; first < candidates.size();) {
    size_t last = first;
    while (last < candidates.size() && candidates[last].group == candidates[first].group) ++last;
    size_t cost = 0;
    for (size_t c = first; c < last; ++c) {
      Candidate& cand = candidates[c];
      cand.chosen = cand.core;
      // A table none of whose columns is core still shows its first column.
      if (std::find(cand.chosen.begin(), cand.chosen.end(), true) == cand.chosen.end() &&
          !cand.chosen.empty())
        cand.chosen[0] = true;
      cost += bytes(cand);
    }
    if (used + cost <= room(omitted_tables)) {
      used += cost;
    } else {
      for (size_t c = first; c < last; ++c) {
        candidates[c].chosen.assign(candidates[c].chosen.size(), false);
        if (!candidates[c].optional) ++omitted_tables;
      }
    }
    first = last;
  }
  struct Fill {
    size_t cand, column;
    double score;
  };
  std::vector<Fill> fill;
  for (size_t ci = 0; ci < candidates.size(); ++ci) {
    const auto& chosen = candidates[ci].chosen;
    if (std::find(chosen.begin(), chosen.end(), true) == chosen.end()) continue;
    for (size_t i = 0; i < chosen.size(); ++i)
      if (!chosen[i]) fill.push_back({ci, i, candidates[ci].table.columns[i].score});
  }
  std::stable_sort(fill.begin(), fill.end(),
                   [](const Fill& a, const Fill& b) { return a.score > b.score; });
  std::vector<size_t> sizes(candidates.size());
  for (size_t ci = 0; ci < candidates.size(); ++ci) sizes[ci] = bytes(candidates[ci]);
  for (const Fill& f : fill) {
    Candidate& cand = candidates[f.cand];
    cand.chosen[f.column] = true;
    const size_t after = bytes(cand);
    if (used - sizes[f.cand] + after > room(omitted_tables)) {
      cand.chosen[f.column] = false;
      continue;
    }
    used = used - sizes[f.cand] + after;
    sizes[f.cand] = after;
  }
  LinkedSchema out = assemble(omitted_tables);
  // The sizes are exact, so this holds; should a rendering change break that, the last tables
  // go rather than the budget.
  SchemaRenderOptions render;
  render.dialect = options.dialect;
  while (ApproxTokens(RenderSchema(out, render)) > options.token_budget && !out.tables.empty()) {
    ++out.omitted_tables;
    out.tables.pop_back();
  }
  return out;
}

}  // namespace helios::nl2sql::prompt
