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

// The logger's level for the configuration's [logging] level.
observability::LogLevel ToLogLevel(config::LogLevel level);

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

  // The answer cache: on unless [cache] enabled = false.
  bool cache_enabled() const { return answer_cache_ != nullptr; }
  // Drops the cache's entries of `tenant` (of every tenant when empty), in Redis and in this
  // process; returns how many went. kNotFound when the cache is off.
  Result<size_t> FlushCache(const std::string& tenant);

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

// What a SIGHUP does with the settings that changed in the configuration file.
struct ReloadPlan {
  std::vector<std::string> applied;        // applied at once: the rate limits, the log level
  std::vector<std::string> needs_restart;  // every other changed setting: not applied
  std::vector<std::string> command_line;   // changed in the file but set on the command line
};

// Sorts ChangedSettings(running, next) into a ReloadPlan; `command_line` names the settings
// the command line set (they keep their value whatever the file says).
ReloadPlan PlanReload(const config::Config& running, const config::Config& next,
                      const std::vector<std::string>& command_line);

// The server's lifecycle:
// - Serves HTTP (and metrics on their own port). Refuses to start with authentication on and
//   no JWT_SECRET, or without the users file; with authentication off (allowed on loopback
//   only) it warns.
// - SIGHUP reads the configuration file again (config.source_file; the command line's
//   settings are kept) and applies what can change without a restart: [logging] level, the
//   rate limits (a tenant whose own limits changed starts with a full bucket) and the users
//   file, read again whether or not it changed. One log line says what was reloaded, which
//   changed settings were applied, which need a restart (they are not applied) and which the
//   command line holds. A file that does not load or validate changes nothing and is logged.
// - SIGTERM or SIGINT stops accepting connections (new ones are refused), lets the requests
//   already received finish for up to [server] shutdown_timeout_secs, logs "stopped" with the
//   counts and returns 0. Past the bound it logs how many requests were cut off and ends the
//   process at once with exit code 1.
// Returns the process exit code (1 also when serving ends without a signal).
int Serve(const config::Config& config, const Clock& clock, observability::Logger& logger);

}  // namespace helios::app
