// The composition root: the only place that builds real objects (data source, engine,
// session store, pipeline, HTTP server) from a Config. Everything else receives its
// dependencies through constructors.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/error.h"
#include "config/config.h"
#include "conversation/session_store.h"
#include "db/data_source.h"
#include "llm/http_transport.h"
#include "llm/provider.h"
#include "nl2sql/engine/engine.h"
#include "nl2sql/examples/example_store.h"
#include "nl2sql/llm_answerer.h"
#include "nl2sql/pipeline.h"
#include "nl2sql/prompt/schema_linker.h"
#include "nl2sql/router.h"
#include "observability/logger.h"
#include "observability/metrics.h"
#include "ratelimit/rate_limiter.h"
#include "resilience/circuit_breaker.h"

namespace helios::app {

// Version string printed by --version and reported by /health.
std::string VersionString();

// The outcome of reading one data source's schema again.
struct SchemaRefresh {
  std::string database;
  size_t tables = 0;
  bool changed = false;  // the schema differed and the engine and prompts were rebuilt
  std::string error;     // non-empty when the refresh failed (the old schema stays)
};

class Application {
 public:
  // Opens every configured data source (config::DataSources: the default first), reads each
  // schema and indexes its values; warns when a source's role can write.
  static Result<std::unique_ptr<Application>> Build(const config::Config& config,
                                                    const Clock& clock,
                                                    observability::Logger& logger);
  ~Application();

  // Questions for any data source: routed by the request's database or its session's.
  nl2sql::QueryService& service();
  conversation::MemorySessionStore& sessions() { return *sessions_; }
  observability::MetricsRegistry& registry() { return *registry_; }
  observability::ServiceMetrics& metrics() { return *metrics_; }
  resilience::CircuitBreaker& breaker() { return *breaker_; }
  // Null when no language model is configured.
  llm::LlmProvider* provider() { return provider_.get(); }

  // Reads the schema of `database` (empty: of every source) again and, where it changed,
  // rebuilds the engine's index and the prompts' schema; questions in flight finish with the
  // old one. kNotFound for an unknown name.
  Result<std::vector<SchemaRefresh>> RefreshSchemas(const std::string& database = "");

 private:
  struct SchemaState;
  struct Source;
  Application(const Clock& clock, observability::Logger& logger);
  Result<void> OpenSource(const config::Config& config,
                          const config::NamedDatabaseConfig& database);
  Result<void> LoadSchema(Source& source, const std::shared_ptr<const db::SchemaCatalog>& catalog,
                          bool first);

  const Clock& clock_;
  observability::Logger& logger_;
  std::unique_ptr<observability::MetricsRegistry> registry_;
  std::unique_ptr<observability::ServiceMetrics> metrics_;
  std::unique_ptr<resilience::CircuitBreaker> breaker_;
  std::unique_ptr<conversation::MemorySessionStore> sessions_;
  std::unique_ptr<nl2sql::examples::ExampleStore> examples_;
  std::map<std::string, std::string> descriptions_;  // [nl2sql.descriptions]
  std::unique_ptr<llm::HttpTransport> transport_;
  std::unique_ptr<llm::LlmProvider> provider_;
  std::vector<std::unique_ptr<Source>> sources_;
  std::shared_ptr<const nl2sql::engine::Engine> engine_for_build_;  // handed to the pipeline
  std::unique_ptr<nl2sql::SourceRouter> router_;
};

// {"databases":[{"database":"default","status":"changed","tables":7}, ...]}: the reply of
// POST /api/v1/admin/schema/refresh.
std::string SchemaRefreshJson(const std::vector<SchemaRefresh>& refreshed);

// Serves HTTP (and metrics on their own port) until SIGINT or SIGTERM. Refuses to start with
// authentication on and no JWT_SECRET, or without the users file; with authentication off
// (allowed on loopback only) it warns. Returns the process exit code.
int Serve(const config::Config& config, const Clock& clock, observability::Logger& logger);

}  // namespace helios::app
