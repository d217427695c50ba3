// Sessions shared between server instances through Redis, and a store that keeps answering from
// this instance's own memory while Redis is unreachable.
//
// RedisSessionStore keeps, per session, a LIST of its last turns as JSON (the query IR through
// sql/ir_json.h; never result rows) and a HASH of its summary (owner, created_at_ms, turn_count,
// updated_at_ms, last_question, database); per tenant, a ZSET of its session ids scored by last use
// (Unix ms) for LRU eviction and List; and one ZSET of every tenant's sessions scored by expiry
// time for ActiveSessions. Every key a use touches gets the idle timeout again (PEXPIRE on Append
// and Load), so Redis expires idle sessions itself and nothing needs sweeping. Append is one Lua
// script, atomic across instances: the turn numbers of a session are 1, 2, 3, ... whoever
// appends; the append that creates a session records its owner, and another user's append is
// refused before anything is written. A session written before owners were recorded has no
// owner field: it belongs to "" (the user when authentication is off). The scripts never decode
// JSON (Lua's cjson would round 64-bit integers and doubles). Ids left in a ZSET after their
// session expired are dropped when List, Load or eviction meet them. Keys are
// "<prefix>turns:<tenant length>:<tenant>:<id>" ("meta:" alike),
// "<prefix>tenant:<tenant length>:<tenant>" and "<prefix>active" (members
// "<tenant length>:<tenant>:<id>"): unambiguous for any tenant and id, and a tenant's Load
// never reads another tenant's keys. The scripts touch keys they were not given (those of
// evicted sessions), so this needs one Redis (or a primary with replicas), not Redis Cluster.
// Redis failures are kUnavailable.
//
// FailoverSessionStore writes every turn to both the shared store and this instance's memory
// store, and reads from the shared one, falling back to memory when the shared one answers
// kUnavailable; conversations this instance served go on during a Redis outage.
//
// Thread-safety: both classes are safe to use from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "conversation/session_store.h"
#include "redis/redis_client.h"

namespace helios::conversation {

class RedisSessionStore final : public SessionStore {
 public:
  // `redis` and `clock` must outlive the store. The clock's wall time scores last use and
  // stamps updated_at_ms; Redis's own clock expires the keys.
  RedisSessionStore(redis::Client& redis, const Clock& clock, MemoryStoreOptions options,
                    std::string prefix = "helios:session:");

  Result<std::optional<Session>> Load(const Owner& owner, const std::string& session_id) override;
  Result<int> Append(const Owner& owner, const std::string& session_id, Turn turn) override;
  Result<bool> Remove(const Owner& owner, const std::string& session_id) override;
  Result<std::vector<SessionSummary>> List(const Owner& owner) override;
  // Live sessions of every tenant in Redis; while Redis is unreachable, the last count read.
  size_t ActiveSessions() override;
  // Reads the tenant's index (or, for every tenant, the ZSET of every session) a page at a
  // time, most recent first, and each session's HASH and TTL in one pipeline per page: bounded
  // range reads, never KEYS.
  Result<std::vector<SessionInfo>> ListAll(const std::string& tenant_id, size_t limit) override;
  // For every tenant, finds the tenants holding that id with ZSCAN over the ZSET of every
  // session (never KEYS), then removes each in one script.
  Result<size_t> RemoveAny(const std::string& tenant_id, const std::string& session_id) override;
  // The keys of one session, for tools and tests (MEMORY USAGE, TTL).
  std::vector<std::string> SessionKeys(const std::string& tenant_id,
                                       const std::string& session_id) const;

 private:
  struct TenantKeys {
    std::string turns_prefix;   // + session id: the LIST of turns
    std::string meta_prefix;    // + session id: the HASH
    std::string index;          // the tenant's ZSET of session ids
    std::string member_prefix;  // + session id: the member in the global ZSET
  };
  TenantKeys KeysOf(const std::string& tenant_id) const;
  int64_t NowMs() const;
  // HMGET and PTTL of each (tenant, id) in one pipeline; the live ones are appended to out.
  Result<void> ReadInfos(const std::vector<std::pair<std::string, std::string>>& sessions,
                         std::vector<SessionInfo>& out);
  Result<bool> RemoveOne(const std::string& tenant_id, const std::string& session_id);

  redis::Client& redis_;
  const Clock& clock_;
  const MemoryStoreOptions options_;
  const std::string prefix_;
  const std::string active_key_;
  std::atomic<size_t> last_active_{0};
};

class FailoverSessionStore final : public SessionStore {
 public:
  // Called once at each switch: (false, the error) when the shared store stops answering,
  // (true, nullptr) when it answers again; from the thread whose call saw the change, in the
  // order of the switches, under a lock of the store's own (so that the last call always tells
  // the current state). It must not call back into this store. `shared` and `local` must
  // outlive the store.
  using OnChange = std::function<void(bool shared_ok, const Error* error)>;
  FailoverSessionStore(SessionStore& shared, MemorySessionStore& local, OnChange on_change);

  // Appends to the shared store, then to the local one (write-through); the turn number is
  // the shared store's, or the local one's while the shared store is unavailable.
  Result<int> Append(const Owner& owner, const std::string& session_id, Turn turn) override;
  Result<std::optional<Session>> Load(const Owner& owner, const std::string& session_id) override;
  // Removes from both stores.
  Result<bool> Remove(const Owner& owner, const std::string& session_id) override;
  Result<std::vector<SessionSummary>> List(const Owner& owner) override;
  // The shared store's count, or the local one's while the shared store is known to be down.
  size_t ActiveSessions() override;
  // The shared store's sessions, or the local one's while the shared store is unavailable.
  Result<std::vector<SessionInfo>> ListAll(const std::string& tenant_id, size_t limit) override;
  // Removes from both stores; the count is the shared store's (the local one's while it is
  // unavailable).
  Result<size_t> RemoveAny(const std::string& tenant_id, const std::string& session_id) override;
  // Sweeps the local store (the shared one expires its sessions itself).
  size_t Sweep() override;

  bool shared_ok() const { return shared_ok_.load(); }

 private:
  // Records the outcome of a call to the shared store; true when the caller should fall back.
  bool SharedFailed(const Error& error);
  void SharedAnswered();
  // Switches to `shared_ok` unless already there, and reports the switch.
  void Switch(bool shared_ok, const Error* error);

  SessionStore& shared_;
  MemorySessionStore& local_;
  OnChange on_change_;
  std::atomic<bool> shared_ok_{true};
  std::mutex change_mu_;  // serialises switches and their on_change calls
};

}  // namespace helios::conversation
