// A Redis client for the state that instances share (sessions, the semantic cache, rate-limit
// buckets): hiredis behind this one header (hiredis itself is included only in
// redis_client.cc). A small pool of connections, a time limit on every command, Lua scripts
// run by digest (EVALSHA, loaded again after a Redis restart), and a view of whether Redis is
// reachable: after a failure the client does not try again for `retry_after`, so a Redis
// outage costs callers one fast kUnavailable instead of a time-out per request.
//
// Thread-safety: every method is safe to call from any thread; a command holds one pooled
// connection while it runs. SIGPIPE is blocked in the calling thread during a command, so a
// connection cut by the server fails the command instead of ending the process.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/error.h"

namespace helios::redis {

// A reply, as Redis sent it. Errors from Redis ("-ERR ...") are kError replies, not failed
// Results: a failed Result means the command did not get an answer (kUnavailable).
struct Reply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray, kError };
  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError
  int64_t integer = 0;
  std::vector<Reply> elements;  // kArray

  bool is_nil() const { return type == Type::kNil; }
  bool is_error() const { return type == Type::kError; }
};

struct RedisUrl {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string username;  // ACL user; empty: the default user
  std::string password;  // empty: no AUTH
  int database = 0;      // SELECT
  bool tls = false;      // rediss:// (refused by Connect: this build has no TLS for Redis)
};

// redis://[[user]:password@]host[:port][/db] and rediss://...; kInvalidArgument with the
// reason otherwise. The password never appears in messages.
Result<RedisUrl> ParseRedisUrl(std::string_view url);

struct ClientOptions {
  // Connections at most (0 counts as 1), opened on demand. A caller that finds them all busy
  // waits up to command_timeout, then gets kUnavailable.
  size_t pool_size = 8;
  std::chrono::milliseconds connect_timeout{500};
  std::chrono::milliseconds command_timeout{500};  // per command, sending and receiving
  // After a command fails for want of Redis (refused or broken connection, time limit, AUTH
  // or SELECT refused), further calls fail at once (kUnavailable) for this long, measured on
  // `clock`, before a connection is tried again. Connections open at the failure are dropped.
  std::chrono::milliseconds retry_after{1000};
  const Clock* clock = nullptr;  // null: the system clock; must outlive the Client
};

// A Lua script: its text and SHA1 digest (computed once).
class Script {
 public:
  explicit Script(std::string source);
  const std::string& source() const { return source_; }
  const std::string& sha1() const { return sha1_; }

 private:
  std::string source_;
  std::string sha1_;
};

class Client {
 public:
  // Does not connect: the first command does. kInvalidArgument for a bad URL or rediss://.
  static Result<std::unique_ptr<Client>> Create(std::string_view url, ClientOptions options = {});
  virtual ~Client() = default;

  // Runs one command (binary-safe arguments). kUnavailable when Redis cannot be reached, the
  // connection breaks, or the time limit passes (the connection is then discarded).
  virtual Result<Reply> Command(const std::vector<std::string>& argv) = 0;
  // Several commands on one connection in one round trip (no MULTI: not atomic), replies in
  // order. kUnavailable as for Command.
  virtual Result<std::vector<Reply>> Pipeline(
      const std::vector<std::vector<std::string>>& commands) = 0;
  // EVALSHA, and on NOSCRIPT, SCRIPT LOAD then EVALSHA again.
  virtual Result<Reply> Eval(const Script& script, const std::vector<std::string>& keys,
                             const std::vector<std::string>& args) = 0;
  // PING; updates the reachability view.
  virtual Result<void> Ping() = 0;
  // False from a failure until a later command succeeds (no I/O).
  virtual bool Reachable() const = 0;
  // host:port/db, no credentials: for logs and /health.
  virtual std::string DisplayName() const = 0;
};

// "redis returned an error: ..." as a kInternal Error, for a kError reply where none was
// expected.
Error ReplyError(const Reply& reply, std::string_view context);

}  // namespace helios::redis
