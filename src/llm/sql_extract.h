// Reading SQL out of a language model's answer. Models are asked for a JSON object
// {"sql": "...", "explanation": "..."}, but they wrap it in ```json fences, put prose around it,
// answer with a ```sql block instead, or write a bare statement; and sometimes they decline.
//
// ExtractSql looks, in this order, for:
//   1. a JSON object with a "sql" member (also spelled "query"): the whole text, inside a fence,
//      or embedded in prose. {"sql": null or "", "explanation": why} is a refusal.
//   2. a fenced block tagged sql (or sqlite, postgresql, mysql, ...), or an untagged fence that
//      holds a SELECT or WITH statement; the text around it is the explanation.
//   3. a bare SELECT or WITH statement (the keyword in capitals, or starting a line), up to a
//      ';', a blank line or the end; the text around it is the explanation.
// The SQL is trimmed and loses its trailing ';'. It is not checked here: the caller validates it
// like any generated SQL.
//
// kNotUnderstood, with the model's own words shortened as the reason, when the answer holds no
// SQL, is a refusal, or is cut off (a JSON object that opens a "sql" member but never closes, a
// ```sql fence that never closes): never a crash, never half a statement.
//
// Thread-safety: a pure function.
#pragma once

#include <string>
#include <string_view>

#include "common/error.h"

namespace helios::llm {

struct GeneratedSql {
  std::string sql;
  std::string explanation;  // may be empty
};

Result<GeneratedSql> ExtractSql(std::string_view text);

}  // namespace helios::llm
