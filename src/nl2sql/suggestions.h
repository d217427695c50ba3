// Follow-up suggestions under an answer: a few short questions the user can click ("top 5
// instead", "only in Germany", "by month instead"). Each is one the built-in engine is known to
// answer in this conversation: candidates are made from the answered query's structure and the
// schema index (columns, their roles and types, stored values), never from a list of known
// questions or schemas, and a candidate is kept only when Engine::Understand reads it as an
// edit of the answered query, with at least the pipeline's confidence, into a different query
// that makes the change the candidate promises.
//
// The cost is bounded: at most `max_candidates` engine calls per answer, no I/O.
// Thread-safety: a pure function of its arguments (Engine::Understand is const); safe to call
// concurrently.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "db/value.h"
#include "nl2sql/engine/engine.h"
#include "nl2sql/engine/schema_index.h"
#include "sql/ir.h"

namespace helios::nl2sql {

// What checking candidates has found, kept across answers: a check is a pure function of the
// engine, the answered query and the candidate's text, and the same answered query comes back
// often (a cached plan, a dashboard's question). Bounded (kMaxEntries); forgotten when it is
// used with another engine (the schema changed) or on another day (relative dates). A memory
// serves one confidence threshold: give each pipeline its own. Thread-safe.
class FollowUpChecks {
 public:
  static constexpr size_t kMaxEntries = 4096;
  FollowUpChecks();
  ~FollowUpChecks();
  FollowUpChecks(const FollowUpChecks&) = delete;
  FollowUpChecks& operator=(const FollowUpChecks&) = delete;

  // The reading found for `candidate` as a follow-up of `answered` (nullopt inside when the
  // candidate did not check out), or nullopt when it was never checked with this engine.
  std::optional<std::optional<sql::Query>> Find(const engine::Engine& engine,
                                                const std::string& answered_sql,
                                                const sql::Query& answered,
                                                const std::string& candidate) const;
  void Remember(const engine::Engine& engine, const std::string& answered_sql,
                const sql::Query& answered, const std::string& candidate,
                std::optional<sql::Query> reading);
  size_t size() const;

  // Whole lists of suggestions, for a caller whose options are the same every time and whose
  // known_values come from the engine alone (the pipeline's): SuggestFollowUps is then a pure
  // function of the engine, the day, the answered query and the rows, and an answer asked again
  // (a cache hit, a dashboard's question) offers its list without generating candidates again.
  // rows_digest is RowsDigest of the answer's rows. Bounded like the checks.
  std::optional<std::vector<std::string>> FindList(const engine::Engine& engine,
                                                   const std::string& answered_sql,
                                                   const sql::Query& answered,
                                                   const std::string& rows_digest) const;
  void RememberList(const engine::Engine& engine, const std::string& answered_sql,
                    const sql::Query& answered, const std::string& rows_digest,
                    std::vector<std::string> suggestions);
  size_t lists() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// A SHA-256 digest of the rows' values and their types (32 bytes): equal only for equal rows.
std::string RowsDigest(const std::vector<db::Row>& rows);

// The stored values of a low-cardinality text column, the most useful first (e.g. the most
// frequent); empty when unknown.
using KnownValues = std::function<std::vector<std::string>(const engine::ColumnEntry&)>;

struct SuggestOptions {
  // The pipeline's threshold: a candidate the engine understands with less is not offered.
  double confidence_threshold = 0.6;
  size_t max_suggestions = 4;
  // Engine calls per answer at most (one per candidate checked).
  size_t max_candidates = 12;
  // The answer's rows (may be null): values shown in them ("Germany" in a row) become
  // candidates such as "only in Germany" and "excluding Germany"; their count decides whether
  // "top 5" would cut anything.
  const std::vector<db::Row>* rows = nullptr;
  // Values of columns the answer does not show (may be null): "only in Germany" for a column
  // reachable from the answered query.
  KnownValues known_values;
  // Where checks are remembered across answers (may be null: every candidate is checked).
  FollowUpChecks* checks = nullptr;
};

// At most options.max_suggestions distinct suggestions, the most useful first; the same for the
// same input. Empty when nothing checked out.
std::vector<std::string> SuggestFollowUps(const engine::Engine& engine, const sql::Query& answered,
                                          const SuggestOptions& options);

}  // namespace helios::nl2sql
