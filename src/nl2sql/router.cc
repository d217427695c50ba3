#include "nl2sql/router.h"

#include <fmt/format.h>

#include "common/text.h"

namespace helios::nl2sql {

SourceRouter::SourceRouter(std::vector<Pipeline*> pipelines, conversation::SessionStore& sessions)
    : pipelines_(std::move(pipelines)), sessions_(sessions) {}

Result<Pipeline*> SourceRouter::Named(const std::string& database) const {
  for (Pipeline* p : pipelines_)
    if (p->database_name() == database) return p;
  std::vector<std::string> names;
  for (const Pipeline* p : pipelines_) names.push_back("'" + p->database_name() + "'");
  return Fail(ErrorCode::kNotFound, fmt::format("Unknown database '{}'; this server has {}.",
                                                database, text::Join(names, ", ")));
}

Result<Pipeline*> SourceRouter::OfSession(const Caller& caller, const std::string& session_id) {
  if (session_id.empty()) return pipelines_.front();
  auto session = sessions_.Load(conversation::Owner{caller.tenant_id, caller.user}, session_id);
  if (!session) return std::unexpected(session.error());
  if (!*session || (*session)->turns.empty() || (*session)->turns.back().database.empty())
    return pipelines_.front();
  return Named((*session)->turns.back().database);
}

Result<Answer> SourceRouter::Ask(const AskRequest& request) {
  auto pipeline = request.database.empty()
                      ? OfSession(Caller{request.tenant_id, request.user}, request.session_id)
                      : Named(request.database);
  if (!pipeline) return std::unexpected(pipeline.error());
  return (*pipeline)->Ask(request);
}

HealthReport SourceRouter::Health() {
  HealthReport report;
  report.ok = true;
  for (Pipeline* p : pipelines_) {
    HealthReport one = p->Health();
    report.ok = report.ok && one.ok;
    for (DependencyHealth& d : one.dependencies) {
      // The default keeps the plain name "database"; the others are told apart by theirs.
      if (d.name == "database" && p != pipelines_.front()) d.name = "database:" + d.database;
      report.dependencies.push_back(std::move(d));
    }
  }
  return report;
}

Result<SessionView> SourceRouter::GetSession(const Caller& caller, const std::string& session_id) {
  return pipelines_.front()->GetSession(caller, session_id);
}

Result<std::vector<SessionListItem>> SourceRouter::ListSessions(const Caller& caller) {
  return pipelines_.front()->ListSessions(caller);
}

Result<void> SourceRouter::EndSession(const Caller& caller, const std::string& session_id) {
  return pipelines_.front()->EndSession(caller, session_id);
}

Result<void> SourceRouter::MarkCorrect(const Caller& caller, const std::string& session_id,
                                       int turn) {
  auto pipeline = OfSession(caller, session_id);
  if (!pipeline) return std::unexpected(pipeline.error());
  return (*pipeline)->MarkCorrect(caller, session_id, turn);
}

}  // namespace helios::nl2sql
