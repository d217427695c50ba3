// How the example store compares questions: the normal form under which two questions are the
// same example, and the terms BM25 retrieval counts. Words go through the built-in engine's
// tokenizer and lexicon (WordNet lemma, then Snowball stem), so "customers" and "customer",
// "sold" and "sell" are one term; words the engine's curated synonyms put together ("revenue",
// "sales", "amount"; "client", "customer") are one term too, so a question finds examples
// worded differently.
// Thread-safety: pure functions, safe to call concurrently.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace helios::nl2sql::examples {

// Lowercase ASCII letters; every run of other ASCII characters (spaces, punctuation) becomes
// one space; leading and trailing spaces go. Bytes of multi-byte UTF-8 characters are kept.
// "Top 5 customers, by revenue?" -> "top 5 customers by revenue".
std::string NormalizeQuestion(std::string_view question);

// The term of one lowercase word: the smallest matching key (engine::Key) among the word and
// its synonyms, from the engine's lexicon (engine::Synonyms of the word and of its lemma) and
// from a few groups of ranking and counting words that the engine reads as grammar rather than
// through its lexicon ("top", "most", "highest"; "count", "number", "many"). So "sales",
// "revenue" and "amount" share a term, as do "top" and "most".
std::string Term(std::string_view word);

// The terms of a question, in question order with repeats: Term of each word, without the
// engine's stop words, except for the few of them that decide the shape of the SQL (counting,
// totals, grouping: "many", "count", "total", "per", "each", ...). Numbers, dates, quoted
// values and comparison symbols carry no term: they are a question's values, not its shape.
std::vector<std::string> QuestionTerms(std::string_view question);

}  // namespace helios::nl2sql::examples
