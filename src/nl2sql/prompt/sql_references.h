// The tables and columns a SQL statement refers to, resolved against a schema catalog: what a
// previous turn's SQL used (so a follow-up's prompt keeps those tables) and what a gold query
// needs (so schema-linking recall can be measured without a full SQL parser).
//
// It is a scanner, not a parser: it reads FROM and JOIN lists (table names and aliases, per
// SELECT, nested SELECTs included), then resolves `alias.column` and bare column names against
// the tables of the SELECT they appear in (or an enclosing one, for correlated subqueries).
// Names that resolve to nothing in the catalog (output aliases, CTE names, functions) are left
// out; so is `*`. Double-quoted text counts as an identifier only when it names a table or
// column, since SQLite (and Spider's gold SQL) also use it for string literals.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "db/schema.h"

namespace helios::nl2sql::prompt {

struct ColumnName {
  std::string table;   // as the catalog spells it
  std::string column;  // as the catalog spells it
  auto operator<=>(const ColumnName&) const = default;
};

struct SqlReferences {
  std::vector<std::string> tables;  // catalog spelling, sorted, unique
  std::vector<ColumnName> columns;  // sorted, unique
};

SqlReferences ExtractReferences(std::string_view sql, const db::SchemaCatalog& catalog);

}  // namespace helios::nl2sql::prompt
