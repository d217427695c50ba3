#include "server/http_server.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <httplib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cmath>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/authenticator.h"
#include "auth/user_store.h"
#include "common/text.h"
#include "observability/metrics.h"
#include "resilience/circuit_breaker.h"
#include "security/sanitize.h"
#include "server/api_json.h"
#include "server/connection_pool.h"
#include "server/http_status.h"
#include "server/listener.h"
#include "server/query_request.h"
#include "server/static_assets.h"

namespace helios::server {
namespace {

using observability::RequestLog;

// Without authentication (a loopback demo) every request belongs to this tenant.
constexpr std::string_view kDefaultTenant = "default";
constexpr int kMaxWorkers = 4096;  // as the configuration allows
constexpr int kMaxConnections = 65536;
constexpr int kMaxQueuedConnections = 65536;
// Threads that answer 503 on connections shed while every serving thread is busy.
constexpr size_t kSheddingThreads = 2;
// What an overloaded server asks a client to wait before trying again, in seconds.
constexpr int kOverloadRetryAfterSeconds = 1;
// The body of a request on a shed connection is read and dropped up to this size, so that
// closing the connection does not reset it before the client has read the 503.
constexpr size_t kShedDrainBytes = 64 * 1024;
// Error::details name of the seconds a client should wait before asking again (set by the
// language model's bulkhead, nl2sql/llm_answerer.cc): answered as Retry-After.
constexpr std::string_view kRetryAfterDetail = "retry_after_seconds";
constexpr size_t kKeepAliveMaxRequests = 100;
constexpr size_t kMaxUsernameBytes = 256;
constexpr size_t kMaxPasswordBytes = 1024;
// Headers a browser script may read from a cross-origin response.
constexpr std::string_view kExposedHeaders =
    "X-Request-Id, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset";
constexpr std::string_view kAllowedRequestHeaders = "Authorization, Content-Type, X-Request-Id";

using Headers = std::vector<std::pair<std::string, std::string>>;

// Who may call a route.
enum class Access {
  kPublic,         // anyone (health, login)
  kAuthenticated,  // a valid token
  kAnalyst,        // a valid token with the analyst role
  kAdmin,          // a valid token with the admin role
};

// The request body as read by a handler.
struct Body {
  std::string bytes;
  bool too_large = false;
  bool failed = false;
  // Reading stopped before the end of the body, so the connection cannot carry another request.
  bool abandoned = false;
};

// What a route answers; Serve() turns it into the HTTP response and the log line.
struct Reply {
  Reply() = default;
  Reply(int status_code, std::string json, std::string error, std::string allow_header, bool close,
        Headers extra)
      : status(status_code),
        body(std::move(json)),
        error_code(std::move(error)),
        allow(std::move(allow_header)),
        close_connection(close),
        headers(std::move(extra)) {}

  int status = 200;
  std::string body;
  std::string error_code;  // empty on success
  std::string allow;       // Allow header of a 405
  bool close_connection = false;
  Headers headers;  // extra response headers
  // A web file instead of JSON: its type, caching, and the bytes to send (owned by the
  // server's StaticAssets, which outlive every request).
  std::string content_type;
  std::string cache_control;
  const std::string* file_body = nullptr;
};

// Messages from dependencies (the database, a provider) may carry paths or credentials; they
// are sanitised before they reach a client. Messages we wrote ourselves are left as they are.
bool FromDependency(ErrorCode code) {
  return code == ErrorCode::kDatabaseError || code == ErrorCode::kUnavailable ||
         code == ErrorCode::kDeadlineExceeded || code == ErrorCode::kInternal;
}

Reply FromError(const Error& error) {
  Error shown = error;
  if (FromDependency(error.code)) shown.message = security::SanitizeErrorMessage(error.message);
  Reply reply{HttpStatusFor(error.code),
              ErrorToJson(shown),
              std::string(ErrorCodeName(error.code)),
              {},
              false,
              {}};
  if (error.code == ErrorCode::kUnauthenticated) {
    reply.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"heliosdb\"");
  }
  if (error.code == ErrorCode::kUnavailable || error.code == ErrorCode::kRateLimited) {
    for (const auto& [name, values] : error.details) {
      if (name != kRetryAfterDetail || values.empty()) continue;
      const std::string& seconds = values.front();
      if (!seconds.empty() && seconds.size() <= 9 &&
          std::all_of(seconds.begin(), seconds.end(),
                      [](char c) { return c >= '0' && c <= '9'; })) {
        reply.headers.emplace_back("Retry-After", seconds);
      }
      break;
    }
  }
  return reply;
}

Reply InternalError() {
  // Never the exception text: it may describe internals.
  return FromError(Error(ErrorCode::kInternal, "internal server error"));
}

bool IsChunked(const httplib::Request& req) {
  return text::ToLower(req.get_header_value("Transfer-Encoding")).find("chunked") !=
         std::string::npos;
}

// Reads the whole body, refusing to buffer more than max_bytes.
Body ReadBody(const httplib::Request& req, const httplib::ContentReader& reader,
              httplib::Response& res, size_t max_bytes) {
  Body body;
  // An HTTP/1.1 request without Content-Length or chunked encoding has no body; asking the
  // reader anyway would wait for the client to close the connection.
  if (!IsChunked(req) && !req.has_header("Content-Length")) return body;
  bool receiver_refused = false;
  // Past the limit the rest of the body is read and dropped, up to a bound: closing a socket
  // with unread data makes the kernel send a reset, and the client would never see the 413.
  const size_t drain_limit = std::max<size_t>(max_bytes * 4, size_t{4} << 20);
  size_t dropped = 0;
  bool over = false;
  bool ok = reader([&](const char* data, size_t length) {
    if (over || body.bytes.size() + length > max_bytes) {
      over = true;
      dropped += length;
      if (dropped > drain_limit) {
        receiver_refused = true;
        return false;
      }
      return true;
    }
    body.bytes.append(data, length);
    return true;
  });
  if (ok && over) {
    body.too_large = true;
    body.bytes.clear();
    return body;  // fully read: the connection can stay open
  }
  if (ok) return body;
  // httplib itself answers 413 (after discarding the body) when Content-Length is over the limit.
  body.too_large = receiver_refused || res.status == 413;
  body.failed = !body.too_large;
  body.abandoned = receiver_refused || res.status != 413;
  body.bytes.clear();
  return body;
}

// The request id to answer with: the caller's own when it is a sane id, else a new one.
std::string RequestIdFor(const httplib::Request& req) {
  std::string incoming = req.get_header_value("X-Request-Id");
  return IsValidId(incoming) ? incoming : text::NewUuid();
}

// The body is read as JSON whatever the declared type, except for types that are certainly
// something else (a file upload): `curl -d '{...}'` sends a form type with a JSON body, and
// refusing it would only get in a user's way. The body must still parse as a JSON object.
bool IsJsonContentType(const httplib::Request& req) {
  if (!req.has_header("Content-Type")) return true;
  std::string type = req.get_header_value("Content-Type");
  type = text::ToLower(text::Trim(type.substr(0, type.find(';'))));
  return !type.starts_with("multipart/") && !type.starts_with("image/") &&
         !type.starts_with("audio/") && !type.starts_with("video/") &&
         type != "application/octet-stream";
}

// What one request carries through the guards into its route.
struct Context {
  RequestLog log;
  std::string tenant = std::string(kDefaultTenant);
  std::optional<auth::Principal> principal;
  std::string route;  // the route's pattern, for metrics ("/api/v1/sessions/{id}")
  // No request log line (a connection shed for overload: those are summed up in one warning a
  // second instead, so that overload does not also flood the log).
  bool quiet = false;
};

// A whole number of seconds, rounded up, at least 1: for Retry-After.
int64_t CeilSeconds(std::chrono::milliseconds d) {
  return std::max<int64_t>(1, (d.count() + 999) / 1000);
}

// The API's listener. Stop() shuts the listening socket down (through a descriptor of the
// server's own, so that it never touches a number the kernel has handed out again) without
// clearing httplib's copy: httplib's workers stop serving a connection as soon as that copy is
// cleared, which would drop the connections accepted but still waiting for a worker. The
// accept loop then fails, closes the socket itself and waits for its workers.
class ApiListener : public Listener {
 public:
  socket_t socket() const { return svr_sock_.load(); }
  // Once the accept loop has ended (it closed the socket): forgets the number.
  void Forget() { svr_sock_ = INVALID_SOCKET; }
};

// httplib's task queue over our ConnectionPool, which outlives it (httplib deletes the queue
// when its accept loop ends; the server still reports the pool's figures).
class PoolTaskQueue final : public httplib::TaskQueue {
 public:
  explicit PoolTaskQueue(ConnectionPool& pool) : pool_(pool) {}
  void enqueue(std::function<void()> fn) override { pool_.Submit(std::move(fn)); }
  void shutdown() override { pool_.Shutdown(); }

 private:
  ConnectionPool& pool_;
};

// The rate limiter's key of a tenant's question bucket.
std::string BucketKey(std::string_view tenant) { return "tenant:" + std::string(tenant); }

// Unix milliseconds as RFC 3339 UTC; null for 0 (unknown).
nlohmann::json TimeOrNull(int64_t unix_ms) {
  if (unix_ms <= 0) return nullptr;
  return observability::FormatTimestamp(
      std::chrono::system_clock::time_point(std::chrono::milliseconds(unix_ms)));
}

}  // namespace

const ratelimit::BucketPolicy& RateLimits::For(std::string_view tenant) const {
  for (const auto& [name, policy] : tenants) {
    if (name == tenant) return policy;
  }
  return default_policy;
}

class HttpServer::Impl {
 public:
  Impl(nl2sql::QueryService& service, observability::Logger& logger, const Clock& clock,
       ServerOptions options, ServerGuards guards)
      : service_(service),
        logger_(logger),
        clock_(clock),
        options_(std::move(options)),
        guards_(std::move(guards)),
        started_(clock.Steady()),
        rate_limits_(std::make_shared<const RateLimits>(guards_.rate_limits)) {
    Configure();
    RegisterRoutes();
  }

  ~Impl() { Stop(); }

  Result<int> Bind() {
    std::lock_guard lock(mutex_);
    if (stopped_) return Fail(ErrorCode::kInvalidArgument, "the server has been stopped");
    if (bound_) return Fail(ErrorCode::kInvalidArgument, "the server is already bound");
    if (auto invalid = ValidateOptions(); !invalid.empty()) {
      return Fail(ErrorCode::kInvalidArgument, invalid);
    }
    int port = options_.port;
    if (port == 0) {
      port = http_.bind_to_any_port(options_.host);
      if (port < 0) return CannotBind();
    } else if (!http_.bind_to_port(options_.host, port)) {
      return CannotBind();
    }
    bound_ = true;
    port_ = port;
    // httplib listens with a backlog of 5: a burst of connections beyond it waits for the
    // client's SYN retransmission (1 s, then 3 s, 7 s, ...) before it is even accepted. Our
    // accept loop never blocks (connections beyond the limits are answered 503 by the pool), so
    // a long backlog only absorbs bursts. Listening again changes it; the kernel caps it at
    // net.core.somaxconn. On failure the short backlog stays, which only delays connections.
    (void)::listen(http_.socket(), SOMAXCONN);
    // A descriptor of our own for the listening socket (see ApiListener); -1 when it cannot be
    // had, and Stop() then closes the socket the plain way.
    listen_fd_ = ::fcntl(http_.socket(), F_DUPFD_CLOEXEC, 0);
    return port;
  }

  void Run() {
    {
      std::lock_guard lock(mutex_);
      if (!bound_ || stopped_ || ran_) return;
      ran_ = true;
      pool_ = std::make_unique<ConnectionPool>(PoolOptions(),
                                               [this](ShedReason reason) { OnShed(reason); });
    }
    logger_.Info("listening", {{"host", options_.host},
                               {"port", port_},
                               {"workers", options_.workers},
                               {"max_connections", MaxConnections()},
                               {"max_queued_connections", options_.max_queued_connections},
                               {"version", options_.version}});
    // A Stop() from here on shuts the socket down: the next accept fails and the loop ends,
    // after its workers have answered every connection they hold.
    http_.listen_after_bind();
    {
      std::lock_guard lock(mutex_);
      http_.Forget();
      CloseOwnDescriptor();
    }
    logger_.Info("stopped listening", {{"host", options_.host}, {"port", port_}});
  }

  void Stop() {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    draining_ = true;
    if (ran_ && listen_fd_ >= 0) {
      ::shutdown(listen_fd_, SHUT_RDWR);
    } else {
      // Not serving (or without our own descriptor): nothing is waiting for a worker.
      http_.CloseListeningSocket();
      CloseOwnDescriptor();
    }
  }

  bool draining() const { return draining_.load(); }

  ServerStats Stats() const {
    ServerStats stats;
    stats.requests_served = served_.load();
    stats.requests_in_flight = in_flight_.load();
    std::lock_guard lock(mutex_);
    if (pool_) {
      const ConnectionPoolStats pool = pool_->Stats();
      stats.connections_waiting = pool.queued;
      stats.connection_threads = pool.threads;
      stats.connection_threads_peak = pool.peak_threads;
      stats.connections_shed = pool.shed;
    }
    return stats;
  }

  void SetRateLimits(RateLimits limits) {
    auto next = std::make_shared<const RateLimits>(std::move(limits));
    std::shared_ptr<const RateLimits> previous;
    {
      std::lock_guard lock(limits_mu_);
      previous = std::exchange(rate_limits_, next);
    }
    if (guards_.limiter == nullptr) return;
    // A tenant whose own limits were added, edited or removed starts with a full bucket.
    auto own = [](const RateLimits& limits, const std::string& tenant) {
      for (const auto& [name, policy] : limits.tenants) {
        if (name == tenant) return std::optional<ratelimit::BucketPolicy>(policy);
      }
      return std::optional<ratelimit::BucketPolicy>();
    };
    auto same = [](const std::optional<ratelimit::BucketPolicy>& a,
                   const std::optional<ratelimit::BucketPolicy>& b) {
      if (!a || !b) return !a && !b;
      return a->capacity == b->capacity && a->refill_per_second == b->refill_per_second &&
             a->requests_per_minute == b->requests_per_minute;
    };
    std::vector<std::string> tenants;
    for (const auto& [name, policy] : previous->tenants) tenants.push_back(name);
    for (const auto& [name, policy] : next->tenants) tenants.push_back(name);
    std::sort(tenants.begin(), tenants.end());
    tenants.erase(std::unique(tenants.begin(), tenants.end()), tenants.end());
    for (const std::string& tenant : tenants) {
      if (same(own(*previous, tenant), own(*next, tenant))) continue;
      if (auto reset = guards_.limiter->Reset(BucketKey(tenant)); !reset) {
        logger_.Warn("could not reset a tenant's rate-limit bucket for its new limits",
                     {{"tenant_id", tenant}, {"error", reset.error().message}});
      }
    }
  }

 private:
  using Route = std::function<Reply(const httplib::Request&, const Body&, Context&)>;

  struct Method {
    std::string_view name;
    Access access;
    Route route;
  };
  struct Resource {
    std::string pattern;  // httplib's regex
    std::string name;     // for metrics and logs
    std::vector<Method> methods;
  };

  std::string ValidateOptions() const {
    if (options_.host.empty()) return "server host must not be empty";
    if (options_.port < 0 || options_.port > 65535) {
      return fmt::format("server port {} is outside 0..65535", options_.port);
    }
    if (options_.workers < 1 || options_.workers > kMaxWorkers) {
      return fmt::format("server workers must be between 1 and {}", kMaxWorkers);
    }
    if (options_.max_connections != 0 && (options_.max_connections < options_.workers ||
                                          options_.max_connections > kMaxConnections)) {
      return fmt::format("server max_connections must be 0 or between workers ({}) and {}",
                         options_.workers, kMaxConnections);
    }
    if (options_.max_queued_connections < 0 ||
        options_.max_queued_connections > kMaxQueuedConnections) {
      return fmt::format("server max_queued_connections must be between 0 and {}",
                         kMaxQueuedConnections);
    }
    if (options_.idle_thread_timeout.count() <= 0 || options_.max_queue_wait.count() <= 0) {
      return "server idle_thread_timeout and max_queue_wait must be positive";
    }
    if (options_.max_request_body_bytes == 0) return "max_request_body_bytes must be positive";
    if (options_.max_query_length == 0) return "max_query_length must be positive";
    if (options_.read_timeout.count() <= 0 || options_.write_timeout.count() <= 0 ||
        options_.keep_alive_timeout.count() <= 0) {
      return "server timeouts must be positive";
    }
    return {};
  }

  // mutex_ is held.
  void CloseOwnDescriptor() {
    if (listen_fd_ >= 0) ::close(listen_fd_);
    listen_fd_ = -1;
  }

  std::shared_ptr<const RateLimits> CurrentRateLimits() const {
    std::lock_guard lock(limits_mu_);
    return rate_limits_;
  }

  std::unexpected<Error> CannotBind() const {
    return Fail(ErrorCode::kUnavailable,
                fmt::format("cannot listen on {}:{} (address in use, not permitted or unknown "
                            "host)",
                            options_.host, options_.port));
  }

  int MaxConnections() const {
    return options_.max_connections == 0 ? options_.workers : options_.max_connections;
  }

  // Options are validated by Bind() before Run() builds the pool; clamped all the same.
  ConnectionPoolOptions PoolOptions() const {
    ConnectionPoolOptions pool;
    pool.min_threads = static_cast<size_t>(std::clamp(options_.workers, 1, kMaxWorkers));
    pool.max_threads = static_cast<size_t>(std::clamp(MaxConnections(), 1, kMaxConnections));
    pool.max_queued =
        static_cast<size_t>(std::clamp(options_.max_queued_connections, 0, kMaxQueuedConnections));
    pool.idle_timeout = options_.idle_thread_timeout;
    pool.max_wait = options_.max_queue_wait;
    pool.shedding_threads = kSheddingThreads;
    return pool;
  }

  // A connection was shed (ConnectionPool's listener; any thread). Counted always, logged at
  // most once a second with the number shed since the last warning.
  void OnShed(ShedReason reason) {
    if (guards_.metrics != nullptr) {
      guards_.metrics->http_connections_shed_total.Inc({ShedReasonName(reason)});
    }
    shed_since_warning_.fetch_add(1);
    const int64_t now =
        std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.Steady().time_since_epoch())
            .count();
    int64_t next = next_shed_warning_.load();
    if (now < next) return;
    const int64_t after = now + std::chrono::nanoseconds(std::chrono::seconds(1)).count();
    if (!next_shed_warning_.compare_exchange_strong(next, after)) return;
    logger_.Warn("server overloaded: connections answered 503",
                 {{"connections_shed", static_cast<int64_t>(shed_since_warning_.exchange(0))},
                  {"reason", std::string(ShedReasonName(reason))},
                  {"max_connections", MaxConnections()},
                  {"max_queued_connections", options_.max_queued_connections},
                  {"hint", "raise [server] max_connections or add instances"}});
  }

  void Configure() {
    http_.new_task_queue = [this] { return new PoolTaskQueue(*pool_); };
    // Answers are small and written in one go: without TCP_NODELAY, Nagle's algorithm and the
    // client's delayed ACK add about 40 ms to every keep-alive response.
    http_.set_tcp_nodelay(true);
    http_.set_keep_alive_max_count(kKeepAliveMaxRequests);
    http_.set_keep_alive_timeout(options_.keep_alive_timeout.count());
    http_.set_read_timeout(options_.read_timeout.count(), 0);
    http_.set_write_timeout(options_.write_timeout.count(), 0);
    http_.set_payload_max_length(options_.max_request_body_bytes);
    // httplib's default also sets SO_REUSEPORT, which lets a second instance bind a port that
    // is already serving and silently share its traffic. SO_REUSEADDR alone still allows a
    // quick restart while old connections sit in TIME_WAIT.
    http_.set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });

    // Failures httplib answers itself (malformed request line, unknown method, URI too long)
    // reach here bare; our own error replies already carry X-Request-Id (Finish sets it), and
    // their body may be in a content provider rather than res.body.
    httplib::Server::HandlerWithResponse error_handler = [this](const httplib::Request& req,
                                                                httplib::Response& res) {
      if (res.has_header("X-Request-Id")) return httplib::Server::HandlerResponse::Unhandled;
      if (ConnectionPool::CurrentShedReason() != ShedReason::kNone) {
        AnswerOverloaded(req, res, nullptr, "other");
        return httplib::Server::HandlerResponse::Handled;
      }
      Context ctx = NewContext(req, "other");
      Finish(req, res, TransportError(res.status), ctx, clock_.Steady());
      return httplib::Server::HandlerResponse::Handled;
    };
    http_.set_error_handler(std::move(error_handler));

    // Every route catches its own exceptions; this is the last line of defence, and replaces
    // httplib's default, which would echo the exception text in a header.
    http_.set_exception_handler(
        [this](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
          Context ctx = NewContext(req, "other");
          Finish(req, res, InternalError(), ctx, clock_.Steady());
        });
  }

  void RegisterRoutes() {
    auto bind = [this](Reply (Impl::*handler)(const httplib::Request&, const Body&, Context&)) {
      return [this, handler](const httplib::Request& req, const Body& body, Context& ctx) {
        return (this->*handler)(req, body, ctx);
      };
    };
    std::vector<Resource> resources = {
        {"/health", "/health", {{"GET", Access::kPublic, bind(&Impl::Health)}}},
        {"/ready", "/ready", {{"GET", Access::kPublic, bind(&Impl::Ready)}}},
        {"/api/v1/auth/login",
         "/api/v1/auth/login",
         {{"POST", Access::kPublic, bind(&Impl::Login)}}},
        {"/api/v1/query", "/api/v1/query", {{"POST", Access::kAnalyst, bind(&Impl::Query)}}},
        {"/api/v1/feedback",
         "/api/v1/feedback",
         {{"POST", Access::kAnalyst, bind(&Impl::Feedback)}}},
        {"/api/v1/admin/circuit-breaker",
         "/api/v1/admin/circuit-breaker",
         {{"GET", Access::kAdmin, bind(&Impl::BreakerState)}}},
        {"/api/v1/admin/circuit-breaker/reset",
         "/api/v1/admin/circuit-breaker/reset",
         {{"POST", Access::kAdmin, bind(&Impl::BreakerReset)}}},
        {"/api/v1/admin/schema/refresh",
         "/api/v1/admin/schema/refresh",
         {{"POST", Access::kAdmin, bind(&Impl::SchemaRefresh)}}},
        {"/api/v1/admin/cache/flush",
         "/api/v1/admin/cache/flush",
         {{"POST", Access::kAdmin, bind(&Impl::CacheFlush)}}},
        {"/api/v1/admin/sessions",
         "/api/v1/admin/sessions",
         {{"GET", Access::kAdmin, bind(&Impl::AdminListSessions)}}},
        {"/api/v1/admin/sessions/([^/]+)",
         "/api/v1/admin/sessions/{id}",
         {{"DELETE", Access::kAdmin, bind(&Impl::AdminEndSession)}}},
        {"/api/v1/sessions",
         "/api/v1/sessions",
         {{"GET", Access::kAuthenticated, bind(&Impl::ListSessions)}}},
        {"/", "/", {{"GET", Access::kPublic, bind(&Impl::WebFile)}}},
        {"/index.html", "/", {{"GET", Access::kPublic, bind(&Impl::WebFile)}}},
        {"/assets/([A-Za-z0-9._-]+)",
         "/assets/{name}",
         {{"GET", Access::kPublic, bind(&Impl::WebFile)}}},
        {"/api/v1/sessions/([^/]+)",
         "/api/v1/sessions/{id}",
         {{"GET", Access::kAuthenticated, bind(&Impl::GetSession)},
          {"DELETE", Access::kAuthenticated, bind(&Impl::EndSession)}}},
    };
    static constexpr std::array<std::string_view, 6> kMethods = {"GET",   "POST",   "PUT",
                                                                 "PATCH", "DELETE", "OPTIONS"};
    for (const Resource& resource : resources) {
      std::string allow;
      for (const Method& m : resource.methods) {
        if (!allow.empty()) allow += ", ";
        allow += m.name;
        if (m.name == "GET") allow += ", HEAD";
      }
      for (std::string_view method : kMethods) {
        auto it = std::find_if(resource.methods.begin(), resource.methods.end(),
                               [method](const Method& m) { return m.name == method; });
        if (it != resource.methods.end()) {
          Add(method, resource.pattern, resource.name, it->access, it->route);
        } else if (method == "OPTIONS") {
          Add(method, resource.pattern, resource.name, Access::kPublic,
              Preflight(resource.methods, allow));
        } else {
          Add(method, resource.pattern, resource.name, Access::kPublic, MethodNotAllowed(allow));
        }
      }
    }
    // Handlers are tried in registration order, so these catch every other path; under /api/v1/
    // a caller must be authenticated even to learn that a route does not exist.
    for (std::string_view method : kMethods) {
      Add(method, "/api/v1/.*", "other", Access::kAuthenticated,
          [](const httplib::Request&, const Body&, Context&) {
            return FromError(Error(ErrorCode::kNotFound, "no such endpoint"));
          });
    }
    for (std::string_view method : kMethods) {
      Add(method, ".*", "other", Access::kPublic,
          [](const httplib::Request&, const Body&, Context&) {
            return FromError(Error(ErrorCode::kNotFound, "no such endpoint"));
          });
    }
  }

  // Registers route for method (GET also answers HEAD). Methods that carry a body use
  // httplib's content-reader form so that the body is read under our size limit.
  void Add(std::string_view method, const std::string& pattern, const std::string& name,
           Access access, Route route) {
    auto plain = [this, name, access, route](const httplib::Request& req, httplib::Response& res) {
      Serve(req, res, nullptr, name, access, route);
    };
    auto with_body = [this, name, access, route](const httplib::Request& req,
                                                 httplib::Response& res,
                                                 const httplib::ContentReader& reader) {
      Serve(req, res, &reader, name, access, route);
    };
    if (method == "GET") {
      http_.Get(pattern, plain);
    } else if (method == "OPTIONS") {
      http_.Options(pattern, plain);
    } else if (method == "POST") {
      http_.Post(pattern, with_body);
    } else if (method == "PUT") {
      http_.Put(pattern, with_body);
    } else if (method == "PATCH") {
      http_.Patch(pattern, with_body);
    } else if (method == "DELETE") {
      http_.Delete(pattern, with_body);
    }
  }

  bool OriginAllowed(std::string_view origin) const {
    return !origin.empty() &&
           std::find(options_.cors_allowed_origins.begin(), options_.cors_allowed_origins.end(),
                     origin) != options_.cors_allowed_origins.end();
  }

  // OPTIONS on a known path: a CORS preflight from an allowed origin asking for one of the
  // path's methods gets 204 and the CORS headers; any other origin gets 403 and no CORS
  // header; an OPTIONS that is not a preflight gets 405.
  Route Preflight(std::vector<Method> methods, std::string allow) {
    return [this, methods = std::move(methods), allow = std::move(allow)](
               const httplib::Request& req, const Body& body, Context& ctx) {
      const std::string origin = req.get_header_value("Origin");
      const std::string wanted = req.get_header_value("Access-Control-Request-Method");
      if (origin.empty() || wanted.empty()) return MethodNotAllowed(allow)(req, body, ctx);
      if (!OriginAllowed(origin)) {
        return Reply{403,
                     ErrorBodyToJson("cors_origin_not_allowed", "this origin may not call the API"),
                     "cors_origin_not_allowed",
                     {},
                     false,
                     {}};
      }
      bool known = std::any_of(methods.begin(), methods.end(), [&](const Method& m) {
        return m.name == wanted || (m.name == "GET" && wanted == "HEAD");
      });
      if (!known) {
        return Reply{
            405,
            ErrorBodyToJson("method_not_allowed",
                            fmt::format("method {} is not allowed here; use {}", wanted, allow)),
            "method_not_allowed",
            allow,
            false,
            {}};
      }
      Reply reply{204, "", "", {}, false, {}};
      reply.headers = {{"Access-Control-Allow-Methods", allow},
                       {"Access-Control-Allow-Headers", std::string(kAllowedRequestHeaders)},
                       {"Access-Control-Max-Age", "600"}};
      return reply;
    };
  }

  static Route MethodNotAllowed(std::string allow) {
    return [allow = std::move(allow)](const httplib::Request& req, const Body&, Context&) {
      Reply reply{
          405,
          ErrorBodyToJson("method_not_allowed",
                          fmt::format("method {} is not allowed here; use {}", req.method, allow)),
          "method_not_allowed",
          allow,
          false,
          {}};
      return reply;
    };
  }

  static Reply TransportError(int status) {
    switch (status) {
      case 404:
        return FromError(Error(ErrorCode::kNotFound, "no such endpoint"));
      case 413:
        return FromError(Error(ErrorCode::kPayloadTooLarge, "the request is too large"));
      case 414:
        return FromError(Error(ErrorCode::kPayloadTooLarge, "the request URI is too long"));
      default:
        break;
    }
    if (status >= 500) return InternalError();
    Reply reply = FromError(Error(ErrorCode::kInvalidArgument, "malformed HTTP request"));
    reply.status = status >= 400 ? status : 400;
    return reply;
  }

  Context NewContext(const httplib::Request& req, std::string route) const {
    Context ctx;
    ctx.log.request_id = RequestIdFor(req);
    ctx.log.method = req.method;
    ctx.log.path = req.path;
    ctx.log.tenant_id = ctx.tenant;
    ctx.route = std::move(route);
    return ctx;
  }

  // The one path every routed request takes: read the body, check the caller, run the route
  // with no exception escaping, answer and log.
  void Serve(const httplib::Request& req, httplib::Response& res,
             const httplib::ContentReader* reader, const std::string& name, Access access,
             const Route& route) {
    if (ConnectionPool::CurrentShedReason() != ShedReason::kNone) {
      AnswerOverloaded(req, res, reader, name);
      return;
    }
    auto start = clock_.Steady();
    Context ctx = NewContext(req, name);
    // Counted from here to the response, for the shutdown log.
    struct InFlight {
      std::atomic<size_t>& n;
      explicit InFlight(std::atomic<size_t>& count) : n(count) { ++n; }
      ~InFlight() { --n; }
    } in_flight(in_flight_);
    Reply reply;
    try {
      Body body;
      if (reader != nullptr) body = ReadBody(req, *reader, res, options_.max_request_body_bytes);
      if (auto denied = CheckAccess(req, access, ctx)) {
        reply = std::move(*denied);
      } else {
        reply = route(req, body, ctx);
      }
      // While draining, a connection carries no further request: Run() can return sooner.
      reply.close_connection = reply.close_connection || body.abandoned || draining_.load();
    } catch (const std::exception& e) {
      LogException(ctx.log, e.what());
      reply = InternalError();
    } catch (...) {
      LogException(ctx.log, "unknown exception");
      reply = InternalError();
    }
    Finish(req, res, reply, ctx, start);
    ++served_;
  }

  // A connection shed for overload: 503 with Retry-After, and the connection closed. No route
  // runs; a small body is read and dropped first, so that the close does not reset the
  // connection before the client has read the answer. No request log line (see OnShed).
  void AnswerOverloaded(const httplib::Request& req, httplib::Response& res,
                        const httplib::ContentReader* reader, const std::string& name) {
    const auto start = clock_.Steady();
    Context ctx = NewContext(req, name);
    ctx.quiet = true;
    try {
      if (reader != nullptr && (IsChunked(req) || req.has_header("Content-Length"))) {
        size_t dropped = 0;
        (*reader)([&dropped](const char*, size_t length) {
          dropped += length;
          return dropped <= kShedDrainBytes;
        });
      }
    } catch (...) {
      // Reading failed: the connection is closed anyway.
    }
    Reply reply = FromError(
        Error(ErrorCode::kUnavailable, "The server is overloaded; try again in a moment."));
    reply.headers.emplace_back("Retry-After", std::to_string(kOverloadRetryAfterSeconds));
    reply.close_connection = true;
    Finish(req, res, reply, ctx, start);
  }

  // Authentication and roles. nullopt lets the request through, with ctx's tenant set.
  std::optional<Reply> CheckAccess(const httplib::Request& req, Access access, Context& ctx) {
    if (access == Access::kPublic || guards_.authenticator == nullptr) return std::nullopt;
    auto principal = guards_.authenticator->Authenticate(req.get_header_value("Authorization"));
    if (!principal) return FromError(principal.error());
    ctx.tenant = principal->tenant;
    ctx.log.tenant_id = principal->tenant;
    ctx.principal = std::move(*principal);
    if (access == Access::kAnalyst && !auth::HasRole(*ctx.principal, auth::kRoleAnalyst)) {
      return FromError(Error(ErrorCode::kPermissionDenied,
                             "asking questions needs the \"analyst\" role; ask an "
                             "administrator to grant it"));
    }
    if (access == Access::kAdmin && !auth::HasRole(*ctx.principal, auth::kRoleAdmin)) {
      return FromError(Error(ErrorCode::kPermissionDenied, "this needs the \"admin\" role"));
    }
    return std::nullopt;
  }

  void LogException(const RequestLog& log, std::string_view what) {
    logger_.Error("unhandled exception in a request handler",
                  {{"request_id", log.request_id}, {"path", log.path}, {"exception", what}});
  }

  void Finish(const httplib::Request& req, httplib::Response& res, const Reply& reply, Context& ctx,
              std::chrono::steady_clock::time_point start) {
    res.status = reply.status;
    if (reply.status == 204 || reply.status == 304) {
      res.body.clear();
    } else if (reply.file_body != nullptr) {
      // A provider rather than set_content: the bytes are sent from the loaded file without a
      // copy, and httplib does not compress them again (they are compressed already).
      const std::string* bytes = reply.file_body;
      res.set_content_provider(bytes->size(), reply.content_type,
                               [bytes](size_t offset, size_t length, httplib::DataSink& sink) {
                                 sink.write(bytes->data() + offset,
                                            std::min(length, bytes->size() - offset));
                                 return true;
                               });
    } else if (reply.close_connection) {
      // httplib 0.11 keeps a keep-alive connection open whatever "Connection: close" a handler
      // sets, so a shed or abandoned connection would hold its thread until the client hangs up
      // or keep_alive_timeout passes. A content provider that returns false once it has written
      // the whole body ends the connection right after the last byte.
      auto body = std::make_shared<const std::string>(reply.body);
      res.set_content_provider(
          body->size(), reply.content_type.empty() ? "application/json" : reply.content_type,
          [body](size_t offset, size_t length, httplib::DataSink& sink) {
            sink.write(body->data() + offset, std::min(length, body->size() - offset));
            return false;
          });
    } else {
      res.set_content(reply.body,
                      reply.content_type.empty() ? "application/json" : reply.content_type);
    }
    res.set_header("X-Request-Id", ctx.log.request_id);
    res.set_header("Cache-Control", reply.cache_control.empty() ? "no-store" : reply.cache_control);
    res.set_header("X-Content-Type-Options", "nosniff");
    if (!reply.allow.empty()) res.set_header("Allow", reply.allow);
    if (reply.close_connection) res.set_header("Connection", "close");
    for (const auto& [key, value] : reply.headers) res.set_header(key, value);
    const std::string origin = req.get_header_value("Origin");
    if (!origin.empty() && !options_.cors_allowed_origins.empty()) {
      // The answer depends on Origin, so caches must key on it.
      res.set_header("Vary", "Origin");
      if (OriginAllowed(origin)) {
        res.set_header("Access-Control-Allow-Origin", origin);
        res.set_header("Access-Control-Expose-Headers", std::string(kExposedHeaders));
      }
    }
    ctx.log.status = reply.status;
    ctx.log.error_code = reply.error_code;
    ctx.log.latency_ms = std::chrono::duration<double, std::milli>(clock_.Steady() - start).count();
    if (!ctx.quiet) observability::LogRequest(logger_, ctx.log);
    if (guards_.metrics != nullptr) {
      guards_.metrics->http_requests_total.Inc({ctx.route, std::to_string(reply.status)});
    }
  }

  int64_t UptimeSeconds() const {
    return std::chrono::duration_cast<std::chrono::seconds>(clock_.Steady() - started_).count();
  }

  // Liveness: the process answers. Nothing else is checked, so a database or Redis outage
  // never gets a live process restarted.
  Reply Health(const httplib::Request&, const Body&, Context&) {
    nlohmann::ordered_json body;
    body["status"] = "alive";
    body["version"] = options_.version;
    body["uptime_seconds"] = UptimeSeconds();
    return Reply{200, body.dump(), {}, {}, false, {}};
  }

  // Readiness: whether this instance should be sent questions.
  Reply Ready(const httplib::Request&, const Body&, Context&) {
    nl2sql::HealthReport report = service_.Health();
    if (guards_.extra_health) {
      for (nl2sql::DependencyHealth& d : guards_.extra_health()) {
        if (d.required) report.ok = report.ok && d.ok;
        report.dependencies.push_back(std::move(d));
      }
    }
    if (guards_.breaker != nullptr) {
      const resilience::BreakerState state = guards_.breaker->state();
      nl2sql::DependencyHealth llm;
      llm.name = "llm";
      llm.ok = state != resilience::BreakerState::kOpen;
      llm.required = guards_.breaker_required;
      llm.detail = fmt::format("circuit breaker {}", resilience::BreakerStateName(state));
      if (llm.required) report.ok = report.ok && llm.ok;
      report.dependencies.push_back(std::move(llm));
    }
    const bool draining = draining_.load();
    std::string body = HealthToJson(report, options_.version, UptimeSeconds());
    if (draining) {
      nlohmann::ordered_json doc = nlohmann::ordered_json::parse(body);
      doc["status"] = "draining";
      body = doc.dump();
    }
    const bool ready = report.ok && !draining;
    return Reply{ready ? 200 : 503,
                 std::move(body),
                 ready ? "" : std::string(ErrorCodeName(ErrorCode::kUnavailable)),
                 {},
                 false,
                 {}};
  }

  // The checks every JSON body goes through before it is decoded.
  std::optional<Reply> CheckBody(const httplib::Request& req, const Body& body) const {
    if (body.too_large) {
      return FromError(Error(ErrorCode::kPayloadTooLarge,
                             fmt::format("the request body is larger than the limit of {} bytes",
                                         options_.max_request_body_bytes)));
    }
    if (body.failed) {
      return FromError(Error(ErrorCode::kInvalidArgument, "the request body could not be read"));
    }
    if (!IsJsonContentType(req)) {
      return Reply{415,
                   ErrorBodyToJson("unsupported_media_type",
                                   "the request body must be JSON (Content-Type: "
                                   "application/json)"),
                   "unsupported_media_type",
                   {},
                   false,
                   {}};
    }
    return std::nullopt;
  }

  Reply Login(const httplib::Request& req, const Body& body, Context& ctx) {
    if (guards_.authenticator == nullptr) {
      return FromError(Error(ErrorCode::kNotFound,
                             "authentication is off on this server (a local demo): no token is "
                             "needed"));
    }
    if (auto bad = CheckBody(req, body)) return std::move(*bad);
    auto credentials = ParseLogin(body.bytes);
    if (!credentials) return FromError(credentials.error());
    std::chrono::seconds retry_after{0};
    auto token = guards_.authenticator->Login(credentials->first, credentials->second,
                                              req.remote_addr, &retry_after);
    if (!token) {
      const Error& error = token.error();
      Reply reply = FromError(error);
      if (error.code == ErrorCode::kRateLimited) {
        reply.headers.emplace_back("Retry-After",
                                   std::to_string(std::max<int64_t>(1, retry_after.count())));
        logger_.Warn("login rate limit exceeded",
                     {{"request_id", ctx.log.request_id}, {"address", req.remote_addr}});
      }
      if (guards_.metrics != nullptr) {
        guards_.metrics->login_failures_total.Inc(
            {error.code == ErrorCode::kRateLimited ? "rate_limited" : "credentials"});
      }
      return reply;
    }
    // The tenant is the user's; the log line of a login names no tenant of its own.
    ctx.log.tenant_id.clear();
    const auto expires = token->expires_at;
    const int64_t expires_unix =
        std::chrono::duration_cast<std::chrono::seconds>(expires.time_since_epoch()).count();
    const int64_t expires_in =
        std::chrono::duration_cast<std::chrono::seconds>(expires - clock_.Now()).count();
    return Reply{200, LoginToJson(token->token, expires_unix, expires_in), {}, {}, false, {}};
  }

  // {"username": string, "password": string}
  static Result<std::pair<std::string, std::string>> ParseLogin(std::string_view bytes) {
    nlohmann::json doc = nlohmann::json::parse(bytes, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "the body must be a JSON object {\"username\": ..., \"password\": ...}");
    }
    auto field = [&doc](const char* name, size_t max) -> Result<std::string> {
      auto it = doc.find(name);
      if (it == doc.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("\"{}\" is required and must be a non-empty string", name));
      }
      const std::string& value = it->get_ref<const std::string&>();
      if (value.size() > max) {
        return Fail(ErrorCode::kPayloadTooLarge,
                    fmt::format("\"{}\" is longer than {} bytes", name, max));
      }
      return value;
    };
    auto username = field("username", kMaxUsernameBytes);
    if (!username) return std::unexpected(username.error());
    auto password = field("password", kMaxPasswordBytes);
    if (!password) return std::unexpected(password.error());
    return std::make_pair(std::move(*username), std::move(*password));
  }

  // Takes one token from the tenant's bucket. nullopt: go ahead (headers added to `headers`).
  std::optional<Reply> Throttle(const std::string& tenant, Headers& headers, Context& ctx) {
    if (guards_.limiter == nullptr) return std::nullopt;
    const std::shared_ptr<const RateLimits> limits = CurrentRateLimits();
    if (!limits->enabled) return std::nullopt;
    const ratelimit::BucketPolicy& policy = limits->For(tenant);
    auto decision = guards_.limiter->Acquire(BucketKey(tenant), policy);
    if (!decision) {
      // The shared store is unreachable: serving without a limit beats refusing everyone.
      logger_.Warn("rate limiter unavailable; request let through",
                   {{"tenant_id", tenant}, {"error", decision.error().message}});
      return std::nullopt;
    }
    const int limit = policy.requests_per_minute > 0
                          ? policy.requests_per_minute
                          : static_cast<int>(std::lround(policy.refill_per_second * 60));
    headers.emplace_back("X-RateLimit-Limit", std::to_string(limit));
    headers.emplace_back("X-RateLimit-Remaining",
                         std::to_string(static_cast<int64_t>(std::floor(decision->remaining))));
    headers.emplace_back(
        "X-RateLimit-Reset",
        std::to_string(decision->reset_after.count() == 0 ? 0
                                                          : CeilSeconds(decision->reset_after)));
    if (decision->allowed) return std::nullopt;
    const int64_t retry = CeilSeconds(decision->retry_after);
    logger_.Warn("Rate limit exceeded", {{"tenant_id", tenant},
                                         {"request_id", ctx.log.request_id},
                                         {"limit_per_minute", limit},
                                         {"retry_after_s", retry}});
    if (guards_.metrics != nullptr) guards_.metrics->rate_limit_rejections_total.Inc({tenant});
    Reply reply = FromError(
        Error(ErrorCode::kRateLimited,
              fmt::format("Too many questions: the limit for your organisation is {} per minute "
                          "(bursts of {}). Retry in {} s.",
                          limit, static_cast<int64_t>(policy.capacity), retry)));
    reply.headers = headers;
    reply.headers.emplace_back("Retry-After", std::to_string(retry));
    return reply;
  }

  Reply Query(const httplib::Request& req, const Body& body, Context& ctx) {
    Headers limit_headers;
    if (auto refused = Throttle(ctx.tenant, limit_headers, ctx)) return std::move(*refused);
    Reply reply = Answer(req, body, ctx);
    reply.headers.insert(reply.headers.end(), limit_headers.begin(), limit_headers.end());
    return reply;
  }

  Reply Answer(const httplib::Request& req, const Body& body, Context& ctx) {
    if (auto bad = CheckBody(req, body)) return std::move(*bad);
    auto request = ParseQueryRequest(body.bytes, options_.max_query_length);
    if (!request) return FromError(request.error());
    ctx.log.session_id = request->session_id;
    ctx.log.query = request->query;

    nl2sql::AskRequest ask;
    ask.tenant_id = ctx.tenant;
    // The session's owner: the signed-in user; none when authentication is off.
    if (ctx.principal) ask.user = ctx.principal->user;
    ask.session_id = std::move(request->session_id);
    ask.question = std::move(request->query);
    ask.database = std::move(request->database);
    const auto start = clock_.Steady();
    auto answer = service_.Ask(ask);
    const auto elapsed = clock_.Steady() - start;
    Observe(ctx, ask, answer, elapsed);
    if (!answer) return FromError(answer.error());
    ctx.log.session_id = answer->session_id;
    ctx.log.cache_hit = answer->cache_hit;
    ctx.log.sql_generated = !answer->sql.empty();
    ctx.log.source = answer->source;
    ctx.log.row_count = answer->row_count;
    ctx.log.database_ms = answer->database_ms;
    return Reply{200, AnswerToJson(*answer), {}, {}, false, {}};
  }

  // Metrics and the slow-query log for one question that reached the pipeline.
  void Observe(const Context& ctx, const nl2sql::AskRequest& ask,
               const Result<nl2sql::Answer>& answer, std::chrono::steady_clock::duration elapsed) {
    const double seconds = std::chrono::duration<double>(elapsed).count();
    const std::string& tenant = ctx.tenant;
    if (guards_.metrics != nullptr) {
      observability::ServiceMetrics& m = *guards_.metrics;
      m.queries_total.Inc({tenant});
      m.query_duration_seconds.Observe({tenant}, seconds);
      // Both series exist from a tenant's first question, so the runbook's hit-ratio
      // expression finds them (and reports 0/0 as NaN while the cache is off).
      m.cache_requests_total.Inc({tenant}, answer && answer->cache_lookup ? 1 : 0);
      m.cache_hits_total.Inc({tenant}, answer && answer->cache_hit ? 1 : 0);
      if (!answer) {
        m.queries_failed_total.Inc({tenant});
        m.query_errors_total.Inc({tenant, ErrorCodeName(answer.error().code)});
      }
    }
    if (elapsed > options_.slow_query_threshold) {
      logger_.Warn("slow query",
                   {{"request_id", ctx.log.request_id},
                    {"tenant_id", tenant},
                    {"latency_ms", seconds * 1000},
                    {"threshold_ms", static_cast<int64_t>(options_.slow_query_threshold.count())},
                    {"query", ask.question},
                    {"sql", answer ? answer->sql : std::string()}});
      if (guards_.metrics != nullptr) guards_.metrics->slow_queries_total.Inc({tenant});
    }
  }

  // {"session_id": string, "turn": integer >= 1, "correct": boolean}
  Reply Feedback(const httplib::Request& req, const Body& body, Context& ctx) {
    if (auto bad = CheckBody(req, body)) return std::move(*bad);
    nlohmann::json doc = nlohmann::json::parse(body.bytes, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
      return FromError(Error(ErrorCode::kInvalidArgument,
                             "the body must be a JSON object {\"session_id\": ..., \"turn\": ..., "
                             "\"correct\": true|false}"));
    }
    auto session = doc.find("session_id");
    auto turn = doc.find("turn");
    auto correct = doc.find("correct");
    if (session == doc.end() || !session->is_string() ||
        !IsValidId(session->get_ref<const std::string&>())) {
      return FromError(Error(ErrorCode::kInvalidArgument, "\"session_id\" must be a session id"));
    }
    if (turn == doc.end() || !turn->is_number_integer() || turn->get<int64_t>() < 1 ||
        turn->get<int64_t>() > 1'000'000) {
      return FromError(Error(ErrorCode::kInvalidArgument, "\"turn\" must be an integer >= 1"));
    }
    if (correct == doc.end() || !correct->is_boolean()) {
      return FromError(Error(ErrorCode::kInvalidArgument, "\"correct\" must be true or false"));
    }
    const std::string id = session->get<std::string>();
    ctx.log.session_id = id;
    const nl2sql::Caller caller{ctx.tenant, ctx.principal ? ctx.principal->user : std::string()};
    if (!correct->get<bool>()) {
      // Only correct answers teach; a wrong one is worth a log line for whoever curates, with
      // the question and the SQL. Only the session's owner may mark it, as for a correct one.
      auto kept = service_.GetSession(caller, id);
      if (!kept) return FromError(kept.error());
      const int number = static_cast<int>(turn->get<int64_t>());
      auto it = std::find_if(kept->turns.begin(), kept->turns.end(),
                             [number](const nl2sql::TurnView& t) { return t.turn == number; });
      if (it == kept->turns.end()) {
        return FromError(
            Error(ErrorCode::kNotFound,
                  fmt::format("turn {} of this session is not kept (any more)", number)));
      }
      logger_.Info("answer marked wrong", {{"tenant_id", ctx.tenant},
                                           {"session_id", id},
                                           {"turn", number},
                                           {"question", it->question},
                                           {"sql", it->sql}});
      return Reply{204, "", {}, {}, false, {}};
    }
    auto marked = service_.MarkCorrect(caller, id, static_cast<int>(turn->get<int64_t>()));
    if (!marked) return FromError(marked.error());
    return Reply{204, "", {}, {}, false, {}};
  }

  static std::string BreakerJson(resilience::CircuitBreaker& breaker) {
    nlohmann::json body = {{"service", breaker.service()},
                           {"state", std::string(resilience::BreakerStateName(breaker.state()))}};
    return body.dump();
  }

  Reply BreakerState(const httplib::Request&, const Body&, Context&) {
    if (guards_.breaker == nullptr) {
      return FromError(Error(ErrorCode::kNotFound, "no language model is configured"));
    }
    return Reply{200, BreakerJson(*guards_.breaker), {}, {}, false, {}};
  }

  Reply BreakerReset(const httplib::Request&, const Body&, Context& ctx) {
    if (guards_.breaker == nullptr) {
      return FromError(Error(ErrorCode::kNotFound, "no language model is configured"));
    }
    guards_.breaker->Reset();
    logger_.Warn("circuit breaker reset by an administrator",
                 {{"service", guards_.breaker->service()},
                  {"user", ctx.principal ? ctx.principal->user : std::string("(no auth)")}});
    return Reply{200, BreakerJson(*guards_.breaker), {}, {}, false, {}};
  }

  // Body: nothing, {} or {"database": "NAME"}.
  Reply SchemaRefresh(const httplib::Request&, const Body& body, Context& ctx) {
    if (!guards_.refresh_schema) {
      return FromError(Error(ErrorCode::kNotFound, "schema refresh is not available"));
    }
    std::string database;
    if (!text::Trim(body.bytes).empty()) {
      nlohmann::json parsed = nlohmann::json::parse(body.bytes, nullptr, false);
      if (parsed.is_discarded() || !parsed.is_object()) {
        return FromError(Error(ErrorCode::kInvalidArgument,
                               "the body must be empty or a JSON object like {\"database\": "
                               "\"NAME\"}"));
      }
      for (const auto& [key, value] : parsed.items()) {
        if (key != "database") {
          return FromError(
              Error(ErrorCode::kInvalidArgument, fmt::format("unknown field '{}'", key)));
        }
        if (!value.is_null() && !value.is_string()) {
          return FromError(Error(ErrorCode::kInvalidArgument, "'database' must be a string"));
        }
        if (value.is_string()) database = value.get<std::string>();
      }
    }
    auto refreshed = guards_.refresh_schema(database);
    if (!refreshed) return FromError(refreshed.error());
    logger_.Info("schema refresh requested by an administrator",
                 {{"database", database.empty() ? std::string("(all)") : database},
                  {"user", ctx.principal ? ctx.principal->user : std::string("(no auth)")}});
    return Reply{200, std::move(*refreshed), {}, {}, false, {}};
  }

  std::string AdminName(const Context& ctx) const {
    return ctx.principal ? ctx.principal->user : std::string("(no auth)");
  }

  static std::optional<Reply> CheckTenant(const std::string& tenant) {
    if (auth::IsValidTenant(tenant)) return std::nullopt;
    return FromError(Error(ErrorCode::kInvalidArgument,
                           "\"tenant\" must be 1..64 letters, digits, '.', '_' or '-'"));
  }

  // Body: nothing, {} or {"tenant": "NAME"}.
  Reply CacheFlush(const httplib::Request& req, const Body& body, Context& ctx) {
    if (!guards_.flush_cache) {
      return FromError(Error(ErrorCode::kNotFound, "the answer cache is off on this server"));
    }
    // Checked first: a body too large to read must not read as "no tenant" (flush them all).
    if (auto bad = CheckBody(req, body)) return std::move(*bad);
    std::string tenant;
    if (!text::Trim(body.bytes).empty()) {
      nlohmann::json parsed = nlohmann::json::parse(body.bytes, nullptr, false);
      if (parsed.is_discarded() || !parsed.is_object()) {
        return FromError(Error(ErrorCode::kInvalidArgument,
                               "the body must be empty or a JSON object like {\"tenant\": "
                               "\"NAME\"}"));
      }
      for (const auto& [key, value] : parsed.items()) {
        if (key != "tenant") {
          return FromError(
              Error(ErrorCode::kInvalidArgument, fmt::format("unknown field '{}'", key)));
        }
        if (!value.is_null() && !value.is_string()) {
          return FromError(Error(ErrorCode::kInvalidArgument, "'tenant' must be a string"));
        }
        if (value.is_string()) {
          tenant = value.get<std::string>();
          if (auto bad = CheckTenant(tenant)) return std::move(*bad);
        }
      }
    }
    auto flushed = guards_.flush_cache(tenant);
    if (!flushed) return FromError(flushed.error());
    logger_.Warn("answer cache flushed by an administrator",
                 {{"tenant", tenant.empty() ? std::string("(all)") : tenant},
                  {"entries", *flushed},
                  {"user", AdminName(ctx)}});
    nlohmann::ordered_json reply;
    reply["tenant"] =
        tenant.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(tenant);
    reply["flushed"] = *flushed;
    return Reply{200, reply.dump(), {}, {}, false, {}};
  }

  // ?tenant= selects one tenant (default: all); ?limit= 1..1000 (default 100).
  Reply AdminListSessions(const httplib::Request& req, const Body&, Context&) {
    if (!guards_.list_sessions) {
      return FromError(Error(ErrorCode::kNotFound, "sessions cannot be listed on this server"));
    }
    constexpr size_t kDefaultLimit = 100;
    constexpr size_t kMaxLimit = 1000;
    const std::string tenant = req.get_param_value("tenant");
    if (req.has_param("tenant")) {
      if (auto bad = CheckTenant(tenant)) return std::move(*bad);
    }
    size_t limit = kDefaultLimit;
    if (req.has_param("limit")) {
      const std::string text = req.get_param_value("limit");
      size_t value = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 1 ||
          value > kMaxLimit) {
        return FromError(Error(ErrorCode::kInvalidArgument,
                               fmt::format("'limit' must be a whole number 1..{}", kMaxLimit)));
      }
      limit = value;
    }
    auto sessions = guards_.list_sessions(tenant, limit + 1);
    if (!sessions) return FromError(sessions.error());
    const bool truncated = sessions->size() > limit;
    if (truncated) sessions->resize(limit);
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const AdminSession& s : *sessions) {
      nlohmann::ordered_json item;
      item["session_id"] = s.session_id;
      item["tenant"] = s.tenant;
      item["user"] = s.user;
      item["turns"] = s.turns;
      item["created_at"] = TimeOrNull(s.created_at_ms);
      item["last_used_at"] = TimeOrNull(s.last_used_at_ms);
      item["expires_at"] = TimeOrNull(s.expires_at_ms);
      list.push_back(std::move(item));
    }
    nlohmann::ordered_json reply;
    reply["sessions"] = std::move(list);
    reply["truncated"] = truncated;
    // Stored questions and ids need not be valid UTF-8.
    std::string text = reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return Reply{200, std::move(text), {}, {}, false, {}};
  }

  // ?tenant= limits it to one tenant (default: every tenant with a session of that id).
  Reply AdminEndSession(const httplib::Request& req, const Body&, Context& ctx) {
    if (!guards_.end_session) {
      return FromError(Error(ErrorCode::kNotFound, "sessions cannot be ended on this server"));
    }
    auto id = SessionIdOf(req);
    if (!id) return FromError(id.error());
    ctx.log.session_id = *id;
    const std::string tenant = req.get_param_value("tenant");
    if (req.has_param("tenant")) {
      if (auto bad = CheckTenant(tenant)) return std::move(*bad);
    }
    auto ended = guards_.end_session(tenant, *id);
    if (!ended) return FromError(ended.error());
    if (*ended == 0) {
      return FromError(Error(ErrorCode::kNotFound,
                             fmt::format("There is no live session '{}'{}.", *id,
                                         tenant.empty() ? "" : " in tenant '" + tenant + "'")));
    }
    logger_.Warn("session ended by an administrator",
                 {{"session_id", *id},
                  {"tenant", tenant.empty() ? std::string("(all)") : tenant},
                  {"sessions", *ended},
                  {"user", AdminName(ctx)}});
    nlohmann::ordered_json reply;
    reply["session_id"] = *id;
    reply["ended"] = *ended;
    return Reply{200, reply.dump(), {}, {}, false, {}};
  }

  // GET /, /index.html and /assets/{name}: the web chat's files, as loaded at start-up.
  Reply WebFile(const httplib::Request& req, const Body&, Context&) {
    if (!options_.web_assets) {
      return FromError(Error(ErrorCode::kNotFound,
                             "the web chat is not served here ([server] web_chat is off, or its "
                             "files are not installed); the API is at /api/v1/"));
    }
    const StaticFile* file = options_.web_assets->Find(req.path);
    if (file == nullptr) return FromError(Error(ErrorCode::kNotFound, "no such file"));
    Reply reply;
    reply.headers.emplace_back("ETag", file->etag());
    reply.headers.emplace_back("Vary", "Accept-Encoding");
    reply.cache_control = file->immutable() ? "public, max-age=31536000, immutable" : "no-cache";
    if (req.path == "/" || req.path == "/index.html") {
      // The page runs only its own scripts: no inline script, no eval (charts are drawn by
      // Vega's interpreter), nothing fetched from another origin, not framed by anyone.
      reply.headers.emplace_back(
          "Content-Security-Policy",
          "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src "
          "'self' data: blob:; font-src 'self'; connect-src 'self'; base-uri 'none'; "
          "form-action 'self'; frame-ancestors 'none'");
      reply.headers.emplace_back("X-Frame-Options", "DENY");
      reply.headers.emplace_back("Referrer-Policy", "no-referrer");
      reply.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
    }
    if (EtagMatches(req.get_header_value("If-None-Match"), file->etag())) {
      reply.status = 304;
      return reply;
    }
    reply.content_type = file->content_type();
    reply.file_body = &file->body();
    const std::string accepted = req.get_header_value("Accept-Encoding");
    if (const std::string* br =
            AcceptsEncoding(accepted, "br") ? file->Encoded(Encoding::kBrotli) : nullptr) {
      reply.file_body = br;
      reply.headers.emplace_back("Content-Encoding", "br");
    } else if (const std::string* gz =
                   AcceptsEncoding(accepted, "gzip") ? file->Encoded(Encoding::kGzip) : nullptr) {
      reply.file_body = gz;
      reply.headers.emplace_back("Content-Encoding", "gzip");
    }
    return reply;
  }

  // If-None-Match: "*" or a list of ETags (weak ones compared by their opaque part).
  static bool EtagMatches(std::string_view header, std::string_view etag) {
    for (const std::string& part : text::Split(header, ',')) {
      std::string item = text::Trim(part);
      if (item.starts_with("W/")) item.erase(0, 2);
      if (item == "*" || item == etag) return true;
    }
    return false;
  }

  // Accept-Encoding lists the coding without ";q=0".
  static bool AcceptsEncoding(std::string_view header, std::string_view coding) {
    for (const std::string& item : text::Split(header, ',')) {
      const size_t semicolon = item.find(';');
      if (!text::EqualsIgnoreCase(text::Trim(item.substr(0, semicolon)), coding)) continue;
      if (semicolon == std::string::npos) return true;
      std::string params = text::ToLower(item.substr(semicolon + 1));
      params.erase(std::remove(params.begin(), params.end(), ' '), params.end());
      return !(params.starts_with("q=0") && params.find_first_not_of("0.", 2) == std::string::npos);
    }
    return false;
  }

  static Result<std::string> SessionIdOf(const httplib::Request& req) {
    std::string id = req.matches.size() > 1 ? std::string(req.matches[1]) : std::string();
    if (!IsValidId(id)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "the session id must be 1..128 characters of letters, digits, '.', '_', ':' "
                  "and '-'");
    }
    return id;
  }

  Reply GetSession(const httplib::Request& req, const Body&, Context& ctx) {
    auto id = SessionIdOf(req);
    if (!id) return FromError(id.error());
    ctx.log.session_id = *id;
    const nl2sql::Caller caller{ctx.tenant, ctx.principal ? ctx.principal->user : std::string()};
    auto session = service_.GetSession(caller, *id);
    if (!session) return FromError(session.error());
    return Reply{200, SessionToJson(*session), {}, {}, false, {}};
  }

  Reply ListSessions(const httplib::Request&, const Body&, Context& ctx) {
    // The caller's own sessions only (all of the anonymous user's when authentication is off).
    const nl2sql::Caller caller{ctx.tenant, ctx.principal ? ctx.principal->user : std::string()};
    auto sessions = service_.ListSessions(caller);
    if (!sessions) return FromError(sessions.error());
    return Reply{200, SessionListToJson(*sessions), {}, {}, false, {}};
  }

  Reply EndSession(const httplib::Request& req, const Body&, Context& ctx) {
    auto id = SessionIdOf(req);
    if (!id) return FromError(id.error());
    ctx.log.session_id = *id;
    const nl2sql::Caller caller{ctx.tenant, ctx.principal ? ctx.principal->user : std::string()};
    auto ended = service_.EndSession(caller, *id);
    if (!ended) return FromError(ended.error());
    return Reply{204, "", {}, {}, false, {}};
  }

  nl2sql::QueryService& service_;
  observability::Logger& logger_;
  const Clock& clock_;
  const ServerOptions options_;
  const ServerGuards guards_;
  const std::chrono::steady_clock::time_point started_;
  ApiListener http_;

  mutable std::mutex mutex_;  // guards the lifecycle flags below and pool_
  bool bound_ = false;
  bool stopped_ = false;
  bool ran_ = false;  // Run() serves at most once
  int port_ = 0;
  int listen_fd_ = -1;  // our own descriptor of the listening socket, while it is open

  std::atomic<bool> draining_{false};
  std::atomic<uint64_t> served_{0};
  std::atomic<size_t> in_flight_{0};
  // The threads serving connections: built by Run(), shut down by httplib when its accept loop
  // ends, kept (idle) for Stats() until the server is destroyed.
  std::unique_ptr<ConnectionPool> pool_;
  std::atomic<uint64_t> shed_since_warning_{0};
  std::atomic<int64_t> next_shed_warning_{std::numeric_limits<int64_t>::min()};

  mutable std::mutex limits_mu_;
  std::shared_ptr<const RateLimits> rate_limits_;  // guarded by limits_mu_
};

HttpServer::HttpServer(nl2sql::QueryService& service, observability::Logger& logger,
                       const Clock& clock, ServerOptions options, ServerGuards guards)
    : impl_(std::make_unique<Impl>(service, logger, clock, std::move(options), std::move(guards))) {
}

HttpServer::~HttpServer() = default;

Result<int> HttpServer::Bind() { return impl_->Bind(); }

void HttpServer::Run() { impl_->Run(); }

void HttpServer::Stop() { impl_->Stop(); }

bool HttpServer::draining() const { return impl_->draining(); }

ServerStats HttpServer::Stats() const { return impl_->Stats(); }

void HttpServer::SetRateLimits(RateLimits limits) { impl_->SetRateLimits(std::move(limits)); }

}  // namespace helios::server
