#include "nl2sql/engine/tokenizer.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "common/text.h"
#include "nl2sql/engine/lexicon.h"

namespace helios::nl2sql::engine {
namespace {

bool IsWordChar(unsigned char c) { return std::isalnum(c) || c == '_' || c >= 0x80; }

// The length of an e-mail address starting at pos (local@domain.tld, at the start of a word),
// else 0.
size_t EmailAt(std::string_view q, size_t pos) {
  if (pos > 0 && !std::isspace(static_cast<unsigned char>(q[pos - 1])) && q[pos - 1] != '(')
    return 0;
  auto local = [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
  };
  size_t at = pos;
  while (at < q.size() && local(static_cast<unsigned char>(q[at]))) ++at;
  if (at == pos || at >= q.size() || q[at] != '@') return 0;
  size_t end = at + 1;
  size_t last_dot = std::string_view::npos;
  while (end < q.size()) {
    const unsigned char c = static_cast<unsigned char>(q[end]);
    if (c == '.') {
      last_dot = end;
    } else if (!std::isalnum(c) && c != '-') {
      break;
    }
    ++end;
  }
  // A sentence's full stop after the address is not part of it.
  if (end > 0 && q[end - 1] == '.') {
    --end;
    last_dot = q.substr(at, end - at).rfind('.');
    if (last_dot != std::string_view::npos) last_dot += at;
  }
  if (last_dot == std::string_view::npos || last_dot <= at + 1 || last_dot + 2 > end) return 0;
  for (size_t k = last_dot + 1; k < end; ++k)
    if (!std::isalpha(static_cast<unsigned char>(q[k]))) return 0;
  return end - pos;
}

// "2024-03-01" at `pos`: digits in every position, not part of a longer word or number.
bool IsIsoDateAt(std::string_view q, size_t pos) {
  if (pos + 10 > q.size()) return false;
  for (size_t k = 0; k < 10; ++k) {
    unsigned char ch = static_cast<unsigned char>(q[pos + k]);
    if (k == 4 || k == 7) {
      if (ch != '-') return false;
    } else if (!std::isdigit(ch)) {
      return false;
    }
  }
  return pos + 10 == q.size() || !IsWordChar(static_cast<unsigned char>(q[pos + 10]));
}

// Exactly three digits at `pos`, not followed by a fourth.
bool ThousandsGroupAt(std::string_view q, size_t pos) {
  if (pos + 3 > q.size()) return false;
  for (size_t k = 0; k < 3; ++k)
    if (!std::isdigit(static_cast<unsigned char>(q[pos + k]))) return false;
  return pos + 3 == q.size() || !std::isdigit(static_cast<unsigned char>(q[pos + 3]));
}

}  // namespace

std::vector<Token> Tokenize(std::string_view question) {
  // Typographic single quotes (U+2018, U+2019) read as ASCII ones: "doesn’t", "customer’s",
  // "the word ‘Swift’".
  std::string normalized(question);
  for (const char* quote : {"\xE2\x80\x98", "\xE2\x80\x99"})
    for (size_t at = normalized.find(quote); at != std::string::npos;
         at = normalized.find(quote, at + 1))
      normalized.replace(at, 3, "'");
  const std::string_view q = normalized;
  std::vector<Token> out;
  size_t i = 0;
  const size_t n = q.size();
  auto push_word = [&](std::string raw) {
    Token t;
    t.raw = raw;
    t.text = text::ToLower(raw);
    t.capitalized = !raw.empty() && std::isupper(static_cast<unsigned char>(raw[0]));
    long long nw = NumberWord(t.text);
    if (nw >= 0) {
      t.kind = Token::Kind::kNumber;
      t.number = static_cast<double>(nw);
      t.integer = true;
      // "two hundred", "five thousand"
      if (!out.empty() && out.back().kind == Token::Kind::kNumber &&
          (t.text == "hundred" || t.text == "thousand" || t.text == "million") &&
          NumberWord(out.back().text) > 0) {
        out.back().number *= t.number;
        out.back().raw += " " + raw;
        return;
      }
    } else {
      t.key = Key(t.text);
    }
    out.push_back(std::move(t));
  };
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(q[i]);
    if (std::isspace(c)) {
      ++i;
      continue;
    }
    // Quoted strings: '...', "...", and typographic quotes.
    if (c == '"' || (c == '\'' && (i == 0 || !IsWordChar(static_cast<unsigned char>(q[i - 1]))))) {
      char quote = static_cast<char>(c);
      size_t end = q.find(quote, i + 1);
      if (end != std::string_view::npos && end > i + 1) {
        Token t;
        t.kind = Token::Kind::kQuoted;
        t.raw = std::string(q.substr(i, end - i + 1));
        t.text = std::string(q.substr(i + 1, end - i - 1));
        out.push_back(std::move(t));
        i = end + 1;
        continue;
      }
      ++i;
      continue;
    }
    if (q.substr(i, 3) == "\xE2\x80\x9C") {  // “ ... ”
      size_t end = q.find("\xE2\x80\x9D", i + 3);
      if (end != std::string_view::npos) {
        Token t;
        t.kind = Token::Kind::kQuoted;
        t.raw = std::string(q.substr(i, end + 3 - i));
        t.text = std::string(q.substr(i + 3, end - i - 3));
        out.push_back(std::move(t));
        i = end + 3;
        continue;
      }
    }
    // An e-mail address typed without quotes ("whose email is ann.lee@example.org") is one
    // text, as if quoted: its dots and "@" do not split it.
    if (const size_t len = EmailAt(q, i); len > 0) {
      Token t;
      t.kind = Token::Kind::kQuoted;
      t.raw = t.text = std::string(q.substr(i, len));
      out.push_back(std::move(t));
      i += len;
      continue;
    }
    // ISO dates.
    if (IsIsoDateAt(q, i)) {
      Token t;
      t.kind = Token::Kind::kDate;
      t.raw = t.text = std::string(q.substr(i, 10));
      out.push_back(std::move(t));
      i += 10;
      continue;
    }
    // Numbers: $1,000.50, 5k, 20%.
    // A digit run glued to letters that are not an ordinal suffix is a word ("1Q84", "4x4").
    if (std::isdigit(c)) {
      size_t e = i;
      while (e < n && std::isalnum(static_cast<unsigned char>(q[e]))) ++e;
      std::string run(q.substr(i, e - i));
      size_t d = 0;
      while (d < run.size() && std::isdigit(static_cast<unsigned char>(run[d]))) ++d;
      // Letters then digits again ("1Q84", "4x4") make a word; a trailing run of letters is an
      // ordinal or a unit ("3rd", "5kg") and the token is the number.
      bool digit_after_letter = false;
      for (size_t k = d; k < run.size(); ++k)
        if (std::isdigit(static_cast<unsigned char>(run[k]))) digit_after_letter = true;
      if (digit_after_letter) {
        push_word(run);
        i = e;
        continue;
      }
    }
    bool negative = c == '-' && i + 1 < n && std::isdigit(static_cast<unsigned char>(q[i + 1])) &&
                    (i == 0 || std::isspace(static_cast<unsigned char>(q[i - 1])));
    if (negative || std::isdigit(c) ||
        ((c == '$' || c == '.') && i + 1 < n &&
         std::isdigit(static_cast<unsigned char>(q[i + 1])))) {
      size_t start = i;
      if (negative) ++i;
      if (q[i] == '$') ++i;
      std::string digits;
      bool dot = false;
      while (i < n) {
        unsigned char d = static_cast<unsigned char>(q[i]);
        if (std::isdigit(d)) {
          digits += static_cast<char>(d);
        } else if (d == ',' && !dot && ThousandsGroupAt(q, i + 1)) {
          // a thousands separator: "1,000"
        } else if (d == '.' && !dot && i + 1 < n &&
                   std::isdigit(static_cast<unsigned char>(q[i + 1]))) {
          dot = true;
          digits += '.';
        } else {
          break;
        }
        ++i;
      }
      double value = std::strtod(digits.c_str(), nullptr);
      if (negative) value = -value;
      bool integer = !dot;
      if (i < n && (q[i] == 'k' || q[i] == 'K') &&
          (i + 1 == n || !IsWordChar(static_cast<unsigned char>(q[i + 1])))) {
        value *= 1000;
        ++i;
      } else if (i < n && (q[i] == 'm' || q[i] == 'M') &&
                 (i + 1 == n || !IsWordChar(static_cast<unsigned char>(q[i + 1])))) {
        value *= 1000000;
        ++i;
      }
      if (i < n && q[i] == '%') ++i;
      // Ordinals and units glued to the number ("3rd", "5th") are read as the number.
      while (i < n && std::isalpha(static_cast<unsigned char>(q[i]))) ++i;
      Token t;
      t.kind = Token::Kind::kNumber;
      t.raw = std::string(q.substr(start, i - start));
      t.text = t.raw;
      t.number = value;
      t.integer = integer && std::floor(value) == value;
      out.push_back(std::move(t));
      continue;
    }
    if (c == '>' || c == '<' || c == '=' || c == '!') {
      std::string sym(1, static_cast<char>(c));
      if (i + 1 < n && q[i + 1] == '=')
        sym += '=';
      else if (c == '<' && i + 1 < n && q[i + 1] == '>')
        sym += '>';
      Token t;
      t.kind = Token::Kind::kSymbol;
      t.raw = t.text = sym;
      out.push_back(std::move(t));
      i += sym.size();
      continue;
    }
    if (IsWordChar(c)) {
      size_t start = i;
      while (i < n && IsWordChar(static_cast<unsigned char>(q[i]))) ++i;
      std::string word(q.substr(start, i - start));
      // Possessive "customer's" -> "customer"; "e-mail" -> "email".
      if (i + 1 < n && q[i] == '\'' && (q[i + 1] == 's' || q[i + 1] == 'S') &&
          (i + 2 == n || !IsWordChar(static_cast<unsigned char>(q[i + 2])))) {
        i += 2;
      } else if (i < n && q[i] == '\'' && (word.back() == 's' || word.back() == 'S')) {
        ++i;
      }
      // Contractions of "not": "don't" -> "do not", "can't" -> "can not", "won't" -> "will not".
      if (i + 1 < n && q[i] == '\'' && word.size() > 2 &&
          (word.back() == 'n' || word.back() == 'N')) {
        const size_t after = i + 1;
        if (after < n && (q[after] == 't' || q[after] == 'T') &&
            (after + 1 == n || !IsWordChar(static_cast<unsigned char>(q[after + 1])))) {
          std::string lower = text::ToLower(word);
          std::string base = lower == "can"   ? "can"
                             : lower == "won" ? "will"
                                              : word.substr(0, word.size() - 1);
          push_word(std::move(base));
          push_word("not");
          i = after + 1;
          continue;
        }
      }
      if (text::ToLower(word) == "e" && q.substr(i, 5) == "-mail") {
        word = "email";
        i += 5;
      }
      push_word(std::move(word));
      continue;
    }
    ++i;  // other punctuation separates tokens
  }
  // "names with the letter M": a letter named as such is a text to look for, as if quoted.
  for (size_t j = 0; j + 1 < out.size(); ++j) {
    Token& letter = out[j + 1];
    if (out[j].kind == Token::Kind::kWord && out[j].text == "letter" &&
        letter.kind == Token::Kind::kWord && letter.raw.size() == 1 &&
        std::isalpha(static_cast<unsigned char>(letter.raw[0]))) {
      letter.kind = Token::Kind::kQuoted;
      letter.text = letter.raw;
      letter.key.clear();
    }
  }
  return out;
}

}  // namespace helios::nl2sql::engine
