#include "nl2sql/pipeline.h"

#include <fmt/format.h>

#include <limits>
#include <optional>

#include "common/text.h"
#include "nl2sql/chart.h"
#include "nl2sql/suggestions.h"
#include "security/question_screen.h"
#include "security/sanitize.h"
#include "sql/explain.h"
#include "sql/render.h"

namespace helios::nl2sql {

Pipeline::Pipeline(db::DataSource& source, std::shared_ptr<const engine::Engine> engine,
                   conversation::SessionStore& sessions, const Clock& clock,
                   PipelineOptions options, LlmAnswerer* llm)
    : source_(source),
      engine_(std::move(engine)),
      sessions_(sessions),
      clock_(clock),
      options_(std::move(options)),
      llm_(llm) {}

namespace {

Error Declined(const engine::Understanding& understood) {
  std::string why;
  for (const auto& n : understood.notes) why += " " + n + ".";
  return Error(ErrorCode::kNotUnderstood,
               fmt::format("I am not confident I understood the question (confidence {:.2f}).{} "
                           "Try rephrasing with the names of tables, columns or values.",
                           understood.confidence, why));
}

}  // namespace

Result<Answer> Pipeline::Ask(const AskRequest& request) {
  const auto start = clock_.Steady();
  if (options_.screen_questions) {
    const security::Screening screening = security::ScreenQuestion(request.question);
    if (screening.flagged)
      return Fail(ErrorCode::kUnsafeSql,
                  fmt::format("The question looks like it contains SQL ({}); ask in plain words.",
                              screening.reason));
  }
  if (!request.database.empty() && request.database != options_.database_name) {
    return Fail(ErrorCode::kNotFound, fmt::format("Unknown database '{}'; this server has '{}'.",
                                                  request.database, options_.database_name));
  }
  std::string session_id = request.session_id.empty() ? text::NewUuid() : request.session_id;
  // Only the asker's own session: another user's is kNotFound here, before anything runs.
  const conversation::Owner owner{request.tenant_id, request.user};
  auto session = sessions_.Load(owner, session_id);
  if (!session) return std::unexpected(session.error());
  const conversation::Session* current = *session ? &**session : nullptr;
  if (current && !current->turns.empty() && !current->turns.back().database.empty() &&
      current->turns.back().database != options_.database_name) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("This conversation is about the database '{}'; start a new session "
                            "(send no session_id) to ask about '{}'.",
                            current->turns.back().database, options_.database_name));
  }
  // A follow-up edits the previous turn's query when the engine wrote it.
  const sql::Query* previous = nullptr;
  if (current && !current->turns.empty() && current->turns.back().has_query) {
    previous = &current->turns.back().query;
  }
  size_t context = request.question.size();
  if (current) {
    for (const conversation::Turn& turn : current->turns) {
      context += turn.question.size() + turn.sql.size();
    }
  }
  if (context > options_.max_context_bytes) {
    return Fail(ErrorCode::kPayloadTooLarge,
                fmt::format("This conversation has grown past the limit of {} bytes of context; "
                            "start a new session (send no session_id).",
                            options_.max_context_bytes));
  }

  const std::shared_ptr<const engine::Engine> engine = CurrentEngine();
  Result<Answer> answer = Fail(ErrorCode::kInternal, "no route");
  conversation::Turn turn;
  turn.question = request.question;

  // The semantic cache: an earlier answer's query with this question's values, run afresh.
  std::optional<QuestionShape> shape;
  CacheContext cache_context;
  bool cache_lookup = false;
  if (options_.cache != nullptr) {
    shape = ShapeQuestion(request.question, engine->index());
    cache_context.tenant = request.tenant_id;
    cache_context.database = options_.database_name;
    cache_context.schema_version = engine->index().catalog().version;
    if (current && !current->turns.empty()) cache_context.previous_sql = current->turns.back().sql;
    auto found = options_.cache->Find(cache_context, *shape);
    cache_lookup = found.has_value();  // a store that cannot be reached is no lookup
    if (found && *found) {
      answer = FromCache(**found);
      if (answer) {
        if ((*found)->kind == CachedPlan::Kind::kQuery) {
          turn.query = (*found)->query;
        } else {
          turn.has_query = false;
        }
      } else if (answer.error().code == ErrorCode::kUnavailable ||
                 answer.error().code == ErrorCode::kDeadlineExceeded) {
        return answer;  // the database's trouble: answering afresh would meet it again
      }
      // Otherwise the re-bound query was refused (e.g. a value the database rejects): the
      // question is answered afresh below.
    }
  }

  // The router: the engine when it is sure enough (or the only one), the model otherwise.
  const bool use_llm = llm_ != nullptr && options_.mode != Mode::kEngine;
  std::optional<engine::Understanding> understood;
  if (!answer && (options_.mode != Mode::kLlm || llm_ == nullptr)) {
    auto parsed = engine->Understand(request.question, previous);
    if (!parsed && !use_llm) return std::unexpected(parsed.error());
    if (parsed) understood = std::move(*parsed);
  }
  if (answer) {
    // Answered from the cache.
  } else if (understood && understood->confidence >= options_.confidence_threshold) {
    answer = FromEngine(*understood);
    if (answer) turn.query = understood->query;
  } else if (use_llm) {
    answer = FromLlm(request, current);
    turn.has_query = false;
    if (!answer && answer.error().code == ErrorCode::kUnavailable && options_.mode == Mode::kAuto) {
      // The model is unavailable (or its breaker open); the engine answers only what it is
      // sure of, and this was not such a question.
      Error unavailable(ErrorCode::kUnavailable,
                        fmt::format("The language model is unavailable ({}). The built-in engine "
                                    "could not answer this question with confidence{}; try again "
                                    "shortly, or rephrase with the names of tables, columns or "
                                    "values.",
                                    answer.error().message,
                                    understood ? fmt::format(" ({:.2f})", understood->confidence)
                                               : std::string()));
      // The model's details (e.g. when to retry) stay with the error.
      unavailable.details = answer.error().details;
      answer = std::unexpected(std::move(unavailable));
    }
  } else if (understood) {
    return std::unexpected(Declined(*understood));
  }
  if (!answer) return answer;
  // Follow-ups the engine is known to answer, offered for a query it can edit: its own answers
  // and cache hits re-bound from its query. A model's SQL has no structure for the engine to
  // edit, so LLM answers carry none; nor does any answer when the model answers every question.
  if (turn.has_query && (options_.mode != Mode::kLlm || llm_ == nullptr)) {
    SuggestOptions suggest;
    suggest.confidence_threshold = options_.confidence_threshold;
    suggest.rows = &answer->rows;
    suggest.known_values = [](const engine::ColumnEntry& column) { return column.values; };
    suggest.checks = &follow_up_checks_;
    // The same query with the same rows (asked again, or a cache hit whose data did not change)
    // gets the list it got before: the options above are the same for every answer.
    const std::string answered_sql = sql::Render(turn.query, {db::Dialect::kSqlite, true}).text;
    const std::string rows_digest = RowsDigest(answer->rows);
    if (auto known = follow_up_checks_.FindList(*engine, answered_sql, turn.query, rows_digest)) {
      answer->suggestions = std::move(*known);
    } else {
      answer->suggestions = SuggestFollowUps(*engine, turn.query, suggest);
      follow_up_checks_.RememberList(*engine, answered_sql, turn.query, rows_digest,
                                     answer->suggestions);
    }
  }

  answer->session_id = session_id;
  answer->cache_lookup = cache_lookup;
  if (options_.strip_sql_comments) answer->sql = security::StripSqlComments(answer->sql);
  if (options_.cache != nullptr && shape && !answer->cache_hit) {
    // A cache that cannot be written to never fails a question that was answered.
    if (understood && answer->source == "engine") {
      (void)options_.cache->RememberQuery(cache_context, *shape, request.question, *understood);
    } else if (answer->source == "llm") {
      (void)options_.cache->RememberSql(cache_context, *shape, request.question, answer->sql,
                                        answer->explanation);
    }
  }
  turn.sql = answer->sql;
  turn.row_count = answer->row_count;
  turn.database = options_.database_name;
  auto turn_number = sessions_.Append(owner, session_id, std::move(turn));
  if (!turn_number) return std::unexpected(turn_number.error());
  answer->turn = *turn_number;
  answer->latency_ms = std::chrono::duration<double, std::milli>(clock_.Steady() - start).count();
  return answer;
}

Result<Answer> Pipeline::FromEngine(const engine::Understanding& understood) {
  const sql::Query& query = understood.query;
  if (auto valid = sql::Validate(query); !valid)
    return Fail(ErrorCode::kInternal,
                fmt::format("the engine built a query it cannot run: {}", valid.error().message));
  sql::RenderOptions render{source_.dialect(), false};
  sql::RenderedSql bound = sql::Render(query, render);
  db::ExecuteOptions exec{options_.max_rows, options_.statement_timeout};
  const auto db_start = clock_.Steady();
  auto result = source_.Execute(bound.text, bound.params, exec);
  const auto db_time = clock_.Steady() - db_start;
  if (options_.db_query_duration != nullptr) {
    options_.db_query_duration->Observe({options_.database_name},
                                        std::chrono::duration<double>(db_time).count());
  }
  if (!result) return std::unexpected(result.error());

  Answer answer;
  answer.database_ms = std::chrono::duration<double, std::milli>(db_time).count();
  answer.sql = sql::Render(query, {source_.dialect(), true}).text;
  answer.explanation = sql::Explain(query);
  if (!understood.notes.empty()) {
    answer.explanation += " (I ";
    answer.explanation += text::Join(understood.notes, "; ");
    answer.explanation += ".)";
  }
  answer.columns = std::move(result->columns);
  answer.rows = std::move(result->rows);
  answer.row_count = answer.rows.size();
  answer.truncated = result->truncated;
  answer.source = "engine";
  answer.confidence = understood.confidence;
  answer.confidence_features = understood.features;
  answer.chart = ChooseChart(&query, answer.columns, answer.rows, answer.truncated);
  return answer;
}

Result<Answer> Pipeline::FromCache(const CachedPlan& plan) {
  Result<Answer> answer = Fail(ErrorCode::kInternal, "no plan");
  if (plan.kind == CachedPlan::Kind::kQuery) {
    engine::Understanding understood;
    understood.query = plan.query;
    understood.confidence = plan.confidence;
    understood.notes = plan.notes;
    answer = FromEngine(understood);
  } else {
    // A model's SQL with other values: Execute checks it with the database's own parser again
    // before running it.
    db::ExecuteOptions exec{options_.max_rows, options_.statement_timeout};
    const auto db_start = clock_.Steady();
    auto result = source_.Execute(plan.sql, {}, exec);
    const auto db_time = clock_.Steady() - db_start;
    if (options_.db_query_duration != nullptr) {
      options_.db_query_duration->Observe({options_.database_name},
                                          std::chrono::duration<double>(db_time).count());
    }
    if (!result) return std::unexpected(result.error());
    Answer a;
    a.database_ms = std::chrono::duration<double, std::milli>(db_time).count();
    a.sql = plan.sql;
    if (plan.changed.empty()) {
      a.explanation = plan.explanation;
    } else {
      std::vector<std::string> values;
      for (const auto& [was, now] : plan.changed) {
        values.push_back(fmt::format("{} (instead of {})", now.text, was.text));
      }
      a.explanation = fmt::format(
          "The query that answered the earlier question \"{}\", with this question's values: "
          "{}.",
          plan.matched_question, text::Join(values, ", "));
    }
    a.columns = std::move(result->columns);
    a.rows = std::move(result->rows);
    a.row_count = a.rows.size();
    a.truncated = result->truncated;
    a.confidence = std::numeric_limits<double>::quiet_NaN();
    a.chart = ChooseChart(nullptr, a.columns, a.rows, a.truncated);
    answer = std::move(a);
  }
  if (!answer) return answer;
  answer->source = "cache";
  answer->cache_hit = true;
  answer->cached_question = plan.matched_question;
  return answer;
}

Result<Answer> Pipeline::FromLlm(const AskRequest& request, const conversation::Session* session) {
  PromptRequest prompt;
  prompt.tenant_id = request.tenant_id;
  prompt.question = request.question;
  if (session) {
    for (const conversation::Turn& t : session->turns) {
      prompt.turns.push_back(PriorTurn{t.question, t.sql});
    }
  }
  auto generated = llm_->Answer(prompt);
  if (!generated) return std::unexpected(generated.error());
  Answer answer;
  answer.sql = std::move(generated->sql);
  answer.explanation = std::move(generated->explanation);
  answer.columns = std::move(generated->result.columns);
  answer.rows = std::move(generated->result.rows);
  answer.row_count = answer.rows.size();
  answer.truncated = generated->result.truncated;
  answer.source = "llm";
  answer.confidence = std::numeric_limits<double>::quiet_NaN();
  answer.correction_rounds = generated->rounds - 1;
  answer.chart = ChooseChart(nullptr, answer.columns, answer.rows, answer.truncated);
  return answer;
}

void Pipeline::SetEngine(std::shared_ptr<const engine::Engine> engine) {
  std::lock_guard lock(engine_mu_);
  engine_ = std::move(engine);
}

std::shared_ptr<const engine::Engine> Pipeline::CurrentEngine() const {
  std::lock_guard lock(engine_mu_);
  return engine_;
}

HealthReport Pipeline::Health() {
  HealthReport report;
  const auto start = clock_.Steady();
  auto ping = source_.Ping();
  DependencyHealth db;
  db.name = "database";
  db.database = options_.database_name;
  db.ok = ping.has_value();
  db.detail = ping ? source_.DisplayName() : ping.error().message;
  db.latency_ms = std::chrono::duration<double, std::milli>(clock_.Steady() - start).count();
  db.pool = source_.Usage();
  report.dependencies.push_back(db);
  report.ok = db.ok;
  return report;
}

}  // namespace helios::nl2sql
