// What the engine knows about one database: every table and column under the words people
// use for them (split identifiers, lemmas, curated synonyms), the roles columns play (label,
// date, measure, key), the foreign-key graph for joins, and an index of the distinct text
// values of low-cardinality columns, so "customers in Germany" finds the column holding
// "Germany". Built once per schema version; immutable and shared across threads afterwards.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/error.h"
#include "db/data_source.h"
#include "sql/ir.h"

namespace helios::nl2sql::engine {

struct ColumnEntry {
  const db::TableInfo* table = nullptr;
  const db::ColumnInfo* column = nullptr;
  std::vector<std::string> words;  // lowercase words of the name
  bool is_key = false;             // primary key or foreign-key column
  bool is_numeric = false;
  bool is_temporal = false;  // a date or timestamp, by type or name
  bool is_text = false;
  bool is_flag = false;  // holds only 0 and 1 (or booleans): "discontinued products"
  // A text flag's stored values ("Yes"/"No", "true"/"false", "Y"/"N"); empty otherwise (and
  // flag_false empty when no row holds the negative).
  std::string flag_true, flag_false;
  size_t distinct_values = 0;  // text values indexed (0: not indexed)
  // The values a question can name (those LookupValue finds), as stored, in the order the
  // database listed them.
  std::vector<std::string> values;
};

struct TableEntry {
  const db::TableInfo* table = nullptr;
  std::vector<std::string> words;
  std::vector<const ColumnEntry*> columns;
  const ColumnEntry* label = nullptr;         // the column that names a row ("name", "title")
  const ColumnEntry* second_label = nullptr;  // e.g. first_name when label is last_name
  const ColumnEntry* date = nullptr;          // the main date column
  const ColumnEntry* primary_key = nullptr;
  const ColumnEntry* money = nullptr;  // the main monetary measure, if any
  int money_rank = 0;                  // 2: an amount or total, 1: a unit price
};

// A schema element a phrase can name.
inline constexpr int kExact = 6, kHead = 4, kSynonym = 3, kModifier = 2;

struct SchemaTarget {
  const TableEntry* table = nullptr;
  const ColumnEntry* column = nullptr;  // null: the table itself
  // How well the phrase names it: kExact (all its words), kHead (its head word, or its name
  // without the table's), kSynonym (a synonym of its head word), kModifier (a leading word).
  int quality = 0;
};

struct ValueTarget {
  const ColumnEntry* column = nullptr;
  std::string value;  // as stored
};

// One edge of the foreign-key graph: from.column references to.column.
struct FkEdge {
  std::string from_table, from_column, to_table, to_column;
};

class SchemaIndex {
 public:
  // Reads distinct values through `source` (columns with at most `max_distinct` values).
  static Result<std::unique_ptr<SchemaIndex>> Build(
      std::shared_ptr<const db::SchemaCatalog> catalog, db::DataSource& source,
      size_t max_distinct);

  const db::SchemaCatalog& catalog() const { return *catalog_; }
  const std::vector<TableEntry>& tables() const { return tables_; }
  const TableEntry* FindTable(std::string_view name) const;
  const ColumnEntry* FindColumn(std::string_view table, std::string_view column) const;

  // Schema elements named by a phrase of matching keys ("order item" -> order_items).
  const std::vector<SchemaTarget>* LookupPhrase(const std::string& keys) const;
  // Columns holding a value, by its lowercase text ("germany" -> customers.country).
  const std::vector<ValueTarget>* LookupValue(const std::string& lowercase) const;
  size_t longest_value_words() const { return longest_value_words_; }

  // Joins that connect `from` to every table in `tables` along foreign keys (shortest paths,
  // shared prefixes reused). nullopt when some table cannot be reached.
  std::optional<std::vector<sql::Join>> PlanJoins(const std::string& from,
                                                  const std::vector<std::string>& tables) const;
  // The foreign keys between two different tables, either way, in the schema's order.
  std::vector<FkEdge> EdgesBetween(const std::string& a, const std::string& b) const;
  // True when some foreign key refers to `table` (it is a parent, not a leaf of facts).
  bool IsReferenced(std::string_view table) const;
  // True when joining `from` to `to` can repeat rows of `from` (a one-to-many step).
  bool FansOut(const std::string& from, const std::string& to) const;

 private:
  void IndexTable(TableEntry& t);
  // Fills node_of_, adjacency_, referenced_ and table_of_ from tables_ and edges_.
  void BuildGraph();
  void AddPhrase(const std::vector<std::string>& words, SchemaTarget target);
  std::vector<FkEdge> ShortestPath(const std::string& from, const std::string& to) const;

  std::shared_ptr<const db::SchemaCatalog> catalog_;
  std::vector<std::unique_ptr<ColumnEntry>> columns_;
  std::vector<TableEntry> tables_;
  std::unordered_map<std::string, std::vector<SchemaTarget>> phrases_;
  std::unordered_map<std::string, std::vector<ValueTarget>> values_;
  size_t longest_value_words_ = 1;
  std::vector<FkEdge> edges_;
  // The foreign-key graph by lowercase table name, built once so that a path search costs
  // O(tables + edges) rather than a scan of every edge for every table it visits: one question's
  // candidate readings search it many times, which on a schema of 1,000 tables would otherwise
  // cost tens of milliseconds. node_of_: table -> node; adjacency_[node]: (edge index, the other
  // end's node) in edge order, self-references left out (they never join two tables).
  std::unordered_map<std::string, size_t> node_of_;
  std::vector<std::vector<std::pair<size_t, size_t>>> adjacency_;
  // Lowercase names of the tables some other table's foreign key refers to.
  std::unordered_set<std::string> referenced_;
  // Lowercase table name -> its first entry in tables_, for FindTable.
  std::unordered_map<std::string, size_t> table_of_;
};

// Keys of a phrase's words joined by spaces: the lookup form for LookupPhrase.
std::string PhraseKey(const std::vector<std::string>& words);

// The lookup forms of a value: lowercase words without punctuation ("Toys & Games" ->
// "toys games"), and the same with each word's lemma ("Sales Managers" -> "sale manager").
std::string NormalizeValueText(std::string_view text);
std::string LemmatizeValueText(std::string_view normalized);

// One word of a question in those lookup forms, computed once per question so that the forms of
// every phrase it is part of are composed from them (PhraseForms) instead of normalising,
// lemmatising and stemming the word again for each phrase.
struct WordForms {
  std::string normalized;           // NormalizeValueText of the word as typed
  std::vector<std::string> lemmas;  // Lemma of each space-separated part of `normalized`
  std::string key;                  // Key of the lowercase word; empty when none was asked for
};

// `raw`: the word as typed; `lowercase`: its lowercase text, or empty for a token whose phrases
// are looked up as values only (a number), which then gets no key.
WordForms WordFormsOf(std::string_view raw, std::string_view lowercase);

// The lookup forms of a phrase, built one word at a time. After appending words w1..wn:
// `value_text` is their NormalizeValueText forms joined by single spaces (leading empty ones
// left out), `lemmatized` equals LemmatizeValueText(value_text), and `key` equals
// PhraseKey({w1..wn}) when every word was given a key.
struct PhraseForms {
  std::string value_text;
  std::string lemmatized;
  std::string key;

  void Append(const WordForms& word);
};

}  // namespace helios::nl2sql::engine
