#include "nl2sql/prompt/prompt_builder.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace helios::nl2sql::prompt {
namespace {

std::string_view QuoteRule(db::Dialect dialect) {
  return dialect == db::Dialect::kMysql ? "backquotes (`like this`)"
                                        : "double quotes (\"like this\")";
}

// What differs between the dialects where models most often slip: dates and intervals, text
// matching, integer division, booleans and row limits.
std::string_view DialectRules(db::Dialect dialect) {
  switch (dialect) {
    case db::Dialect::kSqlite:
      return "- Dates are ISO-8601 text: use date('now', '-1 month'), strftime('%Y-%m', col) and "
             "compare with '2024-01-01'; there is no INTERVAL.\n"
             "- Match text case-insensitively with LIKE (ASCII) or col = 'x' COLLATE NOCASE.\n"
             "- Integer / integer truncates: write 1.0 * a / b for a fraction.\n"
             "- Yes/no columns hold 1 and 0. Limit rows with LIMIT n.\n";
    case db::Dialect::kPostgres:
      return "- Dates: CURRENT_DATE - INTERVAL '1 month', date_trunc('month', col), "
             "EXTRACT(YEAR FROM col), to_char(col, 'YYYY-MM'); compare with DATE '2024-01-01'.\n"
             "- Match text case-insensitively with ILIKE.\n"
             "- Integer / integer truncates: write a::numeric / b for a fraction; ROUND(x, 2) "
             "needs "
             "a numeric x.\n"
             "- Boolean columns take TRUE and FALSE. Limit rows with LIMIT n.\n";
    case db::Dialect::kMysql:
      return "- Dates: CURDATE() - INTERVAL 1 MONTH, DATE_FORMAT(col, '%Y-%m'), YEAR(col), "
             "QUARTER(col); compare with '2024-01-01'.\n"
             "- Text comparisons follow the column's collation (usually case-insensitive); use "
             "LOWER(col) LIKE LOWER('%x%') to be sure.\n"
             "- a / b is already a decimal division; DIV truncates.\n"
             "- BOOLEAN columns are tinyint(1): compare with TRUE/FALSE or 1/0. Limit rows with "
             "LIMIT n (never TOP or FETCH FIRST).\n";
  }
  return "";
}

std::string SystemMessage(const PromptInput& in, const PromptOptions& o) {
  const std::string_view dialect = DialectName(in.dialect);
  SchemaRenderOptions render;
  render.dialect = in.dialect;
  render.notes = &in.notes;
  render.token_budget = o.schema_token_budget;
  render.max_samples_per_column = o.max_samples_per_column;
  std::string schema = RenderSchema(in.schema, render);

  std::string s = fmt::format(
      "You write SQL for a {0} database to answer a user's question.\n"
      "\n"
      "Rules:\n"
      "- Reply with one JSON object and nothing else: {{\"sql\": \"...\", \"explanation\": "
      "\"...\"}}.\n"
      "- \"sql\" is one read-only {0} statement: a SELECT, or WITH ... SELECT. Never write "
      "INSERT, UPDATE, DELETE, MERGE, DDL or more than one statement.\n"
      "- Use only the tables and columns listed below, spelled as listed; quote a name that "
      "needs it with {1}.\n"
      "- Comments in the schema show stored values; compare with values as stored.\n"
      "{3}"
      "- \"explanation\" says in one or two plain sentences what the query returns and any "
      "assumption made.\n"
      "- If the question cannot be answered from these tables and columns, set \"sql\" to \"\" "
      "and say why in \"explanation\".\n"
      "\n"
      "Schema:\n"
      "{2}",
      dialect, QuoteRule(in.dialect), schema, DialectRules(in.dialect));
  const size_t examples = std::min(in.examples.size(), o.max_examples);
  if (examples > 0) {
    s += "\nExamples of questions and their SQL on this database:\n";
    for (size_t i = 0; i < examples; ++i)
      s += fmt::format("Question: {}\nSQL: {}\n", in.examples[i].question, in.examples[i].sql);
  }
  return s;
}

}  // namespace

std::string_view DialectName(db::Dialect dialect) {
  switch (dialect) {
    case db::Dialect::kSqlite:
      return "SQLite";
    case db::Dialect::kPostgres:
      return "PostgreSQL";
    case db::Dialect::kMysql:
      return "MySQL";
  }
  return "SQL";
}

std::string AnswerJson(std::string_view sql, std::string_view explanation) {
  nlohmann::ordered_json j;
  j["sql"] = std::string(sql);
  j["explanation"] = std::string(explanation);
  // Invalid UTF-8 (from a caller) is replaced rather than thrown on.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<llm::Message> PromptBuilder::Build(const PromptInput& in) const {
  using llm::Role;
  std::vector<llm::Message> out;
  out.push_back({Role::kSystem, SystemMessage(in, options_)});
  const size_t n = in.history.size();
  const size_t first = n > options_.max_history_turns ? n - options_.max_history_turns : 0;
  for (size_t i = first; i < n; ++i) {
    const Turn& t = in.history[i];
    out.push_back({Role::kUser, t.question});
    out.push_back({Role::kAssistant, AnswerJson(t.sql, t.explanation)});
  }
  out.push_back({Role::kUser, in.question});
  if (in.correction) {
    out.push_back({Role::kAssistant, AnswerJson(in.correction->sql, "")});
    out.push_back(
        {Role::kUser,
         fmt::format("That SQL failed with this error:\n{}\nReply with corrected SQL in the same "
                     "JSON form, or with an empty \"sql\" and the reason if the question cannot "
                     "be answered from the schema.",
                     in.correction->error)});
  }
  return out;
}

}  // namespace helios::nl2sql::prompt
