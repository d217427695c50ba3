// Calendar expressions in questions: "in 2024", "in Q3 2024", "March 2024", "before 2024",
// "since June 2023", "last year", "this month", "in the last 30 days", "between 2022 and 2023".
// Relative expressions are resolved against `today`, which comes from the injected clock.
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "nl2sql/engine/tokenizer.h"

namespace helios::nl2sql::engine {

// A half-open period [begin, end) of ISO dates ("2024-01-01"); an empty side is open.
struct DateRange {
  std::string begin;
  std::string end;
};

// Reads a date expression starting at tokens[i]. Returns how many tokens it used (0: none).
// `default_year` completes a period named without a year ("Q2", "in March"); 0 means the
// most recent such period up to today. In a follow-up it is the year the conversation is about.
size_t ParseDateExpression(const std::vector<Token>& tokens, size_t i,
                           std::chrono::year_month_day today, int default_year, DateRange* out);

std::string IsoDate(std::chrono::year_month_day d);

}  // namespace helios::nl2sql::engine
