#include "app/application.h"

#include <fmt/format.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/version.h"
#include "auth/authenticator.h"
#include "auth/token.h"
#include "auth/user_store.h"
#include "cache/failover_cache_store.h"
#include "common/text.h"
#include "conversation/redis_session_store.h"
#include "db/open.h"
#include "db/sqlite/sqlite_data_source.h"
#include "llm/embeddings.h"
#include "llm/factory.h"
#include "llm/retry.h"
#include "nl2sql/prompt/prompt_builder.h"
#include "ratelimit/redis_rate_limiter.h"
#include "server/http_server.h"
#include "server/metrics_server.h"
#include "server/static_assets.h"

namespace helios::app {

std::string VersionString() {
  return fmt::format("heliosdb-conversational-bi {} (revision {})", HELIOS_VERSION,
                     HELIOS_GIT_REVISION);
}

observability::LogLevel ToLogLevel(config::LogLevel level) {
  switch (level) {
    case config::LogLevel::kTrace:
      return observability::LogLevel::kTrace;
    case config::LogLevel::kDebug:
      return observability::LogLevel::kDebug;
    case config::LogLevel::kInfo:
      return observability::LogLevel::kInfo;
    case config::LogLevel::kWarn:
      return observability::LogLevel::kWarn;
    case config::LogLevel::kError:
      return observability::LogLevel::kError;
  }
  return observability::LogLevel::kInfo;
}

namespace {

// The one libcurl transport of the process (the model and the embedder share it): as many idle
// connections kept as model calls may run at once, so that a busy server reuses them.
std::unique_ptr<llm::HttpTransport> MakeTransport(const config::Config& config) {
  return llm::MakeCurlTransport(
      static_cast<size_t>(std::max(8, config.llm.max_concurrent_requests)));
}

// Descriptions for the language model: the database's own comments, then the configuration's
// [nl2sql.descriptions] (which win where both describe the same table or column).
void AddCatalogDescriptions(const db::SchemaCatalog& catalog,
                            std::map<std::string, std::string>& descriptions) {
  for (const db::TableInfo& table : catalog.tables) {
    if (!table.description.empty()) descriptions.try_emplace(table.name, table.description);
    for (const db::ColumnInfo& column : table.columns) {
      if (!column.description.empty())
        descriptions.try_emplace(table.name + "." + column.name, column.description);
    }
  }
}

}  // namespace

// What one data source's questions are answered with, rebuilt together when its schema
// changes: the engine's index, the linker and the notes for prompts.
struct Application::SchemaState {
  std::mutex mu;
  uint64_t version = 0;                                        // guarded by mu
  std::shared_ptr<const nl2sql::prompt::SchemaLinker> linker;  // guarded by mu
  std::shared_ptr<const nl2sql::prompt::SchemaNotes> notes;    // guarded by mu
  size_t tables = 0;                                           // guarded by mu
};

struct Application::Source {
  std::string name;
  std::unique_ptr<db::DataSource> source;
  std::shared_ptr<SchemaState> schema;
  std::unique_ptr<nl2sql::LlmAnswerer> answerer;
  std::unique_ptr<nl2sql::Pipeline> pipeline;
  std::mutex refresh_mu;  // one refresh of this source at a time
};

Application::Application(const Clock& clock, observability::Logger& logger)
    : clock_(clock), logger_(logger) {}
Application::~Application() = default;

Result<void> Application::LoadSchema(Source& s,
                                     const std::shared_ptr<const db::SchemaCatalog>& catalog,
                                     bool first) {
  auto built = nl2sql::engine::SchemaIndex::Build(catalog, *s.source, 1000);
  if (!built) return std::unexpected(built.error());
  std::shared_ptr<const nl2sql::engine::SchemaIndex> index(std::move(*built));
  auto engine = std::make_shared<const nl2sql::engine::Engine>(index, clock_);
  std::shared_ptr<const nl2sql::prompt::SchemaLinker> linker;
  std::shared_ptr<const nl2sql::prompt::SchemaNotes> notes;
  if (provider_) {
    linker = std::make_shared<const nl2sql::prompt::SchemaLinker>(index);
    auto n = std::make_shared<nl2sql::prompt::SchemaNotes>();
    n->descriptions = descriptions_;
    AddCatalogDescriptions(*catalog, n->descriptions);
    // A few stored values of each low-cardinality text column, so the model writes 'Germany'
    // and 'delivered' as stored (the linker shows them for the linked columns only).
    constexpr size_t kSamples = 3;
    for (const auto& table : index->tables()) {
      for (const auto* column : table.columns) {
        if (!column->is_text || column->distinct_values == 0) continue;
        auto values = s.source->DistinctTextValues(table.table->name, column->column->name,
                                                   column->distinct_values);
        if (!values || values->empty()) continue;
        values->resize(std::min(values->size(), kSamples));
        n->sample_values[table.table->name + "." + column->column->name] = std::move(*values);
      }
    }
    notes = std::move(n);
  }
  {
    std::lock_guard lock(s.schema->mu);
    s.schema->version = catalog->version;
    s.schema->linker = std::move(linker);
    s.schema->notes = std::move(notes);
    s.schema->tables = catalog->tables.size();
  }
  if (first) {
    engine_for_build_ = std::move(engine);
  } else {
    s.pipeline->SetEngine(std::move(engine));
  }
  return {};
}

Result<std::unique_ptr<Application>> Application::Build(const config::Config& config,
                                                        const Clock& clock,
                                                        observability::Logger& logger) {
  const std::vector<config::NamedDatabaseConfig> databases = config::DataSources(config);
  if (databases.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "No database is configured. Pass --database sqlite:///path/to/file.db, set "
                "DATABASE_URL, or set [database] url in the configuration. "
                "`heliosdb-conversational-bi demo-data demo.db` writes a demo database.");
  }
  auto app = std::unique_ptr<Application>(new Application(clock, logger));
  app->registry_ = std::make_unique<observability::MetricsRegistry>();
  app->metrics_ = std::make_unique<observability::ServiceMetrics>(*app->registry_);
  app->registry_->GaugeCallback(
      "sqlite_memory_bytes",
      "Memory SQLite holds for all its connections (page caches, schemas, statements), in bytes.",
      [] { return static_cast<double>(db::SqliteMemoryUsed()); });
  // The breaker guards the LLM provider; with none configured it stays closed.
  const config::CircuitBreakerConfig& cb = config.production.circuit_breaker;
  observability::ServiceMetrics* metrics = app->metrics_.get();
  app->breaker_ = std::make_unique<resilience::CircuitBreaker>(
      "nl2sql", clock,
      resilience::BreakerOptions{
          cb.enabled, cb.failure_threshold,
          std::chrono::duration_cast<std::chrono::milliseconds>(cb.reset_timeout),
          cb.half_open_max_calls},
      [metrics, &logger](resilience::BreakerState from, resilience::BreakerState to) {
        metrics->circuit_breaker_state.Set({"nl2sql"}, static_cast<double>(to));
        logger.Warn("circuit breaker state changed", {{"service", "nl2sql"},
                                                      {"from", resilience::BreakerStateName(from)},
                                                      {"to", resilience::BreakerStateName(to)}});
      });
  app->metrics_->circuit_breaker_state.Set({"nl2sql"}, static_cast<double>(app->breaker_->state()));

  if (auto shared = app->BuildSharedState(config); !shared) return std::unexpected(shared.error());

  // Examples for the language model: the seed file (about the default database), then what
  // users marked correct before (each example names its database).
  const config::Nl2SqlConfig& n = config.nl2sql;
  app->examples_ = std::make_unique<nl2sql::examples::ExampleStore>(clock);
  if (!n.examples_file.empty()) {
    auto loaded = app->examples_->Load(n.examples_file, {databases.front().name});
    if (!loaded) return std::unexpected(loaded.error());
  }
  if (!n.learned_examples_file.empty()) {
    auto learned =
        app->examples_->Load(n.learned_examples_file,
                             {databases.front().name, std::string(nl2sql::examples::kSourceUser)});
    if (!learned && learned.error().code != ErrorCode::kNotFound) {
      return std::unexpected(learned.error());
    }
  }
  app->descriptions_ = n.descriptions;
  if (config.llm.provider != config::LlmProvider::kNone) {
    if (!app->transport_) app->transport_ = MakeTransport(config);
    auto provider = llm::MakeProvider(config.llm, *app->transport_, clock, llm::RealSleeper());
    if (!provider) return std::unexpected(provider.error());
    app->provider_ = std::move(*provider);
    logger.Info("language model configured",
                {{"provider", config::LlmProviderName(config.llm.provider)},
                 {"model", config.llm.model},
                 {"mode", config::Nl2SqlModeName(n.mode)}});
  }

  for (const config::NamedDatabaseConfig& database : databases) {
    auto built = app->OpenSource(config, database);
    if (!built) {
      return Fail(built.error().code,
                  fmt::format("database '{}': {}", database.name, built.error().message));
    }
  }
  std::vector<nl2sql::Pipeline*> pipelines;
  for (const auto& s : app->sources_) pipelines.push_back(s->pipeline.get());
  app->router_ = std::make_unique<nl2sql::SourceRouter>(std::move(pipelines), *app->sessions_);
  return app;
}

Result<void> Application::OpenSource(const config::Config& config,
                                     const config::NamedDatabaseConfig& database) {
  auto s = std::make_unique<Source>();
  s->name = database.name;
  s->schema = std::make_shared<SchemaState>();
  db::OpenOptions open;
  open.pool_size = static_cast<size_t>(std::max(1, config.database.pool_size));
  open.max_idle = static_cast<size_t>(std::max(0, config.database.max_idle_connections));
  open.acquire_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(config.database.connection_timeout);
  open.schemas = database.schemas;
  open.clock = &clock_;
  auto source = db::OpenDataSource(database.url, open);
  if (!source) return std::unexpected(source.error());
  s->source = std::move(*source);

  // The database should refuse writes on its own (docs/security.md); say so when it would not.
  if (auto privileges = s->source->WritePrivileges(); !privileges) {
    logger_.Warn("could not check what the database role may change",
                 {{"database", s->name}, {"error", privileges.error().message}});
  } else if (!privileges->empty()) {
    logger_.Warn(
        "the database role can write: generated SQL is still checked and run read-only, but "
        "use a role that can only read (docs/security.md)",
        {{"database", s->name}, {"privileges", text::Join(*privileges, "; ")}});
  }

  const auto start = clock_.Steady();
  auto catalog = s->source->Introspect();
  if (!catalog) return std::unexpected(catalog.error());
  if (auto loaded = LoadSchema(*s, *catalog, true); !loaded) return loaded;
  logger_.Info(
      "schema loaded",
      {{"database", s->name},
       {"source", s->source->DisplayName()},
       {"tables", static_cast<int64_t>((*catalog)->tables.size())},
       {"elapsed_ms", std::chrono::duration<double, std::milli>(clock_.Steady() - start).count()}});

  const config::Nl2SqlConfig& n = config.nl2sql;
  if (provider_) {
    const db::Dialect dialect = s->source->dialect();
    nl2sql::PromptFunction prompt = [schema = s->schema, store = examples_.get(), dialect,
                                     name = s->name](const nl2sql::PromptRequest& request) {
      std::shared_ptr<const nl2sql::prompt::SchemaLinker> linker;
      std::shared_ptr<const nl2sql::prompt::SchemaNotes> notes;
      {
        std::lock_guard lock(schema->mu);
        linker = schema->linker;
        notes = schema->notes;
      }
      std::vector<nl2sql::prompt::Turn> history;
      for (const nl2sql::PriorTurn& t : request.turns) {
        history.push_back(nl2sql::prompt::Turn{t.question, t.sql, ""});
      }
      nl2sql::prompt::LinkOptions link;
      link.dialect = dialect;
      nl2sql::prompt::PromptInput input;
      input.dialect = dialect;
      input.schema = linker->Link(request.question, history, link);
      input.notes = *notes;
      input.history = std::move(history);
      for (const auto& match : store->Similar(request.question, name, request.tenant_id, 5)) {
        input.examples.push_back({match.example.question, match.example.sql});
      }
      input.question = request.question;
      if (!request.failed_sql.empty()) {
        input.correction = nl2sql::prompt::Correction{request.failed_sql, request.error};
      }
      return nl2sql::prompt::PromptBuilder().Build(input);
    };
    nl2sql::LlmAnswererOptions llm_options;
    llm_options.max_rounds = config.llm.max_retries + 1;
    llm_options.max_tokens = config.llm.max_tokens;
    llm_options.temperature = config.llm.temperature;
    llm_options.timeout =
        std::chrono::duration_cast<std::chrono::milliseconds>(config.server.request_timeout);
    llm_options.max_rows = static_cast<size_t>(config.server.max_result_rows);
    llm_options.statement_timeout =
        std::chrono::duration_cast<std::chrono::milliseconds>(config.database.statement_timeout);
    llm_options.llm_duration = &metrics_->llm_request_duration_seconds;
    llm_options.max_concurrent_requests = config.llm.max_concurrent_requests;
    s->answerer = std::make_unique<nl2sql::LlmAnswerer>(*provider_, *s->source, *breaker_,
                                                        std::move(prompt), clock_, llm_options);
  }

  nl2sql::PipelineOptions options;
  switch (n.mode) {
    case config::Nl2SqlMode::kEngine:
      options.mode = nl2sql::Mode::kEngine;
      break;
    case config::Nl2SqlMode::kLlm:
      options.mode = nl2sql::Mode::kLlm;
      break;
    case config::Nl2SqlMode::kAuto:
      options.mode = nl2sql::Mode::kAuto;
      break;
  }
  options.database_name = s->name;
  options.examples = examples_.get();
  options.learned_examples_path = n.learned_examples_file;
  options.max_rows = static_cast<size_t>(config.server.max_result_rows);
  options.statement_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(config.database.statement_timeout);
  options.confidence_threshold = config.nl2sql.confidence_threshold;
  const config::SecurityConfig& security = config.production.security;
  options.screen_questions = security.enabled && security.sql_injection_detection;
  options.strip_sql_comments = security.enabled && security.output_sanitization;
  options.max_context_bytes = static_cast<size_t>(security.max_context_size);
  options.db_query_duration = &metrics_->db_query_duration_seconds;
  options.cache = answer_cache_.get();
  s->pipeline = std::make_unique<nl2sql::Pipeline>(*s->source, std::move(engine_for_build_),
                                                   *sessions_, clock_, options, s->answerer.get());
  sources_.push_back(std::move(s));
  return {};
}

Result<std::vector<SchemaRefresh>> Application::RefreshSchemas(const std::string& database) {
  std::vector<SchemaRefresh> out;
  bool found = false;
  for (auto& s : sources_) {
    if (!database.empty() && s->name != database) continue;
    found = true;
    std::lock_guard refresh(s->refresh_mu);
    SchemaRefresh r;
    r.database = s->name;
    auto catalog = s->source->Introspect();
    if (!catalog) {
      r.error = catalog.error().message;
      logger_.Warn("schema refresh failed", {{"database", s->name}, {"error", r.error}});
      out.push_back(std::move(r));
      continue;
    }
    r.tables = (*catalog)->tables.size();
    uint64_t current = 0;
    {
      std::lock_guard lock(s->schema->mu);
      current = s->schema->version;
    }
    if ((*catalog)->version != current) {
      if (auto loaded = LoadSchema(*s, *catalog, false); !loaded) {
        r.error = loaded.error().message;
        logger_.Warn("schema refresh failed", {{"database", s->name}, {"error", r.error}});
        out.push_back(std::move(r));
        continue;
      }
      r.changed = true;
      logger_.Info("schema changed and was reloaded",
                   {{"database", s->name}, {"tables", static_cast<int64_t>(r.tables)}});
    }
    out.push_back(std::move(r));
  }
  if (!found) {
    std::vector<std::string> names;
    for (const auto& s : sources_) names.push_back("'" + s->name + "'");
    return Fail(ErrorCode::kNotFound, fmt::format("Unknown database '{}'; this server has {}.",
                                                  database, text::Join(names, ", ")));
  }
  return out;
}

std::function<void(bool, const Error*)> Application::SwitchLogger(std::string component) {
  return [this, component = std::move(component)](bool shared_ok, const Error* error) {
    if (shared_ok) {
      logger_.Info("Redis is reachable again: shared state in use",
                   {{"component", component}, {"redis", redis_->DisplayName()}});
    } else {
      logger_.Warn("Redis is unreachable: answering with this instance's own state",
                   {{"component", component},
                    {"redis", redis_->DisplayName()},
                    {"error", error != nullptr ? error->message : std::string()}});
    }
  };
}

Result<void> Application::BuildSharedState(const config::Config& config) {
  conversation::MemoryStoreOptions store;
  store.timeout = config.session.session_timeout;
  store.max_sessions = static_cast<size_t>(config.session.max_concurrent_sessions);
  local_sessions_ = std::make_unique<conversation::MemorySessionStore>(clock_, store);
  sessions_ = local_sessions_.get();
  local_limiter_ = std::make_unique<ratelimit::MemoryRateLimiter>(clock_);
  limiter_ = local_limiter_.get();
  cache::StoreOptions cache_options;
  cache_options.max_size = static_cast<size_t>(config.cache.max_size);
  cache_options.ttl = config.cache.ttl;
  if (config.cache.enabled)
    local_cache_ = std::make_unique<cache::MemoryCacheStore>(clock_, cache_options);

  if (!config.redis_url.empty()) {
    redis::ClientOptions options;
    options.pool_size = static_cast<size_t>(std::max(4, config.server.workers + 4));
    options.clock = &clock_;
    auto client = redis::Client::Create(config.redis_url, options);
    if (!client) return std::unexpected(client.error());
    redis_ = std::move(*client);
    if (auto ping = redis_->Ping(); !ping) {
      logger_.Warn(
          "Redis is unreachable at start-up: answering with this instance's own sessions, cache "
          "and rate limits until it answers",
          {{"redis", redis_->DisplayName()}, {"error", ping.error().message}});
    } else {
      logger_.Info("shared state in Redis", {{"redis", redis_->DisplayName()}});
    }
    shared_sessions_ = std::make_unique<conversation::RedisSessionStore>(*redis_, clock_, store);
    failover_sessions_ = std::make_unique<conversation::FailoverSessionStore>(
        *shared_sessions_, *local_sessions_, SwitchLogger("sessions"));
    sessions_ = failover_sessions_.get();
    shared_limiter_ = std::make_unique<ratelimit::RedisRateLimiter>(*redis_, clock_);
    failover_limiter_ = std::make_unique<ratelimit::FailoverRateLimiter>(
        *shared_limiter_, *local_limiter_, SwitchLogger("rate_limits"));
    limiter_ = failover_limiter_.get();
    if (config.cache.enabled) {
      shared_cache_ = std::make_unique<cache::RedisCacheStore>(*redis_, cache_options);
      failover_cache_ = std::make_unique<cache::FailoverCacheStore>(*shared_cache_, *local_cache_,
                                                                    SwitchLogger("cache"));
    }
  }

  if (config.cache.enabled) {
    if (config.cache.embedder == "builtin") {
      embedder_ = std::make_unique<cache::HashingEmbedder>();
    } else {
      if (!transport_) transport_ = MakeTransport(config);
      llm::EmbeddingOptions embedding;
      embedding.provider = config.cache.embedder;
      embedding.model = config.cache.embedding_model;
      embedding.base_url = config.cache.embedding_base_url;
      embedding.api_key = config.cache.embedding_api_key.Reveal();
      auto made = llm::MakeEmbedder(embedding, *transport_);
      if (!made) return std::unexpected(made.error());
      embedder_ = std::move(*made);
    }
    cache::CacheStore& store = failover_cache_ ? *failover_cache_ : *local_cache_;
    answer_cache_ = std::make_unique<nl2sql::AnswerCache>(store, *embedder_, clock_,
                                                          config.cache.similarity_threshold);
    logger_.Info("semantic cache on", {{"embedder", embedder_->name()},
                                       {"store", redis_ ? "redis" : "memory"},
                                       {"max_size", config.cache.max_size}});
  }
  return {};
}

std::optional<nl2sql::DependencyHealth> Application::SharedStateHealth() {
  if (!redis_) return std::nullopt;
  nl2sql::DependencyHealth health;
  health.name = "redis";
  const auto start = clock_.Steady();
  auto ping = redis_->Ping();
  health.latency_ms = std::chrono::duration<double, std::milli>(clock_.Steady() - start).count();
  health.ok = ping.has_value();
  health.required = false;
  health.detail = health.ok ? redis_->DisplayName() + ": sessions, cache and rate limits shared"
                            : redis_->DisplayName() +
                                  " unreachable: this instance answers with its own sessions, "
                                  "cache and rate limits until Redis returns";
  return health;
}

nl2sql::QueryService& Application::service() { return *router_; }

std::string SchemaRefreshJson(const std::vector<SchemaRefresh>& refreshed) {
  nlohmann::ordered_json databases = nlohmann::ordered_json::array();
  for (const SchemaRefresh& r : refreshed) {
    nlohmann::ordered_json entry;
    entry["database"] = r.database;
    entry["status"] = !r.error.empty() ? "failed" : r.changed ? "changed" : "unchanged";
    if (r.error.empty()) entry["tables"] = r.tables;
    if (!r.error.empty()) entry["error"] = r.error;
    databases.push_back(std::move(entry));
  }
  return nlohmann::ordered_json{{"databases", std::move(databases)}}.dump();
}

Result<size_t> Application::FlushCache(const std::string& tenant) {
  if (!answer_cache_) {
    return Fail(ErrorCode::kNotFound, "the answer cache is off ([cache] enabled = false)");
  }
  cache::CacheStore& store = failover_cache_ ? *failover_cache_ : *local_cache_;
  return store.Flush(tenant);
}

ReloadPlan PlanReload(const config::Config& running, const config::Config& next,
                      const std::vector<std::string>& command_line) {
  constexpr std::string_view kRateLimits = "production.rate_limiting.";
  constexpr std::string_view kLogLevel = "logging.level";
  ReloadPlan plan;
  for (std::string& name : config::ChangedSettings(running, next)) {
    if (std::find(command_line.begin(), command_line.end(), name) != command_line.end()) {
      plan.command_line.push_back(std::move(name));
    } else if (name.starts_with(kRateLimits) || name == kLogLevel) {
      plan.applied.push_back(std::move(name));
    } else {
      plan.needs_restart.push_back(std::move(name));
    }
  }
  return plan;
}

namespace {

server::RateLimits RateLimitsOf(const config::RateLimitConfig& rl) {
  server::RateLimits limits;
  limits.enabled = rl.enabled;
  limits.default_policy = ratelimit::BucketPolicy{
      static_cast<double>(rl.burst_allowance), rl.token_bucket_refill_rate, rl.queries_per_minute};
  for (const config::TenantRateLimit& t : rl.tenants) {
    limits.tenants.emplace_back(
        t.tenant, ratelimit::BucketPolicy{static_cast<double>(t.burst_allowance),
                                          t.token_bucket_refill_rate, t.queries_per_minute});
  }
  return limits;
}

std::string ListOrNone(const std::vector<std::string>& names) {
  return names.empty() ? std::string("(none)") : text::Join(names, ", ");
}

// SIGHUP: reads the configuration file again and applies what can change while serving.
// Called from the signal thread only.
class Reloader {
 public:
  Reloader(const config::Config& config, observability::Logger& logger, server::HttpServer& server,
           auth::UserDirectory* users)
      : running_(config), logger_(logger), server_(server), users_(users) {
    // The settings the command line gave are those where the running configuration differs
    // from the file's own.
    if (!config.source_file.empty()) {
      auto file = config::LoadConfigFile(config.source_file, config::ProcessEnvironment());
      if (file) command_line_ = config::ChangedSettings(*file, config);
    }
  }

  void Reload() {
    if (running_.source_file.empty()) {
      const std::string users = ReloadUsers();
      logger_.Info("configuration reloaded",
                   {{"file", "(none: started without a configuration file)"},
                    {"reloaded", users_ ? "users file" : "nothing"},
                    {"users", users}});
      return;
    }
    auto next = config::LoadConfigFile(running_.source_file, config::ProcessEnvironment());
    if (!next) {
      logger_.Error("configuration reload failed: nothing was changed",
                    {{"file", running_.source_file}, {"error", next.error().message}});
      return;
    }
    const ReloadPlan plan = PlanReload(running_, *next, command_line_);
    // Rate limits apply from the next question (HttpServer::SetRateLimits says how buckets
    // carry over).
    running_.production.rate_limiting = next->production.rate_limiting;
    server_.SetRateLimits(RateLimitsOf(running_.production.rate_limiting));
    const std::string users = ReloadUsers();
    const bool users_failed = users.starts_with("failed");
    std::vector<observability::LogField> fields = {
        {"file", running_.source_file},
        {"reloaded", users_ ? "log level, rate limits, users file" : "log level, rate limits"},
        {"changed", ListOrNone(plan.applied)},
        {"needs_restart", ListOrNone(plan.needs_restart)},
        {"users", users}};
    if (!plan.command_line.empty()) {
      fields.emplace_back("kept_from_command_line", text::Join(plan.command_line, ", "));
    }
    const observability::LogLevel line_level = users_failed || !plan.needs_restart.empty()
                                                   ? observability::LogLevel::kWarn
                                                   : observability::LogLevel::kInfo;
    // A new log level is set after this line when the old level shows it, before it otherwise:
    // the line appears if either level admits it.
    const bool level_changed =
        std::find(plan.applied.begin(), plan.applied.end(), "logging.level") != plan.applied.end();
    const bool old_level_shows_line = logger_.Enabled(line_level);
    if (level_changed) running_.logging.level = next->logging.level;
    if (level_changed && !old_level_shows_line) {
      logger_.SetLevel(ToLogLevel(running_.logging.level));
    }
    logger_.Log(line_level, "configuration reloaded", fields);
    if (level_changed && old_level_shows_line) {
      logger_.SetLevel(ToLogLevel(running_.logging.level));
    }
  }

 private:
  std::string ReloadUsers() {
    if (users_ == nullptr) return "(authentication is off)";
    auto loaded = users_->Reload();
    if (!loaded) {
      return "failed, the previous users stay in force: " + loaded.error().message;
    }
    return fmt::format("{} users", *loaded);
  }

  config::Config running_;  // as applied: the command line's settings and what reloads changed
  std::vector<std::string> command_line_;
  observability::Logger& logger_;
  server::HttpServer& server_;
  auth::UserDirectory* users_;
};

// Caps glibc's malloc arenas at the CPUs this process may run on (at least 2), unless the
// operator chose a number (MALLOC_ARENA_MAX, or glibc.malloc.arena_max in GLIBC_TUNABLES).
// glibc's default, 8 per core, gives a server whose requests move between many threads an
// arena per thread: each keeps its own free memory, and the resident size crept up by ~2-3 MiB
// a minute under a steady load for as long as we measured (docs/reliability.md, "Soak"). With
// one arena per core it levels off, and answers were no slower (bench/suite.sh engine).
// Returns the cap set, or 0 when left to the operator's setting.
int LimitMallocArenas() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (std::getenv("MALLOC_ARENA_MAX") != nullptr ||
      (tunables != nullptr &&
       std::string_view(tunables).find("arena_max") != std::string_view::npos)) {
    return 0;
  }
  int cpus = 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) cpus = CPU_COUNT(&set);
  if (cpus <= 0) cpus = static_cast<int>(std::thread::hardware_concurrency());
  const int arenas = std::max(2, cpus);
  return mallopt(M_ARENA_MAX, arenas) == 1 ? arenas : 0;
}

}  // namespace

int Serve(const config::Config& config, const Clock& clock, observability::Logger& logger) {
  // Before any thread starts, so that no thread has picked an arena of its own yet.
  if (const int arenas = LimitMallocArenas(); arenas > 0) {
    logger.Info("malloc arenas limited", {{"arenas", arenas}});
  }
  // Signals are taken by one thread with sigwait, so no handler runs inside the server. They
  // are blocked before any thread starts, so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto app = Application::Build(config, clock, logger);
  if (!app) {
    logger.Error("start-up failed", {{"error", app.error().message}});
    fmt::print(stderr, "error: {}\n", app.error().message);
    return 1;
  }
  // Authentication: on unless switched off for a loopback demo (config validation refuses
  // that anywhere else).
  std::unique_ptr<auth::UserDirectory> users;
  std::unique_ptr<auth::TokenService> tokens;
  std::unique_ptr<auth::Authenticator> authenticator;
  ratelimit::RateLimiter& limiter = (*app)->limiter();
  if (config.auth.enabled) {
    auto fail = [&logger](const std::string& message) {
      logger.Error("start-up failed", {{"error", message}});
      fmt::print(stderr, "error: {}\n", message);
      return 1;
    };
    if (config.jwt_secret.empty()) {
      return fail(
          "authentication is on and JWT_SECRET is not set. Set JWT_SECRET to a random secret of "
          "at least 32 bytes (e.g. `export JWT_SECRET=$(openssl rand -base64 48)`), or for a "
          "local demo on 127.0.0.1 set [auth] enabled = false.");
    }
    auto token_service = auth::TokenService::Create(
        config.jwt_secret.Reveal(), config.auth.issuer,
        std::chrono::duration_cast<std::chrono::seconds>(config.auth.token_ttl), clock);
    if (!token_service) return fail(token_service.error().message);
    tokens = std::make_unique<auth::TokenService>(std::move(*token_service));
    auth::UserDirectoryOptions directory_options;
    directory_options.on_reload_error = [&logger](const Error& error) {
      logger.Error("the users file changed but cannot be loaded; the previous users stay in force",
                   {{"error", error.message}});
    };
    auto directory =
        auth::UserDirectory::Open(config.auth.users_file, clock, std::move(directory_options));
    if (!directory) {
      return fail(
          fmt::format("{} (add the first user with `heliosdb-conversational-bi user add "
                      "NAME --tenant TENANT`)",
                      directory.error().message));
    }
    users = std::move(*directory);
    auth::LoginLimits limits;
    limits.per_user_per_minute = config.auth.login_failures_per_user_per_minute;
    limits.per_address_per_minute = config.auth.login_failures_per_address_per_minute;
    auto created = auth::Authenticator::Create(*users, *tokens, limiter, limits);
    if (!created) return fail(created.error().message);
    authenticator = std::move(*created);
  } else {
    logger.Warn(
        "authentication is OFF: every caller is the tenant \"default\"; this is allowed "
        "only on a loopback address",
        {{"host", config.server.host}});
  }

  server::ServerGuards guards;
  guards.authenticator = authenticator.get();
  guards.metrics = &(*app)->metrics();
  if ((*app)->provider() != nullptr) guards.breaker = &(*app)->breaker();
  guards.extra_health = [&app]() {
    std::vector<nl2sql::DependencyHealth> extra;
    if (auto redis = (*app)->SharedStateHealth()) extra.push_back(std::move(*redis));
    return extra;
  };
  guards.breaker_required =
      (*app)->provider() != nullptr && config.nl2sql.mode == config::Nl2SqlMode::kLlm;
  guards.refresh_schema = [&app](const std::string& database) -> Result<std::string> {
    auto refreshed = (*app)->RefreshSchemas(database);
    if (!refreshed) return std::unexpected(refreshed.error());
    return SchemaRefreshJson(*refreshed);
  };
  if ((*app)->cache_enabled()) {
    guards.flush_cache = [&app](const std::string& tenant) { return (*app)->FlushCache(tenant); };
  }
  guards.list_sessions = [&app](const std::string& tenant,
                                size_t limit) -> Result<std::vector<server::AdminSession>> {
    auto sessions = (*app)->sessions().ListAll(tenant, limit);
    if (!sessions) return std::unexpected(sessions.error());
    std::vector<server::AdminSession> out;
    out.reserve(sessions->size());
    for (const conversation::SessionInfo& s : *sessions) {
      out.push_back(server::AdminSession{s.id, s.tenant_id, s.owner, s.turn_count, s.created_at_ms,
                                         s.updated_at_ms, s.expires_at_ms});
    }
    return out;
  };
  guards.end_session = [&app](const std::string& tenant, const std::string& id) {
    return (*app)->sessions().RemoveAny(tenant, id);
  };
  // The limiter is always there, so that a reload can switch rate limiting on.
  guards.limiter = &limiter;
  guards.rate_limits = RateLimitsOf(config.production.rate_limiting);

  server::ServerOptions options;
  options.host = config.server.host;
  options.port = config.server.port;
  options.workers = config.server.workers;
  options.max_connections = config.server.max_connections;
  options.max_queued_connections = config.server.max_queued_connections;
  options.max_queue_wait = options.read_timeout;
  options.max_request_body_bytes = static_cast<size_t>(config.server.max_request_body_bytes);
  options.max_query_length = static_cast<size_t>(config.production.security.max_query_length);
  options.version = VersionString();
  options.cors_allowed_origins = config.server.cors_allowed_origins;
  options.slow_query_threshold = config.production.performance.slow_query_threshold;
  if (config.server.web_chat) {
    // A web_root that was asked for must be there; the default one may be missing (a build
    // without the web chat), and then only the API is served.
    const bool configured = !config.server.web_root.empty();
    const std::filesystem::path root =
        configured ? std::filesystem::path(config.server.web_root) : server::DefaultWebRoot();
    if (root.empty()) {
      logger.Warn("the web chat's files are not installed; serving the API only",
                  {{"hint", "build with the web chat or set [server] web_root"}});
    } else if (auto assets = server::StaticAssets::Load(root); assets) {
      logger.Info("serving the web chat", {{"web_root", root.string()},
                                           {"files", (*assets)->file_count()},
                                           {"bytes", (*assets)->total_bytes()},
                                           {"precompressed", (*assets)->precompressed_count()}});
      options.web_assets = std::move(*assets);
    } else if (configured) {
      logger.Error("start-up failed", {{"error", assets.error().message}});
      fmt::print(stderr, "error: [server] web_root: {}\n", assets.error().message);
      return 1;
    } else {
      logger.Warn("the web chat's files could not be loaded; serving the API only",
                  {{"error", assets.error().message}});
    }
  }
  server::HttpServer server((*app)->service(), logger, clock, options, guards);
  auto port = server.Bind();
  if (!port) {
    logger.Error("start-up failed", {{"error", port.error().message}});
    fmt::print(stderr, "error: {}\n", port.error().message);
    return 1;
  }
  std::unique_ptr<server::MetricsServer> metrics_server;
  if (config.metrics.enabled) {
    metrics_server = std::make_unique<server::MetricsServer>(
        (*app)->registry(), logger,
        config.metrics.host.empty() ? config.server.host : config.metrics.host,
        config.metrics.prometheus_port);
    auto metrics_port = metrics_server->Bind();
    if (!metrics_port) {
      logger.Error("start-up failed", {{"error", metrics_port.error().message}});
      fmt::print(stderr, "error: {}\n", metrics_port.error().message);
      return 1;
    }
  }
  std::thread metrics_thread;
  if (metrics_server) metrics_thread = std::thread([&] { metrics_server->Run(); });

  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  // Housekeeping: expired sessions are swept every cleanup_interval; the active-sessions gauge
  // is refreshed every few seconds.
  std::thread sweeper([&] {
    constexpr auto kGaugeInterval = std::chrono::seconds(5);
    auto next_sweep = clock.Steady() + config.session.cleanup_interval;
    const auto refresh_every = config.database.schema_refresh_interval;
    auto next_refresh = clock.Steady() + refresh_every;
    std::unique_lock lock(mu);
    do {
      if (refresh_every.count() > 0 && clock.Steady() >= next_refresh) {
        lock.unlock();
        (void)(*app)->RefreshSchemas();  // failures are logged; the old schema stays
        lock.lock();
        next_refresh = clock.Steady() + refresh_every;
      }
      if (clock.Steady() >= next_sweep) {
        size_t dropped = (*app)->sessions().Sweep();
        if (dropped)
          logger.Debug("expired sessions removed", {{"count", static_cast<int64_t>(dropped)}});
        next_sweep = clock.Steady() + config.session.cleanup_interval;
      }
      (*app)->metrics().active_sessions.Set(
          {}, static_cast<double>((*app)->sessions().ActiveSessions()));
    } while (!cv.wait_for(lock, kGaugeInterval, [&] { return stopping; }));
  });

  Reloader reloader(config, logger, server, users.get());
  // Guarded by mu: Run() has returned; the signal that stopped the server (0: none yet).
  bool run_returned = false;
  int stop_signal = 0;
  std::chrono::steady_clock::time_point stop_started;
  server::ServerStats at_signal;
  std::thread waiter([&] {
    for (;;) {
      int sig = 0;
      sigwait(&signals, &sig);
      {
        std::lock_guard lock(mu);
        if (run_returned) return;  // woken by the main thread: serving has ended
      }
      if (sig == SIGHUP) {
        reloader.Reload();
        continue;
      }
      const server::ServerStats stats = server.Stats();
      {
        std::lock_guard lock(mu);
        stop_signal = sig;
        stop_started = clock.Steady();
        at_signal = stats;
      }
      logger.Info("shutting down: no new connections; finishing the requests received",
                  {{"signal", static_cast<int64_t>(sig)},
                   {"requests_in_flight", stats.requests_in_flight},
                   {"connections_waiting", stats.connections_waiting},
                   {"timeout_secs", static_cast<int64_t>(config.server.shutdown_timeout.count())}});
      server.Stop();
      std::unique_lock lock(mu);
      if (cv.wait_for(lock, config.server.shutdown_timeout, [&] { return run_returned; })) return;
      // Past the bound: whatever still runs is cut off by ending the process here (the main
      // thread is inside Run(), waiting for those requests).
      const server::ServerStats left = server.Stats();
      const size_t cut_off = left.requests_in_flight + left.connections_waiting;
      const int code = cut_off > 0 ? 1 : 0;
      if (cut_off > 0) {
        logger.Error(
            "shutdown timed out: requests cut off",
            {{"requests_cut_off", left.requests_in_flight},
             {"connections_cut_off", left.connections_waiting},
             {"timeout_secs", static_cast<int64_t>(config.server.shutdown_timeout.count())}});
      }
      logger.Info("stopped", {{"signal", static_cast<int64_t>(sig)},
                              {"requests_served", left.requests_served},
                              {"requests_in_flight_at_signal", at_signal.requests_in_flight},
                              {"connections_waiting_at_signal", at_signal.connections_waiting},
                              {"requests_cut_off", cut_off},
                              {"exit_code", code}});
      std::fflush(nullptr);
      std::_Exit(code);
    }
  });
  server.Run();
  int stopped_by = 0;
  std::chrono::steady_clock::time_point drain_started;
  {
    std::lock_guard lock(mu);
    run_returned = true;
    stopping = true;
    stopped_by = stop_signal;
    drain_started = stop_started;
  }
  cv.notify_all();
  if (metrics_server) {
    metrics_server->Stop();
    metrics_thread.join();
  }
  sweeper.join();
  // Serving ended without a signal: wake the waiter so it can exit.
  if (stopped_by == 0) pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  const server::ServerStats done = server.Stats();
  if (stopped_by == 0) {
    logger.Error("stopped: the server stopped serving without a signal",
                 {{"requests_served", done.requests_served}, {"exit_code", 1}});
    return 1;
  }
  logger.Info("stopped",
              {{"signal", static_cast<int64_t>(stopped_by)},
               {"requests_served", done.requests_served},
               {"requests_in_flight_at_signal", at_signal.requests_in_flight},
               {"connections_waiting_at_signal", at_signal.connections_waiting},
               {"requests_cut_off", 0},
               {"drain_ms",
                std::chrono::duration<double, std::milli>(clock.Steady() - drain_started).count()},
               {"exit_code", 0}});
  return 0;
}

}  // namespace helios::app
