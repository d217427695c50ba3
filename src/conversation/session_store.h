// Conversations: each session keeps its last turns (the question, the query IR and SQL that
// answered it, and a small summary of the result, never the rows), so a follow-up can edit
// the previous query. Sessions belong to a tenant: a tenant can only ever load its own.
//
// SessionStore is the seam: MemorySessionStore keeps one process's sessions,
// RedisSessionStore (redis_session_store.h) shares them between instances. Both are
// thread-safe. max_sessions is per tenant: past it, that tenant's least recently used session
// is evicted, never another tenant's.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "sql/ir.h"

namespace helios::conversation {

struct Turn {
  std::string question;
  // The engine's query; empty when a language model wrote the SQL. Stores keep it for the
  // latest turn only (a follow-up edits that one); older turns keep their SQL.
  sql::Query query;
  std::string sql;
  size_t row_count = 0;
  bool has_query = true;  // false: `query` is empty (an LLM answer has no IR to edit)
  std::string database;   // the data source the turn was asked of; a session keeps to one
};

struct Session {
  std::string tenant_id;
  std::string id;
  int turn_count = 0;         // turns ever answered (numbering continues past the kept window)
  std::deque<Turn> turns;     // the most recent turns, oldest first
  int64_t updated_at_ms = 0;  // wall-clock time (Unix ms) of the last turn
};

// A session as a list shows it.
struct SessionSummary {
  std::string id;
  int turn_count = 0;
  std::string database;       // of its last turn
  std::string last_question;  // of its last turn
  int64_t updated_at_ms = 0;  // wall-clock time (Unix ms) of the last turn
};

class SessionStore {
 public:
  virtual ~SessionStore() = default;
  // The session, or nullopt when it does not exist, has expired, or belongs to another tenant.
  virtual Result<std::optional<Session>> Load(const std::string& tenant_id,
                                              const std::string& session_id) = 0;
  // Appends a turn, creating the session when absent; returns the new turn's number (1-based).
  virtual Result<int> Append(const std::string& tenant_id, const std::string& session_id,
                             Turn turn) = 0;
  virtual Result<bool> Remove(const std::string& tenant_id, const std::string& session_id) = 0;
  // The tenant's live sessions, most recently used first.
  virtual Result<std::vector<SessionSummary>> List(const std::string& tenant_id) = 0;
  // Live sessions of every tenant.
  virtual size_t ActiveSessions() = 0;
  // Drops expired sessions; returns how many. Stores whose backend expires entries itself
  // (Redis TTLs) have nothing to do.
  virtual size_t Sweep() { return 0; }
};

struct MemoryStoreOptions {
  // Idle time after which a session expires (milliseconds, so that tests of stores whose
  // backend expires entries itself can wait a second rather than a minute).
  std::chrono::milliseconds timeout{std::chrono::minutes(30)};
  size_t max_sessions = 10000;  // per tenant; beyond it its least recently used one goes
  size_t max_turns = 10;        // turns kept per session
};

class MemorySessionStore final : public SessionStore {
 public:
  MemorySessionStore(const Clock& clock, MemoryStoreOptions options);

  Result<std::optional<Session>> Load(const std::string& tenant_id,
                                      const std::string& session_id) override;
  Result<int> Append(const std::string& tenant_id, const std::string& session_id,
                     Turn turn) override;
  Result<bool> Remove(const std::string& tenant_id, const std::string& session_id) override;
  Result<std::vector<SessionSummary>> List(const std::string& tenant_id) override;
  size_t ActiveSessions() override;
  // Called periodically by the server.
  size_t Sweep() override;

 private:
  struct Entry {
    Session session;
    std::chrono::steady_clock::time_point last_used;
  };
  // One tenant's sessions, most recently used first, so the least recently used one and the
  // expired ones (the idle longest) are at the back; `by_id` indexes `lru`.
  struct Tenant {
    std::list<Entry> lru;
    std::unordered_map<std::string, std::list<Entry>::iterator> by_id;
  };
  using TenantMap = std::unordered_map<std::string, Tenant>;

  bool Expired(const Entry& e, std::chrono::steady_clock::time_point now) const;
  // Drops the tenant's expired sessions, in O(expired); returns how many. The caller erases
  // the tenant when none is left.
  size_t DropExpired(TenantMap::iterator tenant, std::chrono::steady_clock::time_point now);
  void Erase(TenantMap::iterator tenant, std::list<Entry>::iterator entry);

  const Clock& clock_;
  const MemoryStoreOptions options_;
  std::mutex mu_;
  TenantMap tenants_;
  size_t total_ = 0;  // sessions in all tenants, expired ones not yet dropped included
};

}  // namespace helios::conversation
