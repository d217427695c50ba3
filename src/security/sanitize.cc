#include "security/sanitize.h"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "common/text.h"

namespace helios::security {
namespace {

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }
bool IsBlank(char c) { return c == ' ' || c == '\t'; }
bool IsSpace(char c) { return IsBlank(c) || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool IsIdentChar(char c) {
  return IsAlnum(c) || c == '_' || c == '$' || static_cast<unsigned char>(c) >= 0x80;
}

// ---------------------------------------------------------------------------------------------
// StripSqlComments

// Index just past a quoted run starting at sql[i] (the opening delimiter), or sql.size() when
// it is not closed. A doubled closing delimiter stays inside; with `backslash` a backslash
// escapes the next character.
size_t SkipQuoted(std::string_view sql, size_t i, char close, bool backslash) {
  size_t k = i + 1;
  while (k < sql.size()) {
    const char c = sql[k];
    if (backslash && c == '\\') {
      k += 2;
      continue;
    }
    if (c == close) {
      if (close != ']' && k + 1 < sql.size() && sql[k + 1] == close) {
        k += 2;
        continue;
      }
      return k + 1;
    }
    ++k;
  }
  return sql.size();
}

// The $tag$ starting at sql[i], or an empty view when there is none. A '$' that continues an
// identifier ("a$b") or starts a parameter ("$1") opens no quote.
std::string_view DollarTag(std::string_view sql, size_t i) {
  if (i > 0 && IsIdentChar(sql[i - 1])) return {};
  size_t k = i + 1;
  if (k < sql.size() && IsDigit(sql[k])) return {};
  while (k < sql.size() &&
         (IsAlnum(sql[k]) || sql[k] == '_' || static_cast<unsigned char>(sql[k]) >= 0x80))
    ++k;
  if (k >= sql.size() || sql[k] != '$') return {};
  return sql.substr(i, k - i + 1);
}

void TrimTrailingBlanks(std::string& out) {
  while (!out.empty() && IsBlank(out.back())) out.pop_back();
}

}  // namespace

std::string StripSqlComments(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  bool removed_any = false;
  bool after_comment = false;  // the last thing seen was a removed block comment
  size_t i = 0;
  // Copies sql[from, to) after a block comment was removed, treating the comment as a space.
  const auto copy = [&](size_t from, size_t to) {
    if (from >= to) return;
    if (after_comment) {
      after_comment = false;
      const char c = sql[from];
      if (!IsSpace(c) && !out.empty() && !IsSpace(out.back())) out += ' ';
    }
    out.append(sql.substr(from, to - from));
  };

  while (i < sql.size()) {
    const char c = sql[i];
    const char next = i + 1 < sql.size() ? sql[i + 1] : '\0';
    if (c == '-' && next == '-') {
      size_t eol = sql.find('\n', i);
      if (eol == std::string_view::npos) eol = sql.size();
      removed_any = true;
      after_comment = false;
      TrimTrailingBlanks(out);
      // A line that held only the comment disappears with its line break.
      if (eol < sql.size() && (out.empty() || out.back() == '\n')) ++eol;
      i = eol;
      continue;
    }
    if (c == '/' && next == '*') {
      int depth = 0;
      size_t k = i;
      while (k < sql.size()) {
        if (sql[k] == '/' && k + 1 < sql.size() && sql[k + 1] == '*') {
          ++depth;
          k += 2;
        } else if (sql[k] == '*' && k + 1 < sql.size() && sql[k + 1] == '/') {
          k += 2;
          if (--depth == 0) break;
        } else {
          ++k;
        }
      }
      removed_any = true;
      i = std::min(k, sql.size());
      // Blanks after the comment collapse into what came before it.
      if (out.empty() || IsSpace(out.back())) {
        while (i < sql.size() && IsBlank(sql[i])) ++i;
        if (i < sql.size() && sql[i] == '\n' && (out.empty() || out.back() == '\n')) {
          TrimTrailingBlanks(out);
          ++i;
        }
      } else if (i < sql.size() && (sql[i] == '\n' || sql[i] == '\r')) {
        TrimTrailingBlanks(out);
      }
      after_comment = true;
      continue;
    }
    if (after_comment && IsBlank(c) && !out.empty() && IsSpace(out.back())) {
      ++i;
      continue;
    }
    if (after_comment && c == '\n') TrimTrailingBlanks(out);

    size_t end = i + 1;
    if (c == '\'') {
      const bool escape =
          i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') && (i < 2 || !IsIdentChar(sql[i - 2]));
      end = SkipQuoted(sql, i, '\'', escape);
    } else if (c == '"' || c == '`') {
      end = SkipQuoted(sql, i, c, false);
    } else if (c == '[') {
      end = SkipQuoted(sql, i, ']', false);
    } else if (c == '$') {
      if (std::string_view tag = DollarTag(sql, i); !tag.empty()) {
        const size_t close = sql.find(tag, i + tag.size());
        end = close == std::string_view::npos ? sql.size() : close + tag.size();
      }
    }
    copy(i, end);
    i = end;
  }
  if (!removed_any) return std::string(sql);
  return text::Trim(out);
}

// ---------------------------------------------------------------------------------------------
// SanitizeErrorMessage

namespace {

bool IsStackTraceLine(std::string_view line) {
  const std::string trimmed = text::Trim(line);
  if (trimmed.empty()) return false;
  const std::string lower = text::ToLower(trimmed);
  // "    at f (file.js:1:2)", "at com.x.Y.z(Y.java:10)": indented or followed by a location.
  if (text::StartsWith(lower, "at ") &&
      (IsBlank(line.front()) || trimmed.find('(') != std::string::npos))
    return true;
  // "#0 0x7f.. in main x.cc:5", "#12 main () at x.c:3"
  if (trimmed[0] == '#' && trimmed.size() > 1 && IsDigit(trimmed[1])) return true;
  for (std::string_view marker : {"traceback (most recent call last)", "stack trace:",
                                  "stacktrace:", "backtrace:", "stack backtrace:", "frame #"}) {
    if (text::StartsWith(lower, marker)) return true;
  }
  // Python frames: '  File "x.py", line 3, in f'
  if (text::StartsWith(trimmed, "File \"") && lower.find("\", line ") != std::string::npos)
    return true;
  // Sanitizer reports: "==1234==ERROR: AddressSanitizer ..."
  if (trimmed.size() > 4 && trimmed[0] == '=' && trimmed[1] == '=' && IsDigit(trimmed[2]))
    return true;
  // Bare return addresses.
  if (text::StartsWith(lower, "0x") && trimmed.size() > 6 &&
      std::all_of(trimmed.begin() + 2, trimmed.begin() + 6, [](char c) {
        return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      }))
    return true;
  return false;
}

bool IsKeyWordChar(char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '*' || c == '.'; }

// Whether a word is an API key, or what a provider shows of one: the visible characters of a
// masked key are still part of the secret, so the whole word goes.
bool IsKeyLike(std::string_view word) {
  if (word.size() >= 20 && (text::StartsWith(word, "sk-") || text::StartsWith(word, "sk_")))
    return true;
  const size_t stars = word.find("***");
  if (stars == std::string_view::npos || stars < 2) return false;
  return IsAlnum(word[stars - 1]) && IsAlnum(word[stars - 2]);
}

// Replaces key-like words (IsKeyLike) with "***". A full stop that ends a sentence stays.
std::string RedactKeys(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (!IsKeyWordChar(s[i])) {
      out += s[i++];
      continue;
    }
    size_t end = i;
    while (end < s.size() && IsKeyWordChar(s[end])) ++end;
    size_t word_end = end;
    while (word_end > i && s[word_end - 1] == '.') --word_end;
    const std::string_view word = s.substr(i, word_end - i);
    out += IsKeyLike(word) ? "***" : std::string(word);
    out.append(s.substr(word_end, end - word_end));
    i = end;
  }
  return out;
}

bool IsUrlBoundary(char c) {
  return IsSpace(c) || c == '"' || c == '\'' || c == '`' || c == '<' || c == '>' || c == ')' ||
         c == '(' || c == ',' || c == ';';
}

bool IsSchemeChar(char c) { return IsAlnum(c) || c == '+' || c == '-' || c == '.'; }

// Redacts credentials in every URL; a file:// URL shows no path at all.
std::string RedactUrls(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (true) {
    const size_t sep = s.find("://", i);
    if (sep == std::string_view::npos) break;
    size_t begin = sep;
    while (begin > i && IsSchemeChar(s[begin - 1])) --begin;
    if (begin == sep) {
      out.append(s.substr(i, sep + 3 - i));
      i = sep + 3;
      continue;
    }
    size_t end = sep + 3;
    while (end < s.size() && !IsUrlBoundary(s[end])) ++end;
    out.append(s.substr(i, begin - i));
    const std::string scheme = text::ToLower(s.substr(begin, sep - begin));
    if (scheme == "file") {
      out += "file://<path>";
    } else {
      out += text::RedactUrl(s.substr(begin, end - begin));
    }
    i = end;
  }
  out.append(s.substr(i));
  return out;
}

bool IsSecretKey(std::string key) {
  for (char& c : key) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '-') c = '_';
  }
  static constexpr std::array<std::string_view, 12> kWords = {
      "password", "passwd",     "pwd",         "secret",     "token",         "api_key",
      "apikey",   "access_key", "private_key", "credential", "authorization", "passphrase"};
  if (key == "pass" || key == "auth") return true;
  return std::any_of(kWords.begin(), kWords.end(),
                     [&](std::string_view w) { return key.find(w) != std::string::npos; });
}

bool IsKeyChar(char c) { return IsAlnum(c) || c == '_' || c == '-' || c == '.'; }

// Replaces the values of secret-looking keys: password=..., "token": "...", pwd: x.
std::string RedactSecrets(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (!IsKeyChar(s[i]) || (i > 0 && IsKeyChar(s[i - 1]))) {
      out += s[i++];
      continue;
    }
    size_t k = i;
    while (k < s.size() && IsKeyChar(s[k])) ++k;
    const std::string_view key = s.substr(i, k - i);
    size_t j = k;
    if (j < s.size() && (s[j] == '"' || s[j] == '\'') && i > 0 && s[i - 1] == s[j]) ++j;
    while (j < s.size() && IsBlank(s[j])) ++j;
    const bool separator =
        j < s.size() && (s[j] == '=' || s[j] == ':') && !(s[j] == ':' && s.substr(j, 3) == "://");
    if (!separator || !IsSecretKey(std::string(key))) {
      out.append(s.substr(i, k - i));
      i = k;
      continue;
    }
    ++j;
    while (j < s.size() && IsBlank(s[j])) ++j;
    out.append(s.substr(i, j - i));
    size_t value_end = j;
    if (j < s.size() && (s[j] == '"' || s[j] == '\'')) {
      const size_t close = s.find(s[j], j + 1);
      value_end = close == std::string_view::npos ? s.size() : close + 1;
      out += s[j];
      out += "***";
      if (close != std::string_view::npos) out += s[j];
    } else {
      while (value_end < s.size() && !IsSpace(s[value_end]) &&
             std::string_view(",;&)}]").find(s[value_end]) == std::string_view::npos)
        ++value_end;
      // "Authorization: Bearer abc": the scheme stays, the credential goes.
      const std::string scheme = text::ToLower(s.substr(j, value_end - j));
      if ((scheme == "bearer" || scheme == "basic" || scheme == "token") && value_end < s.size() &&
          s[value_end] == ' ') {
        out.append(s.substr(j, value_end - j + 1));
        value_end += 1;
        while (value_end < s.size() && !IsSpace(s[value_end])) ++value_end;
      }
      out += "***";
    }
    i = value_end;
  }
  return out;
}

bool IsPathChar(char c) {
  return IsAlnum(c) || c == '.' || c == '_' || c == '-' || c == '~' || c == '+' || c == '@' ||
         c == '%' || c == '/' || c == '\\' || c == ':' || static_cast<unsigned char>(c) >= 0x80;
}

bool IsPathStartBoundary(char c) {
  return IsSpace(c) || c == '"' || c == '\'' || c == '`' || c == '(' || c == '[' || c == '=' ||
         c == ',' || c == '<' || c == ':' || c == '{';
}

// Replaces absolute paths with "<path>". A path right after a quote runs to the closing quote
// on the same line, so "'/data/my files/x.db'" goes whole.
std::string RedactPaths(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    const bool boundary = i == 0 || IsPathStartBoundary(s[i - 1]);
    const char n1 = i + 1 < s.size() ? s[i + 1] : '\0';
    const char n2 = i + 2 < s.size() ? s[i + 2] : '\0';
    bool path = false;
    if (boundary && c == '/' && (IsAlnum(n1) || n1 == '.' || n1 == '_' || n1 == '~'))
      path = !(i > 0 && s[i - 1] == ':' && n1 == '/');
    if (boundary && c == '~' && n1 == '/') path = true;
    if (boundary && IsAlpha(c) && n1 == ':' && (n2 == '\\' || n2 == '/')) path = true;
    if (boundary && c == '\\' && n1 == '\\' && IsAlnum(n2)) path = true;
    if (!path) {
      out += c;
      ++i;
      continue;
    }
    size_t end = i;
    const char quote = i > 0 ? s[i - 1] : '\0';
    if (quote == '"' || quote == '\'' || quote == '`') {
      while (end < s.size() && s[end] != quote && s[end] != '\n') ++end;
    } else {
      while (end < s.size() && IsPathChar(s[end])) ++end;
      // A sentence's full stop or colon is not part of the path.
      while (end > i + 1 && (s[end - 1] == '.' || s[end - 1] == ':')) --end;
    }
    out += "<path>";
    i = end;
  }
  return out;
}

}  // namespace

std::string SanitizeErrorMessage(std::string_view message, size_t max_bytes) {
  // Control characters other than line breaks and tabs become spaces.
  std::string clean;
  clean.reserve(message.size());
  for (char c : message) {
    const auto u = static_cast<unsigned char>(c);
    clean += (u < 0x20 && c != '\n' && c != '\t') || u == 0x7f ? ' ' : c;
  }
  std::vector<std::string> kept;
  for (const std::string& line : text::Split(clean, '\n')) {
    if (!IsStackTraceLine(line)) kept.push_back(line);
  }
  std::string out = text::Trim(text::Join(kept, "\n"));
  out = RedactKeys(out);
  out = RedactUrls(out);
  out = RedactSecrets(out);
  out = RedactPaths(out);
  if (out.size() > max_bytes) {
    constexpr std::string_view kEllipsis = "...";
    size_t cut = max_bytes > kEllipsis.size() ? max_bytes - kEllipsis.size() : 0;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    out += kEllipsis;
  }
  return out;
}

}  // namespace helios::security
