// The messages sent to a language model when the built-in engine cannot answer: a system
// message with the rules and the linked schema, the caller's examples as earlier exchanges,
// the conversation's recent turns, and the question — or, for a correction round, the SQL
// that failed and the database's error.
//
// The model is asked for one JSON object {"sql": ..., "explanation": ...}: one read-only
// SELECT (or WITH ... SELECT) in the named dialect over the listed tables and columns only, or
// an empty "sql" with the reason in "explanation" when the schema cannot answer. The answer is
// still checked downstream (parser, allow-list, read-only connection); the rules only make a
// usable answer likely.
//
// Output is deterministic: the same input gives the same messages, byte for byte.
// Thread-safety: a PromptBuilder is immutable; Build() is safe to call concurrently.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/data_source.h"
#include "llm/provider.h"
#include "nl2sql/prompt/linked_schema.h"
#include "nl2sql/prompt/schema_linker.h"

namespace helios::nl2sql::prompt {

// "SQLite", "PostgreSQL", "MySQL".
std::string_view DialectName(db::Dialect dialect);

struct Example {
  std::string question;
  std::string sql;
};

// A failed attempt to correct.
struct Correction {
  std::string sql;    // the SQL the model gave
  std::string error;  // what the database (or the checks before it) said
};

struct PromptInput {
  db::Dialect dialect = db::Dialect::kSqlite;
  LinkedSchema schema;
  SchemaNotes notes;              // business descriptions and sample values
  std::vector<Turn> history;      // oldest first; the last few are used
  std::vector<Example> examples;  // question -> SQL pairs chosen by the caller
  std::string question;
  std::optional<Correction> correction;
};

struct PromptOptions {
  // The schema part (tables, columns, descriptions, sample values), in ApproxTokens. The
  // linker already fits the tables and columns; notes are added only while this holds.
  size_t schema_token_budget = 1500;
  size_t max_history_turns = 3;
  size_t max_examples = 5;
  size_t max_samples_per_column = 3;
};

// Builds the messages: the system message (rules, schema, examples), then each recent turn as
// a user question and an assistant answer in the requested JSON form, then the question as the
// last user message. A correction round adds the failed answer and, last, a user message with
// the database's error.
class PromptBuilder {
 public:
  explicit PromptBuilder(PromptOptions options = {}) : options_(options) {}

  std::vector<llm::Message> Build(const PromptInput& input) const;

 private:
  PromptOptions options_;
};

// The JSON answer the model is asked for, as the examples and past turns show it.
std::string AnswerJson(std::string_view sql, std::string_view explanation);

}  // namespace helios::nl2sql::prompt
