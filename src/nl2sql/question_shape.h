// The shape of a question, for the semantic cache: its values lifted into typed slots (numbers,
// years, dates, quoted strings, values stored in the database, capitalised names) and every word
// that decides the query's meaning put into a signature that a cached answer must match exactly.
// "top 5 customers in Germany" and "top 10 customers in France" have one shape; "top 5
// customers" and "bottom 5 customers", "customers" and "loyal customers", "more than 3" and
// "less than 3" never do. A hit then only needs the new values put into the cached query
// (nl2sql/rebind.h).
//
// The shape is read the way the built-in engine reads the question (same tokens, same phrases,
// same schema and value linking), so that two questions of one signature are understood alike
// apart from their values. The signature lists, in question order: the slot types; the schema
// elements the words link to (all of them, with how well); the engine's structure words, each
// spelling mapped to one canonical item per meaning ("over", "above", "more than" are one;
// "top 5" and "the 5 biggest" are not, since the engine ranks them by different paths); every
// other word's matching key ("loyal" stays); and how far apart the items are where the engine
// looks at that. Order is kept because the engine binds words to their neighbours: a set would
// let "price over 5 and stock under 10" match "price under 5 and stock over 10". Paraphrases
// that reorder words therefore miss the signature; the loose signature (below) is a set whose
// items each carry the operator glued to what it applies to, and catches many of them.
//
// Some numbers are words rather than slots because no query holds them as written: numbers
// inside calendar expressions ("the last 30 days"), and percentages ("10%", which SQL may write
// as 0.1). In a question about a period relative to today, years and dates are words too.
//
// Thread-safety: ShapeQuestion is a pure function, safe to call concurrently.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cache/semantic_cache.h"
#include "nl2sql/engine/schema_index.h"

namespace helios::nl2sql {

struct QuestionShape {
  // The canonical words in question order, stop words removed, slots as "<TYPE>": the input of
  // the cache's embedder ("top <number> customer by revenue").
  std::string template_text;
  // The values, in question order (cache::Slot documents the types).
  std::vector<cache::Slot> slots;
  // Must be equal for a cached answer to be considered. Starts with the version of the
  // shaping rules, so entries shaped by older rules are never matched.
  std::string signature;
  // A looser key, tried after the signature misses: the same items without their order, but
  // with every operator glued to what it applies to ("@gt+<number>" to the orders counted in
  // "customers with more than 5 orders"), without what the engine reads alike (gap markers,
  // "with"/"have", a plural where no rank depends on it, "total" before a revenue-like
  // measure), and without the follow-up marker: it is meant only for a question that opens a
  // conversation. Empty when two slots share a type, since values are then re-bound by type
  // (the two questions may list them in other orders).
  std::string loose_signature;
  // The question names a period relative to today ("last month", "this year", "in March"):
  // the caller puts today's date in the cache key.
  bool relative_time = false;
};

QuestionShape ShapeQuestion(std::string_view question, const engine::SchemaIndex& index);

}  // namespace helios::nl2sql
