// Schema linking for language-model prompts: the tables and columns of a database that a
// question (and the conversation before it) needs, small enough to fit a token budget however
// large the database is.
//
// Evidence, all through the engine's SchemaIndex and lexicon (no schema is named here):
//   - names: phrases of the question that name a table or column (split identifiers, lemmas,
//     Snowball stems, curated synonyms), weighted by how well they name it and by how many
//     tables share the name ("name" says little, "invoice line" a lot);
//   - words: a question word whose stem is any word of a table's or column's name;
//   - values: words and phrases stored in low-cardinality text columns ("Germany" ->
//     customers.country), adjectives through their WordNet pertainyms ("German" -> Germany);
//   - types: numbers and years raise numeric and temporal columns of the linked tables;
//   - the conversation: earlier questions count for less, and the tables and columns the
//     previous SQL used are kept, so follow-ups keep their context.
// Which tables: those scoring near the best (LinkOptions::relative_threshold); tables joined
// to those by a foreign key that have evidence of their own; the bridge tables on the join
// paths between them (all paths up to one step longer than the shortest, or the best-supported
// shortest one where a hub offers many). Then context: the other tables a join or two away,
// nearest first, while the schema part stays small next to the whole schema -- questions
// often leave the table holding their facts unnamed ("pilots without any record"). A schema
// small enough (LinkOptions::small_schema_tokens) is sent whole, linked tables first.
//
// Then the budget: when everything chosen does not fit, each table's keys (primary and
// foreign, always kept with a table) and the columns the question named come first, table by
// table in order of relevance; then the other columns, most relevant first; what does not fit
// is left out and the rendering says how many columns and tables it omitted.
//
// The weights and thresholds were tuned on Spider's training databases, holding out every 7th
// (docs/accuracy.md has the figures); nothing in them names a schema.
//
// The linker renders every table of its schema once, in each dialect, at construction (the
// schema cannot change under it: a new schema gets a new linker): the budget measures tables
// with those renderings, and the linked tables carry them (LinkedTable::prepared) so that the
// prompt does not render them again.
//
// Thread-safety: a SchemaLinker is immutable after construction; Link() is const and safe to
// call concurrently. It shares the (immutable) SchemaIndex it was built over.
#pragma once

#include <array>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "db/data_source.h"
#include "nl2sql/engine/schema_index.h"
#include "nl2sql/prompt/linked_schema.h"

namespace helios::nl2sql::prompt {

// An earlier turn of the conversation.
struct Turn {
  std::string question;
  std::string sql;          // empty when the turn was not answered with SQL
  std::string explanation;  // what the answer said, if known (prompts show it)
};

struct LinkOptions {
  // Size of the rendered schema (RenderSchema without notes), in ApproxTokens.
  size_t token_budget = 1500;
  db::Dialect dialect = db::Dialect::kSqlite;  // the rendering the budget measures
  // A table is linked when its score reaches this share of the best table's score...
  double relative_threshold = 0.2;
  // ...and at least this much (one weak word match scores about 1).
  double min_table_score = 1.0;
  // A table joined by a foreign key to a linked one is linked too when it scores this much.
  double neighbour_threshold = 0.5;
  // Bridge tables come from every join path up to this many steps longer than the shortest
  // (the shortest is not always the meaningful one: students reach courses through their
  // department as well as through their enrolments).
  size_t join_slack = 1;
  // The other tables next to linked ones are added as context while the linked schema stays
  // within this share of the whole schema, or within context_floor_tokens, whichever is more.
  double context_share = 0.2;
  size_t context_floor_tokens = 150;
  // A schema whose whole rendering is at most this many tokens is sent whole, linked tables
  // first.
  size_t small_schema_tokens = 300;
  size_t max_matched_values = 3;  // per column
};

class SchemaLinker {
 public:
  explicit SchemaLinker(std::shared_ptr<const engine::SchemaIndex> index);

  // `history` is oldest first.
  LinkedSchema Link(std::string_view question, std::span<const Turn> history = {},
                    const LinkOptions& options = {}) const;

  const engine::SchemaIndex& index() const { return *index_; }

 private:
  struct Scores;
  // A linked table with every column; `core` marks its keys and the columns the question
  // named, `chosen` those to show. Tables of one group are shown or left out together.
  struct Candidate {
    LinkedTable table;
    std::vector<bool> core;
    std::vector<bool> chosen;
    size_t group = 0;
    bool optional = false;  // a bridge or context table: leaving it out is not worth a note
  };
  static LinkedSchema FitBudget(std::vector<Candidate> candidates, const LinkOptions& options);
  void ScoreText(std::string_view text, double weight, const LinkOptions& options,
                 Scores& scores) const;
  void ScoreSql(std::string_view sql, double weight, Scores& scores) const;
  // Foreign-key steps from the nearest of `from` to every table (kMaxBridges + 2 at most).
  std::vector<size_t> Distances(const std::vector<size_t>& from) const;
  // The tables joining `to` to those in `in`: every table on a path at most `slack` steps
  // longer than the shortest, or when those are many, the shortest path best supported by
  // `scores`. `reachable` is false when no short enough path exists.
  std::vector<size_t> Bridges(const std::vector<bool>& in, size_t to,
                              const std::vector<double>& scores, size_t slack,
                              bool& reachable) const;

  std::shared_ptr<const engine::SchemaIndex> index_;
  std::unordered_map<const db::TableInfo*, size_t> table_pos_;  // by catalog table
  std::vector<std::vector<size_t>> neighbours_;  // undirected foreign-key graph, by position
  // Key of any word of a name (and of a multi-word name run together) -> the tables (column
  // null) and columns with that word.
  std::unordered_map<std::string, std::vector<engine::SchemaTarget>> word_keys_;
  // Longer name words as written, for question words they abbreviate.
  std::unordered_map<std::string, std::vector<engine::SchemaTarget>> prefixes_;
  // The first letters of longer name words, for question words whose stem they are.
  std::unordered_map<std::string, std::vector<engine::SchemaTarget>> stem_prefixes_;
  std::vector<LinkedTable> templates_;  // every table with all its columns, by position
  // The templates rendered, by dialect (db::Dialect's value), then position.
  static constexpr size_t kDialects = 3;
  std::array<std::vector<std::shared_ptr<const PreparedTable>>, kDialects> prepared_;
  std::vector<size_t> table_bytes_;  // rendering of each whole table (SQLite), in bytes
  size_t whole_bytes_ = 0;           // ... and of the whole schema
  // Keys of each table's content words, by position.
  std::vector<std::vector<std::string>> table_words_;
};

}  // namespace helios::nl2sql::prompt
