#include "conversation/session_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>

namespace helios::conversation {

namespace {

int64_t UnixMillis(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

Error NoSuchSession(const std::string& session_id) {
  return Error(ErrorCode::kNotFound,
               fmt::format("There is no session '{}' (it may have expired).", session_id));
}

MemorySessionStore::MemorySessionStore(const Clock& clock, MemoryStoreOptions options)
    : clock_(clock), options_(options) {}

bool MemorySessionStore::Expired(const Entry& e, std::chrono::steady_clock::time_point now) const {
  return now - e.last_used >= options_.timeout;
}

// Every use moves a session to the front with the time read under the lock from a monotonic
// clock, so `lru` is ordered by last use and the expired sessions are a run at its back: this
// costs O(expired), not O(sessions).
size_t MemorySessionStore::DropExpired(TenantMap::iterator tenant,
                                       std::chrono::steady_clock::time_point now) {
  size_t dropped = 0;
  auto& lru = tenant->second.lru;
  while (!lru.empty() && Expired(lru.back(), now)) {
    tenant->second.by_id.erase(lru.back().session.id);
    lru.pop_back();
    --total_;
    ++dropped;
  }
  return dropped;
}

void MemorySessionStore::Erase(TenantMap::iterator tenant, std::list<Entry>::iterator entry) {
  tenant->second.by_id.erase(entry->session.id);
  tenant->second.lru.erase(entry);
  --total_;
}

Result<std::optional<Session>> MemorySessionStore::Load(const Owner& owner,
                                                        const std::string& session_id) {
  std::lock_guard lock(mu_);
  auto now = clock_.Steady();
  auto tenant = tenants_.find(owner.tenant_id);
  if (tenant == tenants_.end()) return std::optional<Session>();
  DropExpired(tenant, now);
  auto found = tenant->second.by_id.find(session_id);
  if (found == tenant->second.by_id.end()) {
    if (tenant->second.lru.empty()) tenants_.erase(tenant);
    return std::optional<Session>();
  }
  // Another user's session is left untouched, its place in the LRU order included.
  if (found->second->session.owner != owner.user) return std::unexpected(NoSuchSession(session_id));
  auto& lru = tenant->second.lru;
  lru.splice(lru.begin(), lru, found->second);
  lru.front().last_used = now;
  return std::optional<Session>(lru.front().session);
}

Result<int> MemorySessionStore::Append(const Owner& owner, const std::string& session_id,
                                       Turn turn) {
  const int64_t wall_ms = UnixMillis(clock_.Now());
  std::lock_guard lock(mu_);
  auto now = clock_.Steady();
  auto tenant = tenants_.try_emplace(owner.tenant_id).first;
  DropExpired(tenant, now);
  auto& lru = tenant->second.lru;
  auto found = tenant->second.by_id.find(session_id);
  if (found != tenant->second.by_id.end()) {
    if (found->second->session.owner != owner.user)
      return std::unexpected(NoSuchSession(session_id));
    lru.splice(lru.begin(), lru, found->second);
  } else {
    if (options_.max_sessions == 0) {
      if (lru.empty()) tenants_.erase(tenant);
      return Fail(ErrorCode::kUnavailable,
                  "This server is configured to keep no conversations; ask without a session.");
    }
    // Make room among this tenant's own sessions only: its least recently used one goes.
    while (lru.size() >= options_.max_sessions) Erase(tenant, std::prev(lru.end()));
    lru.emplace_front();
    lru.front().session.tenant_id = owner.tenant_id;
    lru.front().session.owner = owner.user;
    lru.front().session.id = session_id;
    lru.front().session.created_at_ms = wall_ms;
    tenant->second.by_id.emplace(session_id, lru.begin());
    ++total_;
  }
  Entry& e = lru.front();
  e.last_used = now;
  e.session.updated_at_ms = wall_ms;
  // Only the latest turn's query is kept: a follow-up edits that one.
  if (!e.session.turns.empty()) e.session.turns.back().query = sql::Query{};
  e.session.turns.push_back(std::move(turn));
  while (e.session.turns.size() > options_.max_turns) e.session.turns.pop_front();
  return ++e.session.turn_count;
}

Result<bool> MemorySessionStore::Remove(const Owner& owner, const std::string& session_id) {
  std::lock_guard lock(mu_);
  auto now = clock_.Steady();
  auto tenant = tenants_.find(owner.tenant_id);
  if (tenant == tenants_.end()) return false;
  auto found = tenant->second.by_id.find(session_id);
  bool removed = false;
  if (found != tenant->second.by_id.end() && found->second->session.owner == owner.user) {
    removed = !Expired(*found->second, now);  // an expired session no longer exists
    Erase(tenant, found->second);
  }
  if (tenant->second.lru.empty()) tenants_.erase(tenant);
  return removed;
}

Result<std::vector<SessionSummary>> MemorySessionStore::List(const Owner& owner) {
  std::lock_guard lock(mu_);
  auto now = clock_.Steady();
  std::vector<SessionSummary> out;
  auto tenant = tenants_.find(owner.tenant_id);
  if (tenant == tenants_.end()) return out;
  DropExpired(tenant, now);
  for (const Entry& e : tenant->second.lru) {
    if (e.session.owner != owner.user) continue;
    SessionSummary s;
    s.id = e.session.id;
    s.turn_count = e.session.turn_count;
    s.updated_at_ms = e.session.updated_at_ms;
    if (!e.session.turns.empty()) {
      s.database = e.session.turns.back().database;
      s.last_question = e.session.turns.back().question;
    }
    out.push_back(std::move(s));
  }
  if (tenant->second.lru.empty()) tenants_.erase(tenant);
  return out;
}

Result<std::vector<SessionInfo>> MemorySessionStore::ListAll(const std::string& tenant_id,
                                                             size_t limit) {
  const int64_t wall_ms = UnixMillis(clock_.Now());
  std::lock_guard lock(mu_);
  const auto now = clock_.Steady();
  std::vector<SessionInfo> out;
  for (const auto& [name, tenant] : tenants_) {
    if (!tenant_id.empty() && name != tenant_id) continue;
    // A tenant's list is in last-use order, so expiry never increases along it: past `limit`
    // sessions only those expiring in the same millisecond as the last one taken can still
    // make the cut (the sort below breaks such ties by updated_at_ms). Stopping there keeps
    // this walk, done under the store's one lock, to O(limit) per tenant: with 100,000
    // sessions in a tenant, taking them all and sorting held every question up for ~0.1 s.
    size_t taken = 0;
    int64_t last_expiry = 0;
    for (const Entry& e : tenant.lru) {
      if (Expired(e, now)) break;  // the rest of this tenant's list is older still
      const int64_t expires_at_ms = wall_ms + std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  e.last_used + options_.timeout - now)
                                                  .count();
      if (taken >= limit && expires_at_ms != last_expiry) break;
      SessionInfo info;
      info.tenant_id = e.session.tenant_id;
      info.owner = e.session.owner;
      info.id = e.session.id;
      info.turn_count = e.session.turn_count;
      info.created_at_ms = e.session.created_at_ms;
      info.updated_at_ms = e.session.updated_at_ms;
      info.expires_at_ms = expires_at_ms;
      out.push_back(std::move(info));
      ++taken;
      last_expiry = expires_at_ms;
    }
  }
  std::sort(out.begin(), out.end(), [](const SessionInfo& a, const SessionInfo& b) {
    return a.expires_at_ms != b.expires_at_ms ? a.expires_at_ms > b.expires_at_ms
                                              : a.updated_at_ms > b.updated_at_ms;
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

Result<size_t> MemorySessionStore::RemoveAny(const std::string& tenant_id,
                                             const std::string& session_id) {
  std::lock_guard lock(mu_);
  const auto now = clock_.Steady();
  size_t removed = 0;
  for (auto tenant = tenants_.begin(); tenant != tenants_.end();) {
    if (!tenant_id.empty() && tenant->first != tenant_id) {
      ++tenant;
      continue;
    }
    auto found = tenant->second.by_id.find(session_id);
    if (found != tenant->second.by_id.end()) {
      if (!Expired(*found->second, now)) ++removed;
      Erase(tenant, found->second);
    }
    tenant = tenant->second.lru.empty() ? tenants_.erase(tenant) : std::next(tenant);
  }
  return removed;
}

size_t MemorySessionStore::ActiveSessions() {
  std::lock_guard lock(mu_);
  auto now = clock_.Steady();
  // Counts the expired run at the back of each tenant's list without dropping it, so that
  // Sweep still reports what it drops.
  size_t expired = 0;
  for (const auto& [id, tenant] : tenants_) {
    for (auto e = tenant.lru.rbegin(); e != tenant.lru.rend() && Expired(*e, now); ++e) ++expired;
  }
  return total_ - expired;
}

size_t MemorySessionStore::Sweep() {
  std::lock_guard lock(mu_);
  auto now = clock_.Steady();
  size_t dropped = 0;
  for (auto tenant = tenants_.begin(); tenant != tenants_.end();) {
    dropped += DropExpired(tenant, now);
    tenant = tenant->second.lru.empty() ? tenants_.erase(tenant) : std::next(tenant);
  }
  return dropped;
}

}  // namespace helios::conversation
