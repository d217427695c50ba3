#include "security/mysql_guard.h"

#include <fmt/format.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/text.h"

namespace helios::security {
namespace {

constexpr size_t kMaxSqlBytes = 1'000'000;
constexpr size_t kNone = static_cast<size_t>(-1);

// ---------------------------------------------------------------------------------------------
// The lexer.

enum class Kind {
  kWord,         // keyword or bare name; text holds it lowercased
  kQuotedIdent,  // `name`; text holds the name, unquoted and lowercased
  kString,       // '...' or "..."; text holds '"' for the latter (a name under ANSI_QUOTES)
  kNumber,
  kVariable,  // @ or @@ (the name that follows is a separate token)
  kParam,     // ?
  kAssign,    // :=
  kOp,        // punctuation and operators; text holds it
};

struct Token {
  Kind kind = Kind::kOp;
  size_t begin = 0;  // byte offsets into the checked text
  size_t end = 0;
  std::string text;
};

bool IsSpace(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
// MySQL's unquoted names: ASCII letters, digits, '_', '$' and every non-ASCII character.
bool IsIdentStart(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' || c >= 0x80;
}
bool IsIdentChar(unsigned char c) { return IsIdentStart(c) || IsDigit(c); }

std::unexpected<Error> Unsafe(std::string message) {
  return Fail(ErrorCode::kUnsafeSql, std::move(message));
}
std::unexpected<Error> Unparsable(std::string_view why) {
  return Unsafe(fmt::format("the SQL does not parse: {}", why));
}

// True when the last token can end an operand, so that a following '.' qualifies a name
// ("t.5" is never the number .5).
bool EndsOperand(const std::vector<Token>& tokens) {
  if (tokens.empty()) return false;
  const Token& last = tokens.back();
  return last.kind == Kind::kWord || last.kind == Kind::kQuotedIdent ||
         (last.kind == Kind::kOp && last.text == ")");
}

Result<std::vector<Token>> Lex(std::string_view s) {
  std::vector<Token> tokens;
  const size_t n = s.size();
  auto at = [&](size_t k) -> unsigned char { return k < n ? static_cast<unsigned char>(s[k]) : 0; };
  size_t i = 0;
  while (i < n) {
    const unsigned char c = at(i);
    if (IsSpace(c)) {
      ++i;
      continue;
    }
    if (c < 0x20 || c == 0x7f) return Unsafe("the SQL contains a control character");

    // Comments. "--" starts one only when followed by whitespace; "#" and "--" run to the end
    // of the line, which only '\n' ends (as in the server's lexer).
    if (c == '#' || (c == '-' && at(i + 1) == '-' && IsSpace(at(i + 2)))) {
      const size_t eol = s.find('\n', i);
      i = eol == std::string_view::npos ? n : eol + 1;
      continue;
    }
    if (c == '/' && at(i + 1) == '*') {
      if (at(i + 2) == '!' || ((at(i + 2) == 'M' || at(i + 2) == 'm') && at(i + 3) == '!'))
        return Unsafe(
            "executable comments (/*! ... */) are not allowed: the server runs what they hold");
      if (at(i + 2) == '+') return Unsafe("optimizer hints (/*+ ... */) are not allowed");
      const size_t close = s.find("*/", i + 2);
      if (close == std::string_view::npos) return Unparsable("a comment is not closed");
      // MySQL and MariaDB end a comment at the first "*/"; a reader that nests would see a
      // different statement, so the ambiguity is refused.
      if (s.substr(i + 2, close - i - 2).find("/*") != std::string_view::npos)
        return Unsafe("a comment inside a comment is not allowed");
      i = close + 2;
      continue;
    }

    // Strings: a backslash escapes the next byte (UTF-8 never has '\'' or '\\' inside a
    // multi-byte character) and a doubled quote stands for itself.
    if (c == '\'' || c == '"') {
      size_t k = i + 1;
      bool closed = false;
      while (k < n) {
        const unsigned char d = at(k);
        if (d == '\\') {
          k += 2;
        } else if (d == c && at(k + 1) == c) {
          k += 2;
        } else if (d == c) {
          closed = true;
          break;
        } else {
          ++k;
        }
      }
      if (!closed) return Unparsable("a quoted string is not closed");
      tokens.push_back({Kind::kString, i, k + 1, c == '"' ? "\"" : "'"});
      i = k + 1;
      continue;
    }
    if (c == '`') {
      std::string name;
      size_t k = i + 1;
      bool closed = false;
      while (k < n) {
        if (at(k) == '`' && at(k + 1) == '`') {
          name += '`';
          k += 2;
        } else if (at(k) == '`') {
          closed = true;
          break;
        } else {
          name += s[k++];
        }
      }
      if (!closed) return Unparsable("a quoted name is not closed");
      tokens.push_back({Kind::kQuotedIdent, i, k + 1, text::ToLower(name)});
      i = k + 1;
      continue;
    }
    if (c == '@') {
      const size_t k = at(i + 1) == '@' ? i + 2 : i + 1;
      tokens.push_back({Kind::kVariable, i, k, std::string(s.substr(i, k - i))});
      i = k;
      continue;
    }

    // Numbers: 12, 1.5, .5, 1e-3, 0x1F, 0b101. Digits followed by letters make a name ("1st").
    if (IsDigit(c) || (c == '.' && IsDigit(at(i + 1)) && !EndsOperand(tokens))) {
      size_t k = i;
      bool plain = true;  // only digits so far
      if (c == '0' &&
          (at(i + 1) == 'x' || at(i + 1) == 'X' || at(i + 1) == 'b' || at(i + 1) == 'B')) {
        k = i + 2;
        while (IsIdentChar(at(k))) ++k;
        plain = false;
      } else {
        while (IsDigit(at(k))) ++k;
        if (at(k) == '.') {
          plain = false;
          ++k;
          while (IsDigit(at(k))) ++k;
        }
        if ((at(k) == 'e' || at(k) == 'E') &&
            (IsDigit(at(k + 1)) ||
             ((at(k + 1) == '+' || at(k + 1) == '-') && IsDigit(at(k + 2))))) {
          plain = false;
          k += 2;
          while (IsDigit(at(k))) ++k;
        }
      }
      if (plain && IsIdentChar(at(k))) {
        while (IsIdentChar(at(k))) ++k;
        tokens.push_back({Kind::kWord, i, k, text::ToLower(s.substr(i, k - i))});
      } else {
        tokens.push_back({Kind::kNumber, i, k, ""});
      }
      i = k;
      continue;
    }
    if (IsIdentStart(c)) {
      size_t k = i;
      while (IsIdentChar(at(k))) ++k;
      tokens.push_back({Kind::kWord, i, k, text::ToLower(s.substr(i, k - i))});
      i = k;
      continue;
    }
    if (c == '?') {
      tokens.push_back({Kind::kParam, i, i + 1, "?"});
      ++i;
      continue;
    }

    // Operators, longest first.
    static constexpr std::string_view kLong[] = {
        "<=>", "->>", "<=", ">=", "<>", "!=", "<<", ">>", "||", "&&", "->", ":="};
    bool matched = false;
    for (std::string_view op : kLong) {
      if (s.substr(i, op.size()) == op) {
        tokens.push_back(
            {op == ":=" ? Kind::kAssign : Kind::kOp, i, i + op.size(), std::string(op)});
        i += op.size();
        matched = true;
        break;
      }
    }
    if (matched) continue;
    static constexpr std::string_view kSingle = "(),;.+-*/%=<>!~^&|{}:";
    if (kSingle.find(static_cast<char>(c)) != std::string_view::npos) {
      tokens.push_back({Kind::kOp, i, i + 1, std::string(1, static_cast<char>(c))});
      ++i;
      continue;
    }
    return Unparsable(fmt::format("unexpected character '{}'", static_cast<char>(c)));
  }
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// What may be called and named.

// Side-effect-free built-ins a generated query may call, lowercase.
const std::set<std::string, std::less<>>& AllowedFunctions() {
  static const std::set<std::string, std::less<>> kAllowed = {
      // aggregates
      "count", "sum", "avg", "min", "max", "group_concat", "std", "stddev", "stddev_pop",
      "stddev_samp", "variance", "var_pop", "var_samp", "bit_and", "bit_or", "bit_xor",
      "json_arrayagg", "json_objectagg", "any_value", "grouping", "percentile_cont",
      "percentile_disc", "median",
      // window functions
      "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
      "first_value", "last_value", "nth_value",
      // math
      "abs", "acos", "asin", "atan", "atan2", "ceil", "ceiling", "conv", "cos", "cot", "crc32",
      "degrees", "exp", "floor", "ln", "log", "log10", "log2", "mod", "pi", "pow", "power",
      "radians", "rand", "round", "sign", "sin", "sqrt", "tan", "truncate", "bit_count",
      // strings
      "ascii", "bin", "bit_length", "char", "char_length", "character_length", "chr", "concat",
      "concat_ws", "elt", "export_set", "field", "find_in_set", "format", "from_base64",
      "to_base64", "hex", "unhex", "insert", "instr", "lcase", "left", "length", "locate", "lower",
      "lpad", "ltrim", "make_set", "mid", "octet_length", "oct", "ord", "position", "quote",
      "regexp_instr", "regexp_like", "regexp_replace", "regexp_substr", "repeat", "replace",
      "reverse", "right", "rpad", "rtrim", "soundex", "space", "strcmp", "substr", "substring",
      "substring_index", "trim", "ucase", "upper", "md5", "sha", "sha1", "sha2", "natural_sort_key",
      "sformat", "collation", "charset", "coercibility", "inet_aton", "inet_ntoa", "inet6_aton",
      "inet6_ntoa", "is_ipv4", "is_ipv6",
      // date and time
      "adddate", "addtime", "convert_tz", "curdate", "current_date", "current_time",
      "current_timestamp", "curtime", "date", "date_add", "date_format", "date_sub", "datediff",
      "day", "dayname", "dayofmonth", "dayofweek", "dayofyear", "extract", "from_days",
      "from_unixtime", "get_format", "hour", "last_day", "localtime", "localtimestamp", "makedate",
      "maketime", "microsecond", "minute", "month", "monthname", "now", "period_add", "period_diff",
      "quarter", "sec_to_time", "second", "str_to_date", "subdate", "subtime", "sysdate", "time",
      "time_format", "time_to_sec", "timediff", "timestamp", "timestampadd", "timestampdiff",
      "to_days", "to_seconds", "unix_timestamp", "utc_date", "utc_time", "utc_timestamp", "week",
      "weekday", "weekofyear", "year", "yearweek", "add_months",
      // JSON (they build and read values; none writes)
      "json_array", "json_array_append", "json_array_insert", "json_contains", "json_contains_path",
      "json_depth", "json_extract", "json_insert", "json_keys", "json_length", "json_merge",
      "json_merge_patch", "json_merge_preserve", "json_object", "json_overlaps", "json_pretty",
      "json_quote", "json_remove", "json_replace", "json_search", "json_set", "json_table",
      "json_type", "json_unquote", "json_valid", "json_value", "json_query", "json_exists",
      "json_compact", "json_detailed", "json_loose", "json_normalize", "json_equals",
      // conditionals and conversions written as calls
      "if", "ifnull", "nullif", "coalesce", "greatest", "least", "isnull", "interval", "cast",
      "convert", "nvl", "nvl2", "match", "default"};
  return kAllowed;
}

// Reserved words that may stand before '(' without being a call: operators and clauses
// (IN (...), EXISTS (...), AS (...)). Being reserved, none of them can name a stored function
// without quotes.
const std::set<std::string, std::less<>>& KeywordsBeforeParen() {
  static const std::set<std::string, std::less<>> kKeywords = {
      "in",     "exists", "as",        "on",        "using",         "values",      "and",
      "or",     "xor",    "not",       "from",      "join",          "where",       "select",
      "by",     "when",   "then",      "else",      "like",          "between",     "div",
      "union",  "except", "intersect", "all",       "distinct",      "distinctrow", "lateral",
      "having", "case",   "index",     "key",       "rlike",         "regexp",      "with",
      "group",  "row",    "of",        "partition", "straight_join", "natural",     "inner",
      "outer",  "cross",  "binary",    "is",        "escape",        "window",      "recursive",
      "limit",  "order"};
  return kKeywords;
}

// Type names that take a length or precision inside CAST(x AS DECIMAL(10, 2)) and
// CONVERT(x, DATETIME(6)).
bool IsTypeName(std::string_view word) {
  static const std::set<std::string, std::less<>> kTypes = {
      "decimal", "dec",  "numeric", "fixed",   "float",  "double",   "real", "int",
      "integer", "char", "nchar",   "varchar", "binary", "datetime", "time", "timestamp"};
  return kTypes.contains(word);
}

// Functions refused with a reason.
std::optional<std::string_view> DangerousFunctionReason(std::string_view name) {
  static const std::unordered_map<std::string_view, std::string_view> kDangerous = {
      {"sleep", "it makes the server wait"},
      {"benchmark", "it makes the server work for nothing"},
      {"master_pos_wait", "it makes the server wait"},
      {"source_pos_wait", "it makes the server wait"},
      {"master_gtid_wait", "it makes the server wait"},
      {"wait_for_executed_gtid_set", "it makes the server wait"},
      {"wait_until_sql_thread_after_gtids", "it makes the server wait"},
      {"get_lock", "it takes locks"},
      {"release_lock", "it takes locks"},
      {"release_all_locks", "it takes locks"},
      {"is_free_lock", "it takes locks"},
      {"is_used_lock", "it takes locks"},
      {"load_file", "it reads the server's files"},
      {"user", "it reveals the session's identity"},
      {"current_user", "it reveals the session's identity"},
      {"session_user", "it reveals the session's identity"},
      {"system_user", "it reveals the session's identity"},
      {"current_role", "it reveals the session's identity"},
      {"database", "it reveals the session's identity"},
      {"schema", "it reveals the session's identity"},
      {"connection_id", "it reveals the session's identity"},
      {"version", "it reveals the server's version"},
      {"uuid", "it reveals the server's network address"},
      {"uuid_short", "it reveals the server's id"},
      {"last_insert_id", "it reads session state"},
      {"row_count", "it reads session state"},
      {"found_rows", "it reads session state"},
      {"nextval", "it changes a sequence"},
      {"setval", "it changes a sequence"},
      {"lastval", "it reads session state"},
      {"updatexml", "XML functions are not allowed"},
      {"extractvalue", "XML functions are not allowed"},
      {"password", "it handles passwords"},
      {"old_password", "it handles passwords"},
  };
  if (auto it = kDangerous.find(name); it != kDangerous.end()) return it->second;
  static const std::pair<std::string_view, std::string_view> kPrefixes[] = {
      {"sys_", "it runs programs on the server"},
      {"lib_mysqludf_", "it runs programs on the server"},
      {"spider_", "it reaches other servers"},
  };
  for (const auto& [prefix, reason] : kPrefixes)
    if (text::StartsWith(name, prefix)) return reason;
  return std::nullopt;
}

// Reserved words that begin statements other than SELECT. In MySQL's grammar none of them can
// appear inside a query except in the forms CheckWord lets through. Statement words that are
// not reserved (TRUNCATE, HANDLER, DO, PREPARE, EXECUTE, ...) may name columns; they are
// refused where a statement can begin (the start, after ';'), as MySQL nests no statement in
// a query.
bool IsStatementWord(std::string_view word) {
  static const std::set<std::string, std::less<>> kWords = {
      "insert",  "update",  "delete",   "replace", "create",  "drop",     "alter",  "rename",
      "grant",   "revoke",  "set",      "call",    "load",    "lock",     "unlock", "kill",
      "show",    "explain", "describe", "use",     "analyze", "optimize", "purge",  "change",
      "release", "signal",  "resignal", "check",   "get"};
  return kWords.contains(word);
}

bool IsSystemSchema(std::string_view name) {
  return name == "mysql" || name == "information_schema" || name == "performance_schema" ||
         name == "sys";
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

// ---------------------------------------------------------------------------------------------
// The rules over one statement's tokens.

// How bad a finding is: the worst one is reported.
enum class Severity { kStatement = 0, kInto, kLock, kVariable, kFunction, kCatalog, kNone };

class Checker {
 public:
  explicit Checker(const std::vector<Token>& tokens) : t_(tokens) {}

  void Run() {
    MarkCteNames();
    // The name of the call each open parenthesis belongs to ("" when it is not a call).
    std::vector<std::string> open_calls;
    for (size_t i = 0; i < t_.size(); ++i) {
      const Token& tok = t_[i];
      switch (tok.kind) {
        case Kind::kVariable:
          Report(Severity::kVariable, "user and system variables (@name, @@name) are not allowed");
          break;
        case Kind::kAssign:
          Report(Severity::kVariable, "assignments (:=) are not allowed");
          break;
        case Kind::kWord:
          CheckWord(i, open_calls.empty() ? std::string_view() : open_calls.back());
          break;
        case Kind::kQuotedIdent:
          CheckQuoted(i);
          break;
        case Kind::kString:
          // Under ANSI_QUOTES "f"(...) would call a stored function; without it, a string
          // followed by '(' is never valid SQL. Either way it is refused.
          if (IsOp(i + 1, "("))
            Report(Severity::kFunction,
                   "a quoted name followed by '(' is not allowed (only built-in functions may "
                   "be called)");
          break;
        case Kind::kOp:
          if (tok.text == "(") {
            open_calls.push_back(i > 0 && t_[i - 1].kind == Kind::kWord ? t_[i - 1].text : "");
          } else if (tok.text == ")" && !open_calls.empty()) {
            open_calls.pop_back();
          }
          break;
        default:
          break;
      }
    }
  }

  const std::optional<std::string>& worst() const { return worst_; }

 private:
  bool IsOp(size_t i, std::string_view op) const {
    return i < t_.size() && t_[i].kind == Kind::kOp && t_[i].text == op;
  }
  bool IsWord(size_t i, std::string_view word) const {
    return i < t_.size() && t_[i].kind == Kind::kWord && t_[i].text == word;
  }
  bool IsName(size_t i) const {
    return i < t_.size() && (t_[i].kind == Kind::kWord || t_[i].kind == Kind::kQuotedIdent);
  }
  bool IsComparison(size_t i) const {
    if (i >= t_.size() || t_[i].kind != Kind::kOp) return false;
    const std::string& op = t_[i].text;
    return op == "=" || op == "<>" || op == "!=" || op == "<" || op == "<=" || op == ">" ||
           op == ">=" || op == "<=>";
  }
  // `i` - 1, or kNone at the start (so that IsOp/IsWord on it are false).
  static size_t Before(size_t i, size_t by = 1) { return i >= by ? i - by : kNone; }

  size_t MatchingParen(size_t open) const {
    int depth = 0;
    for (size_t k = open; k < t_.size(); ++k) {
      if (IsOp(k, "(")) ++depth;
      if (IsOp(k, ")") && --depth == 0) return k;
    }
    return kNone;
  }

  // WITH name [(columns)] AS (...), ...: the names of common table expressions are followed
  // by a column list, not by arguments.
  void MarkCteNames() {
    for (size_t i = 0; i < t_.size(); ++i) {
      if (!IsWord(i, "with")) continue;
      size_t j = i + 1;
      if (IsWord(j, "recursive")) ++j;
      while (IsName(j)) {
        size_t k = j + 1;
        if (IsOp(k, "(")) {
          const size_t close = MatchingParen(k);
          if (close == kNone) break;
          k = close + 1;
        }
        if (!IsWord(k, "as") || !IsOp(k + 1, "(")) break;
        cte_names_.insert(j);
        const size_t body_end = MatchingParen(k + 1);
        if (body_end == kNone || !IsOp(body_end + 1, ",")) break;
        j = body_end + 2;
      }
    }
  }

  void Report(Severity severity, std::string message) {
    if (severity >= severity_) return;
    severity_ = severity;
    worst_ = std::move(message);
  }

  void CheckSchema(size_t i) {
    const std::string& name = t_[i].text;
    if (!IsSystemSchema(name)) return;
    const std::string object = IsName(i + 2) ? t_[i + 2].text : "...";
    Report(Severity::kCatalog,
           fmt::format("the system schema {} is not allowed ({}.{})", name, name, object));
  }

  void CheckWord(size_t i, std::string_view enclosing_call) {
    const std::string& w = t_[i].text;
    const bool call = IsOp(i + 1, "(");
    // A name after '.' is a column or table (and may be any word, even a reserved one), or a
    // qualified function: db.f() calls a stored function.
    if (IsOp(Before(i), ".")) {
      if (call)
        Report(Severity::kFunction,
               fmt::format("function {}.{} is not allowed (only built-in functions may be called)",
                           IsName(Before(i, 2)) ? t_[i - 2].text : "", w));
      return;
    }
    if (IsOp(i + 1, ".")) CheckSchema(i);

    if (w == "into") {
      Report(Severity::kInto, "SELECT ... INTO writes a file or variable");
      return;
    }
    if (w == "for" && (IsWord(i + 1, "update") || IsWord(i + 1, "share") ||
                       (IsWord(i + 1, "no") && IsWord(i + 2, "key")) ||
                       (IsWord(i + 1, "key") && IsWord(i + 2, "share")))) {
      std::string what = "FOR";
      for (size_t k = i + 1;
           IsWord(k, "no") || IsWord(k, "key") || IsWord(k, "update") || IsWord(k, "share"); ++k)
        what += " " + Upper(t_[k].text);
      Report(Severity::kLock, fmt::format("{} locks rows and is not allowed", what));
      return;
    }
    if (w == "lock" && IsWord(i + 1, "in")) {
      Report(Severity::kLock, "LOCK IN SHARE MODE locks rows and is not allowed");
      return;
    }
    if (w == "procedure") {
      Report(Severity::kStatement, "SELECT ... PROCEDURE is not allowed");
      return;
    }
    if ((w == "next" || w == "previous") && IsWord(i + 1, "value")) {
      Report(Severity::kFunction,
             fmt::format("{} VALUE FOR changes or reads a sequence and is not allowed", Upper(w)));
      return;
    }
    if (!call &&
        (w == "current_user" || w == "current_role" || w == "session_user" || w == "system_user")) {
      Report(Severity::kFunction,
             fmt::format("{} is not allowed (it reveals the session's identity)", Upper(w)));
      return;
    }

    if (call) {
      if (cte_names_.contains(i)) return;
      if (auto reason = DangerousFunctionReason(w)) {
        Report(Severity::kFunction, fmt::format("function {} is not allowed ({})", w, *reason));
        return;
      }
      if (AllowedFunctions().contains(w) || KeywordsBeforeParen().contains(w)) return;
      // CAST(x AS DECIMAL(10, 2)), CONVERT(x, DATETIME(6)).
      if (IsTypeName(w) &&
          (IsWord(Before(i), "as") || (IsOp(Before(i), ",") && enclosing_call == "convert")))
        return;
      // (SELECT ...) AS t (a, b): a derived table's column names.
      if (IsWord(Before(i), "as") && IsOp(Before(i, 2), ")") && !IsStatementWord(w)) return;
      // Window, full-text and quantified-comparison syntax after the expression it belongs to.
      if ((w == "over" || w == "against") && IsOp(Before(i), ")")) return;
      if ((w == "any" || w == "some") && IsComparison(Before(i))) return;
      // JSON_TABLE(doc, '$[*]' COLUMNS (...)), NESTED PATH '$.a' COLUMNS (...).
      if (w == "columns" && i > 0 && t_[i - 1].kind == Kind::kString &&
          enclosing_call == "json_table")
        return;
    }
    if (IsStatementWord(w)) {
      // Reported as a lock.
      if (w == "update" && (IsWord(Before(i), "for") || IsWord(Before(i), "key"))) return;
      if (w == "set" && IsWord(Before(i), "character")) return;
      if (w == "use" && (IsWord(i + 1, "index") || IsWord(i + 1, "key"))) return;
      Report(Severity::kStatement,
             fmt::format("{} is not allowed: only SELECT statements can run", Upper(w)));
      return;
    }
    if (call)
      Report(
          Severity::kFunction,
          fmt::format("function {} is not allowed (it is not on the list of safe functions)", w));
  }

  void CheckQuoted(size_t i) {
    const bool qualified = IsOp(Before(i), ".");
    if (!qualified && IsOp(i + 1, ".")) CheckSchema(i);
    if (!IsOp(i + 1, "(") || cte_names_.contains(i)) return;
    if (!qualified && IsWord(Before(i), "as") && IsOp(Before(i, 2), ")")) return;
    Report(Severity::kFunction,
           fmt::format("function `{}` is not allowed (only built-in functions may be called)",
                       t_[i].text));
  }

  const std::vector<Token>& t_;
  std::set<size_t> cte_names_;  // token indices
  Severity severity_ = Severity::kNone;
  std::optional<std::string> worst_;
};

}  // namespace

Result<std::string_view> CheckMysqlSelectStatement(std::string_view sql) {
  if (sql.find('\0') != std::string_view::npos) return Unsafe("the SQL contains a NUL character");
  if (sql.size() > kMaxSqlBytes)
    return Unsafe(fmt::format("the SQL is longer than {} bytes", kMaxSqlBytes));
  auto lexed = Lex(sql);
  if (!lexed) return std::unexpected(lexed.error());
  std::vector<Token>& tokens = *lexed;

  // One statement: the first ';' ends it, and only more of them may follow.
  size_t end = tokens.size();
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].kind == Kind::kOp && tokens[i].text == ";") {
      end = i;
      break;
    }
  }
  for (size_t i = end; i < tokens.size(); ++i)
    if (tokens[i].kind != Kind::kOp || tokens[i].text != ";")
      return Unsafe("only one statement is allowed");
  tokens.resize(end);
  if (tokens.empty()) return Unsafe("the SQL holds no statement");

  int depth = 0;
  for (const Token& t : tokens) {
    if (t.kind != Kind::kOp) continue;
    if (t.text == "(") ++depth;
    if (t.text == ")" && --depth < 0) return Unparsable("a ')' has no matching '('");
  }
  if (depth != 0) return Unparsable("a '(' is not closed");

  size_t first = 0;
  while (first < tokens.size() && tokens[first].kind == Kind::kOp && tokens[first].text == "(")
    ++first;
  const bool select = first < tokens.size() && tokens[first].kind == Kind::kWord &&
                      (tokens[first].text == "select" || tokens[first].text == "with");
  if (!select) {
    if (first < tokens.size() && tokens[first].kind == Kind::kWord)
      return Unsafe(
          fmt::format("only SELECT statements are allowed; this is {}", Upper(tokens[first].text)));
    return Unsafe("only SELECT statements are allowed");
  }

  Checker checker(tokens);
  checker.Run();
  if (const auto& problem = checker.worst()) return Unsafe(*problem);
  return sql.substr(0, tokens.back().end);
}

Result<void> CheckMysqlSelect(std::string_view sql) {
  auto checked = CheckMysqlSelectStatement(sql);
  if (!checked) return std::unexpected(checked.error());
  return {};
}

}  // namespace helios::security
