// Conversations: each session keeps its last turns (the question, the query IR and SQL that
// answered it, and a small summary of the result, never the rows), so a follow-up can edit
// the previous query. A session belongs to the user of a tenant who started it (its Owner):
// only that user can load, continue, list or remove it. A session of another tenant is not
// found at all; one of another user of the same tenant reads as not found too (Load's error is
// worded exactly as an unknown session's), and no call through another owner changes it.
//
// SessionStore is the seam: MemorySessionStore keeps one process's sessions,
// RedisSessionStore (redis_session_store.h) shares them between instances. Both are
// thread-safe. max_sessions is per tenant, whoever owns the sessions: past it, that tenant's
// least recently used session is evicted, never another tenant's.
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

// Whose sessions a call is about: a user of a tenant. `user` is "" when authentication is off
// (the loopback demo's one anonymous user).
struct Owner {
  std::string tenant_id;
  std::string user;
};

struct Session {
  std::string tenant_id;
  std::string owner;  // the user who started it; set when it is created, never changed
  std::string id;
  int turn_count = 0;         // turns ever answered (numbering continues past the kept window)
  std::deque<Turn> turns;     // the most recent turns, oldest first
  int64_t updated_at_ms = 0;  // wall-clock time (Unix ms) of the last turn
  int64_t created_at_ms = 0;  // wall-clock time (Unix ms) of the first turn; 0: not recorded
};

// A session as a list shows it.
struct SessionSummary {
  std::string id;
  int turn_count = 0;
  std::string database;       // of its last turn
  std::string last_question;  // of its last turn
  int64_t updated_at_ms = 0;  // wall-clock time (Unix ms) of the last turn
};

// A session as an administrator's list shows it, whoever owns it.
struct SessionInfo {
  std::string tenant_id;
  std::string owner;  // the user who started it ("" when authentication is off)
  std::string id;
  int turn_count = 0;
  int64_t created_at_ms = 0;  // Unix ms of its first turn; 0 when the store did not record it
  int64_t updated_at_ms = 0;  // Unix ms of its last turn
  int64_t expires_at_ms = 0;  // Unix ms at which it expires unless it is used again
};

// The error for a session the caller cannot have: unknown, expired, or another user's. One
// wording for all three, so that the answer tells nothing about other users' sessions.
Error NoSuchSession(const std::string& session_id);

class SessionStore {
 public:
  virtual ~SessionStore() = default;
  // The owner's session, or nullopt when it does not exist, has expired, or belongs to another
  // tenant; NoSuchSession (kNotFound) when it belongs to another user of the tenant, so that
  // a caller continuing it stops before it writes anything. Loading another user's session
  // leaves it as it was (it is not marked used).
  virtual Result<std::optional<Session>> Load(const Owner& owner,
                                              const std::string& session_id) = 0;
  // Appends a turn, creating the session (owned by `owner`) when absent; returns the new
  // turn's number (1-based). NoSuchSession, with nothing written, when the session belongs to
  // another user of the tenant: the check and the write are one atomic step.
  virtual Result<int> Append(const Owner& owner, const std::string& session_id, Turn turn) = 0;
  // True when the owner's session was removed; false when there was none of this owner's.
  virtual Result<bool> Remove(const Owner& owner, const std::string& session_id) = 0;
  // The owner's live sessions, most recently used first.
  virtual Result<std::vector<SessionSummary>> List(const Owner& owner) = 0;
  // Live sessions of every tenant.
  virtual size_t ActiveSessions() = 0;

  // For administrators (these ignore owners). Live sessions of `tenant_id` (of every tenant
  // when empty), most recently used first, at most `limit` of them.
  virtual Result<std::vector<SessionInfo>> ListAll(const std::string& tenant_id, size_t limit) = 0;
  // Ends the session `session_id` of `tenant_id` (of every tenant that has one of that id
  // when empty), whoever owns it; returns how many live sessions were removed.
  virtual Result<size_t> RemoveAny(const std::string& tenant_id, const std::string& session_id) = 0;

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

  Result<std::optional<Session>> Load(const Owner& owner, const std::string& session_id) override;
  Result<int> Append(const Owner& owner, const std::string& session_id, Turn turn) override;
  Result<bool> Remove(const Owner& owner, const std::string& session_id) override;
  Result<std::vector<SessionSummary>> List(const Owner& owner) override;
  size_t ActiveSessions() override;
  Result<std::vector<SessionInfo>> ListAll(const std::string& tenant_id, size_t limit) override;
  Result<size_t> RemoveAny(const std::string& tenant_id, const std::string& session_id) override;
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
