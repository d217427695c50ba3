#include "security/question_screen.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/text.h"
#include "security/decode.h"
#include "security/pg_scan.h"

namespace helios::security {
namespace {

using WordSet = std::set<std::string, std::less<>>;

constexpr size_t kExcerptBytes = 48;

// ---------------------------------------------------------------------------------------------
// Tokens of one reading of the text.

enum class Kind {
  kWord,          // identifier or keyword, lowercased
  kNumber,        // 42, 1.5
  kString,        // '...' or "..." (possibly unterminated), or a $$...$$ literal
  kOp,            // = <> || * @ ...
  kSemicolon,     // ;
  kLParen,        // (
  kRParen,        // )
  kComma,         // ,
  kDot,           // . or ..
  kLineComment,   // -- to the end of the line
  kBlockComment,  // /* ... */ (possibly unterminated)
  kHash,          // # (a comment in MySQL; kept as a marker so the text after it is still read)
  kOther,         // $1 and the like
};

struct Tok {
  Kind kind = Kind::kOther;
  size_t begin = 0;  // byte offsets into the analysed text
  size_t end = 0;
  std::string text;         // words lowercased; operators as written
  bool closed = true;       // strings and block comments: the closing delimiter was found
  bool breakout = false;    // the first string of a reading that starts inside a literal
  bool content = false;     // comments: the content holds more than dashes, pluses and blanks
  bool executable = false;  // block comments: MySQL's /*! ... */
  bool in_word = false;     // block comments: letters touch both sides (UN/**/ION)
};

enum class Start { kCode, kInSingleQuotes, kInDoubleQuotes };

bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWordByte(char c) {
  return IsAsciiAlpha(c) || IsAsciiDigit(c) || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// True when a comment's content is more than the filler of a truncation ("-- -", "--+", "#;").
bool HasContent(std::string_view s) {
  static constexpr std::string_view kFiller = " \t\r\n-+#;*/";
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return kFiller.find(c) == std::string_view::npos; });
}

Kind KindOfPgToken(const PgToken& t) {
  if (t.keyword_kind > 0) return Kind::kWord;
  switch (t.token) {
    case kPgIdent:
    case kPgUident:
      return Kind::kWord;
    case kPgIconst:
    case kPgFconst:
      return Kind::kNumber;
    case kPgSconst:
    case kPgUsconst:
    case kPgBconst:
    case kPgXconst:
      return Kind::kString;
    case kPgParam:
      return Kind::kOther;
    case kPgSqlComment:
      return Kind::kLineComment;
    case kPgCComment:
      return Kind::kBlockComment;
    case ';':
      return Kind::kSemicolon;
    case '(':
      return Kind::kLParen;
    case ')':
      return Kind::kRParen;
    case ',':
      return Kind::kComma;
    case '.':
    case kPgDotDot:
      return Kind::kDot;
    default:
      return Kind::kOp;
  }
}

void AddToken(std::vector<Tok>& out, std::string_view text, Kind kind, size_t begin, size_t end) {
  Tok t;
  t.kind = kind;
  t.begin = begin;
  t.end = end;
  t.text = kind == Kind::kWord ? text::ToLower(text.substr(begin, end - begin))
                               : std::string(text.substr(begin, end - begin));
  out.push_back(std::move(t));
}

// Tokens for text the PostgreSQL lexer rejects ("3rd", "1e", an unterminated $$): runs of word
// characters are words or numbers, runs of operator characters are operators.
void ScanByHand(std::string_view text, size_t begin, size_t end, std::vector<Tok>& out) {
  static constexpr std::string_view kOpChars = "=<>!|&+-*/%^~@?:`\\{}[]";
  size_t i = begin;
  while (i < end) {
    const char c = text[i];
    if (IsSpace(c)) {
      ++i;
    } else if (IsWordByte(c)) {
      size_t k = i;
      while (k < end && IsWordByte(text[k])) ++k;
      const std::string_view run = text.substr(i, k - i);
      const bool number = std::all_of(run.begin(), run.end(), IsAsciiDigit);
      AddToken(out, text, number ? Kind::kNumber : Kind::kWord, i, k);
      i = k;
    } else if (kOpChars.find(c) != std::string_view::npos) {
      size_t k = i;
      while (k < end && kOpChars.find(text[k]) != std::string_view::npos) ++k;
      AddToken(out, text, Kind::kOp, i, k);
      i = k;
    } else {
      Kind kind = Kind::kOp;
      if (c == ';') kind = Kind::kSemicolon;
      if (c == '(') kind = Kind::kLParen;
      if (c == ')') kind = Kind::kRParen;
      if (c == ',') kind = Kind::kComma;
      if (c == '.') kind = Kind::kDot;
      AddToken(out, text, kind, i, i + 1);
      ++i;
    }
  }
}

// Lexes text[begin, end) with pg_query_scan. Where the lexer gives up, the piece is split at
// white space and each part is tried again, then read by hand.
void ScanCode(std::string_view text, size_t begin, size_t end, std::vector<Tok>& out) {
  const std::string_view code = text.substr(begin, end - begin);
  if (std::all_of(code.begin(), code.end(), IsSpace)) return;
  const auto add = [&](const std::vector<PgToken>& tokens, size_t offset) {
    for (const PgToken& t : tokens)
      AddToken(out, text, KindOfPgToken(t), offset + t.begin, offset + t.end);
  };
  if (auto tokens = ScanPostgres(code)) {
    add(*tokens, begin);
    return;
  }
  size_t i = begin;
  while (i < end) {
    while (i < end && IsSpace(text[i])) ++i;
    size_t k = i;
    while (k < end && !IsSpace(text[k])) ++k;
    if (k == i) break;
    if (auto tokens = ScanPostgres(text.substr(i, k - i)))
      add(*tokens, i);
    else
      ScanByHand(text, i, k, out);
    i = k;
  }
}

// One reading of the text. Quotes, comments and unbalanced quotes are split here; the code in
// between goes to the PostgreSQL lexer.
std::vector<Tok> Lex(std::string_view text, Start start) {
  std::vector<Tok> out;
  const size_t n = text.size();
  size_t i = 0;
  size_t code_begin = 0;
  bool first_string = true;
  const auto emit_string = [&](size_t begin, size_t end, bool closed, bool breakout) {
    Tok t;
    t.kind = Kind::kString;
    t.begin = begin;
    t.end = end;
    t.text = std::string(text.substr(begin, end - begin));
    t.closed = closed;
    t.breakout = breakout;
    out.push_back(std::move(t));
    first_string = false;
  };

  if (start != Start::kCode) {
    // The text begins inside a literal whose opening quote is not part of it.
    const char quote = start == Start::kInSingleQuotes ? '\'' : '"';
    const size_t close = text.find(quote);
    if (close == std::string_view::npos) {
      emit_string(0, n, false, true);
      return out;
    }
    emit_string(0, close + 1, true, true);
    i = code_begin = close + 1;
  }

  while (i < n) {
    const char c = text[i];
    const char next = i + 1 < n ? text[i + 1] : '\0';
    if (c == '\'' || c == '"') {
      ScanCode(text, code_begin, i, out);
      const size_t close = text.find(c, i + 1);
      if (close == std::string_view::npos) {
        emit_string(i, n, false, false);
        return out;
      }
      emit_string(i, close + 1, true, false);
      i = code_begin = close + 1;
    } else if (c == '-' && next == '-') {
      ScanCode(text, code_begin, i, out);
      size_t eol = text.find('\n', i);
      if (eol == std::string_view::npos) eol = n;
      Tok t;
      t.kind = Kind::kLineComment;
      t.begin = i;
      t.end = eol;
      t.text = std::string(text.substr(i, eol - i));
      t.content = HasContent(text.substr(i + 2, eol - i - 2));
      out.push_back(std::move(t));
      i = code_begin = eol;
    } else if (c == '/' && next == '*') {
      ScanCode(text, code_begin, i, out);
      const size_t close = text.find("*/", i + 2);
      const size_t end = close == std::string_view::npos ? n : close + 2;
      const size_t content_end = close == std::string_view::npos ? n : close;
      const std::string_view content = text.substr(i + 2, content_end - i - 2);
      Tok t;
      t.kind = Kind::kBlockComment;
      t.begin = i;
      t.end = end;
      t.text = std::string(text.substr(i, end - i));
      t.closed = close != std::string_view::npos;
      t.content = HasContent(content);
      t.executable = !content.empty() && content.front() == '!';
      t.in_word = i > 0 && IsWordByte(text[i - 1]) && end < n && IsWordByte(text[end]);
      out.push_back(std::move(t));
      i = code_begin = end;
    } else if (c == '#') {
      ScanCode(text, code_begin, i, out);
      Tok t;
      t.kind = Kind::kHash;
      t.begin = i;
      t.end = i + 1;
      t.text = "#";
      out.push_back(std::move(t));
      i = code_begin = i + 1;
    } else {
      ++i;
    }
  }
  ScanCode(text, code_begin, n, out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// A reading with comments set aside: detectors look at the significant tokens and consult the
// comments only where a comment is the point (truncation after a break-out).

class View {
 public:
  View(std::string_view text, Start start) : text_(text), all_(Lex(text, start)) {
    for (size_t i = 0; i < all_.size(); ++i) {
      const Kind k = all_[i].kind;
      if (k != Kind::kLineComment && k != Kind::kBlockComment && k != Kind::kHash)
        sig_.push_back(i);
    }
    // content_after_[i]: a word, number or string comes at or after all_[i].
    content_after_.assign(all_.size() + 1, false);
    for (size_t i = all_.size(); i-- > 0;) {
      const Kind k = all_[i].kind;
      content_after_[i] =
          content_after_[i + 1] || k == Kind::kWord || k == Kind::kNumber || k == Kind::kString;
    }
  }

  std::string_view text() const { return text_; }
  size_t size() const { return sig_.size(); }
  const Tok& operator[](size_t k) const { return all_[sig_[k]]; }
  const std::vector<Tok>& all() const { return all_; }
  size_t AllIndex(size_t k) const { return sig_[k]; }

  bool Is(size_t k, Kind kind) const { return k < size() && (*this)[k].kind == kind; }
  bool Word(size_t k, std::string_view w) const {
    return Is(k, Kind::kWord) && (*this)[k].text == w;
  }
  bool WordIn(size_t k, const WordSet& words) const {
    return Is(k, Kind::kWord) && words.contains((*this)[k].text);
  }
  bool Op(size_t k, std::string_view op) const { return Is(k, Kind::kOp) && (*this)[k].text == op; }
  bool StartsWithOp(size_t k, std::string_view prefix) const {
    return Is(k, Kind::kOp) && text::StartsWith((*this)[k].text, prefix);
  }
  bool AtEnd(size_t k) const { return k >= size(); }

  // A comment that cuts off the rest of a statement: "--", "-- -" or "--+", a "#" or an
  // unterminated "/*", with no words, numbers or strings after it.
  bool IsTruncation(size_t all_index) const {
    const Tok& t = all_[all_index];
    if (content_after_[all_index + 1]) return false;
    switch (t.kind) {
      case Kind::kLineComment:
        return !t.content;
      case Kind::kHash:
        return true;
      case Kind::kBlockComment:
        return !t.closed;
      default:
        return false;
    }
  }

 private:
  std::string_view text_;
  std::vector<Tok> all_;
  std::vector<size_t> sig_;
  std::vector<bool> content_after_;
};

struct Hit {
  std::string what;
  size_t begin = 0;
  size_t end = 0;
};

Hit MakeHit(std::string what, size_t begin, size_t end) { return Hit{std::move(what), begin, end}; }

// ---------------------------------------------------------------------------------------------
// Small grammar helpers. Each takes a token index and returns the index after what it matched.

bool IsConstant(const View& v, size_t k) {
  return v.Is(k, Kind::kNumber) || v.Is(k, Kind::kString) || v.Word(k, "true") ||
         v.Word(k, "false") || v.Word(k, "null");
}

// A constant expression: (('1')), -1, 'a'||'b', 3-2.
std::optional<size_t> ConstantExpr(const View& v, size_t k) {
  static const std::set<std::string, std::less<>> kArith = {"+",  "-", "*", "/", "%",
                                                            "||", "&", "|", "^"};
  while (v.Is(k, Kind::kLParen) || v.Op(k, "-") || v.Op(k, "+") || v.Op(k, "~")) ++k;
  if (!IsConstant(v, k)) return std::nullopt;
  ++k;
  while (v.Is(k, Kind::kOp) && kArith.contains(v[k].text) && IsConstant(v, k + 1)) k += 2;
  while (v.Is(k, Kind::kRParen)) ++k;
  return k;
}

// A comparison operator: = == <> != < > <= >= <=> LIKE ILIKE RLIKE REGEXP GLOB IS [NOT],
// NOT LIKE.
std::optional<size_t> Comparison(const View& v, size_t k) {
  static const WordSet kCmpOps = {"=", "==", "<>", "!=", "<", ">", "<=", ">=", "<=>"};
  static const WordSet kCmpWords = {"like", "ilike", "rlike", "regexp", "glob", "similar"};
  if (v.Is(k, Kind::kOp) && kCmpOps.contains(v[k].text)) return k + 1;
  if (v.Word(k, "not") && v.WordIn(k + 1, kCmpWords)) return k + 2;
  if (v.WordIn(k, kCmpWords)) return v.Word(k, "similar") && v.Word(k + 1, "to") ? k + 2 : k + 1;
  if (v.Word(k, "is")) return v.Word(k + 1, "not") ? k + 2 : k + 1;
  return std::nullopt;
}

// Signs that what follows SELECT is a select list rather than English: *, a constant, a
// server variable, a function call, a column list, or a word followed by FROM.
bool SelectListFollows(const View& v, size_t k) {
  if (v.Word(k, "distinct") || v.Word(k, "all")) ++k;
  if (v.Word(k, "top") && v.Is(k + 1, Kind::kNumber)) return true;
  if (v.Op(k, "*") || IsConstant(v, k) || v.StartsWithOp(k, "@") || v.Is(k, Kind::kLParen))
    return true;
  if (!v.Is(k, Kind::kWord)) return false;
  return v.Is(k + 1, Kind::kComma) || v.Is(k + 1, Kind::kLParen) || v.Is(k + 1, Kind::kSemicolon) ||
         v.Is(k + 1, Kind::kDot) || v.Op(k + 1, "||") || v.Word(k + 1, "from");
}

// The stricter test for a question that begins with SELECT, where "select customers from
// Germany" is English: only "SELECT *", a server variable or a function call written like code
// ("count(*)", "version()") count.
bool SqlSelectListFollows(const View& v, size_t k) {
  if (v.Word(k, "distinct")) ++k;
  return v.Op(k, "*") || v.StartsWithOp(k, "@") ||
         (v.Is(k, Kind::kWord) && v.Is(k + 1, Kind::kLParen) && v[k].end == v[k + 1].begin);
}

// ---------------------------------------------------------------------------------------------
// Statements.

enum class Position { kAnywhere, kTextStart, kAfterSemicolon };

struct Statement {
  std::string what;
  size_t last = 0;  // index of the last token shown in the excerpt
};

const WordSet& DropObjects() {
  static const WordSet k = {"table",      "database",     "schema",   "view",       "index",
                            "user",       "role",         "function", "procedure",  "trigger",
                            "sequence",   "extension",    "owned",    "column",     "login",
                            "tablespace", "materialized", "type",     "constraint", "event"};
  return k;
}

const WordSet& CreateObjects() {
  static const WordSet k = {"table",      "database",  "schema",   "view",      "index",
                            "user",       "role",      "function", "procedure", "trigger",
                            "sequence",   "extension", "login",    "rule",      "alias",
                            "tablespace", "event",     "server",   "aggregate", "operator"};
  return k;
}

const WordSet& Privileges() {
  static const WordSet k = {"all",     "select",  "insert",     "update",     "delete",  "usage",
                            "execute", "connect", "create",     "references", "trigger", "alter",
                            "super",   "file",    "privileges", "temporary",  "temp",    "truncate",
                            "process", "reload",  "shutdown",   "dba",        "drop",    "grant",
                            "option",  "proxy",   "replication"};
  return k;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

std::optional<Statement> StatementAt(const View& v, size_t k, Position pos) {
  if (!v.Is(k, Kind::kWord)) return std::nullopt;
  const std::string& w = v[k].text;
  const bool start = pos != Position::kAnywhere;
  const bool after_semicolon = pos == Position::kAfterSemicolon;
  const auto stmt = [&](std::string_view name, size_t last) {
    static const WordSet kAn = {"ALTER", "ATTACH", "EXEC", "EXECUTE", "INSERT", "UPDATE"};
    return Statement{fmt::format("{} {} statement", kAn.contains(name) ? "an" : "a", name), last};
  };

  if (w == "drop" && v.WordIn(k + 1, DropObjects())) return stmt("DROP", k + 1);
  if (w == "delete" && v.Word(k + 1, "from") && v.Is(k + 2, Kind::kWord))
    return stmt("DELETE", k + 1);
  if (w == "delete" && v.Op(k + 1, "*") && v.Word(k + 2, "from")) return stmt("DELETE", k + 2);
  if (w == "insert") {
    size_t j = k + 1;
    if (v.Word(j, "ignore")) ++j;
    if (v.Word(j, "or") && v.Is(j + 1, Kind::kWord)) j += 2;
    if (v.Word(j, "into") && v.Is(j + 1, Kind::kWord)) return stmt("INSERT", j);
  }
  if ((w == "replace" || w == "merge") && v.Word(k + 1, "into") && v.Is(k + 2, Kind::kWord))
    return stmt(Upper(w), k + 1);
  if (w == "update" && v.Is(k + 1, Kind::kWord)) {
    size_t j = k + 2;
    if (v.Is(j, Kind::kDot) && v.Is(j + 1, Kind::kWord)) j += 2;
    if (v.Word(j, "set") && v.Is(j + 1, Kind::kWord) &&
        (v.Op(j + 2, "=") || v.Is(j + 2, Kind::kDot)))
      return stmt("UPDATE", j);
  }
  if (w == "alter") {
    static const WordSet kObjects = {"table",   "database", "user",       "role",     "system",
                                     "schema",  "view",     "sequence",   "function", "procedure",
                                     "login",   "default",  "extension",  "trigger",  "index",
                                     "session", "server",   "tablespace", "event"};
    if (v.WordIn(k + 1, kObjects)) return stmt("ALTER", k + 1);
  }
  if (w == "truncate") {
    if (v.Word(k + 1, "table")) return stmt("TRUNCATE", k + 1);
    if (start && v.Is(k + 1, Kind::kWord) &&
        (v.AtEnd(k + 2) || v.Is(k + 2, Kind::kSemicolon) || v.Word(k + 2, "cascade") ||
         v.Word(k + 2, "restart")))
      return stmt("TRUNCATE", k + 1);
  }
  if (w == "create") {
    static const WordSet kModifiers = {"temp",     "temporary", "unique",       "virtual",
                                       "global",   "local",     "materialized", "recursive",
                                       "unlogged", "or",        "replace",      "definer",
                                       "if",       "not",       "exists"};
    static const WordSet kEnglishObjects = {"table", "view", "index"};
    static const WordSet kAfterName = {"as", "on", "using", "if", "select"};
    size_t j = k + 1;
    while (v.WordIn(j, kModifiers) && j < k + 6) ++j;
    if (v.WordIn(j, CreateObjects())) {
      // "create table of sales by region" is a request for a report: a table, view or index
      // counts only when its name is followed by "(", AS, ON, ...
      if (!v.WordIn(j, kEnglishObjects)) return stmt("CREATE", j);
      size_t n = j + 1;
      if (v.Word(n, "if")) n += 3;  // IF NOT EXISTS
      if (v.Is(n, Kind::kWord) && v.Is(n + 1, Kind::kDot)) n += 2;
      if (v.Is(n, Kind::kWord) && (v.Is(n + 1, Kind::kLParen) || v.WordIn(n + 1, kAfterName)))
        return stmt("CREATE", j);
    }
  }
  if (w == "grant" || w == "revoke") {
    size_t j = k + 1;
    bool any = false;
    while (v.WordIn(j, Privileges()) || (any && v.Is(j, Kind::kComma))) {
      any = any || v.Is(j, Kind::kWord);
      ++j;
    }
    if (any && (v.Word(j, "on") || v.Word(j, "to") || (w == "revoke" && v.Word(j, "from"))))
      return stmt(Upper(w), j);
  }
  if (w == "attach") {
    if (v.Word(k + 1, "database")) return stmt("ATTACH", k + 1);
    if (v.Is(k + 1, Kind::kString)) return stmt("ATTACH", k + 1);
  }
  if (w == "detach" && (v.Word(k + 1, "database") || (start && v.Is(k + 1, Kind::kWord))))
    return stmt("DETACH", k + 1);
  if (w == "pragma" && v.Is(k + 1, Kind::kWord)) {
    size_t j = k + 2;
    if (v.Is(j, Kind::kDot) && v.Is(j + 1, Kind::kWord)) j += 2;
    if (start || v.AtEnd(j) || v.Op(j, "=") || v.Is(j, Kind::kLParen) || v.Is(j, Kind::kSemicolon))
      return stmt("PRAGMA", k + 1);
  }
  if (w == "copy" && (v.Is(k + 1, Kind::kWord) || v.Is(k + 1, Kind::kLParen))) {
    static const WordSet kEnds = {"program", "stdout", "stdin"};
    for (size_t j = k + 2; j < k + 40 && j + 1 < v.size(); ++j) {
      if ((v.Word(j, "to") || v.Word(j, "from")) &&
          (v.Is(j + 1, Kind::kString) || v.WordIn(j + 1, kEnds)))
        return stmt("COPY", j + 1);
    }
  }
  if (w == "into" && (v.Word(k + 1, "outfile") || v.Word(k + 1, "dumpfile")))
    return Statement{"a SELECT ... INTO " + Upper(v[k + 1].text), k + 1};
  if (w == "load") {
    if (v.Word(k + 1, "data") && (v.Word(k + 2, "infile") || v.Word(k + 2, "local")))
      return stmt("LOAD DATA", k + 2);
    if (start && v.Is(k + 1, Kind::kString)) return stmt("LOAD", k + 1);
  }
  if (w == "exec" || w == "execute") {
    static const WordSet kTargets = {"immediate", "master", "sp_executesql", "xp_cmdshell"};
    const bool target =
        v.WordIn(k + 1, kTargets) || v.StartsWithOp(k + 1, "@") ||
        (v.Is(k + 1, Kind::kWord) &&
         (text::StartsWith(v[k + 1].text, "xp_") || text::StartsWith(v[k + 1].text, "sp_"))) ||
        (v.Is(k + 1, Kind::kLParen) && (v.Is(k + 2, Kind::kString) || v.StartsWithOp(k + 2, "@")));
    if (target) return stmt(Upper(w), k + 1);
  }
  if (w == "waitfor" && (v.Word(k + 1, "delay") || v.Word(k + 1, "time")))
    return stmt("WAITFOR", k + 1);
  if (w == "declare" && v.StartsWithOp(k + 1, "@")) return stmt("DECLARE", k + 1);
  if (w == "lock" && (v.Word(k + 1, "table") || v.Word(k + 1, "tables")))
    return stmt("LOCK", k + 1);
  if (w == "rename" && (v.Word(k + 1, "table") || v.Word(k + 1, "user")))
    return stmt("RENAME", k + 1);
  if (w == "shutdown" && start &&
      (v.AtEnd(k + 1) || v.Is(k + 1, Kind::kSemicolon) || v.Word(k + 1, "with")))
    return stmt("SHUTDOWN", k);

  if (!start) return std::nullopt;
  // Statements that are only told apart from English at the start of a statement.
  if (w == "select" &&
      (after_semicolon ? SelectListFollows(v, k + 1) : SqlSelectListFollows(v, k + 1)))
    return stmt("SELECT", k + 1);
  if (w == "set" &&
      (v.StartsWithOp(k + 1, "@") ||
       (v.Is(k + 1, Kind::kWord) && (v.Op(k + 2, "=") || v.Word(k + 2, "to")) && after_semicolon)))
    return stmt("SET", k + 1);
  if (w == "with" && v.Is(k + 1, Kind::kWord) && v.Word(k + 2, "as") &&
      v.Is(k + 3, Kind::kLParen) && v.Word(k + 4, "select"))
    return Statement{"a WITH query", k + 4};
  // "call center (Berlin) revenue" is English; CALL proc(...) touches its parenthesis.
  if (w == "call" && v.Is(k + 1, Kind::kWord) && v.Is(k + 2, Kind::kLParen) &&
      v[k + 1].end == v[k + 2].begin)
    return stmt("CALL", k + 1);
  if (!after_semicolon) return std::nullopt;
  static const WordSet kBare = {"vacuum", "reindex", "checkpoint", "commit", "rollback"};
  if (v.WordIn(k, kBare) || (w == "begin" && (v.AtEnd(k + 1) || v.Is(k + 1, Kind::kSemicolon) ||
                                              v.Word(k + 1, "transaction"))))
    return stmt(Upper(w), k);
  static const WordSet kShow = {"tables",      "databases", "grants",  "variables", "columns",
                                "processlist", "users",     "schemas", "status"};
  if (w == "show" && v.WordIn(k + 1, kShow)) return stmt("SHOW", k + 1);
  if (w == "use" && v.Is(k + 1, Kind::kWord) && (v.AtEnd(k + 2) || v.Is(k + 2, Kind::kSemicolon)))
    return stmt("USE", k + 1);
  if (w == "do" && v.Is(k + 1, Kind::kString)) return stmt("DO", k + 1);
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Detectors, in the order their findings are reported.

std::optional<Hit> FindStackedStatement(const View& v) {
  for (size_t k = 0; k + 1 < v.size(); ++k) {
    if (!v.Is(k, Kind::kSemicolon)) continue;
    if (auto s = StatementAt(v, k + 1, Position::kAfterSemicolon))
      return MakeHit("a stacked statement", v[k].begin, v[s->last].end);
  }
  return std::nullopt;
}

std::optional<Hit> FindStatement(const View& v) {
  for (size_t k = 0; k < v.size(); ++k) {
    const Position pos = k == 0 ? Position::kTextStart : Position::kAnywhere;
    if (auto s = StatementAt(v, k, pos)) return MakeHit(s->what, v[k].begin, v[s->last].end);
  }
  return std::nullopt;
}

std::optional<Hit> FindUnionSelect(const View& v) {
  for (size_t k = 0; k < v.size(); ++k) {
    if (!v.Word(k, "union") && !v.Word(k, "intersect") && !v.Word(k, "except")) continue;
    size_t j = k + 1;
    if (v.Word(j, "all") || v.Word(j, "distinct")) ++j;
    while (v.Is(j, Kind::kLParen)) ++j;
    if (v.Word(j, "select") && SelectListFollows(v, j + 1))
      return MakeHit(fmt::format("a{} {} SELECT", v.Word(k, "union") ? "" : "n", Upper(v[k].text)),
                     v[k].begin, v[j].end);
  }
  return std::nullopt;
}

// Functions that sleep, read or write files, load code, reach the network or run commands.
const WordSet& DangerousFunctions() {
  static const WordSet k = {"pg_sleep",
                            "pg_sleep_for",
                            "pg_sleep_until",
                            "load_extension",
                            "pg_read_file",
                            "pg_read_binary_file",
                            "pg_ls_dir",
                            "pg_stat_file",
                            "pg_ls_logdir",
                            "pg_ls_waldir",
                            "pg_ls_tmpdir",
                            "pg_terminate_backend",
                            "pg_cancel_backend",
                            "pg_reload_conf",
                            "set_config",
                            "current_setting",
                            "query_to_xml",
                            "pg_file_write",
                            "pg_file_unlink",
                            "pg_file_rename",
                            "dblink",
                            "xp_cmdshell",
                            "sp_executesql",
                            "sp_configure",
                            "load_file",
                            "readfile",
                            "writefile",
                            "fts3_tokenizer",
                            "randomblob",
                            "zeroblob",
                            "extractvalue",
                            "updatexml",
                            "get_lock",
                            "release_lock",
                            "sys_exec",
                            "sys_eval",
                            "name_const",
                            "sqlite_compileoption_get",
                            "sqlite_compileoption_used",
                            "sqlite_offset",
                            "openrowset",
                            "opendatasource",
                            "openquery",
                            "utl_http",
                            "utl_inaddr",
                            "dbms_pipe",
                            "dbms_lock",
                            "dbms_xmlgen",
                            "dbms_java",
                            "ctxsys"};
  return k;
}

// Dangerous names that are also English words: only a call written like code counts, the
// name touching "(" and a constant, a call or nothing as the first argument.
const WordSet& EnglishDangerousFunctions() {
  static const WordSet k = {"sleep",        "benchmark", "edit",        "version",
                            "database",     "user",      "system_user", "session_user",
                            "current_user", "schema",    "delay",       "waitfor"};
  return k;
}

bool HasPrefix(const std::string& w, std::initializer_list<std::string_view> prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(),
                     [&](std::string_view p) { return text::StartsWith(w, p); });
}

std::optional<Hit> FindDangerousCall(const View& v) {
  for (size_t k = 0; k < v.size(); ++k) {
    if (v.Op(k, "@@") && v.Is(k + 1, Kind::kWord))
      return MakeHit("a server variable", v[k].begin, v[k + 1].end);
    if (!v.Is(k, Kind::kWord)) continue;
    const std::string& w = v[k].text;
    const bool qualified_call =
        v.Is(k + 1, Kind::kDot) && v.Is(k + 2, Kind::kWord) && v.Is(k + 3, Kind::kLParen);
    const bool call = v.Is(k + 1, Kind::kLParen);
    if (!call && !qualified_call) continue;
    const size_t paren = call ? k + 1 : k + 3;
    bool dangerous = false;
    if (w == "exp" || w == "polygon" || w == "multipoint" || w == "geometrycollection" ||
        w == "make_set") {
      // MySQL error-based probes: exp(~(select ...)), polygon((select ...)).
      dangerous = v.Op(paren + 1, "~") || v.Is(paren + 1, Kind::kLParen);
    } else if (DangerousFunctions().contains(w) ||
               HasPrefix(w, {"lo_", "dblink_", "xp_", "sp_oa", "pg_ls_", "pg_read_"})) {
      dangerous = true;
    } else if (EnglishDangerousFunctions().contains(w) && call && v[k].end == v[k + 1].begin) {
      static const WordSet kArgWords = {"select", "if", "case", "concat", "char", "md5", "sha1"};
      const size_t a = k + 2;
      dangerous = v.Is(a, Kind::kRParen) || IsConstant(v, a) || v.Is(a, Kind::kLParen) ||
                  v.StartsWithOp(a, "@") || v.WordIn(a, kArgWords) ||
                  (v.Is(a, Kind::kWord) && v.Is(a + 1, Kind::kLParen));
    }
    if (dangerous) return MakeHit("a call of a dangerous function", v[k].begin, v[paren].end);
  }
  return std::nullopt;
}

std::optional<Hit> FindSubquery(const View& v) {
  for (size_t k = 0; k + 1 < v.size(); ++k) {
    if (v.Is(k, Kind::kLParen) && v.Word(k + 1, "select") && SelectListFollows(v, k + 2))
      return MakeHit("a subquery", v[k].begin, v[k + 1].end);
  }
  return std::nullopt;
}

std::optional<Hit> FindTautology(const View& v) {
  static const WordSet kJoiners = {"or", "and", "xor", "where", "having", "when"};
  for (size_t k = 0; k + 1 < v.size(); ++k) {
    const bool is_or = v.Word(k, "or") || v.Op(k, "||");
    if (!v.WordIn(k, kJoiners) && !v.Op(k, "||") && !v.Op(k, "&&")) continue;
    size_t j = k + 1;
    while (v.Is(j, Kind::kLParen) || v.Word(j, "not")) ++j;
    // constant <cmp> constant: OR 1=1, OR 'a'='a', AND 2>1, WHERE ''=''
    if (auto left = ConstantExpr(v, j)) {
      if (auto cmp = Comparison(v, *left)) {
        if (auto right = ConstantExpr(v, *cmp))
          return MakeHit("a tautology", v[k].begin, v[*right - 1].end);
      }
    }
    if (!is_or) continue;
    // OR x=x
    if (v.Is(j, Kind::kWord) && !IsConstant(v, j)) {
      if (auto cmp = Comparison(v, j + 1); cmp && v.Is(*cmp, Kind::kWord) &&
                                           v[*cmp].text == v[j].text && !v.Is(*cmp + 1, Kind::kDot))
        return MakeHit("a tautology", v[k].begin, v[*cmp].end);
    }
    // OR 1--, OR true#, OR 1;
    if (IsConstant(v, j) && !v.Word(j, "null") && !v.Word(j, "false")) {
      size_t a = v.AllIndex(j) + 1;
      while (a < v.all().size() && v.all()[a].kind == Kind::kRParen) ++a;
      if (a < v.all().size() && (v.IsTruncation(a) || v.all()[a].kind == Kind::kSemicolon))
        return MakeHit("a tautology", v[k].begin, v.all()[a].end);
    }
  }
  return std::nullopt;
}

std::optional<Hit> FindQuoteBreakout(const View& v) {
  static const WordSet kJoiners = {"or", "and", "xor"};
  static const WordSet kClauses = {"union", "having", "limit", "procedure", "into", "where"};
  for (size_t k = 0; k < v.size(); ++k) {
    if (!v.Is(k, Kind::kString) || !v[k].closed) continue;
    const size_t quote = v[k].end - 1;
    // A quote followed by a comment that cuts off the rest: admin'--, x'); #, ';--
    size_t a = v.AllIndex(k) + 1;
    while (a < v.all().size() &&
           (v.all()[a].kind == Kind::kRParen || v.all()[a].kind == Kind::kSemicolon))
      ++a;
    if (a < v.all().size() && v.IsTruncation(a))
      return MakeHit("a quote break-out followed by a comment", quote, v.all()[a].end);
    if (!v[k].breakout) continue;
    // The quote that ends the literal the question was pasted into, followed by SQL.
    size_t j = k + 1;
    while (v.Is(j, Kind::kRParen)) ++j;
    if (v.AtEnd(j)) continue;
    bool sql = false;
    if (v.WordIn(j, kJoiners) || v.Op(j, "||") || v.Op(j, "&&")) {
      for (size_t m = j + 1; m < j + 7 && m < v.size() && !sql; ++m) {
        sql = (Comparison(v, m).has_value() && !v.Word(m, "similar")) ||
              (v.Is(m, Kind::kWord) && v.Is(m + 1, Kind::kLParen)) ||
              (v.Is(m, Kind::kLParen) && v.Word(m + 1, "select"));
      }
    } else if (auto cmp = Comparison(v, j); cmp && !v.Word(j, "is")) {
      sql = IsConstant(v, *cmp) || v.Is(*cmp, Kind::kWord) || v.Is(*cmp, Kind::kLParen);
    } else if (v.WordIn(j, kClauses)) {
      // The clause must go on as SQL: "contains 'union'" quotes a word, "x' UNION SELECT" does
      // not.
      if (v.Word(j, "union")) {
        sql = v.Word(j + 1, "select") || v.Word(j + 1, "all") || v.Word(j + 1, "distinct") ||
              v.Is(j + 1, Kind::kLParen);
      } else {
        sql = !v.AtEnd(j + 1) && !v.Is(j + 1, Kind::kString);
      }
    } else if ((v.Word(j, "order") || v.Word(j, "group")) && v.Word(j + 1, "by")) {
      sql = true;
    } else if (v.Is(j, Kind::kSemicolon)) {
      sql = true;
    } else if ((v.Op(j, "+") || v.Op(j, "||")) &&
               (v.Is(j + 1, Kind::kLParen) ||
                (v.Is(j + 1, Kind::kWord) && v.Is(j + 2, Kind::kLParen)))) {
      sql = true;
    }
    if (sql) return MakeHit("a quote break-out", quote, v[j].end);
  }
  return std::nullopt;
}

std::optional<Hit> FindCommentTrick(const View& v) {
  for (const Tok& t : v.all()) {
    if (t.kind != Kind::kBlockComment) continue;
    if (t.executable) return MakeHit("a MySQL executable comment", t.begin, t.end);
    if (t.in_word) {
      size_t b = t.begin, e = t.end;
      while (b > 0 && IsWordByte(v.text()[b - 1])) --b;
      while (e < v.text().size() && IsWordByte(v.text()[e])) ++e;
      return MakeHit("a comment inside a word", b, e);
    }
    const std::string_view content = v.text().substr(t.begin + 2, t.end - t.begin - 2);
    if (std::all_of(content.begin(), content.end(),
                    [](char c) { return IsSpace(c) || c == '*' || c == '/'; }))
      return MakeHit("an empty comment", t.begin, t.end);
  }
  return std::nullopt;
}

// The excerpt shown in the reason: the matched text with white space collapsed, shortened.
std::string Excerpt(std::string_view text, size_t begin, size_t end) {
  end = std::min(end, text.size());
  begin = std::min(begin, end);
  std::string out;
  bool space = false;
  for (size_t i = begin; i < end; ++i) {
    if (IsSpace(text[i])) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += text[i];
  }
  if (out.size() > kExcerptBytes) {
    size_t cut = kExcerptBytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    out += "...";
  }
  return out;
}

// The first finding in `text`: the reading as SQL code first (the most natural one), then the
// readings inside a literal; within a reading, the detectors in order.
std::optional<Hit> FindSql(std::string_view text) {
  using Detector = std::optional<Hit> (*)(const View&);
  static constexpr std::array<Detector, 8> kDetectors = {
      FindStackedStatement, FindStatement, FindUnionSelect,   FindDangerousCall,
      FindSubquery,         FindTautology, FindQuoteBreakout, FindCommentTrick};
  for (Start start : {Start::kCode, Start::kInSingleQuotes, Start::kInDoubleQuotes}) {
    const View view(text, start);
    for (Detector detect : kDetectors) {
      if (auto hit = detect(view)) return hit;
    }
  }
  return std::nullopt;
}

}  // namespace

Screening ScreenQuestion(std::string_view question) {
  const DecodedText decoded = DecodeForScreening(question);
  const std::string& text = decoded.text;
  if (auto hit = FindSql(text)) {
    std::string reason = fmt::format("{}: '{}'", hit->what, Excerpt(text, hit->begin, hit->end));
    // Name the encodings only when they hid the finding: typographic apostrophes and the like
    // are common in ordinary text.
    if (text != question && !decoded.steps.empty() && !FindSql(question))
      reason += fmt::format(" (after decoding {})", text::Join(decoded.steps, ", "));
    return Screening{true, std::move(reason)};
  }
  if (decoded.longest_char_chain >= 2) {
    return Screening{
        true, fmt::format("a string built from character codes: '{}'",
                          Excerpt(decoded.char_chain_text, 0, decoded.char_chain_text.size()))};
  }
  return Screening{};
}

}  // namespace helios::security
