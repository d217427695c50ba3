// The session routes of the QueryService: reading and ending a conversation.
#include <fmt/format.h>

#include "nl2sql/pipeline.h"

namespace helios::nl2sql {

namespace {
Error NoSuchSession(const std::string& session_id) {
  return Error(ErrorCode::kNotFound,
               fmt::format("There is no session '{}' (it may have expired).", session_id));
}
}  // namespace

Result<SessionView> Pipeline::GetSession(const std::string& tenant_id,
                                         const std::string& session_id) {
  auto session = sessions_.Load(tenant_id, session_id);
  if (!session) return std::unexpected(session.error());
  if (!*session) return std::unexpected(NoSuchSession(session_id));
  SessionView view;
  view.session_id = (*session)->id;
  view.turn_count = (*session)->turn_count;
  int number = (*session)->turn_count - static_cast<int>((*session)->turns.size());
  for (const conversation::Turn& turn : (*session)->turns) {
    view.turns.push_back(TurnView{++number, turn.question, turn.sql, turn.row_count});
  }
  return view;
}

Result<void> Pipeline::EndSession(const std::string& tenant_id, const std::string& session_id) {
  auto removed = sessions_.Remove(tenant_id, session_id);
  if (!removed) return std::unexpected(removed.error());
  if (!*removed) return std::unexpected(NoSuchSession(session_id));
  return {};
}

}  // namespace helios::nl2sql
