// The HTTP front door: routes, JSON in and out, ErrorCode -> status, one request log line per
// request. The server knows the question pipeline only through nl2sql::QueryService.
//
// Routes:
//   GET    /health                  200 when every dependency is healthy, else 503
//   POST   /api/v1/auth/login       {"username","password"} -> {"token","expires_at",...}
//   POST   /api/v1/query            {"session_id"?, "query", "database"?} -> AnswerToJson
//   GET    /api/v1/sessions/{id}    the session's kept turns
//   DELETE /api/v1/sessions/{id}    ends the session
//   POST   /api/v1/feedback         {"session_id","turn","correct"}: a correct answer becomes an
//                                   example for the language model's prompts
//   GET    /api/v1/admin/circuit-breaker          the LLM breaker's state (role admin)
//   POST   /api/v1/admin/circuit-breaker/reset    closes it at once (role admin)
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
// Thread-safety: requests are served concurrently on `workers` threads, so the QueryService,
// the Logger and the Clock must be thread-safe. Stop() may be called from any thread (including
// a signal-watching thread) at any time after construction, before or during Run(). The
// service, logger and clock must outlive the server; Run() must have returned before the
// server is destroyed.
#pragma once

#include <chrono>
#include <cstddef>
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
  ratelimit::BucketPolicy default_policy;
  std::vector<std::pair<std::string, ratelimit::BucketPolicy>> tenants;
  const ratelimit::BucketPolicy& For(std::string_view tenant) const;
};

// The request guards and instruments; each may be absent. All must outlive the server and be
// thread-safe.
struct ServerGuards {
  auth::Authenticator* authenticator = nullptr;  // null: no authentication (loopback only)
  ratelimit::RateLimiter* limiter = nullptr;     // null: no rate limiting
  RateLimits rate_limits;
  observability::ServiceMetrics* metrics = nullptr;
  // The language model's breaker, for the admin routes; null: those routes answer 404.
  resilience::CircuitBreaker* breaker = nullptr;
  // POST /api/v1/admin/schema/refresh: reads the schema of the named database (empty: every
  // one) again; returns the JSON body of the reply. Null: the route answers 404.
  std::function<Result<std::string>(const std::string& database)> refresh_schema;
  // Further dependencies for /health (Redis); null: none.
  std::function<std::vector<nl2sql::DependencyHealth>()> extra_health;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: an ephemeral port, reported by Bind()
  int workers = 4;  // request-handling threads
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
  // time. In-flight requests are finished before it returns.
  void Run();
  // Stops accepting connections and makes Run() return. Idempotent.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace helios::server
