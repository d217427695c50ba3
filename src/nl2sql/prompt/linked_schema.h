// The part of a database's schema that goes into a prompt, and how it is written there:
// compact CREATE TABLE statements with types, primary keys, foreign-key references, and
// comments for business descriptions, sample values and the stored values a question named.
// The rendering is deterministic (same input, same bytes) and its size is the measure the
// token budget uses: approximately one token per four bytes.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "db/data_source.h"
#include "db/schema.h"

namespace helios::nl2sql::prompt {

struct LinkedColumn {
  std::string name;
  std::string type;  // the declared type; empty when the database declares none
  bool primary_key = false;
  std::string ref_table, ref_column;        // the foreign key it is, if any
  std::vector<std::string> matched_values;  // stored values the question names, as stored
  double score = 0;                         // relevance to the question (0: none found)
};

struct PreparedTable;

struct LinkedTable {
  std::string name;
  std::vector<LinkedColumn> columns;  // in the table's declared order
  size_t omitted_columns = 0;         // left out to fit the budget
  double score = 0;
  bool bridge = false;  // included only because it joins other linked tables
  // This table with all its columns, already rendered (PrepareTable): RenderSchema and
  // TableBytes use it in place of quoting its names and writing its columns again. Set by
  // SchemaLinker; whoever changes `name` or `columns` of a table carrying one must reset it.
  // Used only where it applies: same dialect, same number of columns.
  std::shared_ptr<const PreparedTable> prepared;
};

struct LinkedSchema {
  std::vector<LinkedTable> tables;  // most relevant first
  size_t omitted_tables = 0;        // relevant tables left out to fit the budget
};

// What the caller knows beyond the catalog, keyed by "table" or "table.column" (matched
// case-insensitively). Only entries for linked tables and columns are rendered.
struct SchemaNotes {
  std::map<std::string, std::string> descriptions;
  std::map<std::string, std::vector<std::string>> sample_values;
};

// Approximate tokens of a text: bytes / 4, rounded up.
inline size_t ApproxTokens(std::string_view text) { return (text.size() + 3) / 4; }

// Every table and column of the catalog, in catalog order: the baseline a linked schema is
// compared with.
LinkedSchema WholeSchema(const db::SchemaCatalog& catalog);

struct SchemaRenderOptions {
  db::Dialect dialect = db::Dialect::kSqlite;  // identifier and literal quoting
  const SchemaNotes* notes = nullptr;
  // Notes (descriptions, sample values) are added, most relevant table first, only while the
  // rendering stays within this many tokens; the tables and columns themselves always are.
  size_t token_budget = static_cast<size_t>(-1);
  size_t max_samples_per_column = 3;
  size_t max_note_bytes = 160;  // a longer description or value is cut, with "..."
};

std::string RenderSchema(const LinkedSchema& schema, const SchemaRenderOptions& options = {});

// A table with all its columns, rendered once in one dialect for the renderings to come (the
// schema linker prepares every table of its schema at construction, since the schema does not
// change for its lifetime). Everything but the comments (matched values, notes), which depend
// on the question.
struct PreparedTable {
  db::Dialect dialect = db::Dialect::kSqlite;
  std::string name;                // quoted
  std::vector<std::string> items;  // the columns, then any composite PRIMARY KEY (...)
  // Per column: the bytes of its item without " PRIMARY KEY" (which a primary-key column gets
  // when it is the only one shown), and of its quoted name (a composite key lists them).
  std::vector<size_t> column_bytes;
  std::vector<size_t> name_bytes;
  size_t bytes = 0;  // RenderSchema of the table alone, without comments
  // The keys its notes are found by (SchemaNotes): "table" and each "table.column", lowercase.
  std::string note_key;
  std::vector<std::string> column_note_keys;
};

PreparedTable PrepareTable(const LinkedTable& table, db::Dialect dialect);

// RenderSchema(a schema of `table` alone, {dialect}).size(), without rendering it. With `shown`
// (one flag per column), as if only the flagged columns were in `table.columns` and the others
// counted in `omitted_columns`.
size_t TableBytes(const LinkedTable& table, db::Dialect dialect,
                  const std::vector<bool>* shown = nullptr);

}  // namespace helios::nl2sql::prompt
