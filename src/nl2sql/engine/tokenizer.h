// Splits a question into tokens: words (lowercased), numbers (digits, "1,000", "$20", "5k",
// number words), quoted strings, ISO dates and comparison symbols.
// Thread-safety: pure function.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace helios::nl2sql::engine {

struct Token {
  enum class Kind { kWord, kNumber, kQuoted, kDate, kSymbol };
  Kind kind = Kind::kWord;
  std::string text;  // lowercase word, the quoted text as typed, "2024-03-01", ">=", ...
  std::string raw;   // as typed
  double number = 0;
  bool integer = false;
  bool capitalized = false;  // first letter upper-case in the question
  std::string key;           // matching key of a word (lexicon Key)
  bool used = false;         // consumed by an interpretation
};

std::vector<Token> Tokenize(std::string_view question);

}  // namespace helios::nl2sql::engine
