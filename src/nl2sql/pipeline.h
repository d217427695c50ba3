// The question pipeline: the QueryService that the server and the CLI call. One question's
// path: screen it for smuggled SQL, load the session, understand the question (a follow-up
// edits the previous turn's query), render it with bound parameters, run it read-only with a
// time limit and a row cap, explain it, choose its chart (chart.h), remember the turn.
// Thread-safety: Ask() and Health() are safe to call concurrently.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "conversation/session_store.h"
#include "db/data_source.h"
#include "nl2sql/answer_cache.h"
#include "nl2sql/engine/engine.h"
#include "nl2sql/examples/example_store.h"
#include "nl2sql/llm_answerer.h"
#include "nl2sql/service.h"
#include "nl2sql/suggestions.h"
#include "observability/metrics.h"

namespace helios::nl2sql {

// Who writes the SQL ([nl2sql] mode): the built-in engine only, the language model only, or
// the engine when it is confident enough and the model otherwise.
enum class Mode { kEngine, kLlm, kAuto };

struct PipelineOptions {
  Mode mode = Mode::kAuto;
  std::string database_name = "default";  // the name the API's "database" field may use
  size_t max_rows = 1000;
  std::chrono::milliseconds statement_timeout{10000};
  double confidence_threshold = 0.6;  // below it the engine declines (422)
  // Refuse questions that are or carry SQL (security/question_screen.h) before anything else
  // sees them: [production.security] sql_injection_detection.
  bool screen_questions = true;
  // Remove comments from the SQL shown in answers (security/sanitize.h):
  // [production.security] output_sanitization.
  bool strip_sql_comments = true;
  // The most text a conversation may hold ([production.security] max_context_size): the kept
  // turns' questions and SQL plus the new question. Past it, a follow-up is refused (413) and
  // the caller starts a new session.
  size_t max_context_bytes = 1'000'000;
  // Answers users mark correct become examples here (may be null: feedback is then refused),
  // and the user-added examples are saved to learned_examples_path (empty: not saved).
  examples::ExampleStore* examples = nullptr;
  std::string learned_examples_path;
  // Where database call durations are recorded ({database} label: database_name); may be null.
  observability::HistogramFamily* db_query_duration = nullptr;
  // The semantic cache ([cache] enabled); null: every question is understood afresh.
  AnswerCache* cache = nullptr;
};

class Pipeline final : public QueryService {
 public:
  // llm may be null (no provider configured): then every question goes to the engine.
  Pipeline(db::DataSource& source, std::shared_ptr<const engine::Engine> engine,
           conversation::SessionStore& sessions, const Clock& clock, PipelineOptions options,
           LlmAnswerer* llm = nullptr);

  Result<Answer> Ask(const AskRequest& request) override;
  HealthReport Health() override;
  Result<SessionView> GetSession(const Caller& caller, const std::string& session_id) override;
  Result<std::vector<SessionListItem>> ListSessions(const Caller& caller) override;
  Result<void> EndSession(const Caller& caller, const std::string& session_id) override;
  Result<void> MarkCorrect(const Caller& caller, const std::string& session_id, int turn) override;

  // Swaps in an engine built on a newly read schema; questions already running finish with
  // the old one.
  void SetEngine(std::shared_ptr<const engine::Engine> engine);
  const std::string& database_name() const { return options_.database_name; }
  db::DataSource& source() { return source_; }

 private:
  std::shared_ptr<const engine::Engine> CurrentEngine() const;

  db::DataSource& source_;
  mutable std::mutex engine_mu_;
  std::shared_ptr<const engine::Engine> engine_;  // guarded by engine_mu_
  conversation::SessionStore& sessions_;
  const Clock& clock_;
  const PipelineOptions options_;
  LlmAnswerer* const llm_;
  FollowUpChecks follow_up_checks_;  // candidates of follow-up suggestions already checked
  std::mutex save_mu_;  // one save of the learned examples at a time, each of the latest state

  // The answer from the engine's query, or from the language model (session: may be null).
  Result<Answer> FromEngine(const engine::Understanding& understood);
  // The answer from a cache hit's re-bound query.
  Result<Answer> FromCache(const CachedPlan& plan);
  Result<Answer> FromLlm(const AskRequest& request, const conversation::Session* session);
};

}  // namespace helios::nl2sql
