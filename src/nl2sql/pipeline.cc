#include "nl2sql/pipeline.h"

#include <fmt/format.h>

#include "common/text.h"
#include "security/question_screen.h"
#include "security/sanitize.h"
#include "sql/explain.h"
#include "sql/render.h"

namespace helios::nl2sql {

Pipeline::Pipeline(db::DataSource& source, std::shared_ptr<const engine::Engine> engine,
                   conversation::SessionStore& sessions, const Clock& clock,
                   PipelineOptions options)
    : source_(source),
      engine_(std::move(engine)),
      sessions_(sessions),
      clock_(clock),
      options_(std::move(options)) {}

Result<Answer> Pipeline::Ask(const AskRequest& request) {
  const auto start = clock_.Steady();
  if (options_.screen_questions) {
    const security::Screening screening = security::ScreenQuestion(request.question);
    if (screening.flagged)
      return Fail(ErrorCode::kUnsafeSql,
                  fmt::format("The question looks like it contains SQL ({}); ask in plain words.",
                              screening.reason));
  }
  if (!request.database.empty() && request.database != options_.database_name &&
      request.database != "default") {
    return Fail(ErrorCode::kNotFound, fmt::format("Unknown database '{}'; this server has '{}'.",
                                                  request.database, options_.database_name));
  }
  std::string session_id = request.session_id.empty() ? text::NewUuid() : request.session_id;
  auto session = sessions_.Load(request.tenant_id, session_id);
  if (!session) return std::unexpected(session.error());
  const sql::Query* previous = nullptr;
  if (*session && !(*session)->turns.empty()) previous = &(*session)->turns.back().query;
  size_t context = request.question.size();
  if (*session) {
    for (const conversation::Turn& turn : (*session)->turns) {
      context += turn.question.size() + turn.sql.size();
    }
  }
  if (context > options_.max_context_bytes) {
    return Fail(ErrorCode::kPayloadTooLarge,
                fmt::format("This conversation has grown past the limit of {} bytes of context; "
                            "start a new session (send no session_id).",
                            options_.max_context_bytes));
  }

  auto understood = engine_->Understand(request.question, previous);
  if (!understood) return std::unexpected(understood.error());
  if (understood->confidence < options_.confidence_threshold) {
    std::string why;
    for (const auto& n : understood->notes) why += " " + n + ".";
    return Fail(ErrorCode::kNotUnderstood,
                fmt::format("I am not confident I understood the question (confidence {:.2f}).{} "
                            "Try rephrasing with the names of tables, columns or values.",
                            understood->confidence, why));
  }
  const sql::Query& query = understood->query;
  sql::RenderOptions render{source_.dialect(), false};
  sql::RenderedSql bound = sql::Render(query, render);
  db::ExecuteOptions exec{options_.max_rows, options_.statement_timeout};
  const auto db_start = clock_.Steady();
  auto result = source_.Execute(bound.text, bound.params, exec);
  if (options_.db_query_duration != nullptr) {
    options_.db_query_duration->Observe(
        {options_.database_name},
        std::chrono::duration<double>(clock_.Steady() - db_start).count());
  }
  if (!result) return std::unexpected(result.error());

  Answer answer;
  answer.session_id = session_id;
  answer.sql = sql::Render(query, {source_.dialect(), true}).text;
  if (options_.strip_sql_comments) answer.sql = security::StripSqlComments(answer.sql);
  answer.explanation = sql::Explain(query);
  if (!understood->notes.empty()) {
    answer.explanation += " (I ";
    answer.explanation += text::Join(understood->notes, "; ");
    answer.explanation += ".)";
  }
  answer.columns = std::move(result->columns);
  answer.rows = std::move(result->rows);
  answer.row_count = answer.rows.size();
  answer.truncated = result->truncated;
  answer.source = "engine";
  answer.confidence = understood->confidence;
  answer.chart = SuggestChart(query, answer.columns, answer.row_count);

  conversation::Turn turn{request.question, query, answer.sql, answer.row_count};
  auto turn_number = sessions_.Append(request.tenant_id, session_id, std::move(turn));
  if (!turn_number) return std::unexpected(turn_number.error());
  answer.turn = *turn_number;
  answer.latency_ms = std::chrono::duration<double, std::milli>(clock_.Steady() - start).count();
  return answer;
}

HealthReport Pipeline::Health() {
  HealthReport report;
  const auto start = clock_.Steady();
  auto ping = source_.Ping();
  DependencyHealth db;
  db.name = "database";
  db.ok = ping.has_value();
  db.detail = ping ? source_.DisplayName() : ping.error().message;
  db.latency_ms = std::chrono::duration<double, std::milli>(clock_.Steady() - start).count();
  report.dependencies.push_back(db);
  report.ok = db.ok;
  return report;
}

ChartSuggestion SuggestChart(const sql::Query& q, const std::vector<std::string>& columns,
                             size_t row_count) {
  ChartSuggestion chart;
  chart.type = "table";
  if (columns.empty() || row_count == 0) return chart;
  if (!q.is_aggregated()) return chart;
  std::vector<std::string> measures;
  std::string x;
  bool time_axis = false;
  for (size_t i = 0; i < q.select.size() && i < columns.size(); ++i) {
    const auto& e = q.select[i].expr;
    if (e.is_aggregate()) {
      measures.push_back(columns[i]);
    } else if (x.empty() || e.grain != sql::TimeGrain::kNone) {
      // Prefer a time axis; else the last descriptive column (the name, not the id).
      if (e.grain != sql::TimeGrain::kNone) {
        x = columns[i];
        time_axis = true;
      } else if (!time_axis) {
        x = columns[i];
      }
    } else if (!time_axis) {
      x = columns[i];
    }
  }
  if (measures.empty()) return chart;
  if (q.group_by.empty()) {
    if (row_count == 1 && measures.size() == 1) chart.type = "number";
    chart.y = measures;
    return chart;
  }
  chart.x = x;
  chart.y = measures;
  if (time_axis)
    chart.type = "line";
  else if (row_count <= 6 && measures.size() == 1 && q.limit.value_or(0) == 0)
    chart.type = "pie";
  else
    chart.type = "bar";
  return chart;
}

}  // namespace helios::nl2sql
