#include "config/config.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <type_traits>
#include <utility>

#include "common/text.h"

namespace helios::config {
namespace {

// ---------------------------------------------------------------------------------------------
// Names of enumerated values, as spelled in the file (matched case-insensitively).

template <typename E>
struct Named {
  std::string_view name;
  E value;
};

constexpr Named<LlmProvider> kProviderNames[] = {
    {"none", LlmProvider::kNone},           {"openai", LlmProvider::kOpenAi},
    {"anthropic", LlmProvider::kAnthropic}, {"cohere", LlmProvider::kCohere},
    {"ollama", LlmProvider::kOllama},       {"openai-compatible", LlmProvider::kOpenAiCompatible},
};
constexpr Named<Nl2SqlMode> kModeNames[] = {
    {"engine", Nl2SqlMode::kEngine}, {"llm", Nl2SqlMode::kLlm}, {"auto", Nl2SqlMode::kAuto}};
constexpr Named<LogLevel> kLevelNames[] = {{"trace", LogLevel::kTrace},
                                           {"debug", LogLevel::kDebug},
                                           {"info", LogLevel::kInfo},
                                           {"warn", LogLevel::kWarn},
                                           {"error", LogLevel::kError}};
constexpr Named<LogFormat> kFormatNames[] = {{"json", LogFormat::kJson},
                                             {"text", LogFormat::kText}};

template <typename E, size_t N>
std::string_view NameOf(const Named<E> (&names)[N], E value) {
  for (const auto& n : names) {
    if (n.value == value) return n.name;
  }
  return "unknown";
}

template <typename E, size_t N>
std::optional<E> ParseName(const Named<E> (&names)[N], std::string_view text) {
  for (const auto& n : names) {
    if (text::EqualsIgnoreCase(n.name, text)) return n.value;
  }
  return std::nullopt;
}

template <typename E, size_t N>
std::string ListNames(const Named<E> (&names)[N]) {
  std::string out;
  for (size_t i = 0; i < N; ++i) {
    if (i) out += i + 1 == N ? " or " : ", ";
    out += fmt::format("\"{}\"", names[i].name);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

// Limits that keep durations far from overflow when converted to nanoseconds.
constexpr int64_t kUnbounded = std::numeric_limits<int64_t>::max();
constexpr int64_t kMaxPort = 65535;
constexpr int64_t kMaxWorkers = 4096;
constexpr int64_t kMaxConnections = 65536;
constexpr int64_t kDaySecs = int64_t{24} * 60 * 60;
constexpr int64_t kHourSecs = int64_t{60} * 60;
constexpr int64_t kYearSecs = 365 * kDaySecs;
constexpr int64_t kYearMinutes = kYearSecs / 60;
constexpr int64_t kHourMs = int64_t{60} * 60 * 1000;
constexpr int64_t kMaxBodyBytes = int64_t{1} << 30;
constexpr int64_t kMaxPoolSize = 1000;
constexpr size_t kMinJwtSecretBytes = 32;

// A string as a double-quoted literal, with control characters escaped.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

bool IsHttpUrl(std::string_view url) {
  std::string lower = text::ToLower(url);
  for (std::string_view scheme : {"http://", "https://"}) {
    if (text::StartsWith(lower, scheme) && lower.size() > scheme.size()) return true;
  }
  return false;
}

// scheme://host[:port] and nothing else: what a browser sends in an Origin header.
bool IsOrigin(std::string_view origin) {
  if (!IsHttpUrl(origin)) return false;
  std::string_view rest = origin.substr(origin.find("://") + 3);
  if (rest.empty() || rest.find_first_of("/?#@ ") != std::string_view::npos) return false;
  return rest.back() != ':';
}

bool IsEnvName(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

bool HasSpace(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; });
}

// Optimal string alignment distance: edits, counting a swap of neighbours as one.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// The known name closest to a misspelt one, when it is close enough to be a likely typo.
std::optional<std::string_view> Nearest(std::string_view name,
                                        std::initializer_list<std::string_view> known) {
  const std::string lower = text::ToLower(name);
  const size_t limit = lower.size() <= 4 ? 1 : lower.size() <= 8 ? 2 : 3;
  std::optional<std::string_view> best;
  size_t best_distance = limit + 1;
  for (std::string_view candidate : known) {
    size_t distance = EditDistance(lower, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

// "server.port" -> "[server] port"; "redis_url" -> "redis_url".
std::string DisplayKey(std::string_view path) {
  size_t dot = path.rfind('.');
  if (dot == std::string_view::npos) return std::string(path);
  return fmt::format("[{}] {}", path.substr(0, dot), path.substr(dot + 1));
}

std::string JoinPath(std::string_view table, std::string_view key) {
  if (table.empty()) return std::string(key);
  return fmt::format("{}.{}", table, key);
}

std::string Join(const std::vector<std::string>& lines) { return text::Join(lines, "\n"); }

// ---------------------------------------------------------------------------------------------
// Where each value came from, so that a problem found after loading still names the file line
// or the environment variable that set it, in the spelling the user wrote.

struct Origin {
  std::string where;    // "conversational-bi.toml:12" or "environment variable DATABASE_URL"
  std::string display;  // "[production] rate_limit_qpm"
};
using Origins = std::map<std::string, Origin, std::less<>>;

// ---------------------------------------------------------------------------------------------
// Validation of a complete Config. Issues name canonical dotted paths built from the file's
// key names ("server.request_timeout_secs").

struct Issue {
  std::string path;
  std::string message;
};

class Checker {
 public:
  void Add(std::string_view path, std::string message) {
    issues_.push_back({std::string(path), std::move(message)});
  }

  void Range(std::string_view path, int64_t value, int64_t min, int64_t max) {
    if (value >= min && value <= max) return;
    std::string rule;
    if (max == kUnbounded) {
      rule = min == 1 ? "must be positive" : fmt::format("must be at least {}", min);
    } else {
      rule = fmt::format("must be {}..{}", min, max);
    }
    Add(path, fmt::format("{}, got {}", rule, value));
  }

  void Between(std::string_view path, double value, double min, double max) {
    if (value >= min && value <= max) return;  // false for NaN
    Add(path, fmt::format("must be {}..{}, got {}", min, max, value));
  }

  std::vector<Issue> Take() { return std::move(issues_); }

 private:
  std::vector<Issue> issues_;
};

// Rejects only what no data source accepts, so that every form the database layer opens
// (including bare paths such as "demo.db" and "sqlite:demo.db") passes; the database layer
// reports anything else it cannot open.
void CheckDatabaseUrl(Checker& k, std::string_view url) {
  if (url.empty()) return;
  // The value itself is never echoed: a malformed URL may still hold a password.
  if (text::Trim(url).empty()) {
    k.Add("database.url", "must not be blank");
    return;
  }
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return;
  std::string scheme = text::ToLower(url.substr(0, sep));
  std::string family = scheme.substr(0, scheme.find('+'));  // "postgresql+psycopg" -> postgresql
  if (family != "sqlite" && family != "postgres" && family != "postgresql" && family != "mysql" &&
      family != "mariadb") {
    k.Add("database.url",
          fmt::format("unsupported scheme {}: use sqlite://, postgres:// or mysql://",
                      Quote(scheme)));
    return;
  }
  if (url.size() == sep + 3) k.Add("database.url", "names no database after the scheme");
}

std::vector<Issue> Check(const Config& c) {
  Checker k;

  const ServerConfig& s = c.server;
  if (text::Trim(s.host).empty()) {
    k.Add("server.host", "must not be empty");
  } else if (HasSpace(s.host)) {
    k.Add("server.host", fmt::format("must be a host name or address, got {}", Quote(s.host)));
  }
  k.Range("server.port", s.port, 0, kMaxPort);
  k.Range("server.workers", s.workers, 1, kMaxWorkers);
  // Against workers only when workers itself is valid (one problem, one message).
  if (s.workers >= 1 && s.workers <= kMaxWorkers && s.max_connections >= 1 &&
      s.max_connections <= kMaxConnections && s.max_connections < s.workers) {
    k.Add("server.max_connections", fmt::format("must be at least [server] workers ({}), got {}",
                                                s.workers, s.max_connections));
  } else {
    k.Range("server.max_connections", s.max_connections, 1, kMaxConnections);
  }
  k.Range("server.max_queued_connections", s.max_queued_connections, 0, kMaxConnections);
  k.Range("server.max_result_rows", s.max_result_rows, 1, kUnbounded);
  k.Range("server.max_request_body_bytes", s.max_request_body_bytes, 1, kMaxBodyBytes);
  k.Range("server.request_timeout_secs", s.request_timeout.count(), 1, kDaySecs);
  k.Range("server.shutdown_timeout_secs", s.shutdown_timeout.count(), 1, kHourSecs);
  for (const std::string& origin : s.cors_allowed_origins) {
    if (origin == "*") {
      k.Add("server.cors_allowed_origins",
            "\"*\" is not accepted: list the exact origins allowed to call the API");
    } else if (!IsOrigin(origin)) {
      k.Add("server.cors_allowed_origins",
            fmt::format("{} is not an origin: use http(s)://host[:port], no path", Quote(origin)));
    }
  }

  const AuthConfig& a = c.auth;
  if (a.enabled && text::Trim(a.users_file).empty()) {
    k.Add("auth.users_file", "must name the users file when authentication is enabled");
  }
  if (!a.enabled && !IsLoopbackHost(s.host)) {
    k.Add("auth.enabled",
          fmt::format("may be false only when [server] host is a loopback address (127.0.0.1, "
                      "::1, localhost), got host {}",
                      Quote(s.host)));
  }
  k.Range("auth.token_ttl_minutes", a.token_ttl.count(), 1, kYearMinutes);
  if (text::Trim(a.issuer).empty()) k.Add("auth.issuer", "must not be empty");
  k.Range("auth.login_failures_per_user_per_minute", a.login_failures_per_user_per_minute, 1,
          kUnbounded);
  k.Range("auth.login_failures_per_address_per_minute", a.login_failures_per_address_per_minute, 1,
          kUnbounded);

  const LlmConfig& l = c.llm;
  if (l.provider != LlmProvider::kNone && text::Trim(l.model).empty()) {
    k.Add("llm.model", "must not be empty when a provider is set");
  }
  if (!l.api_key_env.empty() && !IsEnvName(l.api_key_env)) {
    k.Add("llm.api_key_env",
          fmt::format("must be an environment variable name (letters, digits, '_'), got {}",
                      Quote(l.api_key_env)));
  }
  k.Range("llm.timeout_secs", l.timeout.count(), 1, kDaySecs);
  k.Range("llm.max_retries", l.max_retries, 0, 100);
  k.Range("llm.max_tokens", l.max_tokens, 1, 1'000'000);
  k.Range("llm.max_concurrent_requests", l.max_concurrent_requests, 1, kMaxConnections);
  k.Between("llm.temperature", l.temperature, 0.0, 2.0);
  if (!l.base_url.empty() && !IsHttpUrl(l.base_url)) {
    k.Add("llm.base_url", "must start with http:// or https://");
  }
  if (l.provider == LlmProvider::kOpenAiCompatible && l.base_url.empty()) {
    k.Add("llm.base_url", "is required when provider is \"openai-compatible\"");
  }

  k.Between("nl2sql.confidence_threshold", c.nl2sql.confidence_threshold, 0.0, 1.0);
  if (c.nl2sql.mode == Nl2SqlMode::kLlm && l.provider == LlmProvider::kNone) {
    k.Add("nl2sql.mode",
          "is \"llm\" but [llm] provider is \"none\": set a provider, or use \"engine\" or "
          "\"auto\"");
  }

  const RateLimitConfig& rl = c.production.rate_limiting;
  k.Range("production.rate_limiting.queries_per_minute", rl.queries_per_minute, 1, kUnbounded);
  k.Range("production.rate_limiting.burst_allowance", rl.burst_allowance, 1, kUnbounded);
  // Checked only with a valid rate: by default the refill rate is derived from it.
  if (rl.queries_per_minute >= 1 &&
      (!(rl.token_bucket_refill_rate > 0) || !std::isfinite(rl.token_bucket_refill_rate))) {
    k.Add("production.rate_limiting.token_bucket_refill_rate",
          fmt::format("must be positive, got {}", rl.token_bucket_refill_rate));
  }
  for (const TenantRateLimit& t : rl.tenants) {
    const std::string base = fmt::format("production.rate_limiting.tenants.{}", t.tenant);
    k.Range(base + ".queries_per_minute", t.queries_per_minute, 1, kUnbounded);
    k.Range(base + ".burst_allowance", t.burst_allowance, 1, kUnbounded);
    if (!(t.token_bucket_refill_rate > 0) || !std::isfinite(t.token_bucket_refill_rate)) {
      k.Add(base + ".token_bucket_refill_rate",
            fmt::format("must be positive, got {}", t.token_bucket_refill_rate));
    }
  }

  const SecurityConfig& sec = c.production.security;
  k.Range("production.security.max_query_length", sec.max_query_length, 1, kUnbounded);
  k.Range("production.security.max_context_size", sec.max_context_size, 1, kUnbounded);

  const PerformanceConfig& perf = c.production.performance;
  k.Range("production.performance.target_latency_ms", perf.target_latency.count(), 1, kHourMs);
  k.Range("production.performance.max_latency_ms", perf.max_latency.count(), 1, kHourMs);
  k.Range("production.performance.slow_query_threshold_ms", perf.slow_query_threshold.count(), 1,
          kHourMs);
  if (perf.max_latency < perf.target_latency) {
    k.Add("production.performance.max_latency_ms",
          fmt::format("must be at least target_latency_ms ({}), got {}",
                      perf.target_latency.count(), perf.max_latency.count()));
  }

  const CircuitBreakerConfig& cb = c.production.circuit_breaker;
  k.Range("production.circuit_breaker.failure_threshold", cb.failure_threshold, 1, kUnbounded);
  k.Range("production.circuit_breaker.reset_timeout_secs", cb.reset_timeout.count(), 1, kDaySecs);
  k.Range("production.circuit_breaker.half_open_max_calls", cb.half_open_max_calls, 1, kUnbounded);

  k.Range("cache.max_size", c.cache.max_size, 1, kUnbounded);
  k.Between("cache.similarity_threshold", c.cache.similarity_threshold, 0.0, 1.0);
  k.Range("cache.ttl_seconds", c.cache.ttl.count(), 1, kYearSecs);
  {
    const std::string& e = c.cache.embedder;
    if (e != "builtin" && e != "openai" && e != "openai-compatible" && e != "cohere" &&
        e != "ollama") {
      k.Add("cache.embedder",
            fmt::format("{} is not one of \"builtin\", \"openai\", \"openai-compatible\", "
                        "\"cohere\", \"ollama\"",
                        Quote(e)));
    } else if (e != "builtin" && c.cache.embedding_model.empty()) {
      k.Add("cache.embedding_model", "must be set for a model embedder");
    } else if (e == "openai-compatible" && c.cache.embedding_base_url.empty()) {
      k.Add("cache.embedding_base_url", "must be set for an openai-compatible embedder");
    }
    if (!c.cache.embedding_api_key_env.empty() && !IsEnvName(c.cache.embedding_api_key_env)) {
      k.Add("cache.embedding_api_key_env", fmt::format("{} is not an environment variable name",
                                                       Quote(c.cache.embedding_api_key_env)));
    }
  }

  k.Range("session.max_concurrent_sessions", c.session.max_concurrent_sessions, 1, kUnbounded);
  k.Range("session.session_timeout_minutes", c.session.session_timeout.count(), 1, kYearMinutes);
  k.Range("session.cleanup_interval_minutes", c.session.cleanup_interval.count(), 1, kYearMinutes);

  if (text::Trim(c.logging.output).empty()) {
    k.Add("logging.output", "must be \"stdout\", \"stderr\" or a file path");
  }

  k.Range("metrics.prometheus_port", c.metrics.prometheus_port, 0, kMaxPort);
  if (HasSpace(c.metrics.host)) {
    k.Add("metrics.host",
          fmt::format("must be a host name or address, got {}", Quote(c.metrics.host)));
  }
  if (c.metrics.enabled && c.metrics.prometheus_port != 0 && c.metrics.prometheus_port == s.port) {
    k.Add("metrics.prometheus_port", fmt::format("must differ from [server] port ({})", s.port));
  }

  const DatabaseConfig& d = c.database;
  CheckDatabaseUrl(k, d.url);
  k.Range("database.pool_size", d.pool_size, 1, kMaxPoolSize);
  if (d.max_idle_connections < 0) {
    k.Add("database.max_idle_connections",
          fmt::format("must not be negative, got {}", d.max_idle_connections));
  } else if (d.max_idle_connections > d.pool_size) {
    k.Add("database.max_idle_connections", fmt::format("must not exceed pool_size ({}), got {}",
                                                       d.pool_size, d.max_idle_connections));
  }
  k.Range("database.connection_timeout_secs", d.connection_timeout.count(), 1, kDaySecs);
  k.Range("database.statement_timeout_secs", d.statement_timeout.count(), 1, kDaySecs);
  k.Range("database.schema_refresh_interval_secs", d.schema_refresh_interval.count(), 0, kDaySecs);
  auto check_schemas = [&k](const std::string& path, const std::vector<std::string>& schemas) {
    for (const std::string& schema : schemas) {
      if (text::Trim(schema).empty() || schema.size() > 63)
        k.Add(path, fmt::format("schema names must be 1 to 63 characters, got {}", Quote(schema)));
    }
  };
  check_schemas("database.schemas", d.schemas);
  std::vector<std::string> names;
  if (!d.url.empty()) names.push_back("default");
  for (const NamedDatabaseConfig& n : c.databases) {
    const std::string path = "databases." + n.name;
    const bool valid_name =
        !n.name.empty() && n.name.size() <= 64 &&
        std::all_of(n.name.begin(), n.name.end(), [](char ch) {
          return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-';
        });
    if (!valid_name)
      k.Add(path, "a database name may hold only letters, digits, '_' and '-' (at most 64)");
    if (std::find(names.begin(), names.end(), n.name) != names.end())
      k.Add(path, fmt::format("the name {} is already taken{}", Quote(n.name),
                              n.name == "default" ? " by [database] url" : ""));
    names.push_back(n.name);
    if (n.url.empty()) {
      k.Add(path + ".url", "is required");
    } else {
      Checker sub;
      CheckDatabaseUrl(sub, n.url);
      for (const Issue& issue : sub.Take()) k.Add(path + ".url", issue.message);
    }
    check_schemas(path + ".schemas", n.schemas);
  }

  if (!c.redis_url.empty()) {
    std::string lower = text::ToLower(c.redis_url);
    if (!text::StartsWith(lower, "redis://") && !text::StartsWith(lower, "rediss://")) {
      k.Add("redis_url", "must start with redis:// or rediss://");
    }
  }
  // A missing secret is checked by `serve` (with authentication on), not here: the other
  // commands need none.
  if (!c.jwt_secret.empty() && c.jwt_secret.size() < kMinJwtSecretBytes) {
    k.Add("jwt_secret", fmt::format("must be at least {} bytes long, got {}", kMinJwtSecretBytes,
                                    c.jwt_secret.size()));
  }
  return k.Take();
}

// One line per issue: "<where>: <key>: <message>". Without an origin, the key alone, prefixed
// by the file name when there is one.
std::string FormatIssues(const std::vector<Issue>& issues, const Origins& origins,
                         std::string_view file) {
  std::vector<std::string> lines;
  for (const Issue& issue : issues) {
    if (auto it = origins.find(issue.path); it != origins.end()) {
      lines.push_back(
          fmt::format("{}: {}: {}", it->second.where, it->second.display, issue.message));
    } else if (!file.empty()) {
      lines.push_back(fmt::format("{}: {}: {}", file, DisplayKey(issue.path), issue.message));
    } else {
      lines.push_back(fmt::format("{}: {}", DisplayKey(issue.path), issue.message));
    }
  }
  return Join(lines);
}

// ---------------------------------------------------------------------------------------------
// Environment overrides.

// The first log level named in a RUST_LOG-style filter: "info", "heliosdb=debug,hyper=warn",
// "warn/some-regex".
std::optional<LogLevel> LevelFromFilter(std::string_view filter) {
  for (const std::string& part : text::Split(filter, ',')) {
    std::string directive = text::Trim(part);
    if (size_t slash = directive.find('/'); slash != std::string::npos) {
      directive = text::Trim(directive.substr(0, slash));
    }
    size_t eq = directive.rfind('=');
    std::string level = eq == std::string::npos ? directive : text::Trim(directive.substr(eq + 1));
    if (auto parsed = ParseName(kLevelNames, level)) return parsed;
  }
  return std::nullopt;
}

std::optional<int> ParsePositiveInt(std::string_view s) {
  int value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || value <= 0) return std::nullopt;
  return value;
}

void ApplyEnvironment(const EnvLookup& env, Config& c, Origins& origins,
                      std::vector<std::string>& errors) {
  auto get = [&env](std::string_view name) -> std::optional<std::string> {
    if (!env) return std::nullopt;
    std::optional<std::string> value = env(name);
    if (!value || value->empty()) return std::nullopt;
    return value;
  };
  auto note = [&origins](std::string_view path, std::string_view variable) {
    origins[std::string(path)] =
        Origin{fmt::format("environment variable {}", variable), DisplayKey(path)};
  };

  if (auto v = get("DATABASE_URL")) {
    c.database.url = *v;
    note("database.url", "DATABASE_URL");
  }
  if (auto v = get("REDIS_URL")) {
    c.redis_url = *v;
    note("redis_url", "REDIS_URL");
  }
  if (auto v = get("JWT_SECRET")) {
    c.jwt_secret = Secret(*v);
    note("jwt_secret", "JWT_SECRET");
  }
  if (auto v = get("CORS_ALLOWED_ORIGINS")) {
    c.server.cors_allowed_origins.clear();
    for (const std::string& part : text::Split(*v, ',')) {
      std::string origin = text::Trim(part);
      if (!origin.empty()) c.server.cors_allowed_origins.push_back(std::move(origin));
    }
    note("server.cors_allowed_origins", "CORS_ALLOWED_ORIGINS");
  }
  if (!c.cache.embedding_api_key_env.empty()) {
    if (auto v = get(c.cache.embedding_api_key_env)) c.cache.embedding_api_key = Secret(*v);
  }
  if (!c.llm.api_key_env.empty()) {
    if (auto v = get(c.llm.api_key_env)) c.llm.api_key = Secret(*v);
  }

  // Our own name wins over the alias; the alias is then not read at all, since RUST_LOG is
  // often set for other programs.
  if (auto v = get("HELIOSDB_LOG_LEVEL")) {
    if (auto level = ParseName(kLevelNames, text::Trim(*v))) {
      c.logging.level = *level;
      note("logging.level", "HELIOSDB_LOG_LEVEL");
    } else {
      errors.push_back(fmt::format("environment variable HELIOSDB_LOG_LEVEL: must be {}, got {}",
                                   ListNames(kLevelNames), Quote(*v)));
    }
  } else if (auto v = get("RUST_LOG")) {
    if (auto level = LevelFromFilter(*v)) {
      c.logging.level = *level;
      note("logging.level", "RUST_LOG");
    } else {
      errors.push_back(fmt::format("environment variable RUST_LOG: names no log level ({}): {}",
                                   ListNames(kLevelNames), Quote(*v)));
    }
  }

  for (std::string_view variable : {"HELIOSDB_WORKER_THREADS", "TOKIO_WORKER_THREADS"}) {
    auto v = get(variable);
    if (!v) continue;
    if (auto workers = ParsePositiveInt(text::Trim(*v))) {
      c.server.workers = *workers;
      note("server.workers", variable);
    } else {
      errors.push_back(fmt::format("environment variable {}: must be a positive integer, got {}",
                                   variable, Quote(*v)));
    }
    break;
  }
}

// Environment, then validation; the last step of every way of building a Config.
Result<Config> Finish(Config config, Origins origins, std::string_view file, const EnvLookup& env) {
  std::vector<std::string> errors;
  ApplyEnvironment(env, config, origins, errors);
  if (!errors.empty()) return Fail(ErrorCode::kInvalidArgument, Join(errors));
  std::vector<Issue> issues = Check(config);
  if (!issues.empty()) {
    return Fail(ErrorCode::kInvalidArgument, FormatIssues(issues, origins, file));
  }
  return config;
}

// ---------------------------------------------------------------------------------------------
// Reading the TOML document.

template <typename V>
struct Located {
  V value;
  Origin origin;
};

template <typename T>
inline constexpr bool kIsDuration = false;
template <typename Rep, typename Period>
inline constexpr bool kIsDuration<std::chrono::duration<Rep, Period>> = true;

// The TOML value type that a field is read from.
template <typename Field>
struct RawOf {
  using type = int64_t;  // integers and durations
};
template <>
struct RawOf<bool> {
  using type = bool;
};
template <>
struct RawOf<double> {
  using type = double;
};
template <>
struct RawOf<std::string> {
  using type = std::string;
};

std::string_view TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

std::string FormatValue(bool v) { return v ? "true" : "false"; }
std::string FormatValue(int64_t v) { return fmt::format("{}", v); }

// Walks the document with a schema written as code; collects every problem instead of stopping
// at the first, and records where each accepted value was written.
class TomlReader {
 public:
  explicit TomlReader(std::string_view file) : file_(file) {}

  std::vector<std::string>& errors() { return errors_; }
  Origins& origins() { return origins_; }

  // Reports the entries of table `t` (dotted name `table`, empty for the root) that are not in
  // `known`, suggesting the nearest known name.
  void RejectUnknown(const toml::table& t, std::string_view table,
                     std::initializer_list<std::string_view> known) {
    for (auto&& [key, node] : t) {
      std::string_view name = key.str();
      if (std::find(known.begin(), known.end(), name) != known.end()) continue;
      std::optional<std::string_view> near = Nearest(name, known);
      std::string message;
      if (node.is_table()) {
        message = fmt::format("{}: unknown table [{}]", Where(key, node), JoinPath(table, name));
        if (near) message += fmt::format("; did you mean [{}]?", JoinPath(table, *near));
      } else {
        message = fmt::format("{}: unknown key '{}' {}", Where(key, node), name,
                              table.empty() ? "at the top level" : fmt::format("in [{}]", table));
        if (near) message += fmt::format("; did you mean '{}'?", *near);
      }
      errors_.push_back(std::move(message));
    }
  }

  // The sub-table `name` of `t`; nullptr when absent or not a table (reported).
  const toml::table* Table(const toml::table& t, std::string_view parent, std::string_view name) {
    auto it = t.find(name);
    if (it == t.end()) return nullptr;
    if (const toml::table* table = it->second.as_table()) return table;
    errors_.push_back(fmt::format("{}: [{}] must be a table, got {}", Where(it->first, it->second),
                                  JoinPath(parent, name), TypeName(it->second)));
    return nullptr;
  }

  // t[key] as V with its origin; nullopt when absent or of the wrong type (reported).
  template <typename V>
  std::optional<Located<V>> Get(const toml::table& t, std::string_view table,
                                std::string_view key) {
    auto it = t.find(key);
    if (it == t.end()) return std::nullopt;
    const toml::node& node = it->second;
    Origin origin{Where(it->first, node), DisplayKey(JoinPath(table, key))};
    std::string_view expected;
    if constexpr (std::is_same_v<V, bool>) {
      if (const auto* v = node.as_boolean()) return Located<V>{v->get(), std::move(origin)};
      expected = "a boolean (true or false)";
    } else if constexpr (std::is_same_v<V, int64_t>) {
      if (const auto* v = node.as_integer()) return Located<V>{v->get(), std::move(origin)};
      expected = "an integer";
    } else if constexpr (std::is_same_v<V, double>) {
      if (const auto* v = node.as_floating_point()) {
        return Located<V>{v->get(), std::move(origin)};
      }
      if (const auto* v = node.as_integer()) {
        return Located<V>{static_cast<double>(v->get()), std::move(origin)};
      }
      expected = "a number";
    } else {
      static_assert(std::is_same_v<V, std::string>);
      if (const auto* v = node.as_string()) return Located<V>{v->get(), std::move(origin)};
      expected = "a string";
    }
    errors_.push_back(fmt::format("{}: {}: must be {}, got {}", origin.where, origin.display,
                                  expected, TypeName(node)));
    return std::nullopt;
  }

  // t[key] as an array of strings; reported when it is something else.
  void ReadStrings(const toml::table& t, std::string_view table, std::string_view key,
                   std::vector<std::string>& out) {
    auto it = t.find(key);
    if (it == t.end()) return;
    const toml::node& node = it->second;
    Origin origin{Where(it->first, node), DisplayKey(JoinPath(table, key))};
    const toml::array* array = node.as_array();
    std::vector<std::string> values;
    bool ok = array != nullptr;
    if (array) {
      for (const toml::node& element : *array) {
        const auto* v = element.as_string();
        if (!v) {
          ok = false;
          break;
        }
        values.push_back(v->get());
      }
    }
    if (!ok) {
      errors_.push_back(fmt::format("{}: {}: must be an array of strings, got {}", origin.where,
                                    origin.display, TypeName(node)));
      return;
    }
    out = std::move(values);
    origins_[JoinPath(table, key)] = std::move(origin);
  }

  // Assigns a read value to its field, recording its origin under the canonical path.
  template <typename Field, typename V>
  void Store(const std::optional<Located<V>>& given, Field& out, std::string_view path) {
    if (!given) return;
    if constexpr (kIsDuration<Field>) {
      if (!std::in_range<typename Field::rep>(given->value)) return OutOfRange(*given);
      out = Field(static_cast<typename Field::rep>(given->value));
    } else if constexpr (std::is_integral_v<Field> && !std::is_same_v<Field, bool>) {
      if (!std::in_range<Field>(given->value)) return OutOfRange(*given);
      out = static_cast<Field>(given->value);
    } else {
      out = given->value;
    }
    origins_[std::string(path)] = given->origin;
  }

  template <typename Field>
  void Read(const toml::table& t, std::string_view table, std::string_view key, Field& out) {
    Store(Get<typename RawOf<Field>::type>(t, table, key), out, JoinPath(table, key));
  }

  template <typename E, size_t N>
  void ReadEnum(const toml::table& t, std::string_view table, std::string_view key, E& out,
                const Named<E> (&names)[N]) {
    auto given = Get<std::string>(t, table, key);
    if (!given) return;
    if (auto value = ParseName(names, text::Trim(given->value))) {
      out = *value;
      origins_[JoinPath(table, key)] = given->origin;
      return;
    }
    errors_.push_back(fmt::format("{}: {}: must be {}, got {}", given->origin.where,
                                  given->origin.display, ListNames(names), Quote(given->value)));
  }

  // One setting spelled twice: a flat key of `flat_table` and `nested_key` of the optional
  // `nested` table. Either may be given; both must then agree.
  template <typename Field>
  void ReadEither(const toml::table& flat_table, std::string_view flat_name,
                  std::string_view flat_key, const toml::table* nested,
                  std::string_view nested_name, std::string_view nested_key, Field& out) {
    using V = typename RawOf<Field>::type;
    std::optional<Located<V>> flat = Get<V>(flat_table, flat_name, flat_key);
    std::optional<Located<V>> deep;
    if (nested) deep = Get<V>(*nested, nested_name, nested_key);
    if (flat && deep && flat->value != deep->value) {
      errors_.push_back(
          fmt::format("{}: {} = {} conflicts with {} = {} ({}); give the setting once",
                      flat->origin.where, flat->origin.display, FormatValue(flat->value),
                      deep->origin.display, FormatValue(deep->value), deep->origin.where));
      return;
    }
    Store(deep ? deep : flat, out, JoinPath(nested_name, nested_key));
  }

 private:
  template <typename V>
  void OutOfRange(const Located<V>& given) {
    errors_.push_back(fmt::format("{}: {}: out of range, got {}", given.origin.where,
                                  given.origin.display, given.value));
  }

  std::string Where(const toml::key& key, const toml::node& node) const {
    uint32_t line = key.source().begin.line;
    if (line == 0) line = node.source().begin.line;
    if (line == 0) return file_;
    return fmt::format("{}:{}", file_, line);
  }

  std::string file_;
  std::vector<std::string> errors_;
  Origins origins_;
};

void ReadServer(TomlReader& r, const toml::table& t, ServerConfig& s) {
  constexpr std::string_view kName = "server";
  r.RejectUnknown(t, kName,
                  {"host", "port", "workers", "max_connections", "max_queued_connections",
                   "max_result_rows", "max_request_body_bytes", "request_timeout_secs", "web_chat",
                   "web_root", "shutdown_timeout_secs"});
  r.Read(t, kName, "host", s.host);
  r.Read(t, kName, "port", s.port);
  r.Read(t, kName, "workers", s.workers);
  r.Read(t, kName, "max_connections", s.max_connections);
  r.Read(t, kName, "max_queued_connections", s.max_queued_connections);
  r.Read(t, kName, "max_result_rows", s.max_result_rows);
  r.Read(t, kName, "max_request_body_bytes", s.max_request_body_bytes);
  r.Read(t, kName, "request_timeout_secs", s.request_timeout);
  r.Read(t, kName, "web_chat", s.web_chat);
  r.Read(t, kName, "web_root", s.web_root);
  r.Read(t, kName, "shutdown_timeout_secs", s.shutdown_timeout);
}

void ReadLlm(TomlReader& r, const toml::table& t, LlmConfig& l) {
  constexpr std::string_view kName = "llm";
  r.RejectUnknown(t, kName,
                  {"provider", "model", "api_key_env", "timeout_secs", "max_retries", "max_tokens",
                   "temperature", "base_url", "max_concurrent_requests"});
  r.ReadEnum(t, kName, "provider", l.provider, kProviderNames);
  r.Read(t, kName, "model", l.model);
  r.Read(t, kName, "api_key_env", l.api_key_env);
  r.Read(t, kName, "timeout_secs", l.timeout);
  r.Read(t, kName, "max_retries", l.max_retries);
  r.Read(t, kName, "max_tokens", l.max_tokens);
  r.Read(t, kName, "temperature", l.temperature);
  r.Read(t, kName, "base_url", l.base_url);
  r.Read(t, kName, "max_concurrent_requests", l.max_concurrent_requests);
}

void ReadNl2Sql(TomlReader& r, const toml::table& t, Nl2SqlConfig& n) {
  constexpr std::string_view kName = "nl2sql";
  r.RejectUnknown(
      t, kName,
      {"mode", "confidence_threshold", "examples_file", "learned_examples_file", "descriptions"});
  r.ReadEnum(t, kName, "mode", n.mode, kModeNames);
  r.Read(t, kName, "confidence_threshold", n.confidence_threshold);
  r.Read(t, kName, "examples_file", n.examples_file);
  r.Read(t, kName, "learned_examples_file", n.learned_examples_file);
  if (const toml::table* d = r.Table(t, kName, "descriptions")) {
    const std::string name = std::string(kName) + ".descriptions";
    for (auto&& [key, node] : *d) {
      std::string text;
      r.Read(*d, name, key.str(), text);
      if (!text.empty()) n.descriptions[std::string(key.str())] = std::move(text);
    }
  }
}

void ReadProduction(TomlReader& r, const toml::table& t, ProductionConfig& p) {
  constexpr std::string_view kName = "production";
  constexpr std::string_view kRate = "production.rate_limiting";
  constexpr std::string_view kSecurity = "production.security";
  constexpr std::string_view kPerf = "production.performance";
  constexpr std::string_view kBreaker = "production.circuit_breaker";
  r.RejectUnknown(
      t, kName,
      {"enable_rate_limiting", "rate_limit_qpm", "burst_allowance", "enable_security_validation",
       "max_query_length", "max_context_size", "enable_performance_monitoring", "target_latency_ms",
       "enable_circuit_breaker", "circuit_breaker_threshold", "circuit_breaker_reset_timeout_secs",
       "rate_limiting", "security", "performance", "circuit_breaker"});
  const toml::table* rate = r.Table(t, kName, "rate_limiting");
  const toml::table* security = r.Table(t, kName, "security");
  const toml::table* perf = r.Table(t, kName, "performance");
  const toml::table* breaker = r.Table(t, kName, "circuit_breaker");

  RateLimitConfig& rl = p.rate_limiting;
  if (rate) {
    r.RejectUnknown(*rate, kRate,
                    {"enabled", "queries_per_minute", "burst_allowance", "token_bucket_refill_rate",
                     "tenants"});
  }
  r.ReadEither(t, kName, "enable_rate_limiting", rate, kRate, "enabled", rl.enabled);
  r.ReadEither(t, kName, "rate_limit_qpm", rate, kRate, "queries_per_minute",
               rl.queries_per_minute);
  r.ReadEither(t, kName, "burst_allowance", rate, kRate, "burst_allowance", rl.burst_allowance);
  if (rate && rate->contains("token_bucket_refill_rate")) {
    r.Read(*rate, kRate, "token_bucket_refill_rate", rl.token_bucket_refill_rate);
  } else {
    rl.token_bucket_refill_rate = rl.queries_per_minute / 60.0;
  }
  if (const toml::table* tenants = rate ? r.Table(*rate, kRate, "tenants") : nullptr) {
    const std::string tenants_name = std::string(kRate) + ".tenants";
    for (auto&& [key, node] : *tenants) {
      const std::string name(key.str());
      const toml::table* one = r.Table(*tenants, tenants_name, name);
      if (!one) continue;
      const std::string one_name = tenants_name + "." + name;
      r.RejectUnknown(*one, one_name,
                      {"queries_per_minute", "burst_allowance", "token_bucket_refill_rate"});
      TenantRateLimit t{name, rl.queries_per_minute, rl.burst_allowance, 0};
      r.Read(*one, one_name, "queries_per_minute", t.queries_per_minute);
      r.Read(*one, one_name, "burst_allowance", t.burst_allowance);
      if (one->contains("token_bucket_refill_rate")) {
        r.Read(*one, one_name, "token_bucket_refill_rate", t.token_bucket_refill_rate);
      } else if (one->contains("queries_per_minute")) {
        t.token_bucket_refill_rate = t.queries_per_minute / 60.0;
      } else {
        t.token_bucket_refill_rate = rl.token_bucket_refill_rate;
      }
      rl.tenants.push_back(std::move(t));
    }
    std::sort(
        rl.tenants.begin(), rl.tenants.end(),
        [](const TenantRateLimit& x, const TenantRateLimit& y) { return x.tenant < y.tenant; });
  }

  SecurityConfig& sec = p.security;
  if (security) {
    r.RejectUnknown(*security, kSecurity,
                    {"enabled", "max_query_length", "max_context_size", "sql_injection_detection",
                     "input_sanitization", "output_sanitization"});
    r.Read(*security, kSecurity, "sql_injection_detection", sec.sql_injection_detection);
    r.Read(*security, kSecurity, "input_sanitization", sec.input_sanitization);
    r.Read(*security, kSecurity, "output_sanitization", sec.output_sanitization);
  }
  r.ReadEither(t, kName, "enable_security_validation", security, kSecurity, "enabled", sec.enabled);
  r.ReadEither(t, kName, "max_query_length", security, kSecurity, "max_query_length",
               sec.max_query_length);
  r.ReadEither(t, kName, "max_context_size", security, kSecurity, "max_context_size",
               sec.max_context_size);

  PerformanceConfig& pf = p.performance;
  if (perf) {
    r.RejectUnknown(
        *perf, kPerf,
        {"target_latency_ms", "max_latency_ms", "enable_monitoring", "slow_query_threshold_ms"});
    r.Read(*perf, kPerf, "max_latency_ms", pf.max_latency);
    r.Read(*perf, kPerf, "slow_query_threshold_ms", pf.slow_query_threshold);
  }
  r.ReadEither(t, kName, "enable_performance_monitoring", perf, kPerf, "enable_monitoring",
               pf.enable_monitoring);
  r.ReadEither(t, kName, "target_latency_ms", perf, kPerf, "target_latency_ms", pf.target_latency);

  CircuitBreakerConfig& cb = p.circuit_breaker;
  if (breaker) {
    r.RejectUnknown(*breaker, kBreaker,
                    {"enabled", "failure_threshold", "reset_timeout_secs", "half_open_max_calls"});
    r.Read(*breaker, kBreaker, "half_open_max_calls", cb.half_open_max_calls);
  }
  r.ReadEither(t, kName, "enable_circuit_breaker", breaker, kBreaker, "enabled", cb.enabled);
  r.ReadEither(t, kName, "circuit_breaker_threshold", breaker, kBreaker, "failure_threshold",
               cb.failure_threshold);
  r.ReadEither(t, kName, "circuit_breaker_reset_timeout_secs", breaker, kBreaker,
               "reset_timeout_secs", cb.reset_timeout);
}

void ReadCache(TomlReader& r, const toml::table& t, CacheConfig& c) {
  constexpr std::string_view kName = "cache";
  r.RejectUnknown(t, kName,
                  {"enabled", "max_size", "similarity_threshold", "ttl_seconds", "embedder",
                   "embedding_model", "embedding_base_url", "embedding_api_key_env"});
  r.Read(t, kName, "enabled", c.enabled);
  r.Read(t, kName, "max_size", c.max_size);
  r.Read(t, kName, "similarity_threshold", c.similarity_threshold);
  r.Read(t, kName, "ttl_seconds", c.ttl);
  r.Read(t, kName, "embedder", c.embedder);
  r.Read(t, kName, "embedding_model", c.embedding_model);
  r.Read(t, kName, "embedding_base_url", c.embedding_base_url);
  r.Read(t, kName, "embedding_api_key_env", c.embedding_api_key_env);
}

void ReadSession(TomlReader& r, const toml::table& t, SessionConfig& s) {
  constexpr std::string_view kName = "session";
  r.RejectUnknown(
      t, kName, {"max_concurrent_sessions", "session_timeout_minutes", "cleanup_interval_minutes"});
  r.Read(t, kName, "max_concurrent_sessions", s.max_concurrent_sessions);
  r.Read(t, kName, "session_timeout_minutes", s.session_timeout);
  r.Read(t, kName, "cleanup_interval_minutes", s.cleanup_interval);
}

void ReadLogging(TomlReader& r, const toml::table& t, LoggingConfig& l) {
  constexpr std::string_view kName = "logging";
  r.RejectUnknown(t, kName, {"level", "format", "output"});
  r.ReadEnum(t, kName, "level", l.level, kLevelNames);
  r.ReadEnum(t, kName, "format", l.format, kFormatNames);
  r.Read(t, kName, "output", l.output);
}

void ReadAuth(TomlReader& r, const toml::table& t, AuthConfig& a) {
  constexpr std::string_view kName = "auth";
  r.RejectUnknown(t, kName,
                  {"enabled", "users_file", "token_ttl_minutes", "issuer",
                   "login_failures_per_user_per_minute", "login_failures_per_address_per_minute"});
  r.Read(t, kName, "enabled", a.enabled);
  r.Read(t, kName, "users_file", a.users_file);
  r.Read(t, kName, "token_ttl_minutes", a.token_ttl);
  r.Read(t, kName, "issuer", a.issuer);
  r.Read(t, kName, "login_failures_per_user_per_minute", a.login_failures_per_user_per_minute);
  r.Read(t, kName, "login_failures_per_address_per_minute",
         a.login_failures_per_address_per_minute);
}

void ReadMetrics(TomlReader& r, const toml::table& t, MetricsConfig& m) {
  constexpr std::string_view kName = "metrics";
  r.RejectUnknown(t, kName, {"enabled", "host", "prometheus_port"});
  r.Read(t, kName, "enabled", m.enabled);
  r.Read(t, kName, "host", m.host);
  r.Read(t, kName, "prometheus_port", m.prometheus_port);
}

void ReadDatabase(TomlReader& r, const toml::table& t, DatabaseConfig& d) {
  constexpr std::string_view kName = "database";
  r.RejectUnknown(t, kName,
                  {"url", "pool_size", "max_idle_connections", "connection_timeout_secs",
                   "statement_timeout_secs", "schemas", "schema_refresh_interval_secs"});
  r.Read(t, kName, "url", d.url);
  r.Read(t, kName, "pool_size", d.pool_size);
  if (t.contains("max_idle_connections")) {
    r.Read(t, kName, "max_idle_connections", d.max_idle_connections);
  } else {
    d.max_idle_connections = d.pool_size;
  }
  r.Read(t, kName, "connection_timeout_secs", d.connection_timeout);
  r.Read(t, kName, "statement_timeout_secs", d.statement_timeout);
  r.ReadStrings(t, kName, "schemas", d.schemas);
  r.Read(t, kName, "schema_refresh_interval_secs", d.schema_refresh_interval);
}

// [databases.NAME] tables, in the order the file lists them (toml++ keeps keys sorted, so the
// order comes from their source positions).
void ReadDatabases(TomlReader& r, const toml::table& t, std::vector<NamedDatabaseConfig>& out) {
  std::vector<std::pair<toml::source_position, NamedDatabaseConfig>> found;
  for (auto&& [key, node] : t) {
    const std::string name(key.str());
    const std::string path = "databases." + name;
    const toml::table* table = r.Table(t, "databases", name);
    if (!table) continue;
    r.RejectUnknown(*table, path, {"url", "schemas"});
    NamedDatabaseConfig d;
    d.name = name;
    r.Read(*table, path, "url", d.url);
    r.ReadStrings(*table, path, "schemas", d.schemas);
    found.emplace_back(node.source().begin, std::move(d));
  }
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return std::pair(a.first.line, a.first.column) < std::pair(b.first.line, b.first.column);
  });
  for (auto& [at, d] : found) out.push_back(std::move(d));
}

Result<Config> FromToml(std::string_view toml_text, std::string_view file, const EnvLookup& env) {
  toml::table root;
  try {
    root = toml::parse(toml_text, file);
  } catch (const toml::parse_error& e) {
    const toml::source_position& at = e.source().begin;
    return Fail(ErrorCode::kInvalidArgument, fmt::format("{}:{}:{}: invalid TOML: {}", file,
                                                         at.line, at.column, e.description()));
  }

  Config config;
  TomlReader r(file);
  r.RejectUnknown(root, "",
                  {"server", "auth", "llm", "nl2sql", "production", "cache", "session", "logging",
                   "metrics", "database", "databases"});
  if (const auto* t = r.Table(root, "", "server")) ReadServer(r, *t, config.server);
  if (const auto* t = r.Table(root, "", "auth")) ReadAuth(r, *t, config.auth);
  if (const auto* t = r.Table(root, "", "llm")) ReadLlm(r, *t, config.llm);
  if (const auto* t = r.Table(root, "", "nl2sql")) ReadNl2Sql(r, *t, config.nl2sql);
  if (const auto* t = r.Table(root, "", "production")) ReadProduction(r, *t, config.production);
  if (const auto* t = r.Table(root, "", "cache")) ReadCache(r, *t, config.cache);
  if (const auto* t = r.Table(root, "", "session")) ReadSession(r, *t, config.session);
  if (const auto* t = r.Table(root, "", "logging")) ReadLogging(r, *t, config.logging);
  if (const auto* t = r.Table(root, "", "metrics")) ReadMetrics(r, *t, config.metrics);
  if (const auto* t = r.Table(root, "", "database")) ReadDatabase(r, *t, config.database);
  if (const auto* t = r.Table(root, "", "databases")) ReadDatabases(r, *t, config.databases);
  if (!r.errors().empty()) return Fail(ErrorCode::kInvalidArgument, Join(r.errors()));
  return Finish(std::move(config), std::move(r.origins()), file, env);
}

// ---------------------------------------------------------------------------------------------
// The summary.

std::string SecretState(const Secret& secret) { return secret.empty() ? "(not set)" : "(set)"; }

std::string UrlOrUnset(const std::string& url) {
  return url.empty() ? "(not set)" : Quote(RedactUrl(url));
}

std::string Bool(bool b) { return b ? "true" : "false"; }

}  // namespace

int DefaultWorkerCount() {
  unsigned n = std::thread::hardware_concurrency();
  return static_cast<int>(std::clamp<unsigned>(n, 1, kMaxWorkers));
}

EnvLookup ProcessEnvironment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Result<Config> ParseConfig(std::string_view toml_text, std::string_view source_name,
                           const EnvLookup& env) {
  try {
    return FromToml(toml_text, source_name, env);
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kInternal,
                fmt::format("{}: could not load the configuration: {}", source_name, e.what()));
  }
}

Result<Config> LoadConfigFile(const std::string& path, const EnvLookup& env) {
  if (path.empty()) return Fail(ErrorCode::kInvalidArgument, "no configuration file given");
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (status.type() == std::filesystem::file_type::not_found) {
    return Fail(ErrorCode::kNotFound, fmt::format("configuration file not found: {}", path));
  }
  if (status.type() == std::filesystem::file_type::directory) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{} is a directory, not a configuration file", path));
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("cannot read configuration file {}", path));
  }
  auto config = ParseConfig(text.str(), path, env);
  if (config) {
    const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
    config->source_file = ec ? path : absolute.string();
  }
  return config;
}

Result<Config> DefaultConfig(const EnvLookup& env) { return Finish(Config{}, {}, "", env); }

Result<void> Validate(const Config& config) {
  std::vector<Issue> issues = Check(config);
  if (issues.empty()) return {};
  return Fail(ErrorCode::kInvalidArgument, FormatIssues(issues, {}, ""));
}

std::string RedactedSummary(const Config& c) {
  std::string out;
  auto line = [&out](std::string_view key, std::string_view value) {
    out += fmt::format("{} = {}\n", key, value);
  };
  auto number = [&line](std::string_view key, auto value) { line(key, fmt::format("{}", value)); };
  auto section = [&out](std::string_view name) { out += fmt::format("\n[{}]\n", name); };

  line("redis_url", UrlOrUnset(c.redis_url));
  line("jwt_secret", SecretState(c.jwt_secret));

  section("server");
  line("host", Quote(c.server.host));
  number("port", c.server.port);
  number("workers", c.server.workers);
  number("max_connections", c.server.max_connections);
  number("max_queued_connections", c.server.max_queued_connections);
  number("max_result_rows", c.server.max_result_rows);
  number("max_request_body_bytes", c.server.max_request_body_bytes);
  number("request_timeout_secs", c.server.request_timeout.count());
  std::vector<std::string> origins;
  for (const std::string& o : c.server.cors_allowed_origins) origins.push_back(Quote(o));
  line("cors_allowed_origins", fmt::format("[{}]", text::Join(origins, ", ")));
  line("web_chat", Bool(c.server.web_chat));
  line("web_root",
       c.server.web_root.empty() ? "(installed with the binary)" : Quote(c.server.web_root));
  number("shutdown_timeout_secs", c.server.shutdown_timeout.count());

  section("auth");
  line("enabled", Bool(c.auth.enabled));
  line("users_file", Quote(c.auth.users_file));
  number("token_ttl_minutes", c.auth.token_ttl.count());
  line("issuer", Quote(c.auth.issuer));
  number("login_failures_per_user_per_minute", c.auth.login_failures_per_user_per_minute);
  number("login_failures_per_address_per_minute", c.auth.login_failures_per_address_per_minute);

  section("llm");
  line("provider", Quote(LlmProviderName(c.llm.provider)));
  line("model", Quote(c.llm.model));
  line("api_key_env", Quote(c.llm.api_key_env));
  line("api_key", SecretState(c.llm.api_key));
  number("timeout_secs", c.llm.timeout.count());
  number("max_retries", c.llm.max_retries);
  number("max_tokens", c.llm.max_tokens);
  number("max_concurrent_requests", c.llm.max_concurrent_requests);
  number("temperature", c.llm.temperature);
  line("base_url",
       c.llm.base_url.empty() ? "(provider default)" : Quote(RedactUrl(c.llm.base_url)));

  section("nl2sql");
  line("mode", Quote(Nl2SqlModeName(c.nl2sql.mode)));
  number("confidence_threshold", c.nl2sql.confidence_threshold);
  line("examples_file", Quote(c.nl2sql.examples_file));
  line("learned_examples_file", Quote(c.nl2sql.learned_examples_file));
  for (const auto& [key, text] : c.nl2sql.descriptions) {
    line(fmt::format("descriptions.{}", Quote(key)), Quote(text));
  }

  const ProductionConfig& p = c.production;
  section("production.rate_limiting");
  line("enabled", Bool(p.rate_limiting.enabled));
  number("queries_per_minute", p.rate_limiting.queries_per_minute);
  number("burst_allowance", p.rate_limiting.burst_allowance);
  number("token_bucket_refill_rate", p.rate_limiting.token_bucket_refill_rate);
  for (const TenantRateLimit& t : p.rate_limiting.tenants) {
    section(fmt::format("production.rate_limiting.tenants.{}", Quote(t.tenant)));
    number("queries_per_minute", t.queries_per_minute);
    number("burst_allowance", t.burst_allowance);
    number("token_bucket_refill_rate", t.token_bucket_refill_rate);
  }
  section("production.security");
  line("enabled", Bool(p.security.enabled));
  number("max_query_length", p.security.max_query_length);
  number("max_context_size", p.security.max_context_size);
  line("sql_injection_detection", Bool(p.security.sql_injection_detection));
  line("input_sanitization", Bool(p.security.input_sanitization));
  line("output_sanitization", Bool(p.security.output_sanitization));
  section("production.performance");
  line("enable_monitoring", Bool(p.performance.enable_monitoring));
  number("target_latency_ms", p.performance.target_latency.count());
  number("max_latency_ms", p.performance.max_latency.count());
  number("slow_query_threshold_ms", p.performance.slow_query_threshold.count());
  section("production.circuit_breaker");
  line("enabled", Bool(p.circuit_breaker.enabled));
  number("failure_threshold", p.circuit_breaker.failure_threshold);
  number("reset_timeout_secs", p.circuit_breaker.reset_timeout.count());
  number("half_open_max_calls", p.circuit_breaker.half_open_max_calls);

  section("cache");
  line("enabled", Bool(c.cache.enabled));
  number("max_size", c.cache.max_size);
  number("similarity_threshold", c.cache.similarity_threshold);
  number("ttl_seconds", c.cache.ttl.count());
  line("embedder", Quote(c.cache.embedder));
  if (c.cache.embedder != "builtin") {
    line("embedding_model", Quote(c.cache.embedding_model));
    line("embedding_base_url", Quote(c.cache.embedding_base_url));
    line("embedding_api_key_env", Quote(c.cache.embedding_api_key_env));
  }

  section("session");
  number("max_concurrent_sessions", c.session.max_concurrent_sessions);
  number("session_timeout_minutes", c.session.session_timeout.count());
  number("cleanup_interval_minutes", c.session.cleanup_interval.count());

  section("logging");
  line("level", Quote(LogLevelName(c.logging.level)));
  line("format", Quote(LogFormatName(c.logging.format)));
  line("output", Quote(c.logging.output));

  section("metrics");
  line("enabled", Bool(c.metrics.enabled));
  line("host", c.metrics.host.empty() ? "(the server's host)" : Quote(c.metrics.host));
  number("prometheus_port", c.metrics.prometheus_port);

  section("database");
  line("url", UrlOrUnset(c.database.url));
  number("pool_size", c.database.pool_size);
  number("max_idle_connections", c.database.max_idle_connections);
  number("connection_timeout_secs", c.database.connection_timeout.count());
  number("statement_timeout_secs", c.database.statement_timeout.count());
  auto schema_list = [](const std::vector<std::string>& schemas) {
    std::vector<std::string> quoted;
    for (const std::string& s : schemas) quoted.push_back(Quote(s));
    return fmt::format("[{}]", text::Join(quoted, ", "));
  };
  line("schemas", schema_list(c.database.schemas));
  number("schema_refresh_interval_secs", c.database.schema_refresh_interval.count());
  for (const NamedDatabaseConfig& d : c.databases) {
    section("databases." + d.name);
    line("url", UrlOrUnset(d.url));
    line("schemas", schema_list(d.schemas));
  }
  return out;
}

std::vector<std::string> ChangedSettings(const Config& before, const Config& after) {
  std::vector<std::string> changed;
  auto note = [&changed](std::string name, const auto& a, const auto& b) {
    if (!(a == b)) changed.push_back(std::move(name));
  };
  auto secret = [&changed](std::string name, const Secret& a, const Secret& b) {
    if (a.Reveal() != b.Reveal()) changed.push_back(std::move(name));
  };
  note("redis_url", before.redis_url, after.redis_url);
  secret("jwt_secret", before.jwt_secret, after.jwt_secret);

  const ServerConfig& s0 = before.server;
  const ServerConfig& s1 = after.server;
  note("server.host", s0.host, s1.host);
  note("server.port", s0.port, s1.port);
  note("server.workers", s0.workers, s1.workers);
  note("server.max_connections", s0.max_connections, s1.max_connections);
  note("server.max_queued_connections", s0.max_queued_connections, s1.max_queued_connections);
  note("server.max_result_rows", s0.max_result_rows, s1.max_result_rows);
  note("server.max_request_body_bytes", s0.max_request_body_bytes, s1.max_request_body_bytes);
  note("server.request_timeout_secs", s0.request_timeout, s1.request_timeout);
  note("server.cors_allowed_origins", s0.cors_allowed_origins, s1.cors_allowed_origins);
  note("server.web_chat", s0.web_chat, s1.web_chat);
  note("server.web_root", s0.web_root, s1.web_root);
  note("server.shutdown_timeout_secs", s0.shutdown_timeout, s1.shutdown_timeout);

  const AuthConfig& a0 = before.auth;
  const AuthConfig& a1 = after.auth;
  note("auth.enabled", a0.enabled, a1.enabled);
  note("auth.users_file", a0.users_file, a1.users_file);
  note("auth.token_ttl_minutes", a0.token_ttl, a1.token_ttl);
  note("auth.issuer", a0.issuer, a1.issuer);
  note("auth.login_failures_per_user_per_minute", a0.login_failures_per_user_per_minute,
       a1.login_failures_per_user_per_minute);
  note("auth.login_failures_per_address_per_minute", a0.login_failures_per_address_per_minute,
       a1.login_failures_per_address_per_minute);

  const LlmConfig& l0 = before.llm;
  const LlmConfig& l1 = after.llm;
  note("llm.provider", l0.provider, l1.provider);
  note("llm.model", l0.model, l1.model);
  note("llm.api_key_env", l0.api_key_env, l1.api_key_env);
  secret("llm.api_key", l0.api_key, l1.api_key);
  note("llm.timeout_secs", l0.timeout, l1.timeout);
  note("llm.max_retries", l0.max_retries, l1.max_retries);
  note("llm.max_tokens", l0.max_tokens, l1.max_tokens);
  note("llm.max_concurrent_requests", l0.max_concurrent_requests, l1.max_concurrent_requests);
  note("llm.temperature", l0.temperature, l1.temperature);
  note("llm.base_url", l0.base_url, l1.base_url);

  const Nl2SqlConfig& n0 = before.nl2sql;
  const Nl2SqlConfig& n1 = after.nl2sql;
  note("nl2sql.mode", n0.mode, n1.mode);
  note("nl2sql.confidence_threshold", n0.confidence_threshold, n1.confidence_threshold);
  note("nl2sql.examples_file", n0.examples_file, n1.examples_file);
  note("nl2sql.learned_examples_file", n0.learned_examples_file, n1.learned_examples_file);
  note("nl2sql.descriptions", n0.descriptions, n1.descriptions);

  const RateLimitConfig& r0 = before.production.rate_limiting;
  const RateLimitConfig& r1 = after.production.rate_limiting;
  note("production.rate_limiting.enabled", r0.enabled, r1.enabled);
  note("production.rate_limiting.queries_per_minute", r0.queries_per_minute, r1.queries_per_minute);
  note("production.rate_limiting.burst_allowance", r0.burst_allowance, r1.burst_allowance);
  note("production.rate_limiting.token_bucket_refill_rate", r0.token_bucket_refill_rate,
       r1.token_bucket_refill_rate);
  // Tenants are sorted by name in both lists: one pass names the added, removed and edited.
  auto tenant_changed = [](const TenantRateLimit& x, const TenantRateLimit& y) {
    return x.queries_per_minute != y.queries_per_minute || x.burst_allowance != y.burst_allowance ||
           x.token_bucket_refill_rate != y.token_bucket_refill_rate;
  };
  std::map<std::string, const TenantRateLimit*> old_tenants;
  for (const TenantRateLimit& t : r0.tenants) old_tenants[t.tenant] = &t;
  std::map<std::string, const TenantRateLimit*> new_tenants;
  for (const TenantRateLimit& t : r1.tenants) new_tenants[t.tenant] = &t;
  std::set<std::string> tenants;
  for (const auto& [name, t] : old_tenants) tenants.insert(name);
  for (const auto& [name, t] : new_tenants) tenants.insert(name);
  for (const std::string& name : tenants) {
    auto o = old_tenants.find(name);
    auto n = new_tenants.find(name);
    if (o == old_tenants.end() || n == new_tenants.end() || tenant_changed(*o->second, *n->second))
      changed.push_back("production.rate_limiting.tenants." + name);
  }

  const SecurityConfig& e0 = before.production.security;
  const SecurityConfig& e1 = after.production.security;
  note("production.security.enabled", e0.enabled, e1.enabled);
  note("production.security.max_query_length", e0.max_query_length, e1.max_query_length);
  note("production.security.max_context_size", e0.max_context_size, e1.max_context_size);
  note("production.security.sql_injection_detection", e0.sql_injection_detection,
       e1.sql_injection_detection);
  note("production.security.input_sanitization", e0.input_sanitization, e1.input_sanitization);
  note("production.security.output_sanitization", e0.output_sanitization, e1.output_sanitization);

  const PerformanceConfig& p0 = before.production.performance;
  const PerformanceConfig& p1 = after.production.performance;
  note("production.performance.enable_monitoring", p0.enable_monitoring, p1.enable_monitoring);
  note("production.performance.target_latency_ms", p0.target_latency, p1.target_latency);
  note("production.performance.max_latency_ms", p0.max_latency, p1.max_latency);
  note("production.performance.slow_query_threshold_ms", p0.slow_query_threshold,
       p1.slow_query_threshold);

  const CircuitBreakerConfig& b0 = before.production.circuit_breaker;
  const CircuitBreakerConfig& b1 = after.production.circuit_breaker;
  note("production.circuit_breaker.enabled", b0.enabled, b1.enabled);
  note("production.circuit_breaker.failure_threshold", b0.failure_threshold, b1.failure_threshold);
  note("production.circuit_breaker.reset_timeout_secs", b0.reset_timeout, b1.reset_timeout);
  note("production.circuit_breaker.half_open_max_calls", b0.half_open_max_calls,
       b1.half_open_max_calls);

  const CacheConfig& c0 = before.cache;
  const CacheConfig& c1 = after.cache;
  note("cache.enabled", c0.enabled, c1.enabled);
  note("cache.max_size", c0.max_size, c1.max_size);
  note("cache.similarity_threshold", c0.similarity_threshold, c1.similarity_threshold);
  note("cache.ttl_seconds", c0.ttl, c1.ttl);
  note("cache.embedder", c0.embedder, c1.embedder);
  note("cache.embedding_model", c0.embedding_model, c1.embedding_model);
  note("cache.embedding_base_url", c0.embedding_base_url, c1.embedding_base_url);
  note("cache.embedding_api_key_env", c0.embedding_api_key_env, c1.embedding_api_key_env);
  secret("cache.embedding_api_key", c0.embedding_api_key, c1.embedding_api_key);

  note("session.max_concurrent_sessions", before.session.max_concurrent_sessions,
       after.session.max_concurrent_sessions);
  note("session.session_timeout_minutes", before.session.session_timeout,
       after.session.session_timeout);
  note("session.cleanup_interval_minutes", before.session.cleanup_interval,
       after.session.cleanup_interval);

  note("logging.level", before.logging.level, after.logging.level);
  note("logging.format", before.logging.format, after.logging.format);
  note("logging.output", before.logging.output, after.logging.output);

  note("metrics.enabled", before.metrics.enabled, after.metrics.enabled);
  note("metrics.host", before.metrics.host, after.metrics.host);
  note("metrics.prometheus_port", before.metrics.prometheus_port, after.metrics.prometheus_port);

  const DatabaseConfig& d0 = before.database;
  const DatabaseConfig& d1 = after.database;
  note("database.url", d0.url, d1.url);
  note("database.pool_size", d0.pool_size, d1.pool_size);
  note("database.max_idle_connections", d0.max_idle_connections, d1.max_idle_connections);
  note("database.connection_timeout_secs", d0.connection_timeout, d1.connection_timeout);
  note("database.statement_timeout_secs", d0.statement_timeout, d1.statement_timeout);
  note("database.schemas", d0.schemas, d1.schemas);
  note("database.schema_refresh_interval_secs", d0.schema_refresh_interval,
       d1.schema_refresh_interval);
  std::map<std::string, const NamedDatabaseConfig*> old_sources;
  for (const NamedDatabaseConfig& d : before.databases) old_sources[d.name] = &d;
  std::set<std::string> seen;
  for (const NamedDatabaseConfig& d : after.databases) {
    seen.insert(d.name);
    auto o = old_sources.find(d.name);
    if (o == old_sources.end() || o->second->url != d.url || o->second->schemas != d.schemas)
      changed.push_back("databases." + d.name);
  }
  for (const NamedDatabaseConfig& d : before.databases) {
    if (!seen.contains(d.name)) changed.push_back("databases." + d.name);
  }
  return changed;
}

std::vector<NamedDatabaseConfig> DataSources(const Config& config) {
  std::vector<NamedDatabaseConfig> out;
  if (!config.database.url.empty())
    out.push_back({"default", config.database.url, config.database.schemas});
  for (const NamedDatabaseConfig& d : config.databases) out.push_back(d);
  return out;
}

bool IsLoopbackHost(std::string_view host) {
  std::string h = text::ToLower(text::Trim(host));
  if (h == "localhost" || h == "::1" || h == "[::1]") return true;
  // 127.0.0.0/8: four dot-separated numbers 0..255, the first 127.
  std::vector<std::string> parts = text::Split(h, '.');
  if (parts.size() != 4 || parts[0] != "127") return false;
  return std::all_of(parts.begin(), parts.end(), [](const std::string& p) {
    int value = -1;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
    return !p.empty() && ec == std::errc() && end == p.data() + p.size() && value >= 0 &&
           value <= 255;
  });
}

std::string_view LlmProviderName(LlmProvider provider) { return NameOf(kProviderNames, provider); }
std::string_view Nl2SqlModeName(Nl2SqlMode mode) { return NameOf(kModeNames, mode); }
std::string_view LogLevelName(LogLevel level) { return NameOf(kLevelNames, level); }
std::string_view LogFormatName(LogFormat format) { return NameOf(kFormatNames, format); }

}  // namespace helios::config
