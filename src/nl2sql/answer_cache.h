// The semantic cache as the pipeline uses it: a question is shaped (its values lifted into
// typed slots, its meaning words into a signature: question_shape.h), looked up by the exact
// key (tenant, data source, schema version, embedder, conversation context, signature) and the
// similarity of its template, and a hit is re-bound (rebind.h): the new question's values go
// where the cached question's values were in the cached query. A hit therefore never returns
// rows computed for other values; the re-bound query is run afresh, so rows are never served
// from the cache at all. What a hit saves is understanding the question (the engine's parse,
// or the language model's round trips).
//
// Context: a question asked after other turns is keyed by the previous turn's SQL as well (a
// follow-up means something only after its predecessor); a question with a relative date
// ("last month") by today's date too.
//
// Two keys: the strict signature first, then, on a miss, the loose signature (order-insensitive,
// operators glued to what they apply to: question_shape.h), only for a question that opens a
// conversation. An answer is remembered under both. On a loose match the new values are
// matched to the cached ones by type (a loose signature has each slot type at most once).
//
// A hit decodes its entry's payload (the query as JSON); the decoded payloads of the last few
// hundred entries hit are kept in memory, by their text, so a frequent question is decoded once.
//
// Thread-safety: safe to call concurrently (the store and the embedder are).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cache/embedder.h"
#include "cache/semantic_cache.h"
#include "common/clock.h"
#include "common/error.h"
#include "nl2sql/engine/engine.h"
#include "nl2sql/question_shape.h"
#include "sql/ir.h"

namespace helios::nl2sql {

struct CacheContext {
  std::string tenant;
  std::string database;
  uint64_t schema_version = 0;
  std::string previous_sql;  // the conversation's last answered SQL; empty for a first question
};

// What a hit hands the pipeline: a query to run, with this question's values.
struct CachedPlan {
  enum class Kind { kQuery, kSql };
  Kind kind = Kind::kQuery;
  sql::Query query;  // kQuery: the engine's query, re-bound
  double confidence = 0;
  std::vector<std::string> notes;
  std::string sql;          // kSql: a language model's SQL, re-bound
  std::string explanation;  // kSql: the model's explanation when no value changed
  std::string matched_question;
  double similarity = 0;
  // The values that differ from the matched question's, old then new.
  std::vector<std::pair<cache::Slot, cache::Slot>> changed;
};

class AnswerCache {
 public:
  AnswerCache(cache::CacheStore& store, cache::Embedder& embedder, const Clock& clock,
              double similarity_threshold);
  ~AnswerCache();
  AnswerCache(const AnswerCache&) = delete;
  AnswerCache& operator=(const AnswerCache&) = delete;

  // A plan from an earlier answer, or nullopt on a miss (including a match whose values
  // cannot be placed exactly). Errors when the store or the embedder cannot be reached.
  Result<std::optional<CachedPlan>> Find(const CacheContext& context, const QuestionShape& shape);
  // Remembers how a question was answered: by the engine's query, or by a model's SQL.
  Result<void> RememberQuery(const CacheContext& context, const QuestionShape& shape,
                             const std::string& question, const engine::Understanding& understood);
  Result<void> RememberSql(const CacheContext& context, const QuestionShape& shape,
                           const std::string& question, const std::string& sql,
                           const std::string& explanation);

 private:
  // Whether the shape's loose signature is used too: a question that opens a conversation
  // and has one.
  static bool UsesLooseKey(const CacheContext& context, const QuestionShape& shape);
  cache::Key KeyOf(const CacheContext& context, const QuestionShape& shape) const;
  Result<void> Remember(const CacheContext& context, const QuestionShape& shape,
                        const std::string& question, std::string payload);

  cache::CacheStore& store_;
  cache::Embedder& embedder_;
  const Clock& clock_;
  const double threshold_;
  class DecodedPayloads;
  std::unique_ptr<DecodedPayloads> decoded_;
};

}  // namespace helios::nl2sql
