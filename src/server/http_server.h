// The HTTP front door: routes, JSON in and out, ErrorCode -> status, one request log line per
// request. The server knows the question pipeline only through nl2sql::QueryService.
//
// Routes:
//   GET    /health                  liveness: 200 {"status":"alive","version","uptime_seconds"}
//                                   whenever the process serves requests; checks nothing else
//   GET    /ready                   readiness: 200 {"status":"ok",...,"dependencies":{...}} when
//                                   every required dependency (each data source; Redis and the
//                                   LLM breaker are reported, and the breaker is required when
//                                   ServerGuards says so) is up; 503 "degraded" when one is
//                                   down; 503 "draining" once Stop() was called
//   POST   /api/v1/auth/login       {"username","password"} -> {"token","expires_at",...}
//   POST   /api/v1/query            {"session_id"?, "query", "database"?} -> AnswerToJson
//   GET    /api/v1/sessions         the caller's own sessions
//   GET    /api/v1/sessions/{id}    the session's kept turns
//   DELETE /api/v1/sessions/{id}    ends the session
//   POST   /api/v1/feedback         {"session_id","turn","correct"}: a correct answer becomes an
//                                   example for the language model's prompts
// Operations (role admin, 403 otherwise; the admin role is the operator's, across tenants):
//   GET    /api/v1/admin/circuit-breaker          the LLM breaker's state
//   POST   /api/v1/admin/circuit-breaker/reset    closes it at once
//   POST   /api/v1/admin/schema/refresh           {"database"?}: reads schemas again
//   POST   /api/v1/admin/cache/flush              {"tenant"?}: drops the answer cache's entries
//                                                 of one tenant (all when absent) ->
//                                                 {"tenant","flushed": N}
//   GET    /api/v1/admin/sessions?tenant=&limit=  live sessions of a tenant (all when absent),
//                                                 most recent first -> {"sessions":[{
//                                                 "session_id","tenant","user","turns",
//                                                 "created_at","last_used_at","expires_at"}],
//                                                 "truncated"}
//   DELETE /api/v1/admin/sessions/{id}?tenant=    ends that session whoever owns it (in every
//                                                 tenant that has one of that id when no
//                                                 tenant is given) -> {"session_id","ended": N}
// The web chat:
//   GET    /                        the web chat (index.html), when its files are loaded
//   GET    /assets/{name}           its scripts and styles
//   anything else                   404, or 405 with an Allow header for a known path
// With an Authenticator every /api/v1/* route but login needs "Authorization: Bearer <JWT>"
// (401 otherwise) and the caller's tenant scopes everything it touches; asking questions needs
// the "analyst" role (403 otherwise). Without one (a loopback demo) every caller is the tenant
// "default". Questions are rate-limited per tenant (429 with Retry-After and X-RateLimit-*).
// Cross-origin callers from the allowed origins get CORS headers; preflights are answered.
// Every API response is JSON (Content-Type: application/json) and carries X-Request-Id: the
// caller's own when it is a sane id, else a new UUID. No exception escapes a handler: one that
// reaches the boundary becomes a 500 with a generic message. Error messages pass through
// security::SanitizeErrorMessage, so no path or secret reaches a client.
//
// Stopping drains: Stop() closes the listening socket (new connections are refused) and Run()
// returns once every request already received is answered, including those on connections
// accepted but still waiting for a worker. Responses written after Stop() carry
// "Connection: close" and the server closes the connection after them (as after any response
// that says so); an idle keep-alive connection holds Run() for at most keep_alive_timeout.
//
// Overload: each connection is served by one thread for as long as it stays open (keep-alive
// included). `workers` threads are kept; while every one is busy, each new connection starts
// another, up to max_connections, so slow questions (a language model takes seconds) never
// starve cheap requests such as /health; threads above `workers` exit after idle_thread_timeout.
// When all max_connections threads are busy, at most max_queued_connections connections wait
// for one; any further connection is answered at once with 503 "unavailable", Retry-After: 1
// and Connection: close, without running a route (its body, if small, is read and dropped), and
// so is a connection that waited longer than max_queue_wait. Such connections are counted in
// http_connections_shed_total{reason} and reported by a warning at most once a second, not by a
// request log line each. An error carrying the detail "retry_after_seconds" (the language
// model's bulkhead) is answered with that Retry-After.
//
// Thread-safety: requests are served concurrently on up to max_connections threads (see
// connection_pool.h), so the QueryService, the Logger and the Clock must be thread-safe. Stop(),
// Stats(), draining() and SetRateLimits() may be called from any thread (including a
// signal-watching thread) at any time after construction, before or during Run(). The service,
// logger and clock must outlive the server; Run() must have returned before the server is
// destroyed.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "nl2sql/service.h"
#include "observability/logger.h"
#include "ratelimit/rate_limiter.h"

namespace helios::auth {
class Authenticator;
}
namespace helios::observability {
struct ServiceMetrics;
}
namespace helios::resilience {
class CircuitBreaker;
}

namespace helios::server {

class StaticAssets;

// Per-tenant question limits: a default bucket and overrides by tenant.
struct RateLimits {
  bool enabled = true;  // false: no question is limited (the limiter is not asked)
  ratelimit::BucketPolicy default_policy;
  std::vector<std::pair<std::string, ratelimit::BucketPolicy>> tenants;
  const ratelimit::BucketPolicy& For(std::string_view tenant) const;
};

// A session as GET /api/v1/admin/sessions lists it.
struct AdminSession {
  std::string session_id;
  std::string tenant;
  std::string user;           // who started it; "" when authentication is off
  int turns = 0;              // turns answered
  int64_t created_at_ms = 0;  // Unix ms; 0 when the store did not record it (shown as null)
  int64_t last_used_at_ms = 0;
  int64_t expires_at_ms = 0;
};

// The request guards and instruments; each may be absent. All must outlive the server and be
// thread-safe.
struct ServerGuards {
  auth::Authenticator* authenticator = nullptr;  // null: no authentication (loopback only)
  ratelimit::RateLimiter* limiter = nullptr;     // null: no rate limiting
  RateLimits rate_limits;                        // the initial limits; see SetRateLimits
  observability::ServiceMetrics* metrics = nullptr;
  // The language model's breaker, for the admin routes and /ready; null: those routes answer
  // 404 and /ready does not report it.
  resilience::CircuitBreaker* breaker = nullptr;
  // True when every question needs the language model (nl2sql mode "llm"): an open breaker
  // then makes /ready answer 503. Otherwise the breaker is reported but not required.
  bool breaker_required = false;
  // POST /api/v1/admin/schema/refresh: reads the schema of the named database (empty: every
  // one) again; returns the JSON body of the reply. Null: the route answers 404.
  std::function<Result<std::string>(const std::string& database)> refresh_schema;
  // Further dependencies for /ready (Redis); null: none.
  std::function<std::vector<nl2sql::DependencyHealth>()> extra_health;
  // POST /api/v1/admin/cache/flush: drops the answer cache's entries of `tenant` (every
  // tenant's when empty) and returns how many went. Null (the cache is off): 404.
  std::function<Result<size_t>(const std::string& tenant)> flush_cache;
  // GET /api/v1/admin/sessions: live sessions of `tenant` (every tenant's when empty), most
  // recently used first, at most `limit`. Null: 404.
  std::function<Result<std::vector<AdminSession>>(const std::string& tenant, size_t limit)>
      list_sessions;
  // DELETE /api/v1/admin/sessions/{id}: ends the session of that id of `tenant` (of every
  // tenant when empty), whoever owns it; returns how many ended. Null: 404.
  std::function<Result<size_t>(const std::string& tenant, const std::string& session_id)>
      end_session;
};

// What the server is doing, for the shutdown log.
struct ServerStats {
  uint64_t requests_served = 0;        // answered since Run() started (503s for overload excluded)
  size_t requests_in_flight = 0;       // being handled now
  size_t connections_waiting = 0;      // accepted, waiting for a worker thread
  size_t connection_threads = 0;       // threads serving connections now, busy or idle
  size_t connection_threads_peak = 0;  // the most there were at once since Run() started
  uint64_t connections_shed = 0;       // answered 503 at once for overload since Run() started
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: an ephemeral port, reported by Bind()
  int workers = 4;  // request-handling threads always kept (1..1024)
  // The most threads serving connections at once: more than `workers` are started while every
  // thread is busy. 0: as many as workers (a fixed pool). Otherwise workers..65536.
  int max_connections = 0;
  // Connections that may wait for a thread while all max_connections are busy; beyond them a
  // connection is answered 503 at once. 0..65536.
  int max_queued_connections = 256;
  // A thread above `workers` exits after being idle this long.
  std::chrono::milliseconds idle_thread_timeout{30'000};
  // A connection that waited longer than this for a thread is answered 503 rather than served
  // late (its client has probably given up); like read_timeout by default.
  std::chrono::milliseconds max_queue_wait{10'000};
  size_t max_request_body_bytes = 1 << 20;
  size_t max_query_length = 10000;  // in Unicode characters
  // Exact origins ("https://bi.example.com") whose pages may call the API.
  std::vector<std::string> cors_allowed_origins;
  // Questions slower than this are logged as "slow query" and counted.
  std::chrono::milliseconds slow_query_threshold{300};
  std::string version = "unknown";  // reported by /health
  // Socket timeouts for reading a request and writing a response.
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds write_timeout{10};
  // How long an idle keep-alive connection is held open. Run() returns at most this long after
  // Stop() when a client keeps an idle connection open.
  std::chrono::seconds keep_alive_timeout{5};
  // The web chat's files (static_assets.h), served at `/` and `/assets/`; null: not served.
  std::shared_ptr<const StaticAssets> web_assets;
};

class HttpServer {
 public:
  HttpServer(nl2sql::QueryService& service, observability::Logger& logger, const Clock& clock,
             ServerOptions options, ServerGuards guards = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port and returns the bound port. kInvalidArgument for bad options or a second
  // call; kUnavailable when the address cannot be bound (in use, not permitted, unknown host).
  Result<int> Bind();
  // Serves until Stop(); returns at once when not bound, already stopped or called a second
  // time. Every request received before Stop() is answered before it returns.
  void Run();
  // Stops accepting connections (the listening socket is closed, so connection attempts are
  // refused) and makes Run() return once the requests already received are answered; /ready
  // answers 503 "draining" meanwhile. Idempotent.
  void Stop();
  // True once Stop() was called.
  bool draining() const;
  ServerStats Stats() const;
  // Replaces the question limits (a configuration reload); requests from now on use them. A
  // tenant whose own limits were added, edited or removed starts with a full bucket of its new
  // size; the others keep their buckets, which refill at the new rate from now on.
  void SetRateLimits(RateLimits limits);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace helios::server
