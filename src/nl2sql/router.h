// Several data sources behind one QueryService. A question goes to the pipeline of the
// database its request names, else to that of its session (a conversation keeps to one
// database), else to the default: the first configured.
// Thread-safety: as the pipelines it routes to; the routing table is fixed at construction.
#pragma once

#include <string>
#include <vector>

#include "conversation/session_store.h"
#include "nl2sql/pipeline.h"
#include "nl2sql/service.h"

namespace helios::nl2sql {

class SourceRouter final : public QueryService {
 public:
  // pipelines: one per data source, the default first; none may be null, names unique.
  SourceRouter(std::vector<Pipeline*> pipelines, conversation::SessionStore& sessions);

  Result<Answer> Ask(const AskRequest& request) override;
  // Every source's health; ok only when every source answers.
  HealthReport Health() override;
  Result<SessionView> GetSession(const Caller& caller, const std::string& session_id) override;
  Result<std::vector<SessionListItem>> ListSessions(const Caller& caller) override;
  Result<void> EndSession(const Caller& caller, const std::string& session_id) override;
  Result<void> MarkCorrect(const Caller& caller, const std::string& session_id, int turn) override;

 private:
  // The pipeline named `database`; kNotFound listing the names when there is none.
  Result<Pipeline*> Named(const std::string& database) const;
  // The pipeline of the session's latest turn; the default for a new or unknown session.
  // kNotFound for another user's session, as the pipeline would answer.
  Result<Pipeline*> OfSession(const Caller& caller, const std::string& session_id);

  std::vector<Pipeline*> pipelines_;
  conversation::SessionStore& sessions_;
};

}  // namespace helios::nl2sql
