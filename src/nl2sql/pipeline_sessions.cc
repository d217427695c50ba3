// The session routes of the QueryService: reading, listing and ending a user's conversations.
// The store answers for the owner only (another user's session is NoSuchSession there too), so
// every route below reads the same for a session that does not exist and for another user's.
#include <fmt/format.h>

#include "nl2sql/pipeline.h"

namespace helios::nl2sql {

namespace {

using conversation::NoSuchSession;

conversation::Owner OwnerOf(const Caller& caller) {
  return conversation::Owner{caller.tenant_id, caller.user};
}

}  // namespace

Result<SessionView> Pipeline::GetSession(const Caller& caller, const std::string& session_id) {
  auto session = sessions_.Load(OwnerOf(caller), session_id);
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

Result<void> Pipeline::MarkCorrect(const Caller& caller, const std::string& session_id, int turn) {
  if (options_.examples == nullptr) {
    return Fail(ErrorCode::kNotFound,
                "This server keeps no examples, so feedback is not recorded.");
  }
  auto session = sessions_.Load(OwnerOf(caller), session_id);
  if (!session) return std::unexpected(session.error());
  if (!*session) return std::unexpected(NoSuchSession(session_id));
  const int first = (*session)->turn_count - static_cast<int>((*session)->turns.size()) + 1;
  if (turn < first || turn > (*session)->turn_count) {
    return Fail(ErrorCode::kNotFound,
                fmt::format("Turn {} of session '{}' is not kept any more (turns {}..{} are).",
                            turn, session_id, first, (*session)->turn_count));
  }
  const conversation::Turn& t = (*session)->turns[static_cast<size_t>(turn - first)];
  examples::Example example;
  example.question = t.question;
  example.sql = t.sql;
  example.database = options_.database_name;
  example.tenant = caller.tenant_id;
  example.source = std::string(examples::kSourceUser);
  auto added = options_.examples->Add(std::move(example));
  if (!added) return std::unexpected(added.error());
  if (!options_.learned_examples_path.empty()) {
    std::lock_guard lock(save_mu_);
    auto saved = options_.examples->Save(options_.learned_examples_path);
    if (!saved) return std::unexpected(saved.error());
  }
  return {};
}

Result<std::vector<SessionListItem>> Pipeline::ListSessions(const Caller& caller) {
  auto listed = sessions_.List(OwnerOf(caller));
  if (!listed) return std::unexpected(listed.error());
  std::vector<SessionListItem> items;
  items.reserve(listed->size());
  for (conversation::SessionSummary& s : *listed) {
    items.push_back(SessionListItem{std::move(s.id), s.turn_count, std::move(s.database),
                                    std::move(s.last_question), s.updated_at_ms});
  }
  return items;
}

Result<void> Pipeline::EndSession(const Caller& caller, const std::string& session_id) {
  auto removed = sessions_.Remove(OwnerOf(caller), session_id);
  if (!removed) return std::unexpected(removed.error());
  if (!*removed) return std::unexpected(NoSuchSession(session_id));
  return {};
}

}  // namespace helios::nl2sql
