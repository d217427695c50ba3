// Re-binding a cached answer to a new question of the same shape (nl2sql/question_shape.h):
// the new question's slot values are put where the cached question's values are in the cached
// query. It refuses (nullopt: a cache miss) whenever a value cannot be placed with certainty:
// a value found nowhere, found in two places ("top 1" when "= 1" is also in the query), a
// place two values claim, a value that also hides inside another literal, or a result that is
// no longer well-formed (for the IR: that sql::Validate refuses). Misses are cheap; a wrong
// answer is not.
//
// Where values are looked for: in the query IR, the LIMIT and every value of every WHERE and
// HAVING predicate, at every depth: those of subqueries, of set operands (UNION, INTERSECT,
// EXCEPT) and of the members of OR groups count like the outer query's, so a value in two of
// them is in two places; in SQL text, every numeric and string literal outside comments and
// quoted identifiers.
//
// How each slot type claims places:
//  - "number": the one place equal to its number (a numeric literal, or a string literal
//    spelling it exactly);
//  - "year" Y: every place equal to Y or "Y", every date in Y ("Y-MM-DD..."), and "(Y+1)-01-01",
//    the end of a calendar range; the year is replaced in the dates and the rest kept;
//  - "date" D: the places equal to D, and D's next day (the end of a one-day range);
//  - "quoted", "value:..." and "entity": the one place equal to the old value ignoring case, or
//    for "quoted" and "entity" the one place containing it (LIKE '%Acme%'). The replacement
//    keeps the case of what it replaces (all lower case stays lower case).
// In the IR a predicate's values are replaced only when the predicate's question words
// (Predicate::phrase; for a nested predicate without words of its own, those of the OR group
// or subquery filter it is in) mention the slot, and all of them or none; the phrases that
// mention it are updated too; a LIMIT stays a positive integer, BETWEEN and calendar ranges
// keep their order, and the numbers of one filter stay all integers or all doubles, as the
// engine writes them.
// In SQL text a derived date (a year's next January 1st, a date's next day) counts only beside
// one it derives from, a row count stays a positive integer, and text that cannot be read
// without knowing the dialect (backslashes in strings, nested comments, '#', dollar quoting) is
// refused. SQL can hold values a model derived from the question's (cities for a country):
// those cannot be seen, which is why the shape leaves percentages and, beside relative periods,
// dates out of its slots.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cache/semantic_cache.h"
#include "sql/ir.h"

namespace helios::nl2sql {

// The cached query with the new values, or nullopt unless every old slot claims its places
// unambiguously (and old and new slots have the same types, slot by slot).
std::optional<sql::Query> RebindQuery(const sql::Query& cached,
                                      const std::vector<cache::Slot>& old_slots,
                                      const std::vector<cache::Slot>& new_slots);

// The same for SQL text (a language model's answer): the literals are rewritten in place, as
// proper literals (numbers plain, strings with quotes doubled); everything else is kept.
std::optional<std::string> RebindSql(std::string_view sql,
                                     const std::vector<cache::Slot>& old_slots,
                                     const std::vector<cache::Slot>& new_slots);

}  // namespace helios::nl2sql
