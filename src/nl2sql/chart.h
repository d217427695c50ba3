// The chart of an answer: which kind fits the query and its result (a single figure, a line
// over time, bars over categories, a scatter of two measures, or just the table), and the
// Vega-Lite v6 specification that draws it with its data inline. The server decides the chart;
// the browser only renders the spec.
//
// The rules, in order:
//   - one value                              -> "number" (no spec: the page shows a figure)
//   - a time column and a measure            -> "line" (temporal x when every value is an ISO
//     date or date-time, otherwise ordinal x in the result's order: weeks, quarters, years);
//     with one category beside the time column, one line per category (at most kMaxSeries)
//   - a category and a measure               -> "bar", largest first unless the query ordered
//     the rows itself; more than kMaxBars bars become the top kMaxBars plus, for an additive
//     measure (SUM or COUNT), one "Other" bar holding the sum of the rest
//   - two measures (no category, or a category with too many values for bars) -> "scatter"
//   - anything else                          -> "table" (no spec)
// `note` says in plain English what the chart leaves out.
//
// Thread-safety: these are pure functions of their arguments; safe to call concurrently.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "db/value.h"
#include "nl2sql/service.h"
#include "sql/ir.h"

namespace helios::nl2sql {

// The most bars a bar chart shows before the rest are cut (or added up as "Other").
inline constexpr size_t kMaxBars = 20;
// The most lines a chart over time draws when a category splits it into several.
inline constexpr size_t kMaxSeries = 10;

// The chart for a result. `query` is the IR that produced the result (its select items are the
// result's columns, in order), or null for SQL written by a language model: the chart is then
// chosen from the result's shape alone. `truncated` says the row cap cut the result, which the
// note then mentions.
ChartSuggestion ChooseChart(const sql::Query* query, const std::vector<std::string>& columns,
                            const std::vector<db::Row>& rows, bool truncated = false);

// A column name as a Vega-Lite "field": the characters that field paths give a meaning to
// (. [ ] \ and quotes) are backslash-escaped, so the name is read as one plain key. The spec's
// data rows are keyed by column name, except that there (and so in "field") a backslash
// becomes "/" and a control character or line separator a space: Vega-Lite 6 cannot address
// such a field however it is escaped.
std::string VegaFieldName(std::string_view column);

// A column name as an axis title: underscores become spaces ("sum_total_amount" ->
// "sum total amount"). Vega-Lite copies titles into its tooltip expression, escaping quotes
// but not backslashes or line breaks, so, as in data keys, a backslash becomes "/" and control
// characters and line separators spaces: a column name cannot break out of that string.
std::string AxisTitle(std::string_view column);

}  // namespace helios::nl2sql
