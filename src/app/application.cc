#include "app/application.h"

#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "app/version.h"
#include "db/open.h"
#include "server/http_server.h"

namespace helios::app {

std::string VersionString() {
  return fmt::format("heliosdb-conversational-bi {} (revision {})", HELIOS_VERSION,
                     HELIOS_GIT_REVISION);
}

Result<std::unique_ptr<Application>> Application::Build(const config::Config& config,
                                                        const Clock& clock,
                                                        observability::Logger& logger) {
  if (config.database.url.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "No database is configured. Pass --database sqlite:///path/to/file.db, set "
                "DATABASE_URL, or set [database] url in the configuration. "
                "`heliosdb-conversational-bi demo-data demo.db` writes a demo database.");
  }
  auto app = std::unique_ptr<Application>(new Application());
  db::OpenOptions open;
  open.pool_size = static_cast<size_t>(std::max(1, config.database.pool_size));
  open.acquire_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(config.database.connection_timeout);
  open.clock = &clock;
  auto source = db::OpenDataSource(config.database.url, open);
  if (!source) return std::unexpected(source.error());
  app->source_ = std::move(*source);

  const auto start = clock.Steady();
  auto catalog = app->source_->Introspect();
  if (!catalog) return std::unexpected(catalog.error());
  auto index = nl2sql::engine::SchemaIndex::Build(*catalog, *app->source_, 1000);
  if (!index) return std::unexpected(index.error());
  app->engine_ = std::make_shared<const nl2sql::engine::Engine>(
      std::shared_ptr<const nl2sql::engine::SchemaIndex>(std::move(*index)), clock);
  logger.Info(
      "schema loaded",
      {{"database", app->source_->DisplayName()},
       {"tables", static_cast<int64_t>((*catalog)->tables.size())},
       {"elapsed_ms", std::chrono::duration<double, std::milli>(clock.Steady() - start).count()}});

  conversation::MemoryStoreOptions store;
  store.timeout = config.session.session_timeout;
  store.max_sessions = static_cast<size_t>(config.session.max_concurrent_sessions);
  app->sessions_ = std::make_unique<conversation::MemorySessionStore>(clock, store);

  nl2sql::PipelineOptions options;
  options.max_rows = static_cast<size_t>(config.server.max_result_rows);
  options.statement_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(config.database.statement_timeout);
  options.confidence_threshold = config.nl2sql.confidence_threshold;
  app->pipeline_ = std::make_unique<nl2sql::Pipeline>(*app->source_, app->engine_, *app->sessions_,
                                                      clock, options);
  return app;
}

int Serve(const config::Config& config, const Clock& clock, observability::Logger& logger) {
  // Signals are taken by one thread with sigwait, so no handler runs inside the server.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto app = Application::Build(config, clock, logger);
  if (!app) {
    logger.Error("start-up failed", {{"error", app.error().message}});
    fmt::print(stderr, "error: {}\n", app.error().message);
    return 1;
  }
  server::ServerOptions options;
  options.host = config.server.host;
  options.port = config.server.port;
  options.workers = config.server.workers;
  options.max_request_body_bytes = static_cast<size_t>(config.server.max_request_body_bytes);
  options.max_query_length = static_cast<size_t>(config.production.security.max_query_length);
  options.version = VersionString();
  server::HttpServer server((*app)->pipeline(), logger, clock, options);
  auto port = server.Bind();
  if (!port) {
    logger.Error("start-up failed", {{"error", port.error().message}});
    fmt::print(stderr, "error: {}\n", port.error().message);
    return 1;
  }

  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  std::thread sweeper([&] {
    std::unique_lock lock(mu);
    while (!cv.wait_for(lock, config.session.cleanup_interval, [&] { return stopping; })) {
      size_t dropped = (*app)->sessions().Sweep();
      if (dropped)
        logger.Debug("expired sessions removed", {{"count", static_cast<int64_t>(dropped)}});
    }
  });
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    logger.Info("shutting down", {{"signal", static_cast<int64_t>(sig)}});
    server.Stop();
  });
  server.Run();
  {
    std::lock_guard lock(mu);
    stopping = true;
  }
  cv.notify_all();
  sweeper.join();
  // If Run() ended without a signal, wake the waiter so it can exit.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  return 0;
}

}  // namespace helios::app
