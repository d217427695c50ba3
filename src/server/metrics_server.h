// The metrics listener: a second HTTP server, on its own address and port ([metrics] host and
// prometheus_port), that Prometheus scrapes. Keeping it apart from the API means the API's
// authentication, rate limits and request logs never apply to scrapes, and the port can be left
// unexposed outside the cluster.
//
// Routes:
//   GET /metrics   200, registry.Render() as "text/plain; version=0.0.4; charset=utf-8"
//   GET /health    200 "ok" (text/plain)
//   other methods on those two paths: 405 with "Allow: GET, HEAD"; any other path: 404
// HEAD is answered like GET without a body. Scrapes are not logged.
//
// Thread-safety: scrapes are served on a small pool of threads and only call registry.Render(),
// which is thread-safe. Stop() may be called from any thread at any time after construction,
// before or during Run(). The registry and the logger must outlive the server; Run() must have
// returned before the server is destroyed.
#pragma once

#include <memory>
#include <string>

#include "common/error.h"
#include "observability/logger.h"
#include "observability/metrics.h"

namespace helios::server {

class MetricsServer {
 public:
  // port 0 binds an ephemeral port, reported by Bind().
  MetricsServer(const observability::MetricsRegistry& registry, observability::Logger& logger,
                std::string host, int port);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds host:port and returns the bound port. kInvalidArgument for an empty host, a port
  // outside 0..65535, a second call or a call after Stop(); kUnavailable when the address cannot
  // be bound (in use, not permitted, unknown host).
  Result<int> Bind();
  // Logs {"message":"metrics listening","host":..,"port":N} and serves until Stop(); returns at
  // once when not bound, already stopped or called a second time.
  void Run();
  // Stops accepting connections and makes Run() return (after in-flight scrapes, and at most
  // the keep-alive timeout of 2 s when a scraper holds an idle connection). Idempotent.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace helios::server
