// The built-in engine: a deterministic semantic parser from an English question to the query
// IR, over any database it is given (it knows only the schema index, never a particular
// schema). It answers only what it understood: each answer carries a confidence, and a
// question it cannot map fails with kNotUnderstood and a message saying what it recognised
// and what the schema offers. A follow-up ("only in Germany", "top 5 instead") is understood
// as an edit of the previous turn's query.
// Thread-safety: Understand() is const and safe to call concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "nl2sql/engine/schema_index.h"
#include "sql/ir.h"

namespace helios::nl2sql::engine {

struct Understanding {
  sql::Query query;
  // 0..1: the calibrated probability that the answer is right (confidence.h), or the engine's
  // own penalties multiplied together before any calibration was shipped.
  double confidence = 0;
  double heuristic_confidence = 0;  // the engine's own penalties multiplied together
  std::vector<double> features;     // in the order of ConfidenceFeatureNames()
  bool follow_up = false;           // the previous turn's query was edited
  std::vector<std::string> notes;   // assumptions made, for the explanation
};

class Engine {
 public:
  Engine(std::shared_ptr<const SchemaIndex> index, const Clock& clock);

  // `previous` is the last answered query of the conversation, or null.
  Result<Understanding> Understand(std::string_view question, const sql::Query* previous) const;

  const SchemaIndex& index() const { return *index_; }
  // Unique to this engine among all engines of the process (never reused), for memories of
  // its answers kept elsewhere.
  uint64_t id() const { return id_; }
  // The day relative dates ("last year") are read against: Understand depends on nothing else
  // but its arguments and the schema index.
  std::chrono::sys_days Today() const;

 private:
  std::shared_ptr<const SchemaIndex> index_;
  const Clock& clock_;
  uint64_t id_;
};

}  // namespace helios::nl2sql::engine
