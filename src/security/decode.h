// Undoes the encodings used to hide SQL inside a question, so that the screening looks at what
// a database (or a browser, or a lenient web framework) would eventually see:
//
//   URL escapes        %27 %3B %2527 (decoded repeatedly) %u0027
//   HTML entities      &#39; &#x27; &apos; &quot; &semi; ...
//   backslash escapes  \u0027 \u{27} \U00000027 \x27
//   look-alike Unicode fullwidth forms (＇ ； ＳＥＬＥＣＴ), typographic quotes and dashes,
//                      the Greek question mark, Cyrillic and Greek letters that look Latin;
//                      zero-width characters are removed
//   CHAR() codes       CHAR(39)||CHAR(59), CHR(39)+CHR(45), CHAR(83,69,76) -> the characters
//   hex strings        0x44524f50 -> DROP (only when every byte is printable ASCII)
//
// NUL characters become spaces. The result is for analysis only, never for display or for
// answering the question.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace helios::security {

struct DecodedText {
  std::string text;
  // The encodings that were undone, by name ("URL escapes", "HTML entities", "backslash
  // escapes", "look-alike Unicode characters", "CHAR() codes", "hex strings"), each once, in
  // the order first met.
  std::vector<std::string> steps;
  // The longest chain of CHAR()/CHR() calls joined by || + , or & (counted in characters), and
  // the original text of that chain. A chain of two or more is itself a sign of obfuscation.
  size_t longest_char_chain = 0;
  std::string char_chain_text;
};

// Decodes repeatedly (at most a few rounds) until nothing changes.
DecodedText DecodeForScreening(std::string_view text);

}  // namespace helios::security
