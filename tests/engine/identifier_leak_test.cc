// Guards the built-in engine against knowing the Spider 1.0 training set by heart. The engine is
// developed on shared/datasets/spider-train beside the repository and judged on other databases,
// so no rule in its sources or data files may name a training table, column, stored value or
// question. The scanner reads every string literal and comment of the engine's files and reports,
// with file:line, what it matched:
//   1. a string literal that is a training table or column name, compared as words
//      ("CustomerName", "customer_name" and "customer name" agree), when that name is a compound
//      of two or more words or is not an English word (WordNet). Single English words ("name",
//      "price") are the generic vocabulary the engine may know. Identifier-shaped tokens inside
//      a longer literal ("... ORDER BY Customer_ID") are compared the same way.
//   2. a literal or comment containing a distinctive stored value of a training database: a text
//      value of two or more words or six or more characters that is neither a number or date nor
//      made only of English words.
//   3. a literal or comment sharing six consecutive words with a training question.
// A self-check runs the scanner on a snippet built from the dataset at run time, so a scanner
// that stopped seeing leaks fails too. Without the dataset the tests that need it are skipped.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <exception>
#include <expected>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace helios {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr size_t kMaxDistinctValues = 2000;  // per text column, in the order SQLite finds them
constexpr size_t kMinValueChars = 6;   // a one-word value shorter than this is not distinctive
constexpr size_t kMaxValueWords = 12;  // longer stored values (prose) are not looked up
constexpr size_t kShingleWords = 6;    // consecutive question words that make a leak

// The engine's files outside src/nl2sql/engine/, which is scanned whole. A file listed here that
// no longer exists fails the test, so the list follows renames.
constexpr std::array<std::string_view, 8> kEngineFiles = {
    "src/nl2sql/question_shape.cc", "src/nl2sql/question_shape.h",
    "src/nl2sql/suggestions.cc",    "src/nl2sql/suggestions.h",
    "src/nl2sql/chart.cc",          "src/nl2sql/chart.h",
    "src/sql/explain.cc",           "src/sql/explain.h"};
constexpr std::string_view kEngineDir = "src/nl2sql/engine";
// Data files the engine could read live under these directories (recursively).
constexpr std::array<std::string_view, 2> kDataDirs = {"src/nl2sql", "data"};
constexpr std::array<std::string_view, 8> kDataExtensions = {".json", ".jsonl", ".txt",  ".tsv",
                                                             ".csv",  ".toml",  ".yaml", ".yml"};

// Training names and values, as normalised words, that the rules catch but that are ordinary
// English or database vocabulary any schema may use. Each needs a reason; keep the list short.
struct Allowed {
  std::string_view words;
  std::string_view reason;
};
constexpr std::array<Allowed, 3> kAllowList = {{
    {"fname",
     "the conventional abbreviation of first name (Elmasri and Navathe's textbook COMPANY schema "
     "uses it); ten training databases share it, so knowing it is not knowing one of them"},
    {"lname", "the conventional abbreviation of last name, as fname"},
    {"dob", "the usual abbreviation of date of birth, on forms as much as in schemas"},
}};

// Closed-class English words WordNet leaves out (it lists only nouns, verbs, adjectives and
// adverbs), and the abbreviations of dates, so "University of Leeds" or "10 am" read as English.
const std::unordered_set<std::string_view>& FunctionWords() {
  static const std::unordered_set<std::string_view> kWords = {
      "a",   "an",   "the",  "of",   "and",  "or",    "nor",  "but", "in",   "on",  "at",
      "to",  "for",  "with", "by",   "from", "as",    "is",   "are", "was",  "be",  "not",
      "no",  "into", "onto", "upon", "than", "via",   "per",  "off", "over", "its", "their",
      "his", "her",  "our",  "my",   "your", "this",  "that", "am",  "pm",   "jan", "feb",
      "mar", "apr",  "jun",  "jul",  "aug",  "sep",   "sept", "oct", "nov",  "dec", "mon",
      "tue", "tues", "wed",  "thu",  "thur", "thurs", "fri",  "sat", "sun"};
  return kWords;
}

// Defined at the end of the file, after WordNet's header (whose macros would collide with this
// code): whether `word` (lowercase) or a base form of it is in WordNet, and whether WordNet loaded.
bool InWordNet(const std::string& word);
bool WordNetReady();

// ---------------------------------------------------------------------------------------------
// Words.

bool IsLower(unsigned char c) { return c >= 'a' && c <= 'z'; }
bool IsUpper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsAsciiAlnum(unsigned char c) { return IsLower(c) || IsUpper(c) || IsDigit(c); }
// Non-ASCII bytes belong to words, so "José" stays one word.
bool IsWordByte(unsigned char c) { return IsAsciiAlnum(c) || c >= 0x80; }
char ToLower(unsigned char c) { return IsUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

struct Word {
  std::string text;  // lowercase
  size_t offset;     // of its first byte in the text it came from
};

// Words of running text: runs of letters, digits and non-ASCII bytes, lowercased.
std::vector<Word> TextWords(std::string_view s) {
  std::vector<Word> words;
  for (size_t i = 0; i < s.size();) {
    if (!IsWordByte(s[i])) {
      ++i;
      continue;
    }
    Word w{"", i};
    while (i < s.size() && IsWordByte(s[i])) w.text += ToLower(s[i++]);
    words.push_back(std::move(w));
  }
  return words;
}

// Words of an identifier: as TextWords, and also split at camel-case humps ("CustomerName",
// "HTTPServer") and between letters and digits ("line1"), so the spellings of a name agree.
std::vector<std::string> IdentifierWords(std::string_view s) {
  std::vector<std::string> words;
  std::string current;
  auto flush = [&] {
    if (!current.empty()) words.push_back(std::move(current));
    current.clear();
  };
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = s[i];
    if (!IsWordByte(c)) {
      flush();
      continue;
    }
    if (!current.empty()) {
      const unsigned char p = s[i - 1];
      const bool hump = IsLower(p) && IsUpper(c);
      const bool acronym_end = IsUpper(p) && IsUpper(c) && i + 1 < s.size() &&
                               IsLower(static_cast<unsigned char>(s[i + 1]));
      const bool digits = IsAsciiAlnum(p) && IsAsciiAlnum(c) && IsDigit(p) != IsDigit(c);
      if (hump || acronym_end || digits) flush();
    }
    current += ToLower(c);
  }
  flush();
  return words;
}

std::string Join(const std::vector<std::string>& words) {
  return fmt::format("{}", fmt::join(words, " "));
}

// "1990", "2nd", "10am", "1990s": a number, perhaps with a short unit or ordinal suffix.
bool IsNumberWord(std::string_view w) {
  size_t digits = 0;
  while (digits < w.size() && IsDigit(w[digits])) ++digits;
  return digits > 0 && w.size() - digits <= 2;
}

// Whether `w` (lowercase, '_' between the words of a collocation) is English: in WordNet, a base
// form of an entry, or a function word.
bool IsEnglishWord(const std::string& w) {
  static std::unordered_map<std::string, bool> cache;
  if (FunctionWords().contains(w)) return true;
  if (!std::all_of(w.begin(), w.end(), [](char c) { return IsLower(c) || c == '_'; })) {
    return false;
  }
  auto it = cache.find(w);
  if (it != cache.end()) return it->second;
  const bool english = InWordNet(w);
  cache.emplace(w, english);
  return english;
}

// ---------------------------------------------------------------------------------------------
// What the training set names.

struct LeakIndex {
  // Rule 1: normalised table and column names -> where they come from.
  std::unordered_map<std::string, std::string> identifiers;
  // Rule 2: normalised distinctive values -> the value as stored and where.
  struct Value {
    std::string raw;
    std::string where;
  };
  std::unordered_map<std::string, Value> values;
  // Rule 3: six-word shingles -> index into questions.
  std::unordered_map<std::string, size_t> shingles;
  std::vector<std::string> questions;  // "question" (db_id)
  // Allow-list entries the training set does not contain (stale or misspelt).
  std::vector<std::string> unused_allowed;
  double build_seconds = 0;
};

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

fs::path SpiderRoot() {
  return (fs::path(HELIOS_SOURCE_DIR) / ".." / "shared" / "datasets" / "spider-train")
      .lexically_normal();
}

bool DatasetPresent() {
  std::error_code ec;
  return fs::is_regular_file(SpiderRoot() / "train_spider.json", ec) &&
         fs::is_regular_file(SpiderRoot() / "tables.json", ec) &&
         fs::is_directory(SpiderRoot() / "database", ec);
}

std::expected<std::string, std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(fmt::format("cannot read {}", path.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::expected<json, std::string> LoadJson(const fs::path& path) {
  auto text = ReadFile(path);
  if (!text) return std::unexpected(text.error());
  try {
    return json::parse(*text);
  } catch (const std::exception& e) {
    return std::unexpected(fmt::format("{} is not valid JSON: {}", path.string(), e.what()));
  }
}

bool IsAllowed(const std::string& key) {
  return std::any_of(kAllowList.begin(), kAllowList.end(),
                     [&](const Allowed& a) { return a.words == key; });
}

// Rule 1's test for a name: a compound, or one word that is neither English nor a number.
bool IsDistinctiveName(const std::vector<std::string>& words) {
  if (words.size() >= 2) return true;
  return words.size() == 1 && !IsNumberWord(words[0]) && !IsEnglishWord(words[0]);
}

// Whether words[begin, end) are English: each word English or a number, or runs of them
// WordNet lists as one collocation ("san francisco", "third baseman").
bool IsEnglishPhrase(const std::vector<Word>& words, size_t begin, size_t end) {
  constexpr size_t kMaxCollocationWords = 4;
  auto english = [](const Word& w) { return IsNumberWord(w.text) || IsEnglishWord(w.text); };
  if (std::all_of(words.begin() + static_cast<std::ptrdiff_t>(begin),
                  words.begin() + static_cast<std::ptrdiff_t>(end), english)) {
    return true;
  }
  // covered[i]: words[begin, begin + i) can be read as English.
  std::vector<bool> covered(end - begin + 1, false);
  covered[0] = true;
  for (size_t i = 0; i < end - begin; ++i) {
    if (!covered[i]) continue;
    if (english(words[begin + i])) covered[i + 1] = true;
    std::string collocation = words[begin + i].text;
    for (size_t n = 2; n <= kMaxCollocationWords && i + n <= end - begin; ++n) {
      collocation += '_';
      collocation += words[begin + i + n - 1].text;
      if (!covered[i + n] && IsEnglishWord(collocation)) covered[i + n] = true;
    }
  }
  return covered.back();
}

// Rule 2's test for a stored text value.
bool IsDistinctiveValue(const std::vector<Word>& words) {
  if (words.empty() || words.size() > kMaxValueWords) return false;
  size_t chars = 0;
  bool letters = false;
  for (const Word& w : words) {
    chars += w.text.size();
    letters = letters || std::any_of(w.text.begin(), w.text.end(),
                                     [](unsigned char c) { return IsLower(c) || c >= 0x80; });
  }
  if (!letters) return false;  // a number, a date, a time, a code of digits
  if (words.size() < 2 && chars < kMinValueChars) return false;
  return !IsEnglishPhrase(words, 0, words.size());
}

std::string WordsOf(const std::vector<Word>& words, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end; ++i) {
    if (i > begin) out += ' ';
    out += words[i].text;
  }
  return out;
}

void AddIdentifier(LeakIndex& index, std::set<std::string>& allowed_seen, const std::string& name,
                   const std::string& where) {
  const std::vector<std::string> words = IdentifierWords(name);
  if (!IsDistinctiveName(words)) return;
  std::string key = Join(words);
  if (IsAllowed(key)) {
    allowed_seen.insert(key);
    return;
  }
  index.identifiers.emplace(std::move(key), where);
}

std::expected<void, std::string> AddIdentifiers(LeakIndex& index,
                                                std::set<std::string>& allowed_seen) {
  auto tables = LoadJson(SpiderRoot() / "tables.json");
  if (!tables) return std::unexpected(tables.error());
  try {
    for (const json& db : *tables) {
      const std::string db_id = db.at("db_id").get<std::string>();
      const json& table_names = db.at("table_names_original");
      for (const char* field : {"table_names_original", "table_names"}) {
        for (const json& t : db.at(field)) {
          AddIdentifier(index, allowed_seen, t.get<std::string>(),
                        fmt::format("table {} (db {})", t.get<std::string>(), db_id));
        }
      }
      for (const char* field : {"column_names_original", "column_names"}) {
        for (const json& c : db.at(field)) {
          const int table = c.at(0).get<int>();
          const std::string column = c.at(1).get<std::string>();
          if (table < 0) continue;  // "*"
          AddIdentifier(index, allowed_seen, column,
                        fmt::format("column {}.{} (db {})",
                                    table_names.at(table).get<std::string>(), column, db_id));
        }
      }
    }
  } catch (const std::exception& e) {
    return std::unexpected(fmt::format("tables.json is not in Spider's format: {}", e.what()));
  }
  return {};
}

std::string QuoteSqlName(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// A read-only, immutable URI for a database in a read-only directory.
std::string SqliteUri(const fs::path& path) {
  std::string uri = "file:";
  for (char c : path.string()) {
    if (c == '%' || c == '?' || c == '#') {
      uri += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    } else {
      uri += c;
    }
  }
  return uri + "?immutable=1";
}

class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) stmt_ = nullptr;
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  bool ok() const { return stmt_ != nullptr; }
  bool Step() { return stmt_ && sqlite3_step(stmt_) == SQLITE_ROW; }
  std::string Text(int column) const {
    const auto* p = sqlite3_column_text(stmt_, column);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, column)))
             : std::string();
  }
  sqlite3_stmt* get() { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

std::expected<void, std::string> AddValues(LeakIndex& index, std::set<std::string>& allowed_seen,
                                           const fs::path& file, const std::string& db_id) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(SqliteUri(file).c_str(), &db,
                                 SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr);
  struct Closer {
    sqlite3* db;
    ~Closer() { sqlite3_close(db); }
  } closer{db};
  if (rc != SQLITE_OK) {
    return std::unexpected(fmt::format("cannot open {}: {}", file.string(), sqlite3_errmsg(db)));
  }
  std::vector<std::string> tables;
  {
    Statement s(db,
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
    if (!s.ok()) return std::unexpected(fmt::format("cannot list the tables of {}", db_id));
    while (s.Step()) tables.push_back(s.Text(0));
  }
  for (const std::string& table : tables) {
    std::vector<std::string> columns;
    {
      Statement s(db, "SELECT name FROM pragma_table_info(?)");
      if (!s.ok()) return std::unexpected(fmt::format("cannot list the columns of {}", table));
      sqlite3_bind_text(s.get(), 1, table.c_str(), -1, SQLITE_TRANSIENT);
      while (s.Step()) columns.push_back(s.Text(0));
    }
    for (const std::string& column : columns) {
      Statement s(db,
                  fmt::format("SELECT DISTINCT {0} FROM {1} WHERE typeof({0}) = 'text' LIMIT {2}",
                              QuoteSqlName(column), QuoteSqlName(table), kMaxDistinctValues));
      if (!s.ok()) {
        return std::unexpected(
            fmt::format("cannot read {}.{}.{}: {}", db_id, table, column, sqlite3_errmsg(db)));
      }
      while (s.Step()) {
        std::string raw = s.Text(0);
        const std::vector<Word> words = TextWords(raw);
        if (!IsDistinctiveValue(words)) continue;
        std::string key = WordsOf(words, 0, words.size());
        if (IsAllowed(key)) {
          allowed_seen.insert(key);
          continue;
        }
        index.values.emplace(
            std::move(key),
            LeakIndex::Value{std::move(raw), fmt::format("{}.{}.{}", db_id, table, column)});
      }
    }
  }
  return {};
}

std::expected<void, std::string> AddQuestions(LeakIndex& index) {
  auto questions = LoadJson(SpiderRoot() / "train_spider.json");
  if (!questions) return std::unexpected(questions.error());
  try {
    for (const json& q : *questions) {
      const std::string text = q.at("question").get<std::string>();
      const std::vector<Word> words = TextWords(text);
      index.questions.push_back(fmt::format("\"{}\" ({})", text, q.at("db_id").get<std::string>()));
      for (size_t i = 0; i + kShingleWords <= words.size(); ++i) {
        index.shingles.emplace(WordsOf(words, i, i + kShingleWords), index.questions.size() - 1);
      }
    }
  } catch (const std::exception& e) {
    return std::unexpected(
        fmt::format("train_spider.json is not in Spider's format: {}", e.what()));
  }
  return {};
}

std::expected<LeakIndex, std::string> BuildIndex() {
  const auto start = std::chrono::steady_clock::now();
  if (!WordNetReady()) return std::unexpected("WordNet's dictionary could not be loaded");
  LeakIndex index;
  std::set<std::string> allowed_seen;
  if (auto r = AddIdentifiers(index, allowed_seen); !r) return std::unexpected(r.error());
  std::vector<fs::path> databases;
  for (const auto& entry : fs::directory_iterator(SpiderRoot() / "database")) {
    const fs::path file = entry.path() / (entry.path().filename().string() + ".sqlite");
    if (fs::is_regular_file(file)) databases.push_back(file);
  }
  std::sort(databases.begin(), databases.end());
  if (databases.empty()) return std::unexpected("no training database found");
  for (const fs::path& file : databases) {
    auto r = AddValues(index, allowed_seen, file, file.stem().string());
    if (!r) return std::unexpected(r.error());
  }
  if (auto r = AddQuestions(index); !r) return std::unexpected(r.error());
  for (const Allowed& a : kAllowList) {
    if (!allowed_seen.contains(std::string(a.words))) index.unused_allowed.emplace_back(a.words);
  }
  index.build_seconds = SecondsSince(start);
  return index;
}

// Built once per process: the tests share it.
const std::expected<LeakIndex, std::string>& SharedIndex() {
  static const auto* index = new std::expected<LeakIndex, std::string>(BuildIndex());
  return *index;
}

// ---------------------------------------------------------------------------------------------
// Reading literals and comments.

enum class FragmentKind { kLiteral, kComment };

struct Fragment {
  FragmentKind kind;
  int line = 0;      // line of the first character of text
  std::string text;  // the literal's contents or the comment's words; '\n' where a line ends
  // Each literal on its own (adjacent literals are joined in text): line, contents.
  std::vector<std::pair<int, std::string>> literals;
};

int LineAt(const Fragment& f, size_t offset) {
  return f.line +
         static_cast<int>(std::count(
             f.text.begin(),
             f.text.begin() + static_cast<std::ptrdiff_t>(std::min(offset, f.text.size())), '\n'));
}

bool IsIdentChar(char c) { return IsAsciiAlnum(c) || c == '_'; }

// The literals and comments of C++ source. Adjacent literals ("a" "b") form one fragment and so do
// comments on consecutive lines. Escapes are decoded loosely: what matters here are the words.
std::vector<Fragment> LexCpp(std::string_view s) {
  std::vector<Fragment> out;
  int line = 1;
  // Where the last fragment ended, to join literals and consecutive line comments.
  size_t last_end = std::string_view::npos;
  int last_end_line = 0;
  bool last_was_line_comment = false;

  auto only_space_since_last = [&](size_t begin) {
    if (last_end == std::string_view::npos) return false;
    for (size_t k = last_end; k < begin; ++k) {
      if (s[k] != ' ' && s[k] != '\t' && s[k] != '\n' && s[k] != '\r') return false;
    }
    return true;
  };
  auto add_literal = [&](size_t begin, int begin_line, std::string text) {
    if (!out.empty() && out.back().kind == FragmentKind::kLiteral && only_space_since_last(begin)) {
      Fragment& f = out.back();
      const int end_line = LineAt(f, f.text.size());
      f.text += begin_line > end_line
                    ? std::string(static_cast<size_t>(begin_line - end_line), '\n')
                    : std::string(" ");
      f.text += text;
      f.literals.emplace_back(begin_line, std::move(text));
    } else {
      Fragment f{FragmentKind::kLiteral, begin_line, text, {}};
      f.literals.emplace_back(begin_line, std::move(text));
      out.push_back(std::move(f));
    }
  };

  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '\n') {
      ++line;
      ++i;
      continue;
    }
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '/') {
      const size_t begin = i;
      size_t end = s.find('\n', i);
      if (end == std::string_view::npos) end = s.size();
      std::string text(s.substr(i + 2, end - i - 2));
      if (last_was_line_comment && last_end_line == line - 1 && only_space_since_last(begin)) {
        out.back().text += '\n';
        out.back().text += text;
      } else {
        out.push_back(Fragment{FragmentKind::kComment, line, std::move(text), {}});
      }
      i = end;
      last_end = end;
      last_end_line = line;
      last_was_line_comment = true;
      continue;
    }
    if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      size_t end = s.find("*/", i + 2);
      if (end == std::string_view::npos) end = s.size();
      std::string text(s.substr(i + 2, end - i - 2));
      out.push_back(Fragment{FragmentKind::kComment, line, text, {}});
      line += static_cast<int>(std::count(text.begin(), text.end(), '\n'));
      i = std::min(end + 2, s.size());
      last_end = i;
      last_end_line = line;
      last_was_line_comment = false;
      continue;
    }
    if (c == '"') {
      const size_t begin = i;
      const int begin_line = line;
      // A raw string: R"delim( ... )delim", perhaps with an encoding prefix (u8R, LR, ...).
      size_t ident = i;
      while (ident > 0 && IsIdentChar(s[ident - 1])) --ident;
      const std::string_view prefix = s.substr(ident, i - ident);
      const bool raw =
          prefix == "R" || prefix == "u8R" || prefix == "uR" || prefix == "UR" || prefix == "LR";
      std::string text;
      if (raw) {
        const size_t open = s.find('(', i + 1);
        if (open == std::string_view::npos) break;
        const std::string close = ")" + std::string(s.substr(i + 1, open - i - 1)) + "\"";
        size_t end = s.find(close, open + 1);
        if (end == std::string_view::npos) end = s.size();
        text = std::string(s.substr(open + 1, end - open - 1));
        line += static_cast<int>(std::count(text.begin(), text.end(), '\n'));
        i = std::min(end + close.size(), s.size());
      } else {
        ++i;
        while (i < s.size() && s[i] != '"' && s[i] != '\n') {
          if (s[i] == '\\' && i + 1 < s.size()) {
            const char e = s[i + 1];
            text += (e == 'n' || e == 't' || e == 'r') ? ' ' : e;
            i += 2;
          } else {
            text += s[i++];
          }
        }
        if (i < s.size() && s[i] == '"') ++i;
      }
      add_literal(begin, begin_line, std::move(text));
      last_end = i;
      last_end_line = line;
      last_was_line_comment = false;
      continue;
    }
    if (c == '\'') {
      // A digit separator (1'000) when the token before is a number; otherwise a character
      // literal, whose contents are skipped (so '"' opens no string).
      size_t token = i;
      while (token > 0 &&
             (IsIdentChar(s[token - 1]) || s[token - 1] == '\'' || s[token - 1] == '.')) {
        --token;
      }
      if (token < i && IsDigit(s[token])) {
        ++i;
        continue;
      }
      ++i;
      while (i < s.size() && s[i] != '\'' && s[i] != '\n') i += s[i] == '\\' ? 2 : 1;
      if (i < s.size() && s[i] == '\'') ++i;
      continue;
    }
    ++i;
  }
  return out;
}

// Every string (keys too) of a JSON document.
std::vector<Fragment> LexJson(std::string_view s) {
  std::vector<Fragment> out;
  int line = 1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n') ++line;
    if (s[i] != '"') continue;
    std::string text;
    for (++i; i < s.size() && s[i] != '"'; ++i) {
      if (s[i] == '\\' && i + 1 < s.size()) {
        const char e = s[++i];
        text += (e == 'n' || e == 't' || e == 'r') ? ' ' : e;
      } else {
        text += s[i];
      }
    }
    Fragment f{FragmentKind::kLiteral, line, text, {}};
    f.literals.emplace_back(line, std::move(text));
    out.push_back(std::move(f));
  }
  return out;
}

// Other data files: each line is a value, and so is each of its tab- or comma-separated fields.
std::vector<Fragment> LexLines(std::string_view s) {
  std::vector<Fragment> out;
  int line = 0;
  size_t begin = 0;
  while (begin <= s.size()) {
    size_t end = s.find('\n', begin);
    if (end == std::string_view::npos) end = s.size();
    ++line;
    const std::string_view text = s.substr(begin, end - begin);
    Fragment f{FragmentKind::kLiteral, line, std::string(text), {}};
    size_t field = 0;
    while (field <= text.size()) {
      size_t stop = text.find_first_of("\t,", field);
      if (stop == std::string_view::npos) stop = text.size();
      f.literals.emplace_back(line, std::string(text.substr(field, stop - field)));
      field = stop + 1;
    }
    out.push_back(std::move(f));
    begin = end + 1;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Scanning.

struct Finding {
  std::string file;
  int line = 0;
  int rule = 0;         // 1 name, 2 value, 3 question
  std::string matched;  // what in the file matched
  std::string source;   // what of the training set it matched

  auto Key() const { return std::tie(file, line, rule, matched); }
  bool operator<(const Finding& o) const { return Key() < o.Key(); }
  bool operator==(const Finding& o) const { return Key() == o.Key(); }
};

std::string Describe(const Finding& f) {
  static constexpr std::array<std::string_view, 4> kRule = {"", "training name", "training value",
                                                            "training question"};
  return fmt::format("{}:{}: {} \"{}\" matches {}", f.file, f.line, kRule[f.rule], f.matched,
                     f.source);
}

// Identifier-shaped tokens of a literal that are written as compounds: "Customer_ID", "orderDate".
std::vector<std::pair<size_t, std::string_view>> CompoundTokens(std::string_view s) {
  std::vector<std::pair<size_t, std::string_view>> tokens;
  for (size_t i = 0; i < s.size();) {
    if (!IsIdentChar(s[i])) {
      ++i;
      continue;
    }
    const size_t begin = i;
    while (i < s.size() && IsIdentChar(s[i])) ++i;
    const std::string_view token = s.substr(begin, i - begin);
    bool compound = false;
    for (size_t k = 1; k < token.size() && !compound; ++k) {
      compound = (token[k] == '_' && IsAsciiAlnum(token[k - 1])) ||
                 (IsLower(token[k - 1]) && IsUpper(token[k]));
    }
    if (compound) tokens.emplace_back(begin, token);
  }
  return tokens;
}

void ScanNames(const LeakIndex& index, const std::string& file, const Fragment& f,
               std::vector<Finding>& out) {
  for (const auto& [line, literal] : f.literals) {
    const std::string whole = Join(IdentifierWords(literal));
    if (auto it = index.identifiers.find(whole); it != index.identifiers.end()) {
      out.push_back({file, line, 1, literal, it->second});
      continue;
    }
    for (const auto& [offset, token] : CompoundTokens(literal)) {
      if (token == literal) continue;
      auto it = index.identifiers.find(Join(IdentifierWords(token)));
      if (it == index.identifiers.end()) continue;
      const int token_line =
          line + static_cast<int>(std::count(
                     literal.begin(), literal.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
      out.push_back({file, token_line, 1, std::string(token), it->second});
    }
  }
}

void ScanValuesAndQuestions(const LeakIndex& index, const std::string& file, const Fragment& f,
                            std::vector<Finding>& out) {
  const std::vector<Word> words = TextWords(f.text);
  // Rule 2: at each word, the longest stored value that starts there.
  for (size_t i = 0; i < words.size();) {
    size_t match_end = 0;
    const LeakIndex::Value* match = nullptr;
    std::string key;
    for (size_t n = 1; n <= kMaxValueWords && i + n <= words.size(); ++n) {
      if (n > 1) key += ' ';
      key += words[i + n - 1].text;
      if (auto it = index.values.find(key); it != index.values.end()) {
        match = &it->second;
        match_end = i + n;
      }
    }
    if (match == nullptr) {
      ++i;
      continue;
    }
    out.push_back({file, LineAt(f, words[i].offset), 2, WordsOf(words, i, match_end),
                   fmt::format("\"{}\" in {}", match->raw, match->where)});
    i = match_end;
  }
  // Rule 3: runs of overlapping question shingles, reported once per run.
  for (size_t i = 0; i + kShingleWords <= words.size();) {
    auto it = index.shingles.find(WordsOf(words, i, i + kShingleWords));
    if (it == index.shingles.end()) {
      ++i;
      continue;
    }
    size_t end = i + kShingleWords;
    while (end < words.size() &&
           index.shingles.contains(WordsOf(words, end - kShingleWords + 1, end + 1))) {
      ++end;
    }
    out.push_back(
        {file, LineAt(f, words[i].offset), 3, WordsOf(words, i, end), index.questions[it->second]});
    i = end;
  }
}

enum class FileKind { kCpp, kJson, kLines };

FileKind KindOf(const fs::path& path) {
  const std::string ext = path.extension().string();
  if (ext == ".cc" || ext == ".h" || ext == ".cpp" || ext == ".hpp" || ext == ".inc") {
    return FileKind::kCpp;
  }
  if (ext == ".json") return FileKind::kJson;
  return FileKind::kLines;
}

std::vector<Finding> Scan(const LeakIndex& index, const std::string& file, std::string_view text,
                          FileKind kind) {
  const std::vector<Fragment> fragments = kind == FileKind::kCpp    ? LexCpp(text)
                                          : kind == FileKind::kJson ? LexJson(text)
                                                                    : LexLines(text);
  std::vector<Finding> out;
  for (const Fragment& f : fragments) {
    ScanNames(index, file, f, out);
    ScanValuesAndQuestions(index, file, f, out);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// The engine's files, relative to the source tree, sorted. Listed files that are missing are
// returned in `missing`.
std::vector<std::string> EngineFiles(std::vector<std::string>& missing) {
  const fs::path root(HELIOS_SOURCE_DIR);
  std::set<std::string> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root / kEngineDir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file()) files.insert(fs::relative(it->path(), root).generic_string());
  }
  for (std::string_view f : kEngineFiles) {
    if (fs::is_regular_file(root / f)) {
      files.emplace(f);
    } else {
      missing.emplace_back(f);
    }
  }
  for (std::string_view dir : kDataDirs) {
    if (!fs::is_directory(root / dir)) continue;
    for (auto it = fs::recursive_directory_iterator(root / dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const std::string ext = it->path().extension().string();
      if (it->is_regular_file() &&
          std::find(kDataExtensions.begin(), kDataExtensions.end(), ext) != kDataExtensions.end()) {
        files.insert(fs::relative(it->path(), root).generic_string());
      }
    }
  }
  return {files.begin(), files.end()};
}

// ---------------------------------------------------------------------------------------------
// Tests.

TEST(IdentifierLeakTest, SpellingsOfANameHaveTheSameWords) {
  const std::vector<std::string> expected = {"customer", "name"};
  EXPECT_EQ(IdentifierWords("CustomerName"), expected);
  EXPECT_EQ(IdentifierWords("customer_name"), expected);
  EXPECT_EQ(IdentifierWords("customer name"), expected);
  EXPECT_EQ(IdentifierWords("CUSTOMER_NAME"), expected);
  EXPECT_EQ(IdentifierWords("customerName"), expected);
  EXPECT_EQ(IdentifierWords("HTTPServer"), (std::vector<std::string>{"http", "server"}));
  EXPECT_EQ(IdentifierWords("Address_Line1"), (std::vector<std::string>{"address", "line", "1"}));
  EXPECT_EQ(IdentifierWords("customername"), std::vector<std::string>{"customername"});
}

TEST(IdentifierLeakTest, LexerFindsLiteralsAndCommentsWithTheirLines) {
  const std::string source =
      "char q = '\"';  // one \"quote\"\n"               // 1
      "// and its\n"                                     // 2
      "long n = 1'000'000; const char* a = \"first\"\n"  // 3
      "    \"second\";\n"                                // 4
      "auto r = R\"x(raw \"text\"\n"                     // 5
      "spans)x\"; /* block\n"                            // 6
      "comment */ const char* e = \"tab\\there\";\n";    // 7
  const std::vector<Fragment> f = LexCpp(source);
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(f[0].kind, FragmentKind::kComment);
  EXPECT_EQ(f[0].line, 1);
  EXPECT_EQ(f[0].text, " one \"quote\"\n and its");
  EXPECT_EQ(f[1].kind, FragmentKind::kLiteral);
  EXPECT_EQ(f[1].line, 3);
  EXPECT_EQ(f[1].text, "first\nsecond");
  ASSERT_EQ(f[1].literals.size(), 2u);
  EXPECT_EQ(f[1].literals[1], (std::pair<int, std::string>{4, "second"}));
  EXPECT_EQ(f[2].line, 5);
  EXPECT_EQ(f[2].text, "raw \"text\"\nspans");
  EXPECT_EQ(f[3].kind, FragmentKind::kComment);
  EXPECT_EQ(f[3].line, 6);
  EXPECT_EQ(LineAt(f[3], f[3].text.find("comment")), 7);
  EXPECT_EQ(f[4].line, 7);
  EXPECT_EQ(f[4].text, "tab here");
}

TEST(IdentifierLeakTest, ScannerCatchesANameAValueAndAQuestionOfTheTrainingSet) {
  if (!DatasetPresent()) {
    GTEST_SKIP() << "the Spider training set is not at " << SpiderRoot().string();
  }
  const auto& index = SharedIndex();
  ASSERT_TRUE(index.has_value()) << index.error();

  // Samples taken from the dataset now, so the check follows whatever it contains: the first
  // compound column name, the smallest distinctive multi-word value, and six words of the first
  // question long enough to have them.
  auto tables = LoadJson(SpiderRoot() / "tables.json");
  ASSERT_TRUE(tables.has_value()) << tables.error();
  std::string name;
  for (const json& db : *tables) {
    for (const json& c : db.at("column_names_original")) {
      const std::string column = c.at(1).get<std::string>();
      if (name.empty() && IdentifierWords(column).size() >= 2 &&
          index->identifiers.contains(Join(IdentifierWords(column)))) {
        name = column;
      }
    }
  }
  ASSERT_FALSE(name.empty()) << "no compound column name in tables.json";

  const LeakIndex::Value* value = nullptr;
  std::string value_key;
  for (const auto& [key, v] : index->values) {
    if (key.find(' ') == std::string::npos || v.raw.find('\n') != std::string::npos) continue;
    if (value == nullptr || key < value_key) {
      value = &v;
      value_key = key;
    }
  }
  ASSERT_NE(value, nullptr) << "no distinctive multi-word value in the training databases";

  auto questions = LoadJson(SpiderRoot() / "train_spider.json");
  ASSERT_TRUE(questions.has_value()) << questions.error();
  std::string phrase;
  for (const json& q : *questions) {
    std::istringstream in(q.at("question").get<std::string>());
    std::vector<std::string> tokens;
    for (std::string t; in >> t;) {
      if (!TextWords(t).empty()) tokens.push_back(t);  // "?" is no word
    }
    if (tokens.size() >= kShingleWords + 2) {
      phrase =
          fmt::format("{}", fmt::join(tokens.begin() + 1, tokens.begin() + 1 + kShingleWords, " "));
      break;
    }
  }
  ASSERT_FALSE(phrase.empty()) << "no question of eight words in train_spider.json";

  const std::string snippet = fmt::format(
      "char quote = '\"';  // a character, not a string\n"  // 1
      "long big = 1'000'000;\n"                             // 2
      "const char* kColumn = \"{}\";\n"                     // 3
      "// Looks for {} first.\n"                            // 4
      "const char* kPhrase = R\"x({})x\";\n",               // 5
      name, value->raw, phrase);
  const std::vector<Finding> found = Scan(*index, "snippet.cc", snippet, FileKind::kCpp);
  auto has = [&](int line, int rule) {
    return std::any_of(found.begin(), found.end(),
                       [&](const Finding& f) { return f.line == line && f.rule == rule; });
  };
  std::string report;
  for (const Finding& f : found) report += Describe(f) + "\n";
  EXPECT_TRUE(has(3, 1)) << "the column name " << name << " was not reported:\n" << report;
  EXPECT_TRUE(has(4, 2)) << "the value " << value->raw << " was not reported:\n" << report;
  EXPECT_TRUE(has(5, 3)) << "the question words \"" << phrase << "\" were not reported:\n"
                         << report;
  EXPECT_FALSE(has(1, 1) || has(1, 2) || has(1, 3) || has(2, 1) || has(2, 2) || has(2, 3))
      << report;

  // The same name spelt as words, and inside a longer literal.
  const std::string spelt = Join(IdentifierWords(name));
  const std::string other =
      fmt::format("auto a = \"{}\";\nauto b = \"ORDER BY {} DESC\";\n", spelt, name);
  const std::vector<Finding> found_other = Scan(*index, "other.cc", other, FileKind::kCpp);
  auto has_name = [&](int line, const std::string& matched) {
    return std::any_of(found_other.begin(), found_other.end(), [&](const Finding& f) {
      return f.line == line && f.rule == 1 && f.matched == matched;
    });
  };
  EXPECT_TRUE(has_name(1, spelt)) << spelt;
  EXPECT_TRUE(has_name(2, name)) << name;

  // Generic vocabulary and ordinary prose are not leaks.
  const std::string innocuous =
      "// Keeps the most recent answers in memory until they expire.\n"
      "const char* kWords[] = {\"name\", \"price\", \"age\", \"total\"};\n";
  const std::vector<Finding> none = Scan(*index, "innocuous.cc", innocuous, FileKind::kCpp);
  std::string none_report;
  for (const Finding& f : none) none_report += Describe(f) + "\n";
  EXPECT_TRUE(none.empty()) << none_report;
}

TEST(IdentifierLeakTest, DataFilesAreScannedValueByValue) {
  // A hand-made index: the lexers of data files are checked without the dataset.
  LeakIndex index;
  index.identifiers.emplace("customer id", "column orders.customer_id (db shop)");
  index.values.emplace("lake brody", LeakIndex::Value{"Lake Brody", "shop.addresses.city"});
  const std::string data =
      "{\n  \"synonyms\": [\"total\",\n    \"CustomerId\"],\n  \"note\": \"near Lake Brody\"\n}\n";
  const std::vector<Finding> json_found = Scan(index, "words.json", data, FileKind::kJson);
  ASSERT_EQ(json_found.size(), 2u);
  EXPECT_EQ(json_found[0].line, 3);
  EXPECT_EQ(json_found[0].rule, 1);
  EXPECT_EQ(json_found[1].line, 4);
  EXPECT_EQ(json_found[1].rule, 2);
  const std::string tsv = "total\tsum\nrevenue\tcustomer_id,amount\n";
  const std::vector<Finding> tsv_found = Scan(index, "words.tsv", tsv, FileKind::kLines);
  ASSERT_EQ(tsv_found.size(), 1u);
  EXPECT_EQ(tsv_found[0].line, 2);
  EXPECT_EQ(tsv_found[0].matched, "customer_id");
}

TEST(IdentifierLeakTest, EngineNamesNothingOfTheTrainingSet) {
  if (!DatasetPresent()) {
    GTEST_SKIP() << "the Spider training set is not at " << SpiderRoot().string();
  }
  const auto& index = SharedIndex();
  ASSERT_TRUE(index.has_value()) << index.error();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(index->unused_allowed.empty())
      << "allow-list entries that name nothing of the training set: "
      << fmt::format("{}", fmt::join(index->unused_allowed, ", "));

  std::vector<std::string> missing;
  const std::vector<std::string> files = EngineFiles(missing);
  EXPECT_TRUE(missing.empty()) << "engine files listed in this test are gone (renamed?): "
                               << fmt::format("{}", fmt::join(missing, ", "));
  ASSERT_FALSE(files.empty()) << "no engine source found under " << HELIOS_SOURCE_DIR;

  std::vector<Finding> findings;
  for (const std::string& file : files) {
    auto text = ReadFile(fs::path(HELIOS_SOURCE_DIR) / file);
    ASSERT_TRUE(text.has_value()) << text.error();
    std::vector<Finding> found = Scan(*index, file, *text, KindOf(file));
    findings.insert(findings.end(), found.begin(), found.end());
  }
  std::cout << fmt::format(
      "[ leaks    ] {} files; {} training names, {} values, {} question shingles; index built "
      "in {:.1f} s, files scanned in {:.2f} s\n",
      files.size(), index->identifiers.size(), index->values.size(), index->shingles.size(),
      index->build_seconds, SecondsSince(start));
  RecordProperty("files", static_cast<int>(files.size()));
  RecordProperty("findings", static_cast<int>(findings.size()));

  std::string report;
  for (const Finding& f : findings) report += Describe(f) + "\n";
  EXPECT_TRUE(findings.empty()) << findings.size()
                                << " literals or comments name the training set:\n"
                                << report;
}

}  // namespace
}  // namespace helios

// WordNet's C header defines macros with ordinary names (NOUN, SYNS, LEMMA, ...), so it comes
// last and only the lookups below see it.
#include <wn.h>

namespace helios {
namespace {

bool WordNetReady() {
  static const bool ready = wninit() == 0;
  return ready;
}

bool InWordNet(const std::string& word) {
  if (!WordNetReady() || word.empty()) return false;
  std::string buf = word;
  if (in_wn(buf.data(), ALL_POS) != 0) return true;
  // Collocations are listed in their base form; their morphology is slow and rarely needed.
  if (word.find('_') != std::string::npos) return false;
  for (int pos = NOUN; pos <= ADV; ++pos) {
    buf = word;
    if (morphstr(buf.data(), pos) != nullptr) return true;
  }
  return false;
}

}  // namespace
}  // namespace helios
