// The composition root: the only place that builds real objects (data source, engine,
// session store, pipeline, HTTP server) from a Config. Everything else receives its
// dependencies through constructors.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cache/embedder.h"
#include "cache/semantic_cache.h"
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
#include "redis/redis_client.h"
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
  // Sessions: in Redis when REDIS_URL is set (this process's own while Redis is unreachable),
  // else in memory.
  conversation::SessionStore& sessions() { return *sessions_; }
  // Rate-limit buckets (API quotas and failed logins): shared the same way.
  ratelimit::RateLimiter& limiter() { return *limiter_; }
  // Redis's state for /health (nullopt when no Redis is configured). Redis being down does not
  // make the instance unhealthy: it answers with local state meanwhile.
  std::optional<nl2sql::DependencyHealth> SharedStateHealth();
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
  Result<void> BuildSharedState(const config::Config& config);
  // Logs each switch between Redis and local state, once per component and transition.
  std::function<void(bool, const Error*)> SwitchLogger(std::string component);

  std::unique_ptr<redis::Client> redis_;  // null without REDIS_URL
  std::unique_ptr<conversation::MemorySessionStore> local_sessions_;
  std::unique_ptr<conversation::SessionStore> shared_sessions_;
  std::unique_ptr<conversation::SessionStore> failover_sessions_;
  conversation::SessionStore* sessions_ = nullptr;
  std::unique_ptr<ratelimit::RateLimiter> local_limiter_;
  std::unique_ptr<ratelimit::RateLimiter> shared_limiter_;
  std::unique_ptr<ratelimit::RateLimiter> failover_limiter_;
  ratelimit::RateLimiter* limiter_ = nullptr;
  std::unique_ptr<cache::Embedder> embedder_;
  std::unique_ptr<cache::CacheStore> local_cache_;
  std::unique_ptr<cache::CacheStore> shared_cache_;
  std::unique_ptr<cache::CacheStore> failover_cache_;
  std::unique_ptr<nl2sql::AnswerCache> answer_cache_;  // null when [cache] enabled = false
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
