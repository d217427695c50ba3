#include "nl2sql/examples/question_terms.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "nl2sql/engine/lexicon.h"
#include "nl2sql/engine/tokenizer.h"

namespace helios::nl2sql::examples {
namespace {

using engine::Token;

// Stop words to the engine (they name no table, column or value) that still tell which SQL a
// question wants: "how many customers" is a COUNT, "revenue per region" a GROUP BY.
bool IsShapeWord(std::string_view word) {
  static constexpr std::string_view kShapeWords[] = {
      "many", "count", "number",  "total",  "per", "each", "sold",
      "sell", "sells", "selling", "bought", "buy", "buys"};
  return std::find(std::begin(kShapeWords), std::end(kShapeWords), word) != std::end(kShapeWords);
}

// Ranking and aggregation words: the engine reads them as grammar, so its lexicon lists no
// synonyms for them, yet "top customers" should meet "the customers with the most revenue".
const std::vector<std::string>& ShapeSynonyms(std::string_view word) {
  static const std::vector<std::vector<std::string>> kGroups = {
      {"top", "most", "highest", "best", "biggest", "largest", "greatest", "leading"},
      {"bottom", "least", "lowest", "worst", "smallest", "fewest"},
      {"average", "mean", "avg"},
      {"count", "number", "many"},
  };
  static const std::vector<std::string> kNone;
  for (const auto& group : kGroups) {
    if (std::find(group.begin(), group.end(), word) != group.end()) return group;
  }
  return kNone;
}

}  // namespace

std::string NormalizeQuestion(std::string_view question) {
  std::string out;
  out.reserve(question.size());
  bool pending_space = false;
  for (char ch : question) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80 || std::isalnum(c)) {
      if (pending_space && !out.empty()) out.push_back(' ');
      pending_space = false;
      out.push_back(static_cast<char>(std::tolower(c)));
    } else {
      pending_space = true;
    }
  }
  return out;
}

std::string Term(std::string_view word) {
  std::string term = engine::Key(word);
  auto consider = [&](const std::string& synonym) { term = std::min(term, engine::Key(synonym)); };
  // The synonym groups list surface forms ("sales" and "sale"): look up the word as typed and
  // as its lemma.
  for (const std::string& form : {std::string(word), engine::Lemma(word)}) {
    for (const std::string& synonym : engine::Synonyms(form)) consider(synonym);
  }
  for (const std::string& synonym : ShapeSynonyms(word)) consider(synonym);
  return term;
}

std::vector<std::string> QuestionTerms(std::string_view question) {
  std::vector<std::string> terms;
  for (const Token& t : engine::Tokenize(question)) {
    if (t.kind != Token::Kind::kWord || t.key.empty()) continue;
    if (engine::IsStopWord(t.text) && !IsShapeWord(t.text)) continue;
    terms.push_back(Term(t.text));
  }
  return terms;
}

}  // namespace helios::nl2sql::examples
