// Spider's difficulty classes (easy, medium, hard, extra) of a gold SQL query, by the rules of
// the official evaluation's eval_hardness, read from PostgreSQL's parse tree (libpg_query).
// Thread-safety: free functions without shared state (libpg_query keeps its memory per thread).
#pragma once

#include <string>
#include <string_view>

namespace helios::eval {

// kUnknown: the parser could not read the query (SQLite-only syntax such as backquotes).
enum class Difficulty { kEasy, kMedium, kHard, kExtra, kUnknown };

std::string_view DifficultyName(Difficulty d);

// The counts the rules look at, taken from the outermost SELECT (the left-most one of a set
// operation), as eval_hardness does.
struct HardnessCounts {
  // WHERE, GROUP BY, ORDER BY, LIMIT present; each table beyond the first in FROM; each OR and
  // each LIKE in the join, WHERE and HAVING conditions.
  int component1 = 0;
  // Subqueries in those conditions, plus one for an EXCEPT, UNION or INTERSECT.
  int component2 = 0;
  // More than one aggregate; more than one select column; more than one WHERE condition; more
  // than one GROUP BY column (each adds one).
  int others = 0;
};

// The class from the counts (eval_hardness's thresholds).
Difficulty ClassifyCounts(const HardnessCounts& counts);

// The counts of `sql`, or false when libpg_query cannot parse it or it is not one SELECT.
bool CountHardness(const std::string& sql, HardnessCounts& counts);

// ClassifyCounts(CountHardness(sql)), kUnknown when the query cannot be read.
Difficulty ClassifySpider(const std::string& sql);

}  // namespace helios::eval
