#include "conversation/session_store.h"

namespace helios::conversation {

MemorySessionStore::MemorySessionStore(const Clock& clock, MemoryStoreOptions options)
    : clock_(clock), options_(options) {}

std::string MemorySessionStore::KeyOf(const std::string& tenant, const std::string& id) {
  // The separator cannot occur in validated ids or tenant names.
  return tenant + '\x1f' + id;
}

bool MemorySessionStore::Expired(const Entry& e, std::chrono::steady_clock::time_point now) const {
  return now - e.last_used >= options_.timeout;
}

Result<std::optional<Session>> MemorySessionStore::Load(const std::string& tenant_id,
                                                        const std::string& session_id) {
  auto now = clock_.Steady();
  std::lock_guard lock(mu_);
  auto it = sessions_.find(KeyOf(tenant_id, session_id));
  if (it == sessions_.end()) return std::optional<Session>();
  if (Expired(it->second, now)) {
    sessions_.erase(it);
    return std::optional<Session>();
  }
  it->second.last_used = now;
  return std::optional<Session>(it->second.session);
}

Result<int> MemorySessionStore::Append(const std::string& tenant_id, const std::string& session_id,
                                       Turn turn) {
  auto now = clock_.Steady();
  std::lock_guard lock(mu_);
  std::string key = KeyOf(tenant_id, session_id);
  auto it = sessions_.find(key);
  if (it != sessions_.end() && Expired(it->second, now)) {
    sessions_.erase(it);
    it = sessions_.end();
  }
  if (it == sessions_.end()) {
    if (sessions_.size() >= options_.max_sessions) {
      // Make room: expired sessions first, then this tenant's least recently used one.
      std::erase_if(sessions_, [&](const auto& kv) { return Expired(kv.second, now); });
      if (sessions_.size() >= options_.max_sessions) {
        auto victim = sessions_.end();
        for (auto s = sessions_.begin(); s != sessions_.end(); ++s) {
          if (s->second.session.tenant_id != tenant_id) continue;
          if (victim == sessions_.end() || s->second.last_used < victim->second.last_used)
            victim = s;
        }
        if (victim == sessions_.end())
          return Fail(ErrorCode::kUnavailable,
                      "The server holds its maximum number of conversations; try again later.");
        sessions_.erase(victim);
      }
    }
    Entry e;
    e.session.tenant_id = tenant_id;
    e.session.id = session_id;
    it = sessions_.emplace(key, std::move(e)).first;
  }
  Entry& e = it->second;
  e.last_used = now;
  e.session.turns.push_back(std::move(turn));
  while (e.session.turns.size() > options_.max_turns) e.session.turns.pop_front();
  return ++e.session.turn_count;
}

Result<bool> MemorySessionStore::Remove(const std::string& tenant_id,
                                        const std::string& session_id) {
  std::lock_guard lock(mu_);
  return sessions_.erase(KeyOf(tenant_id, session_id)) > 0;
}

size_t MemorySessionStore::ActiveSessions() {
  auto now = clock_.Steady();
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [k, e] : sessions_)
    if (!Expired(e, now)) ++n;
  return n;
}

size_t MemorySessionStore::Sweep() {
  auto now = clock_.Steady();
  std::lock_guard lock(mu_);
  return std::erase_if(sessions_, [&](const auto& kv) { return Expired(kv.second, now); });
}

}  // namespace helios::conversation
