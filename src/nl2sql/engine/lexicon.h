// Word-level language knowledge for the built-in engine: normalising words (WordNet
// morphology for lemmas, the Snowball English stemmer for matching), stop words, and a small
// curated vocabulary of database synonyms. Nothing here names a particular schema.
// Thread-safety: all functions are safe to call concurrently.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace helios::nl2sql::engine {

// The dictionary form of a word: "categories" -> "category", "people" -> "person",
// "sold" -> "sell". Lowercase input expected; unknown words come back unchanged.
std::string Lemma(std::string_view word);

// The matching key of a word: Snowball stem of its lemma ("customers" and "customer" agree).
std::string Key(std::string_view word);

// Words that carry no meaning for the query ("the", "me", "please", ...).
bool IsStopWord(std::string_view word);

// Curated synonyms for schema words: Synonyms("amount") includes "revenue", "sales".
// Both directions are stored; the word itself is not included.
const std::vector<std::string>& Synonyms(std::string_view word);

// The words an abbreviation in a schema name stands for: "fname" -> {"first", "name"},
// "dept" -> {"department"}, "qty" -> {"quantity"}. Empty for other words.
const std::vector<std::string>& ExpandAbbreviation(std::string_view word);

// Nouns an adjective pertains to, from WordNet: "japanese" -> {"Japan", "Nippon", ...},
// "american" -> {"United States", "America", ...}. Empty for other words.
std::vector<std::string> Pertainyms(std::string_view adjective);

// Parses number words: "five" -> 5, "twenty" -> 20, "dozen" -> 12; -1 when not a number word.
long long NumberWord(std::string_view word);

}  // namespace helios::nl2sql::engine
