// The composition root: the only place that builds real objects (data source, engine,
// session store, pipeline, HTTP server) from a Config. Everything else receives its
// dependencies through constructors.
#pragma once

#include <memory>
#include <string>

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
#include "observability/logger.h"
#include "observability/metrics.h"
#include "ratelimit/rate_limiter.h"
#include "resilience/circuit_breaker.h"

namespace helios::app {

// Version string printed by --version and reported by /health.
std::string VersionString();

class Application {
 public:
  // Opens the database named by config.database.url, reads its schema and indexes its values.
  static Result<std::unique_ptr<Application>> Build(const config::Config& config,
                                                    const Clock& clock,
                                                    observability::Logger& logger);

  nl2sql::Pipeline& pipeline() { return *pipeline_; }
  conversation::MemorySessionStore& sessions() { return *sessions_; }
  observability::MetricsRegistry& registry() { return *registry_; }
  observability::ServiceMetrics& metrics() { return *metrics_; }
  resilience::CircuitBreaker& breaker() { return *breaker_; }
  // Null when no language model is configured.
  llm::LlmProvider* provider() { return provider_.get(); }

 private:
  Application() = default;
  std::unique_ptr<observability::MetricsRegistry> registry_;
  std::unique_ptr<observability::ServiceMetrics> metrics_;
  std::unique_ptr<resilience::CircuitBreaker> breaker_;
  std::unique_ptr<db::DataSource> source_;
  std::shared_ptr<const nl2sql::engine::Engine> engine_;
  std::unique_ptr<conversation::MemorySessionStore> sessions_;
  std::unique_ptr<nl2sql::examples::ExampleStore> examples_;
  std::unique_ptr<llm::HttpTransport> transport_;
  std::unique_ptr<llm::LlmProvider> provider_;
  std::shared_ptr<const nl2sql::prompt::SchemaLinker> linker_;
  std::unique_ptr<nl2sql::LlmAnswerer> answerer_;
  std::unique_ptr<nl2sql::Pipeline> pipeline_;
};

// Serves HTTP (and metrics on their own port) until SIGINT or SIGTERM. Refuses to start with
// authentication on and no JWT_SECRET, or without the users file; with authentication off
// (allowed on loopback only) it warns. Returns the process exit code.
int Serve(const config::Config& config, const Clock& clock, observability::Logger& logger);

}  // namespace helios::app
