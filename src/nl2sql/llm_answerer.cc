#include "nl2sql/llm_answerer.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <utility>

#include "llm/sql_extract.h"

namespace helios::nl2sql {
namespace {

// The provider failed in a way that says it is unwell (not a refusal of this question).
bool CountsAgainstBreaker(ErrorCode code) {
  return code == ErrorCode::kUnavailable || code == ErrorCode::kDeadlineExceeded ||
         code == ErrorCode::kInternal;
}

// The database rejected the statement itself: worth showing the model.
bool Correctable(ErrorCode code) {
  return code == ErrorCode::kDatabaseError || code == ErrorCode::kUnsafeSql ||
         code == ErrorCode::kInvalidArgument;
}

std::string Shorten(std::string text, size_t max) {
  if (text.size() <= max) return text;
  text.resize(max);
  return text + "…";
}

}  // namespace

LlmAnswerer::LlmAnswerer(llm::LlmProvider& provider, db::DataSource& source,
                         resilience::CircuitBreaker& breaker, PromptFunction prompt,
                         const Clock& clock, LlmAnswererOptions options)
    : provider_(provider),
      source_(source),
      breaker_(breaker),
      prompt_(std::move(prompt)),
      clock_(clock),
      options_(options) {}

Result<LlmAnswer> LlmAnswerer::Answer(const PromptRequest& request) {
  // The bulkhead: a place is taken without waiting, or the question is refused at once.
  const int limit = std::max(1, options_.max_concurrent_requests);
  int taken = in_flight_.load();
  do {
    if (taken >= limit) {
      Error error(ErrorCode::kUnavailable,
                  fmt::format("the language model is at capacity ({} requests in flight); try "
                              "again shortly",
                              limit));
      error.details.push_back({std::string(kRetryAfterDetail), {"1"}});
      return std::unexpected(std::move(error));
    }
  } while (!in_flight_.compare_exchange_weak(taken, taken + 1));
  struct Release {
    std::atomic<int>& count;
    ~Release() { --count; }
  } release{in_flight_};
  return AnswerWithinBulkhead(request);
}

Result<LlmAnswer> LlmAnswerer::AnswerWithinBulkhead(const PromptRequest& request) {
  const auto deadline = clock_.Steady() + options_.timeout;
  PromptRequest round = request;
  round.failed_sql.clear();
  round.error.clear();
  LlmAnswer answer;
  answer.rounds = 0;
  std::string last_problem;
  for (int i = 0; i < std::max(1, options_.max_rounds); ++i) {
    if (clock_.Steady() >= deadline) {
      return Fail(ErrorCode::kDeadlineExceeded,
                  "The language model did not produce a working query in time.");
    }
    if (auto permit = breaker_.Allow(); !permit) return std::unexpected(permit.error());
    llm::CompletionRequest call;
    call.messages = prompt_(round);
    call.max_tokens = options_.max_tokens;
    call.temperature = options_.temperature;
    call.json_object = true;
    call.deadline = deadline;
    const auto started = clock_.Steady();
    auto completion = provider_.Complete(call);
    if (options_.llm_duration != nullptr) {
      options_.llm_duration->Observe(
          {provider_.name()}, std::chrono::duration<double>(clock_.Steady() - started).count());
    }
    ++answer.rounds;
    if (!completion) {
      if (CountsAgainstBreaker(completion.error().code)) {
        breaker_.RecordFailure();
      } else {
        breaker_.RecordSuccess();
      }
      return std::unexpected(completion.error());
    }
    breaker_.RecordSuccess();
    answer.http_attempts += completion->attempts;
    if (completion->truncated) {
      // SQL cut off mid-way may still parse as something else; never run it.
      return Fail(ErrorCode::kNotUnderstood,
                  "The language model's answer was cut off at the token limit ([llm] "
                  "max_tokens); raise it or ask a simpler question.");
    }

    auto generated = llm::ExtractSql(completion->text);
    if (!generated) return std::unexpected(generated.error());
    if (generated->sql.empty()) {
      return Fail(
          ErrorCode::kNotUnderstood,
          generated->explanation.empty()
              ? "The language model could not answer this question from the schema."
              : "The language model could not answer: " + Shorten(generated->explanation, 400));
    }
    // Execute checks the SQL with the database's own parser before running it (a write or a
    // second statement is refused there), so no separate Check: that would parse it twice.
    Result<db::QueryResult> result = source_.Execute(
        generated->sql, {}, db::ExecuteOptions{options_.max_rows, options_.statement_timeout});
    if (result) {
      answer.sql = std::move(generated->sql);
      answer.explanation = std::move(generated->explanation);
      answer.result = std::move(*result);
      return answer;
    }
    if (!Correctable(result.error().code)) return std::unexpected(result.error());
    // Another round: the model sees its SQL and the database's words.
    last_problem = result.error().message;
    round.failed_sql = std::move(generated->sql);
    round.error = result.error().message;
  }
  return Fail(ErrorCode::kNotUnderstood,
              fmt::format("The language model did not produce a query that runs after {} "
                          "attempts; the last error was: {}",
                          answer.rounds, Shorten(last_problem, 300)));
}

}  // namespace helios::nl2sql
