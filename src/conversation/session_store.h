// Conversations: each session keeps its last turns (the question, the query IR and SQL that
// answered it, and a small summary of the result, never the rows), so a follow-up can edit
// the previous query. Sessions belong to a tenant: a tenant can only ever load its own.
//
// SessionStore is the seam (memory now, Redis later). MemorySessionStore is thread-safe; one
// mutex guards the map and no I/O happens under it.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "common/error.h"
#include "sql/ir.h"

namespace helios::conversation {

struct Turn {
  std::string question;
  sql::Query query;  // the engine's query; empty when a language model wrote the SQL
  std::string sql;
  size_t row_count = 0;
  bool has_query = true;  // false: `query` is empty (an LLM answer has no IR to edit)
  std::string database;   // the data source the turn was asked of; a session keeps to one
};

struct Session {
  std::string tenant_id;
  std::string id;
  int turn_count = 0;      // turns ever answered (numbering continues past the kept window)
  std::deque<Turn> turns;  // the most recent turns, oldest first
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
  virtual size_t ActiveSessions() = 0;
};

struct MemoryStoreOptions {
  std::chrono::minutes timeout{30};  // idle time after which a session expires
  size_t max_sessions = 10000;       // beyond it a tenant's least recently used session goes
  size_t max_turns = 10;             // turns kept per session
};

class MemorySessionStore final : public SessionStore {
 public:
  MemorySessionStore(const Clock& clock, MemoryStoreOptions options);

  Result<std::optional<Session>> Load(const std::string& tenant_id,
                                      const std::string& session_id) override;
  Result<int> Append(const std::string& tenant_id, const std::string& session_id,
                     Turn turn) override;
  Result<bool> Remove(const std::string& tenant_id, const std::string& session_id) override;
  size_t ActiveSessions() override;
  // Drops expired sessions; returns how many. Called periodically by the server.
  size_t Sweep();

 private:
  struct Entry {
    Session session;
    std::chrono::steady_clock::time_point last_used;
  };
  static std::string KeyOf(const std::string& tenant, const std::string& id);
  bool Expired(const Entry& e, std::chrono::steady_clock::time_point now) const;

  const Clock& clock_;
  const MemoryStoreOptions options_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> sessions_;
};

}  // namespace helios::conversation
