// Answering a question with a language model: build the prompt, ask the provider (behind the
// circuit breaker), take the SQL out of its answer, check it with the database's own parser,
// run it read-only — and when the check or the run fails, send the error back to the model
// with its SQL for another round, up to max_rounds. A question the model cannot answer ends in
// kNotUnderstood with its reason, never in a loop.
//
// Only the provider's own failures (unreachable, 5xx, timeouts) count against the breaker; SQL
// the database rejects is the model's mistake, corrected in the next round.
//
// A bulkhead caps the questions being answered at once (max_concurrent_requests; each holds
// its place for all its rounds). One beyond the cap is not queued: it fails at once with
// kUnavailable, carrying the detail kRetryAfterDetail, which the HTTP server answers as 503
// with Retry-After. A slow or hung provider therefore ties up at most that many server threads,
// and the breaker is not asked (a full bulkhead says nothing about the provider's health).
//
// Thread-safety: Answer() may be called concurrently when the provider, the data source, the
// breaker and the prompt function are thread-safe (the real ones are).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "db/data_source.h"
#include "llm/provider.h"
#include "observability/metrics.h"
#include "resilience/circuit_breaker.h"

namespace helios::nl2sql {

// One earlier turn of the conversation, as the prompt shows it.
struct PriorTurn {
  std::string question;
  std::string sql;
};

// What one round's prompt is built from.
struct PromptRequest {
  std::string tenant_id;
  std::string question;
  std::vector<PriorTurn> turns;  // oldest first
  // A correction round: the SQL of the previous round and why it failed. Empty in round 1.
  std::string failed_sql;
  std::string error;
};

// Builds the messages of one round (schema linking, examples, rules): composed by the caller.
using PromptFunction = std::function<std::vector<llm::Message>(const PromptRequest&)>;

// Error::details name of the seconds to wait before asking again; the HTTP server answers it as
// Retry-After (server/http_server.cc reads the same name).
inline constexpr std::string_view kRetryAfterDetail = "retry_after_seconds";

struct LlmAnswererOptions {
  int max_rounds = 3;  // model calls per question, the first included ([llm] max_retries + 1)
  int max_tokens = 500;
  double temperature = 0.1;
  std::chrono::milliseconds timeout{30000};  // the whole question, every round included
  size_t max_rows = 1000;
  std::chrono::milliseconds statement_timeout{10000};
  // Where model call durations are recorded ({provider}); may be null.
  observability::HistogramFamily* llm_duration = nullptr;
  // Questions answered by the model at once ([llm] max_concurrent_requests); at least 1.
  int max_concurrent_requests = 256;
};

struct LlmAnswer {
  std::string sql;  // as run (comments not yet stripped)
  std::string explanation;
  db::QueryResult result;
  int rounds = 1;         // model calls made; rounds - 1 corrections
  int http_attempts = 0;  // HTTP requests, retries included
};

class LlmAnswerer {
 public:
  LlmAnswerer(llm::LlmProvider& provider, db::DataSource& source,
              resilience::CircuitBreaker& breaker, PromptFunction prompt, const Clock& clock,
              LlmAnswererOptions options);

  // kUnavailable at once when max_concurrent_requests questions are already being answered
  // (with the detail kRetryAfterDetail), when the breaker is open or the provider fails (after
  // its retries); kDeadlineExceeded past the timeout; kNotUnderstood when the model declines
  // or no round yields SQL that runs; kUnavailable/kDeadlineExceeded from the database as they
  // come.
  Result<LlmAnswer> Answer(const PromptRequest& request);

  const llm::LlmProvider& provider() const { return provider_; }
  // Questions being answered now.
  int in_flight() const { return in_flight_.load(); }

 private:
  Result<LlmAnswer> AnswerWithinBulkhead(const PromptRequest& request);

  llm::LlmProvider& provider_;
  db::DataSource& source_;
  resilience::CircuitBreaker& breaker_;
  const PromptFunction prompt_;
  const Clock& clock_;
  const LlmAnswererOptions options_;
  std::atomic<int> in_flight_{0};  // the bulkhead's count
};

}  // namespace helios::nl2sql
