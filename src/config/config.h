// The server's typed configuration: defaults, loading from a TOML file, environment overrides
// and validation. Precedence, lowest first: built-in defaults, the file, the environment, then
// command-line flags, which the caller assigns to the plain fields before calling Validate()
// again.
//
// Every problem stops start-up with ErrorCode::kInvalidArgument (kNotFound for a missing file)
// and a message naming where the value came from ("conversational-bi.toml:12: [server] port:
// must be 0..65535, got 70000", or the environment variable's name). All problems found are
// reported at once, one per line.
//
// Secrets (the LLM API key, the JWT secret) are held in Secret, which cannot be formatted;
// RedactedSummary() also hides passwords inside database and Redis URLs.
//
// Thread-safety: Config is a plain value; share a loaded one as std::shared_ptr<const Config>.
// The functions are reentrant. ProcessEnvironment() reads the process environment, which must
// not be modified concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/text.h"

namespace helios::config {

// A value that must never be printed. It deliberately has no formatter or stream operator:
// Reveal() it only where it is used.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  bool empty() const { return value_.empty(); }
  size_t size() const { return value_.size(); }
  const std::string& Reveal() const { return value_; }

 private:
  std::string value_;
};

// The machine's hardware concurrency, at least 1: the default for [server] workers.
int DefaultWorkerCount();

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 binds any free port
  int workers = DefaultWorkerCount();
  // The most threads serving connections at once (workers..65536): while every thread is busy
  // (a slow question holds one), each new connection starts another, up to this many.
  int max_connections = 1024;
  // Connections that may wait for a thread once all max_connections are busy (0..65536);
  // beyond them a connection is answered 503 with Retry-After at once.
  int max_queued_connections = 256;
  int64_t max_result_rows = 1000;  // rows beyond are dropped and the answer flagged truncated
  int64_t max_request_body_bytes = 1 << 20;
  std::chrono::seconds request_timeout{30};
  // From CORS_ALLOWED_ORIGINS only: exact origins ("https://bi.example.com"); empty allows no
  // cross-origin caller.
  std::vector<std::string> cors_allowed_origins;
  // The web chat at `/`: served when true, from web_root (empty: the files installed with the
  // binary, <prefix>/share/heliosdb-conversational-bi/web, or its build tree's web/).
  bool web_chat = true;
  std::string web_root;
  // On SIGTERM or SIGINT: how long requests already received may take to finish after the
  // server stops accepting connections. Past it the process exits non-zero, cutting them off.
  std::chrono::seconds shutdown_timeout{30};
};

enum class LlmProvider { kNone, kOpenAi, kAnthropic, kCohere, kOllama, kOpenAiCompatible };

struct LlmConfig {
  LlmProvider provider = LlmProvider::kNone;
  std::string model = "gpt-4";
  // Name of the environment variable holding the API key; empty reads none.
  std::string api_key_env = "OPENAI_API_KEY";
  // Read from the variable named by api_key_env; may be empty (whoever builds a provider that
  // needs a key reports its absence).
  Secret api_key;
  std::chrono::seconds timeout{30};
  int max_retries = 3;
  int max_tokens = 500;
  double temperature = 0.1;  // 0..2
  std::string base_url;      // empty: the provider's default; required for kOpenAiCompatible
  // Questions being answered by the model at once (1..65536); beyond, a question that needs
  // the model is answered 503 at once rather than queued behind the others.
  int max_concurrent_requests = 256;
};

// Who writes the SQL: the built-in engine only, the LLM only, or the engine when it is at least
// confidence_threshold sure and the LLM otherwise.
enum class Nl2SqlMode { kEngine, kLlm, kAuto };

struct Nl2SqlConfig {
  Nl2SqlMode mode = Nl2SqlMode::kAuto;
  double confidence_threshold = 0.6;  // 0..1
  // Question -> SQL examples for the language model's prompts (JSON Lines); empty: none.
  std::string examples_file;
  // Where answers users mark correct are kept as examples; empty: kept in memory only.
  std::string learned_examples_file;
  // [nl2sql.descriptions]: business meaning of a table ("customers") or a column
  // ("orders.status"), shown to the language model.
  std::map<std::string, std::string> descriptions;
};

// [production] spells most settings twice: flat keys (rate_limit_qpm) and nested tables
// ([production.rate_limiting] queries_per_minute). Both spellings load into these structs;
// giving both with different values is an error.
// One tenant's own limits ([production.rate_limiting.tenants.<tenant>]); keys it does not give
// take the global values.
struct TenantRateLimit {
  std::string tenant;
  int queries_per_minute = 100;
  int burst_allowance = 20;
  double token_bucket_refill_rate = 100.0 / 60.0;
};

struct RateLimitConfig {
  bool enabled = true;
  int queries_per_minute = 100;  // per tenant
  int burst_allowance = 20;      // the bucket's capacity
  // Tokens per second. When the file does not give it: queries_per_minute / 60.
  double token_bucket_refill_rate = 100.0 / 60.0;
  std::vector<TenantRateLimit> tenants;  // sorted by tenant
};

struct SecurityConfig {
  bool enabled = true;
  int64_t max_query_length = 10000;      // bytes of one question
  int64_t max_context_size = 1'000'000;  // bytes of conversation context
  bool sql_injection_detection = true;
  bool input_sanitization = true;
  bool output_sanitization = true;
};

struct PerformanceConfig {
  bool enable_monitoring = true;
  std::chrono::milliseconds target_latency{200};
  std::chrono::milliseconds max_latency{500};  // >= target_latency
  std::chrono::milliseconds slow_query_threshold{300};
};

struct CircuitBreakerConfig {
  bool enabled = true;
  int failure_threshold = 5;  // consecutive failures that open the breaker
  std::chrono::seconds reset_timeout{60};
  int half_open_max_calls = 3;
};

struct ProductionConfig {
  RateLimitConfig rate_limiting;
  SecurityConfig security;
  PerformanceConfig performance;
  CircuitBreakerConfig circuit_breaker;
};

struct CacheConfig {
  bool enabled = true;
  int64_t max_size = 10000;            // entries
  double similarity_threshold = 0.85;  // 0..1
  std::chrono::seconds ttl{3600};
  // What embeds question templates: "builtin" (hashed n-grams, no model), or a model's
  // embedding endpoint: "openai", "openai-compatible", "cohere", "ollama".
  std::string embedder = "builtin";
  std::string embedding_model;                           // required for a model embedder
  std::string embedding_base_url;                        // empty: the provider's default
  std::string embedding_api_key_env = "OPENAI_API_KEY";  // not read for builtin or ollama
  Secret embedding_api_key;                              // from embedding_api_key_env
};

struct SessionConfig {
  int64_t max_concurrent_sessions = 10000;
  std::chrono::minutes session_timeout{30};
  std::chrono::minutes cleanup_interval{5};
};

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError };
enum class LogFormat { kJson, kText };

struct LoggingConfig {
  LogLevel level = LogLevel::kInfo;
  LogFormat format = LogFormat::kJson;
  std::string output = "stdout";  // "stdout", "stderr" or a file path
};

struct MetricsConfig {
  bool enabled = true;
  // Address of the metrics listener; empty: the same as [server] host.
  std::string host;
  int prometheus_port = 9090;  // must differ from [server] port when both are non-zero
};

struct DatabaseConfig {
  // "sqlite://demo.db", "postgres://user:password@host/db", "mysql://..."; empty: not configured.
  std::string url;
  int pool_size = 8;
  int max_idle_connections = 8;  // <= pool_size; when the file omits it: pool_size
  std::chrono::seconds connection_timeout{30};
  std::chrono::seconds statement_timeout{10};
  // PostgreSQL schemas whose tables are queried, in search order (the connection's
  // search_path); empty: the role's default.
  std::vector<std::string> schemas;
  // How often each data source's schema is read again (new tables, columns, comments);
  // 0: only at start-up and on POST /api/v1/admin/schema/refresh.
  std::chrono::seconds schema_refresh_interval{0};
};

// [databases.NAME]: a further data source, chosen per request by the API's "database" field.
// Pool and timeout settings come from [database].
struct NamedDatabaseConfig {
  std::string name;  // letters, digits, '_' and '-'
  std::string url;
  std::vector<std::string> schemas;
};

// [auth]: who may call the API. Tokens are signed with JWT_SECRET (HS256).
struct AuthConfig {
  // Off is allowed only when [server] host is a loopback address (a local demo).
  bool enabled = true;
  // The users file (JSON, managed by `heliosdb-conversational-bi user ...`); a relative path
  // is relative to the working directory.
  std::string users_file = "users.json";
  std::chrono::minutes token_ttl{60};
  std::string issuer = "heliosdb-conversational-bi";
  // Failed logins allowed per minute, per user name and per client address (token buckets of
  // this capacity refilling at this rate).
  int login_failures_per_user_per_minute = 5;
  int login_failures_per_address_per_minute = 20;
};

struct Config {
  ServerConfig server;
  AuthConfig auth;
  LlmConfig llm;
  Nl2SqlConfig nl2sql;
  ProductionConfig production;
  CacheConfig cache;
  SessionConfig session;
  LoggingConfig logging;
  MetricsConfig metrics;
  DatabaseConfig database;
  std::vector<NamedDatabaseConfig> databases;  // in the order the file lists them
  std::string redis_url;                       // REDIS_URL; empty: everything stays in-process
  Secret jwt_secret;                           // JWT_SECRET; when set, at least 32 bytes
  // The file it was read from (absolute), so that a running server can read it again (SIGHUP);
  // empty when built from the defaults and the environment only.
  std::string source_file;
};

// The data sources to open, the default first: [database] url (or DATABASE_URL) named
// "default" when set, then each [databases.NAME] in file order.
std::vector<NamedDatabaseConfig> DataSources(const Config& config);

// Looks up an environment variable; nullopt when unset. Empty values count as unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// The process environment (std::getenv).
EnvLookup ProcessEnvironment();

// Reads the TOML file at path, then applies the environment and validates.
// kNotFound when the file does not exist; kInvalidArgument for anything else wrong.
Result<Config> LoadConfigFile(const std::string& path, const EnvLookup& env);

// Like LoadConfigFile, with the TOML text given; source_name stands for the file in messages.
Result<Config> ParseConfig(std::string_view toml_text, std::string_view source_name,
                           const EnvLookup& env);

// The built-in defaults with the environment applied, validated.
Result<Config> DefaultConfig(const EnvLookup& env);

// Checks ranges and cross-field rules (max_idle_connections <= pool_size, a base_url for an
// openai-compatible provider, ...). Run again after assigning command-line overrides.
Result<void> Validate(const Config& config);

// The settings that differ between two configurations, by their dotted file names in file
// order ("server.port", "logging.level", "production.rate_limiting.queries_per_minute", a
// tenant's override as "production.rate_limiting.tenants.<tenant>", a named source as
// "databases.<name>", "redis_url", "jwt_secret"). Secrets are compared, never shown.
// source_file is not a setting and is not compared.
std::vector<std::string> ChangedSettings(const Config& before, const Config& after);

// Human-readable, TOML-like dump for `config check`. Secrets appear as "(set)" or "(not set)";
// URL passwords as "***".
std::string RedactedSummary(const Config& config);

// RedactUrl: see common/text.h.
using text::RedactUrl;

// True for "localhost", 127.0.0.0/8 and ::1: an address no other machine can reach.
bool IsLoopbackHost(std::string_view host);

// The spelling used in the file ("openai-compatible", "auto", "warn", "json").
std::string_view LlmProviderName(LlmProvider provider);
std::string_view Nl2SqlModeName(Nl2SqlMode mode);
std::string_view LogLevelName(LogLevel level);
std::string_view LogFormatName(LogFormat format);

}  // namespace helios::config
