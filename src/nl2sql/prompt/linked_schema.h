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

struct LinkedTable {
  std::string name;
  std::vector<LinkedColumn> columns;  // in the table's declared order
  size_t omitted_columns = 0;         // left out to fit the budget
  double score = 0;
  bool bridge = false;  // included only because it joins other linked tables
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

}  // namespace helios::nl2sql::prompt
