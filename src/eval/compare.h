// Execution accuracy (EX) of text-to-SQL benchmarks: an answer's result is compared with a gold
// result by the rows, not by the SQL text. Every gold column must be found among the answer's
// columns (the answer may show extra ones, such as an id beside a name), the row counts must be
// equal, and the rows projected onto the matched columns must be equal as a multiset, or as a
// sequence when the gold query orders its rows. Numbers compare with a relative tolerance.
// Thread-safety: free functions without shared state.
#pragma once

#include <string>
#include <vector>

#include "db/value.h"

namespace helios::eval {

struct ResultTable {
  std::vector<std::string> columns;
  std::vector<db::Row> rows;
};

// Empty when they match; otherwise a description of the first difference.
std::string CompareResults(const ResultTable& gold, const ResultTable& got, bool ordered);

// True when the SQL text has a top-level ORDER BY (the result's order then matters).
bool HasOrderBy(const std::string& sql);

}  // namespace helios::eval
