// Finding the SQL in a model's answer (see sql_extract.h).
#include "llm/sql_extract.h"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "common/text.h"
#include "llm/wire.h"

namespace helios::llm {
namespace {

using nlohmann::json;

// Explanations are shown to the person who asked; a model that rambles is cut short.
constexpr size_t kMaxExplanationBytes = 2000;
// How many '{' to try as the start of an embedded JSON object.
constexpr int kMaxObjectStarts = 32;

struct Fence {
  std::string lang;     // lowercase, "" when untagged
  std::string content;  // between the opening line and the closing fence
  size_t begin = 0;     // offset of the opening ```
  size_t end = 0;       // offset just past the closing ``` (or the text's end)
  bool closed = true;
};

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::vector<Fence> FindFences(std::string_view text) {
  std::vector<Fence> fences;
  size_t pos = 0;
  while ((pos = text.find("```", pos)) != std::string_view::npos) {
    Fence fence;
    fence.begin = pos;
    const size_t line_end = text.find('\n', pos + 3);
    const std::string_view tag = text.substr(
        pos + 3, (line_end == std::string_view::npos ? text.size() : line_end) - (pos + 3));
    fence.lang = text::ToLower(text::Trim(tag));
    const size_t body = line_end == std::string_view::npos ? text.size() : line_end + 1;
    const size_t close = text.find("```", body);
    if (close == std::string_view::npos) {
      fence.content = std::string(text.substr(body));
      fence.end = text.size();
      fence.closed = false;
      fences.push_back(std::move(fence));
      break;
    }
    fence.content = std::string(text.substr(body, close - body));
    fence.end = close + 3;
    fences.push_back(std::move(fence));
    pos = close + 3;
  }
  return fences;
}

// The offset just past the '}' closing the object that opens at `start`; npos when it never
// closes (a cut-off answer).
size_t ObjectEnd(std::string_view text, size_t start) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (size_t i = start; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string_view::npos;
}

// The SQL member of an answer object, found by its usual names.
const json* SqlMember(const json& object) {
  for (const char* key : {"sql", "SQL", "query", "sql_query"}) {
    const auto it = object.find(key);
    if (it != object.end()) return &*it;
  }
  return nullptr;
}

std::string ExplanationMember(const json& object) {
  for (const char* key : {"explanation", "reason", "message", "error"}) {
    if (std::string value = wire::String(object, key); !text::Trim(value).empty()) {
      return text::Trim(value);
    }
  }
  return "";
}

// Removes ```sql fences a model may put inside the JSON string, and the trailing ';'.
std::string CleanSql(std::string_view sql) {
  std::string cleaned = text::Trim(sql);
  if (text::StartsWith(cleaned, "```")) {
    const auto fences = FindFences(cleaned);
    if (!fences.empty()) cleaned = text::Trim(fences.front().content);
  }
  while (!cleaned.empty() && (cleaned.back() == ';' || IsSpace(cleaned.back()))) {
    cleaned.pop_back();
  }
  return cleaned;
}

std::string Explanation(std::string_view before, std::string_view after) {
  std::string joined = text::Trim(before);
  const std::string tail = text::Trim(after);
  if (!joined.empty() && !tail.empty()) joined += "\n";
  joined += tail;
  if (joined.size() > kMaxExplanationBytes) joined = wire::Shorten(joined, kMaxExplanationBytes);
  return joined;
}

Error NotUnderstood(std::string message) {
  return Error(ErrorCode::kNotUnderstood, std::move(message));
}

Error Declined(std::string_view why) {
  if (why.empty()) return NotUnderstood("the language model wrote no SQL for this question");
  return NotUnderstood(
      fmt::format("the language model wrote no SQL for this question: \"{}\"", wire::Shorten(why)));
}

// A JSON answer. nullopt: no JSON object with a SQL member here (look for other forms).
std::optional<Result<GeneratedSql>> FromJson(std::string_view text,
                                             const std::vector<Fence>& fences) {
  std::vector<std::string> candidates;
  candidates.emplace_back(text);
  for (const Fence& fence : fences) {
    const std::string content = text::Trim(fence.content);
    if (fence.closed && text::StartsWith(content, "{")) candidates.push_back(content);
  }
  int starts = 0;
  for (size_t pos = text.find('{'); pos != std::string_view::npos && starts < kMaxObjectStarts;
       pos = text.find('{', pos + 1), ++starts) {
    const size_t end = ObjectEnd(text, pos);
    if (end != std::string_view::npos) candidates.emplace_back(text.substr(pos, end - pos));
  }

  for (const std::string& candidate : candidates) {
    const auto parsed = wire::ParseJson(candidate);
    if (!parsed || !parsed->is_object()) continue;
    const json* sql = SqlMember(*parsed);
    if (sql == nullptr) continue;
    const std::string explanation = ExplanationMember(*parsed);
    if (sql->is_null() || (sql->is_string() && CleanSql(sql->get<std::string>()).empty())) {
      return Result<GeneratedSql>(std::unexpected(Declined(explanation)));
    }
    if (!sql->is_string()) continue;
    GeneratedSql generated{CleanSql(sql->get<std::string>()), explanation};
    if (generated.explanation.size() > kMaxExplanationBytes) {
      generated.explanation = wire::Shorten(generated.explanation, kMaxExplanationBytes);
    }
    return Result<GeneratedSql>(std::move(generated));
  }
  return std::nullopt;
}

// True when the text opens a JSON object with a SQL member: if no complete object was found,
// the answer was cut off or is malformed, and the SQL inside must not be run.
bool OpensSqlObject(std::string_view text) {
  for (size_t pos = text.find('{'); pos != std::string_view::npos; pos = text.find('{', pos + 1)) {
    size_t i = pos + 1;
    while (i < text.size() && IsSpace(text[i])) ++i;
    const std::string_view rest = text.substr(i);
    for (std::string_view key : {"\"sql\"", "\"SQL\"", "\"query\"", "\"sql_query\""}) {
      if (text::StartsWith(rest, key)) return true;
    }
  }
  return false;
}

bool IsSqlLang(std::string_view lang) {
  static constexpr std::array<std::string_view, 8> kLangs = {
      "sql", "sqlite", "sqlite3", "postgresql", "postgres", "pgsql", "psql", "mysql"};
  for (std::string_view known : kLangs) {
    if (lang == known) return true;
  }
  return false;
}

bool StartsWithKeyword(std::string_view s, std::string_view keyword) {
  return s.size() > keyword.size() &&
         text::EqualsIgnoreCase(s.substr(0, keyword.size()), keyword) &&
         !IsWordChar(s[keyword.size()]);
}

bool LooksLikeStatement(std::string_view s) {
  const std::string trimmed = text::Trim(s);
  return StartsWithKeyword(trimmed, "select") || StartsWithKeyword(trimmed, "with");
}

// The end of the statement starting at `start`: the first ';' outside quotes, a blank line, a
// fence, or the end of the text.
size_t StatementEnd(std::string_view text, size_t start) {
  char quote = 0;
  for (size_t i = start; i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"' || c == '`') {
      if (text.substr(i, 3) == "```") return i;
      quote = c;
    } else if (c == ';') {
      return i;
    } else if (c == '\n') {
      size_t j = i + 1;
      while (j < text.size() && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r')) ++j;
      if (j < text.size() && text[j] == '\n') return i;
    }
  }
  return text.size();
}

// A statement that reads like SQL rather than English: WITH must define a table
// ("name AS ("), and a lowercase select must select FROM something.
bool PlausibleStatement(std::string_view statement, bool capitals) {
  const std::string lower = text::ToLower(statement);
  if (StartsWithKeyword(lower, "with")) {
    const size_t as = lower.find(" as");
    if (as == std::string::npos) return false;
    size_t i = as + 3;
    while (i < lower.size() && IsSpace(lower[i])) ++i;
    return i < lower.size() && lower[i] == '(' && lower.find("select") != std::string::npos;
  }
  if (capitals) return true;
  return lower.find(" from ") != std::string::npos || lower.find("\nfrom ") != std::string::npos;
}

std::optional<GeneratedSql> BareStatement(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (i > 0 && IsWordChar(text[i - 1])) continue;
    const std::string_view rest = text.substr(i);
    const bool select = StartsWithKeyword(rest, "select");
    const bool with = !select && StartsWithKeyword(rest, "with");
    if (!select && !with) continue;
    const std::string_view word = rest.substr(0, select ? 6 : 4);
    const bool capitals = word == "SELECT" || word == "WITH";
    size_t line_start = i;
    while (line_start > 0 && (text[line_start - 1] == ' ' || text[line_start - 1] == '\t')) {
      --line_start;
    }
    const bool starts_line = line_start == 0 || text[line_start - 1] == '\n';
    if (!capitals && !starts_line) continue;
    const size_t end = StatementEnd(text, i);
    const std::string_view statement = text.substr(i, end - i);
    if (!PlausibleStatement(statement, capitals)) continue;
    size_t after = end;
    if (after < text.size() && text[after] == ';') ++after;
    return GeneratedSql{CleanSql(statement),
                        Explanation(text.substr(0, line_start), text.substr(after))};
  }
  return std::nullopt;
}

}  // namespace

Result<GeneratedSql> ExtractSql(std::string_view input) {
  const std::string text = text::Trim(input);
  if (text.empty())
    return std::unexpected(NotUnderstood("the language model gave an empty answer"));
  const std::vector<Fence> fences = FindFences(text);

  if (auto from_json = FromJson(text, fences)) return std::move(*from_json);
  if (OpensSqlObject(text)) {
    return std::unexpected(NotUnderstood(
        "the language model's answer was cut off or is not valid JSON, so its SQL was not used"));
  }

  for (const Fence& fence : fences) {
    if (!IsSqlLang(fence.lang) && !(fence.lang.empty() && LooksLikeStatement(fence.content))) {
      continue;
    }
    if (!fence.closed) {
      return std::unexpected(NotUnderstood(
          "the language model's answer was cut off in the middle of its SQL, so it was not used"));
    }
    std::string sql = CleanSql(fence.content);
    if (sql.empty()) continue;
    return GeneratedSql{std::move(sql), Explanation(std::string_view(text).substr(0, fence.begin),
                                                    std::string_view(text).substr(fence.end))};
  }

  if (auto bare = BareStatement(text)) return std::move(*bare);

  return std::unexpected(NotUnderstood(
      fmt::format("the language model did not write SQL: \"{}\"", wire::Shorten(text))));
}

}  // namespace helios::llm
