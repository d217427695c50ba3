#include "nl2sql/prompt/sql_references.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <unordered_set>

#include "common/text.h"

namespace helios::nl2sql::prompt {
namespace {

enum class Kind { kIdent, kQuotedIdent, kDoubleQuoted, kString, kNumber, kPunct };

struct Tok {
  Kind kind = Kind::kPunct;
  std::string text;   // identifier without quotes; punctuation as written
  std::string upper;  // bare identifiers only, for keyword tests
};

bool IsIdentStart(unsigned char c) { return std::isalpha(c) || c == '_' || c >= 0x80; }
bool IsIdentChar(unsigned char c) { return std::isalnum(c) || c == '_' || c == '$' || c >= 0x80; }

// Text between `quote`s starting at i (the opening quote), a doubled quote standing for one.
std::string ReadQuoted(std::string_view s, size_t& i, char close) {
  std::string out;
  ++i;
  while (i < s.size()) {
    if (s[i] == close) {
      if (i + 1 < s.size() && s[i + 1] == close && close != ']') {
        out += close;
        i += 2;
        continue;
      }
      ++i;
      return out;
    }
    out += s[i++];
  }
  return out;
}

std::vector<Tok> Scan(std::string_view s) {
  std::vector<Tok> out;
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (std::isspace(c)) {
      ++i;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      const size_t end = s.find("*/", i + 2);
      i = end == std::string_view::npos ? s.size() : end + 2;
    } else if (c == '\'') {
      out.push_back({Kind::kString, ReadQuoted(s, i, '\''), ""});
    } else if (c == '"') {
      out.push_back({Kind::kDoubleQuoted, ReadQuoted(s, i, '"'), ""});
    } else if (c == '`') {
      out.push_back({Kind::kQuotedIdent, ReadQuoted(s, i, '`'), ""});
    } else if (c == '[') {
      out.push_back({Kind::kQuotedIdent, ReadQuoted(s, i, ']'), ""});
    } else if (IsIdentStart(c)) {
      const size_t start = i;
      while (i < s.size() && IsIdentChar(static_cast<unsigned char>(s[i]))) ++i;
      Tok t{Kind::kIdent, std::string(s.substr(start, i - start)), ""};
      for (char ch : t.text)
        t.upper += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      out.push_back(std::move(t));
    } else if (std::isdigit(c)) {
      const size_t start = i;
      while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
      out.push_back({Kind::kNumber, std::string(s.substr(start, i - start)), ""});
    } else {
      out.push_back({Kind::kPunct, std::string(1, static_cast<char>(c)), ""});
      ++i;
    }
  }
  return out;
}

// Reserved words that end a table reference or can never be a column.
bool IsKeyword(const Tok& t) {
  static const std::unordered_set<std::string_view> kWords = {
      "SELECT", "FROM",   "WHERE",  "AND",       "OR",        "NOT",     "IN",      "IS",
      "NULL",   "LIKE",   "GLOB",   "BETWEEN",   "AS",        "ON",      "JOIN",    "INNER",
      "LEFT",   "RIGHT",  "FULL",   "OUTER",     "CROSS",     "NATURAL", "USING",   "GROUP",
      "BY",     "ORDER",  "HAVING", "LIMIT",     "OFFSET",    "ASC",     "DESC",    "DISTINCT",
      "ALL",    "UNION",  "EXCEPT", "CASE",      "WHEN",      "THEN",    "ELSE",    "END",
      "EXISTS", "WITH",   "CAST",   "TRUE",      "FALSE",     "ESCAPE",  "COLLATE", "INTERSECT",
      "ILIKE",  "WINDOW", "OVER",   "PARTITION", "RECURSIVE", "FETCH",   "FIRST",   "ROWS",
      "ONLY",   "NULLS",  "LAST",   "FILTER"};
  return t.kind == Kind::kIdent && kWords.contains(t.upper);
}

bool Is(const Tok& t, std::string_view upper) { return t.kind == Kind::kIdent && t.upper == upper; }
bool IsPunct(const Tok& t, char c) { return t.kind == Kind::kPunct && t.text[0] == c; }
bool IsName(const Tok& t) {
  return (t.kind == Kind::kIdent && !IsKeyword(t)) || t.kind == Kind::kQuotedIdent ||
         t.kind == Kind::kDoubleQuoted;
}

struct Scope {
  int parent = -1;
  int depth = 0;  // parentheses opened inside this SELECT and not yet closed
  bool in_from = false;
  bool in_on = false;
  bool expect_table = false;
  std::vector<const db::TableInfo*> tables;
  // Lowercase alias or table name -> table (null: a name outside the catalog, e.g. a CTE).
  std::map<std::string, const db::TableInfo*> names;
};

struct ColumnMention {
  int scope = 0;
  std::string qualifier;  // empty when bare
  std::string name;
};

class Extractor {
 public:
  Extractor(std::string_view sql, const db::SchemaCatalog& catalog)
      : toks_(Scan(sql)), catalog_(catalog) {}

  SqlReferences Run() {
    scopes_.push_back(Scope{});
    stack_.push_back(0);
    for (size_t i = 0; i < toks_.size(); ++i) i = Step(i);
    return Resolve();
  }

 private:
  Scope& Top() { return scopes_[static_cast<size_t>(stack_.back())]; }
  const Tok* At(size_t i) const { return i < toks_.size() ? &toks_[i] : nullptr; }

  // Handles toks_[i]; returns the index of the last token consumed.
  size_t Step(size_t i) {
    const Tok& t = toks_[i];
    Scope& s = Top();
    if (IsPunct(t, '(')) {
      const Tok* next = At(i + 1);
      if (next && (Is(*next, "SELECT") || Is(*next, "WITH"))) {
        Scope child;
        child.parent = stack_.back();
        scopes_.push_back(child);
        stack_.push_back(static_cast<int>(scopes_.size()) - 1);
      } else {
        ++s.depth;
      }
      return i;
    }
    if (IsPunct(t, ')')) {
      if (s.depth > 0) {
        --s.depth;
      } else if (stack_.size() > 1) {
        stack_.pop_back();
        // A derived table's alias: `FROM (SELECT ...) AS t`.
        Scope& outer = Top();
        if (outer.in_from && !outer.in_on) return SkipAlias(i + 1, nullptr);
      }
      return i;
    }
    if (IsPunct(t, ',')) {
      if (s.in_from && !s.in_on && s.depth == 0) s.expect_table = true;
      return i;
    }
    if (t.kind == Kind::kIdent && IsKeyword(t)) {
      if (t.upper == "FROM" || t.upper == "JOIN") {
        s.in_from = s.expect_table = true;
        s.in_on = false;
      } else if (t.upper == "ON" || t.upper == "USING") {
        s.in_on = true;
        s.expect_table = false;
      } else if (t.upper == "UNION" || t.upper == "INTERSECT" || t.upper == "EXCEPT") {
        // The next SELECT of a compound statement has tables of its own.
        Scope sibling;
        sibling.parent = s.parent;
        sibling.depth = s.depth;
        scopes_.push_back(sibling);
        stack_.back() = static_cast<int>(scopes_.size()) - 1;
      } else if (t.upper == "WHERE" || t.upper == "GROUP" || t.upper == "ORDER" ||
                 t.upper == "HAVING" || t.upper == "LIMIT" || t.upper == "SELECT" ||
                 t.upper == "WINDOW") {
        if (s.depth == 0) s.in_from = s.in_on = s.expect_table = false;
      } else if (t.upper == "AS") {
        // An output alias (`count(*) AS n`) is not a column.
        const Tok* next = At(i + 1);
        if (next && IsName(*next)) return i + 1;
      }
      return i;
    }
    if (s.expect_table && IsName(t)) return ReadTable(i);
    if (!IsName(t)) return i;
    // A function call.
    if (const Tok* next = At(i + 1); next && IsPunct(*next, '(')) return i;
    // qualifier.column (schema.table.column keeps the last two parts).
    size_t end = i;
    std::vector<std::string> parts{t.text};
    while (At(end + 2) && IsPunct(toks_[end + 1], '.') &&
           (IsName(toks_[end + 2]) || IsPunct(toks_[end + 2], '*'))) {
      parts.push_back(toks_[end + 2].text);
      end += 2;
    }
    if (parts.back() == "*") return end;
    ColumnMention m;
    m.scope = stack_.back();
    m.name = parts.back();
    if (parts.size() > 1) m.qualifier = parts[parts.size() - 2];
    mentions_.push_back(std::move(m));
    return end;
  }

  // A table reference at toks_[i]: [schema.]name [[AS] alias].
  size_t ReadTable(size_t i) {
    Scope& s = Top();
    s.expect_table = false;
    size_t end = i;
    while (At(end + 2) && IsPunct(toks_[end + 1], '.') && IsName(toks_[end + 2])) end += 2;
    const std::string& name = toks_[end].text;
    const db::TableInfo* table = catalog_.FindTable(name);
    if (table) {
      if (std::find(s.tables.begin(), s.tables.end(), table) == s.tables.end())
        s.tables.push_back(table);
      tables_.insert(table->name);
    }
    s.names[text::ToLower(name)] = table;
    return SkipAlias(end + 1, table);
  }

  // An optional `[AS] alias` at toks_[i]; returns the index of the last token consumed.
  size_t SkipAlias(size_t i, const db::TableInfo* table) {
    size_t k = i;
    if (At(k) && Is(toks_[k], "AS")) ++k;
    if (At(k) && IsName(toks_[k]) && toks_[k].kind != Kind::kDoubleQuoted) {
      Top().names[text::ToLower(toks_[k].text)] = table;
      return k;
    }
    if (At(k) && toks_[k].kind == Kind::kDoubleQuoted && k > i) {
      Top().names[text::ToLower(toks_[k].text)] = table;
      return k;
    }
    return i - 1;
  }

  SqlReferences Resolve() {
    std::set<ColumnName> columns;
    for (const ColumnMention& m : mentions_) {
      if (!m.qualifier.empty()) {
        const db::TableInfo* table = FindQualifier(m.scope, text::ToLower(m.qualifier));
        if (!table) continue;
        if (const db::ColumnInfo* c = table->FindColumn(m.name))
          columns.insert({table->name, c->name});
        continue;
      }
      // The innermost SELECT whose tables have the column; all of them when several do (a
      // USING or NATURAL join), since the statement ran.
      for (int scope = m.scope; scope >= 0; scope = scopes_[static_cast<size_t>(scope)].parent) {
        bool found = false;
        for (const db::TableInfo* table : scopes_[static_cast<size_t>(scope)].tables) {
          if (const db::ColumnInfo* c = table->FindColumn(m.name)) {
            columns.insert({table->name, c->name});
            found = true;
          }
        }
        if (found) break;
      }
    }
    SqlReferences out;
    out.tables.assign(tables_.begin(), tables_.end());
    out.columns.assign(columns.begin(), columns.end());
    return out;
  }

  const db::TableInfo* FindQualifier(int scope, const std::string& lower) const {
    for (; scope >= 0; scope = scopes_[static_cast<size_t>(scope)].parent) {
      const Scope& s = scopes_[static_cast<size_t>(scope)];
      if (auto it = s.names.find(lower); it != s.names.end()) return it->second;
    }
    // A qualifier naming a catalog table that no FROM introduced in view (compound statements
    // and sibling scopes): accept the table itself.
    return catalog_.FindTable(lower);
  }

  std::vector<Tok> toks_;
  const db::SchemaCatalog& catalog_;
  std::vector<Scope> scopes_;
  std::vector<int> stack_;
  std::vector<ColumnMention> mentions_;
  std::set<std::string> tables_;
};

}  // namespace

SqlReferences ExtractReferences(std::string_view sql, const db::SchemaCatalog& catalog) {
  return Extractor(sql, catalog).Run();
}

}  // namespace helios::nl2sql::prompt
