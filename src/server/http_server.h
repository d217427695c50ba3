// The HTTP front door: routes, JSON in and out, ErrorCode -> status, one request log line per
// request. The server knows the question pipeline only through nl2sql::QueryService.
//
// Routes:
//   GET  /health        200 when every dependency is healthy, else 503 (HealthToJson)
//   POST /api/v1/query  {"session_id"?, "query", "database"?} -> AnswerToJson, or an error
//   anything else       404, or 405 with an Allow header for a known path
// Every response is JSON (Content-Type: application/json) and carries X-Request-Id: the
// caller's own when it is a sane id, else a new UUID. No exception escapes a handler: one that
// reaches the boundary becomes a 500 with a generic message.
//
// Thread-safety: requests are served concurrently on `workers` threads, so the QueryService,
// the Logger and the Clock must be thread-safe. Stop() may be called from any thread (including
// a signal-watching thread) at any time after construction, before or during Run(). The
// service, logger and clock must outlive the server; Run() must have returned before the
// server is destroyed.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/error.h"
#include "nl2sql/service.h"
#include "observability/logger.h"

namespace helios::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: an ephemeral port, reported by Bind()
  int workers = 4;  // request-handling threads
  size_t max_request_body_bytes = 1 << 20;
  size_t max_query_length = 10000;  // in Unicode characters
  std::string version = "unknown";  // reported by /health
  // Socket timeouts for reading a request and writing a response.
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds write_timeout{10};
  // How long an idle keep-alive connection is held open. Run() returns at most this long after
  // Stop() when a client keeps an idle connection open.
  std::chrono::seconds keep_alive_timeout{5};
};

class HttpServer {
 public:
  HttpServer(nl2sql::QueryService& service, observability::Logger& logger, const Clock& clock,
             ServerOptions options);
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
