#include "config/config.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

namespace helios::config {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

const std::string kExamplePath = std::string(HELIOS_SOURCE_DIR) + "/config/conversational-bi.toml";

EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

Result<Config> Parse(std::string_view toml, const EnvLookup& env = Env({})) {
  return ParseConfig(toml, "test.toml", env);
}

// The error of a result that must have failed with kInvalidArgument.
std::string InvalidMessage(const Result<Config>& result) {
  EXPECT_FALSE(result.has_value());
  if (result.has_value()) return "";
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument) << result.error().message;
  return result.error().message;
}

// A fresh directory under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            (std::string("helios_config_test_") + info->name() + "_" +
             std::to_string(std::hash<std::thread::id>()(std::this_thread::get_id())));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& content) const {
    std::string file = (path_ / name).string();
    std::ofstream(file) << content;
    return file;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// ------------------------------------------------------------------------------------------
// The example file.

TEST(ExampleFileTest, LoadsAndValidates) {
  Result<Config> config = LoadConfigFile(kExamplePath, Env({}));
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->server.host, "127.0.0.1");
  EXPECT_EQ(config->server.port, 8080);
  EXPECT_EQ(config->database.url, "sqlite://demo.db");
  EXPECT_EQ(config->database.pool_size, 50);
  EXPECT_EQ(config->logging.output, "stdout");
  EXPECT_EQ(config->production.rate_limiting.queries_per_minute, 100);
  EXPECT_DOUBLE_EQ(config->production.rate_limiting.token_bucket_refill_rate, 1.67);
  EXPECT_EQ(config->production.circuit_breaker.half_open_max_calls, 3);
  EXPECT_TRUE(Validate(*config).has_value());
}

TEST(ExampleFileTest, MentionsEveryKey) {
  std::ifstream in(kExamplePath);
  ASSERT_TRUE(in) << kExamplePath;
  std::stringstream text;
  text << in.rdbuf();
  // Each table header, then the keys set in it (base_url is optional and shown commented out).
  const std::map<std::string, std::vector<std::string>> tables = {
      {"server",
       {"host", "port", "workers", "max_result_rows", "max_request_body_bytes",
        "request_timeout_secs", "web_chat"}},
      {"llm",
       {"provider", "model", "api_key_env", "timeout_secs", "max_retries", "max_tokens",
        "temperature"}},
      {"nl2sql", {"mode", "confidence_threshold"}},
      {"production",
       {"enable_rate_limiting", "rate_limit_qpm", "burst_allowance", "enable_security_validation",
        "max_query_length", "max_context_size", "enable_performance_monitoring",
        "target_latency_ms", "enable_circuit_breaker", "circuit_breaker_threshold",
        "circuit_breaker_reset_timeout_secs"}},
      {"production.rate_limiting",
       {"enabled", "queries_per_minute", "burst_allowance", "token_bucket_refill_rate"}},
      {"production.security",
       {"enabled", "max_query_length", "max_context_size", "sql_injection_detection",
        "input_sanitization", "output_sanitization"}},
      {"production.performance",
       {"target_latency_ms", "max_latency_ms", "enable_monitoring", "slow_query_threshold_ms"}},
      {"production.circuit_breaker",
       {"enabled", "failure_threshold", "reset_timeout_secs", "half_open_max_calls"}},
      {"cache", {"enabled", "max_size", "similarity_threshold", "ttl_seconds"}},
      {"session",
       {"max_concurrent_sessions", "session_timeout_minutes", "cleanup_interval_minutes"}},
      {"logging", {"level", "format", "output"}},
      {"metrics", {"enabled", "prometheus_port"}},
      {"database",
       {"url", "pool_size", "max_idle_connections", "connection_timeout_secs",
        "statement_timeout_secs"}},
  };
  // Split the file into table bodies.
  std::map<std::string, std::string> bodies;
  std::string current;
  std::string line;
  std::istringstream lines(text.str());
  const std::regex header(R"(^\[([a-z_.0-9]+)\]\s*$)");
  while (std::getline(lines, line)) {
    std::smatch m;
    if (std::regex_match(line, m, header)) {
      current = m[1];
    } else {
      bodies[current] += line + "\n";
    }
  }
  for (const auto& [table, keys] : tables) {
    ASSERT_TRUE(bodies.contains(table)) << "missing [" << table << "]";
    for (const std::string& key : keys) {
      EXPECT_TRUE(std::regex_search(bodies[table], std::regex("(^|\n)" + key + " *=")))
          << "[" << table << "] " << key;
    }
  }
  EXPECT_THAT(bodies["llm"], HasSubstr("# base_url ="));
}

// ------------------------------------------------------------------------------------------
// Defaults.

TEST(DefaultsTest, BuiltInValues) {
  Result<Config> config = DefaultConfig(Env({}));
  ASSERT_TRUE(config.has_value()) << config.error().message;
  const Config& c = *config;
  EXPECT_EQ(c.server.host, "127.0.0.1");
  EXPECT_EQ(c.server.port, 8080);
  EXPECT_EQ(c.server.workers, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  EXPECT_EQ(c.server.max_result_rows, 1000);
  EXPECT_EQ(c.server.max_request_body_bytes, 1048576);
  EXPECT_EQ(c.server.request_timeout, 30s);
  EXPECT_TRUE(c.server.cors_allowed_origins.empty());
  EXPECT_TRUE(c.server.web_chat);
  EXPECT_EQ(c.server.web_root, "");
  EXPECT_EQ(c.llm.provider, LlmProvider::kNone);
  EXPECT_EQ(c.llm.model, "gpt-4");
  EXPECT_EQ(c.llm.api_key_env, "OPENAI_API_KEY");
  EXPECT_TRUE(c.llm.api_key.empty());
  EXPECT_EQ(c.llm.timeout, 30s);
  EXPECT_EQ(c.llm.max_retries, 3);
  EXPECT_EQ(c.llm.max_tokens, 500);
  EXPECT_DOUBLE_EQ(c.llm.temperature, 0.1);
  EXPECT_EQ(c.llm.base_url, "");
  EXPECT_EQ(c.nl2sql.mode, Nl2SqlMode::kAuto);
  EXPECT_DOUBLE_EQ(c.nl2sql.confidence_threshold, 0.6);
  EXPECT_TRUE(c.production.rate_limiting.enabled);
  EXPECT_EQ(c.production.rate_limiting.queries_per_minute, 100);
  EXPECT_EQ(c.production.rate_limiting.burst_allowance, 20);
  EXPECT_DOUBLE_EQ(c.production.rate_limiting.token_bucket_refill_rate, 100.0 / 60.0);
  EXPECT_TRUE(c.production.security.enabled);
  EXPECT_EQ(c.production.security.max_query_length, 10000);
  EXPECT_EQ(c.production.security.max_context_size, 1000000);
  EXPECT_TRUE(c.production.security.sql_injection_detection);
  EXPECT_EQ(c.production.performance.target_latency, 200ms);
  EXPECT_EQ(c.production.performance.max_latency, 500ms);
  EXPECT_EQ(c.production.performance.slow_query_threshold, 300ms);
  EXPECT_TRUE(c.production.circuit_breaker.enabled);
  EXPECT_EQ(c.production.circuit_breaker.failure_threshold, 5);
  EXPECT_EQ(c.production.circuit_breaker.reset_timeout, 60s);
  EXPECT_EQ(c.production.circuit_breaker.half_open_max_calls, 3);
  EXPECT_TRUE(c.cache.enabled);
  EXPECT_EQ(c.cache.max_size, 10000);
  EXPECT_DOUBLE_EQ(c.cache.similarity_threshold, 0.85);
  EXPECT_EQ(c.cache.ttl, 3600s);
  EXPECT_EQ(c.session.max_concurrent_sessions, 10000);
  EXPECT_EQ(c.session.session_timeout, 30min);
  EXPECT_EQ(c.session.cleanup_interval, 5min);
  EXPECT_EQ(c.logging.level, LogLevel::kInfo);
  EXPECT_EQ(c.logging.format, LogFormat::kJson);
  EXPECT_EQ(c.logging.output, "stdout");
  EXPECT_TRUE(c.metrics.enabled);
  EXPECT_EQ(c.metrics.prometheus_port, 9090);
  EXPECT_EQ(c.database.url, "");
  EXPECT_EQ(c.database.pool_size, 8);
  EXPECT_EQ(c.database.max_idle_connections, 8);
  EXPECT_EQ(c.database.connection_timeout, 30s);
  EXPECT_EQ(c.database.statement_timeout, 10s);
  EXPECT_EQ(c.redis_url, "");
  EXPECT_TRUE(c.jwt_secret.empty());
}

TEST(DefaultsTest, EmptyFileGivesDefaults) {
  Result<Config> config = Parse("");
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->server.port, 8080);
  EXPECT_EQ(config->database.max_idle_connections, 8);
}

// ------------------------------------------------------------------------------------------
// Each section's keys land in the struct.

TEST(SectionsTest, Server) {
  Result<Config> c = Parse(
      "[server]\n"
      "host = \"0.0.0.0\"\n"
      "port = 0\n"
      "workers = 7\n"
      "max_result_rows = 25\n"
      "max_request_body_bytes = 2048\n"
      "request_timeout_secs = 9\n"
      "web_chat = false\n"
      "web_root = \"/srv/web\"\n");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_FALSE(c->server.web_chat);
  EXPECT_EQ(c->server.web_root, "/srv/web");
  EXPECT_EQ(c->server.host, "0.0.0.0");
  EXPECT_EQ(c->server.port, 0);
  EXPECT_EQ(c->server.workers, 7);
  EXPECT_EQ(c->server.max_result_rows, 25);
  EXPECT_EQ(c->server.max_request_body_bytes, 2048);
  EXPECT_EQ(c->server.request_timeout, 9s);
}

TEST(SectionsTest, LlmAndNl2Sql) {
  Result<Config> c = Parse(
      "[llm]\n"
      "provider = \"openai-compatible\"\n"
      "model = \"llama3\"\n"
      "api_key_env = \"MY_KEY\"\n"
      "timeout_secs = 12\n"
      "max_retries = 0\n"
      "max_tokens = 64\n"
      "temperature = 2\n"
      "base_url = \"http://localhost:8000/v1\"\n"
      "[nl2sql]\n"
      "mode = \"llm\"\n"
      "confidence_threshold = 1.0\n");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->llm.provider, LlmProvider::kOpenAiCompatible);
  EXPECT_EQ(c->llm.model, "llama3");
  EXPECT_EQ(c->llm.api_key_env, "MY_KEY");
  EXPECT_EQ(c->llm.timeout, 12s);
  EXPECT_EQ(c->llm.max_retries, 0);
  EXPECT_EQ(c->llm.max_tokens, 64);
  EXPECT_DOUBLE_EQ(c->llm.temperature, 2.0);  // an integer is accepted for a number
  EXPECT_EQ(c->llm.base_url, "http://localhost:8000/v1");
  EXPECT_EQ(c->nl2sql.mode, Nl2SqlMode::kLlm);
  EXPECT_DOUBLE_EQ(c->nl2sql.confidence_threshold, 1.0);
}

TEST(SectionsTest, EnumValuesAreCaseInsensitive) {
  Result<Config> c = Parse(
      "[llm]\nprovider = \"Anthropic\"\n[nl2sql]\nmode = \"ENGINE\"\n"
      "[logging]\nlevel = \"Warn\"\nformat = \"TEXT\"\n");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->llm.provider, LlmProvider::kAnthropic);
  EXPECT_EQ(c->nl2sql.mode, Nl2SqlMode::kEngine);
  EXPECT_EQ(c->logging.level, LogLevel::kWarn);
  EXPECT_EQ(c->logging.format, LogFormat::kText);
}

TEST(SectionsTest, ProductionNested) {
  Result<Config> c = Parse(
      "[production.rate_limiting]\n"
      "enabled = false\n"
      "queries_per_minute = 120\n"
      "burst_allowance = 7\n"
      "token_bucket_refill_rate = 3.5\n"
      "[production.security]\n"
      "enabled = false\n"
      "max_query_length = 500\n"
      "max_context_size = 9000\n"
      "sql_injection_detection = false\n"
      "input_sanitization = false\n"
      "output_sanitization = false\n"
      "[production.performance]\n"
      "target_latency_ms = 150\n"
      "max_latency_ms = 900\n"
      "enable_monitoring = false\n"
      "slow_query_threshold_ms = 450\n"
      "[production.circuit_breaker]\n"
      "enabled = false\n"
      "failure_threshold = 9\n"
      "reset_timeout_secs = 15\n"
      "half_open_max_calls = 2\n");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  const ProductionConfig& p = c->production;
  EXPECT_FALSE(p.rate_limiting.enabled);
  EXPECT_EQ(p.rate_limiting.queries_per_minute, 120);
  EXPECT_EQ(p.rate_limiting.burst_allowance, 7);
  EXPECT_DOUBLE_EQ(p.rate_limiting.token_bucket_refill_rate, 3.5);
  EXPECT_FALSE(p.security.enabled);
  EXPECT_EQ(p.security.max_query_length, 500);
  EXPECT_EQ(p.security.max_context_size, 9000);
  EXPECT_FALSE(p.security.sql_injection_detection);
  EXPECT_FALSE(p.security.input_sanitization);
  EXPECT_FALSE(p.security.output_sanitization);
  EXPECT_EQ(p.performance.target_latency, 150ms);
  EXPECT_EQ(p.performance.max_latency, 900ms);
  EXPECT_FALSE(p.performance.enable_monitoring);
  EXPECT_EQ(p.performance.slow_query_threshold, 450ms);
  EXPECT_FALSE(p.circuit_breaker.enabled);
  EXPECT_EQ(p.circuit_breaker.failure_threshold, 9);
  EXPECT_EQ(p.circuit_breaker.reset_timeout, 15s);
  EXPECT_EQ(p.circuit_breaker.half_open_max_calls, 2);
}

TEST(SectionsTest, ProductionFlatKeysLandInTheSameFields) {
  Result<Config> c = Parse(
      "[production]\n"
      "enable_rate_limiting = false\n"
      "rate_limit_qpm = 240\n"
      "burst_allowance = 11\n"
      "enable_security_validation = false\n"
      "max_query_length = 600\n"
      "max_context_size = 7000\n"
      "enable_performance_monitoring = false\n"
      "target_latency_ms = 120\n"
      "enable_circuit_breaker = false\n"
      "circuit_breaker_threshold = 8\n"
      "circuit_breaker_reset_timeout_secs = 45\n");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  const ProductionConfig& p = c->production;
  EXPECT_FALSE(p.rate_limiting.enabled);
  EXPECT_EQ(p.rate_limiting.queries_per_minute, 240);
  EXPECT_EQ(p.rate_limiting.burst_allowance, 11);
  EXPECT_DOUBLE_EQ(p.rate_limiting.token_bucket_refill_rate, 4.0);  // 240 / 60
  EXPECT_FALSE(p.security.enabled);
  EXPECT_EQ(p.security.max_query_length, 600);
  EXPECT_EQ(p.security.max_context_size, 7000);
  EXPECT_FALSE(p.performance.enable_monitoring);
  EXPECT_EQ(p.performance.target_latency, 120ms);
  EXPECT_FALSE(p.circuit_breaker.enabled);
  EXPECT_EQ(p.circuit_breaker.failure_threshold, 8);
  EXPECT_EQ(p.circuit_breaker.reset_timeout, 45s);
}

TEST(SectionsTest, ProductionBothSpellingsAgreeing) {
  Result<Config> c = Parse(
      "[production]\nrate_limit_qpm = 90\nenable_circuit_breaker = false\n"
      "[production.rate_limiting]\nqueries_per_minute = 90\n"
      "[production.circuit_breaker]\nenabled = false\n");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->production.rate_limiting.queries_per_minute, 90);
  EXPECT_DOUBLE_EQ(c->production.rate_limiting.token_bucket_refill_rate, 1.5);
  EXPECT_FALSE(c->production.circuit_breaker.enabled);
}

TEST(SectionsTest, RefillRateFollowsNestedQpmWhenNotGiven) {
  Result<Config> c = Parse("[production.rate_limiting]\nqueries_per_minute = 30\n");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_DOUBLE_EQ(c->production.rate_limiting.token_bucket_refill_rate, 0.5);
}

TEST(SectionsTest, CacheSessionLoggingMetrics) {
  Result<Config> c = Parse(
      "[cache]\nenabled = false\nmax_size = 50\nsimilarity_threshold = 0.5\nttl_seconds = 60\n"
      "[session]\nmax_concurrent_sessions = 3\nsession_timeout_minutes = 10\n"
      "cleanup_interval_minutes = 2\n"
      "[logging]\nlevel = \"debug\"\nformat = \"text\"\noutput = \"/var/log/helios.log\"\n"
      "[metrics]\nenabled = false\nprometheus_port = 8080\n");  // same as server: disabled
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_FALSE(c->cache.enabled);
  EXPECT_EQ(c->cache.max_size, 50);
  EXPECT_DOUBLE_EQ(c->cache.similarity_threshold, 0.5);
  EXPECT_EQ(c->cache.ttl, 60s);
  EXPECT_EQ(c->session.max_concurrent_sessions, 3);
  EXPECT_EQ(c->session.session_timeout, 10min);
  EXPECT_EQ(c->session.cleanup_interval, 2min);
  EXPECT_EQ(c->logging.level, LogLevel::kDebug);
  EXPECT_EQ(c->logging.format, LogFormat::kText);
  EXPECT_EQ(c->logging.output, "/var/log/helios.log");
  EXPECT_FALSE(c->metrics.enabled);
  EXPECT_EQ(c->metrics.prometheus_port, 8080);
}

TEST(SectionsTest, Database) {
  Result<Config> c = Parse(
      "[database]\n"
      "url = \"postgres://app@db:5432/sales\"\n"
      "pool_size = 20\n"
      "max_idle_connections = 0\n"
      "connection_timeout_secs = 5\n"
      "statement_timeout_secs = 3\n");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->database.url, "postgres://app@db:5432/sales");
  EXPECT_EQ(c->database.pool_size, 20);
  EXPECT_EQ(c->database.max_idle_connections, 0);
  EXPECT_EQ(c->database.connection_timeout, 5s);
  EXPECT_EQ(c->database.statement_timeout, 3s);
}

TEST(SectionsTest, DatabaseUrlFormsTheDatabaseLayerOpens) {
  for (const char* url :
       {"sqlite:///abs/demo.db", "sqlite:demo.db", "demo.db", "SQLite://x.db",
        "postgresql://u@h/db", "postgresql+psycopg://h/db", "mysql://h/db", "mariadb://h/db"}) {
    Result<Config> c = Parse(std::string("[database]\nurl = \"") + url + "\"\n");
    EXPECT_TRUE(c.has_value()) << url << ": " << c.error().message;
  }
}

TEST(SectionsTest, NamedDatabasesKeepTheFileOrderAfterTheDefault) {
  Result<Config> c = Parse(
      "[database]\nurl = \"sqlite:demo.db\"\nschemas = [\"sales\", \"public\"]\n"
      "schema_refresh_interval_secs = 600\n"
      "[databases.zeta]\nurl = \"postgresql://u@h/z\"\n"
      "[databases.alpha]\nurl = \"mysql://u@h/a\"\nschemas = []\n");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->database.schemas, (std::vector<std::string>{"sales", "public"}));
  EXPECT_EQ(c->database.schema_refresh_interval, 600s);
  std::vector<NamedDatabaseConfig> sources = DataSources(*c);
  ASSERT_EQ(sources.size(), 3u);
  EXPECT_EQ(sources[0].name, "default");
  EXPECT_EQ(sources[0].schemas, c->database.schemas);
  EXPECT_EQ(sources[1].name, "zeta");  // the file's order, not the alphabet's
  EXPECT_EQ(sources[2].name, "alpha");
  EXPECT_EQ(sources[2].url, "mysql://u@h/a");

  // Without [database] url the first named source is the default.
  Result<Config> named =
      Parse("[databases.b]\nurl = \"sqlite:b.db\"\n[databases.a]\nurl = \"sqlite:a.db\"\n");
  ASSERT_TRUE(named.has_value()) << named.error().message;
  EXPECT_EQ(DataSources(*named).front().name, "b");
}

TEST(SectionsTest, NamedDatabaseMistakesAreNamed) {
  EXPECT_THAT(InvalidMessage(Parse("[databases.w]\nschemas = [\"x\"]\n")),
              HasSubstr("[databases.w] url: is required"));
  EXPECT_THAT(InvalidMessage(Parse("[database]\nurl = \"sqlite:a.db\"\n"
                                   "[databases.default]\nurl = \"sqlite:b.db\"\n")),
              HasSubstr("already taken by [database] url"));
  EXPECT_THAT(InvalidMessage(Parse("[databases.\"bad name\"]\nurl = \"sqlite:b.db\"\n")),
              HasSubstr("letters, digits"));
  EXPECT_THAT(InvalidMessage(Parse("[databases.w]\nurl = \"oracle://h/db\"\n")),
              HasSubstr("[databases.w] url: unsupported scheme"));
  EXPECT_THAT(InvalidMessage(Parse("[databases.w]\nurl = \"sqlite:b.db\"\npool = 3\n")),
              HasSubstr("unknown key 'pool' in [databases.w]"));
  EXPECT_THAT(InvalidMessage(Parse("[database]\nschemas = \"public\"\n")),
              HasSubstr("must be an array of strings"));
  EXPECT_THAT(InvalidMessage(Parse("[database]\nschemas = [1]\n")),
              HasSubstr("must be an array of strings"));
  EXPECT_THAT(InvalidMessage(Parse("[database]\nschema_refresh_interval_secs = -1\n")),
              HasSubstr("schema_refresh_interval_secs"));
  EXPECT_THAT(InvalidMessage(Parse("databases = 3\n")), HasSubstr("must be a table"));
}

TEST(SectionsTest, MaxIdleDefaultsToPoolSize) {
  Result<Config> c = Parse("[database]\npool_size = 3\n");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->database.max_idle_connections, 3);
}

TEST(SectionsTest, DottedKeysAndInlineTables) {
  Result<Config> c = Parse("server.port = 9000\nlogging = { level = \"error\" }\n");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->server.port, 9000);
  EXPECT_EQ(c->logging.level, LogLevel::kError);
}

// ------------------------------------------------------------------------------------------
// Errors in the file.

TEST(FileErrorsTest, UnknownKeySuggestsNearest) {
  std::string message = InvalidMessage(Parse("[server]\nhost = \"::1\"\nprot = 80\n"));
  EXPECT_EQ(message, "test.toml:3: unknown key 'prot' in [server]; did you mean 'port'?");
}

TEST(FileErrorsTest, UnknownKeyWithoutCloseMatch) {
  std::string message = InvalidMessage(Parse("[cache]\ncolour = \"blue\"\n"));
  EXPECT_EQ(message, "test.toml:2: unknown key 'colour' in [cache]");
}

TEST(FileErrorsTest, UnknownTablesAndTopLevelKeys) {
  std::string message = InvalidMessage(
      Parse("verbose = true\n[servr]\nport = 1\n[production.ratelimiting]\nenabled = true\n"));
  EXPECT_THAT(message, HasSubstr("test.toml:1: unknown key 'verbose' at the top level"));
  EXPECT_THAT(message, HasSubstr("test.toml:2: unknown table [servr]; did you mean [server]?"));
  EXPECT_THAT(message, HasSubstr("test.toml:4: unknown table [production.ratelimiting]; did you "
                                 "mean [production.rate_limiting]?"));
  // All three are reported at once, one per line.
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 2);
}

TEST(FileErrorsTest, UnknownKeyInNestedTable) {
  std::string message =
      InvalidMessage(Parse("[production.circuit_breaker]\n\nfailure_treshold = 3\n"));
  EXPECT_EQ(message,
            "test.toml:3: unknown key 'failure_treshold' in [production.circuit_breaker]; did "
            "you mean 'failure_threshold'?");
}

TEST(FileErrorsTest, WrongTypes) {
  EXPECT_EQ(InvalidMessage(Parse("[server]\nport = \"8080\"\n")),
            "test.toml:2: [server] port: must be an integer, got a string");
  EXPECT_EQ(InvalidMessage(Parse("[cache]\nenabled = \"yes\"\n")),
            "test.toml:2: [cache] enabled: must be a boolean (true or false), got a string");
  EXPECT_EQ(InvalidMessage(Parse("[llm]\ntemperature = \"hot\"\n")),
            "test.toml:2: [llm] temperature: must be a number, got a string");
  EXPECT_EQ(InvalidMessage(Parse("[database]\nurl = 5\n")),
            "test.toml:2: [database] url: must be a string, got an integer");
  EXPECT_EQ(InvalidMessage(Parse("[server]\nworkers = 2.5\n")),
            "test.toml:2: [server] workers: must be an integer, got a floating-point number");
  EXPECT_EQ(InvalidMessage(Parse("server = 5\n")),
            "test.toml:1: [server] must be a table, got an integer");
  EXPECT_EQ(InvalidMessage(Parse("[[server]]\nport = 1\n")),
            "test.toml:1: [server] must be a table, got an array");
  EXPECT_EQ(InvalidMessage(Parse("[production]\nsecurity = true\n")),
            "test.toml:2: [production.security] must be a table, got a boolean");
}

TEST(FileErrorsTest, BadEnumValueListsTheChoices) {
  EXPECT_EQ(InvalidMessage(Parse("[llm]\nprovider = \"gpt\"\n")),
            "test.toml:2: [llm] provider: must be \"none\", \"openai\", \"anthropic\", "
            "\"cohere\", \"ollama\" or \"openai-compatible\", got \"gpt\"");
  EXPECT_EQ(InvalidMessage(Parse("\n[logging]\nlevel = \"verbose\"\n")),
            "test.toml:3: [logging] level: must be \"trace\", \"debug\", \"info\", \"warn\" or "
            "\"error\", got \"verbose\"");
  EXPECT_THAT(InvalidMessage(Parse("[nl2sql]\nmode = \"magic\"\n")),
              HasSubstr("test.toml:2: [nl2sql] mode: must be \"engine\", \"llm\" or \"auto\""));
  EXPECT_THAT(InvalidMessage(Parse("[logging]\nformat = \"xml\"\n")),
              HasSubstr("test.toml:2: [logging] format: must be \"json\" or \"text\""));
}

TEST(FileErrorsTest, OutOfRange) {
  EXPECT_EQ(InvalidMessage(Parse("[server]\nhost = \"localhost\"\nport = 70000\n")),
            "test.toml:3: [server] port: must be 0..65535, got 70000");
  EXPECT_EQ(InvalidMessage(Parse("[server]\nport = -1\n")),
            "test.toml:2: [server] port: must be 0..65535, got -1");
  EXPECT_EQ(InvalidMessage(Parse("[llm]\ntemperature = 2.5\n")),
            "test.toml:2: [llm] temperature: must be 0..2, got 2.5");
  EXPECT_EQ(InvalidMessage(Parse("[nl2sql]\nconfidence_threshold = -0.1\n")),
            "test.toml:2: [nl2sql] confidence_threshold: must be 0..1, got -0.1");
  EXPECT_EQ(InvalidMessage(Parse("[cache]\nsimilarity_threshold = nan\n")),
            "test.toml:2: [cache] similarity_threshold: must be 0..1, got nan");
  EXPECT_EQ(InvalidMessage(Parse("[database]\npool_size = 0\n")),
            "test.toml:2: [database] pool_size: must be 1..1000, got 0");
  EXPECT_EQ(InvalidMessage(Parse("[session]\nmax_concurrent_sessions = 0\n")),
            "test.toml:2: [session] max_concurrent_sessions: must be positive, got 0");
  EXPECT_EQ(InvalidMessage(Parse("[llm]\nmax_retries = -1\n")),
            "test.toml:2: [llm] max_retries: must be 0..100, got -1");
  EXPECT_EQ(InvalidMessage(Parse("[production.rate_limiting]\ntoken_bucket_refill_rate = 0\n")),
            "test.toml:2: [production.rate_limiting] token_bucket_refill_rate: must be positive, "
            "got 0");
  EXPECT_EQ(InvalidMessage(Parse("[server]\nworkers = 0\n")),
            "test.toml:2: [server] workers: must be 1..4096, got 0");
}

TEST(FileErrorsTest, IntegerTooLargeForTheField) {
  EXPECT_EQ(InvalidMessage(Parse("[server]\nport = 99999999999\n")),
            "test.toml:2: [server] port: out of range, got 99999999999");
}

TEST(FileErrorsTest, RangeErrorUsesTheFlatSpellingWhenThatWasWritten) {
  EXPECT_EQ(InvalidMessage(Parse("[production]\n\nrate_limit_qpm = 0\n")),
            "test.toml:3: [production] rate_limit_qpm: must be positive, got 0");
}

TEST(FileErrorsTest, ConflictingFlatAndNestedValuesNameBoth) {
  std::string message =
      InvalidMessage(Parse("[production]\nrate_limit_qpm = 100\n[production.rate_limiting]\n"
                           "queries_per_minute = 120\n"));
  EXPECT_EQ(message,
            "test.toml:2: [production] rate_limit_qpm = 100 conflicts with "
            "[production.rate_limiting] queries_per_minute = 120 (test.toml:4); give the setting "
            "once");
}

TEST(FileErrorsTest, ConflictingBooleans) {
  std::string message =
      InvalidMessage(Parse("[production]\nenable_security_validation = true\n"
                           "[production.security]\nenabled = false\n"));
  EXPECT_THAT(message, AllOf(HasSubstr("test.toml:2: [production] enable_security_validation = "
                                       "true"),
                             HasSubstr("[production.security] enabled = false (test.toml:4)")));
}

TEST(FileErrorsTest, CrossFieldRules) {
  EXPECT_EQ(InvalidMessage(Parse("[database]\npool_size = 4\nmax_idle_connections = 6\n")),
            "test.toml:3: [database] max_idle_connections: must not exceed pool_size (4), got 6");
  EXPECT_EQ(InvalidMessage(Parse("[nl2sql]\nmode = \"llm\"\n")),
            "test.toml:2: [nl2sql] mode: is \"llm\" but [llm] provider is \"none\": set a "
            "provider, or use \"engine\" or \"auto\"");
  EXPECT_EQ(InvalidMessage(Parse("[llm]\nprovider = \"openai-compatible\"\n")),
            "test.toml: [llm] base_url: is required when provider is \"openai-compatible\"");
  EXPECT_EQ(InvalidMessage(Parse("[metrics]\nprometheus_port = 8080\n")),
            "test.toml:2: [metrics] prometheus_port: must differ from [server] port (8080)");
  EXPECT_EQ(InvalidMessage(Parse("[production.performance]\nmax_latency_ms = 100\n")),
            "test.toml:2: [production.performance] max_latency_ms: must be at least "
            "target_latency_ms (200), got 100");
  EXPECT_EQ(InvalidMessage(Parse("[llm]\nprovider = \"openai\"\nmodel = \"  \"\n")),
            "test.toml:3: [llm] model: must not be empty when a provider is set");
  EXPECT_EQ(InvalidMessage(Parse("[llm]\nbase_url = \"ftp://x\"\n")),
            "test.toml:2: [llm] base_url: must start with http:// or https://");
  EXPECT_EQ(InvalidMessage(Parse("[llm]\napi_key_env = \"MY KEY\"\n")),
            "test.toml:2: [llm] api_key_env: must be an environment variable name (letters, "
            "digits, '_'), got \"MY KEY\"");
}

TEST(FileErrorsTest, DatabaseUrlIsCheckedWithoutEchoingIt) {
  EXPECT_EQ(InvalidMessage(Parse("[database]\nurl = \"  \"\n")),
            "test.toml:2: [database] url: must not be blank");
  EXPECT_EQ(InvalidMessage(Parse("[database]\nurl = \"oracle://u:hunter2@db/x\"\n")),
            "test.toml:2: [database] url: unsupported scheme \"oracle\": use sqlite://, "
            "postgres:// or mysql://");
  EXPECT_EQ(InvalidMessage(Parse("[database]\nurl = \"sqlite://\"\n")),
            "test.toml:2: [database] url: names no database after the scheme");
}

TEST(FileErrorsTest, AllProblemsAreReported) {
  std::string message =
      InvalidMessage(Parse("[server]\nport = 70000\nworkers = 0\n[cache]\nttl_seconds = 0\n"));
  EXPECT_EQ(message,
            "test.toml:2: [server] port: must be 0..65535, got 70000\n"
            "test.toml:3: [server] workers: must be 1..4096, got 0\n"
            "test.toml:5: [cache] ttl_seconds: must be 1..31536000, got 0");
}

TEST(FileErrorsTest, SyntaxErrorGivesLineAndColumn) {
  std::string message = InvalidMessage(Parse("[server]\nport = = 3\n"));
  EXPECT_THAT(message, ::testing::StartsWith("test.toml:2:"));
  EXPECT_THAT(message, ::testing::MatchesRegex("test\\.toml:2:[0-9]+: invalid TOML: .+"));
}

TEST(FileErrorsTest, DuplicateKeyIsASyntaxError) {
  std::string message = InvalidMessage(Parse("[server]\nport = 1\nport = 2\n"));
  EXPECT_THAT(message, ::testing::StartsWith("test.toml:3:"));
}

// ------------------------------------------------------------------------------------------
// Loading files.

TEST(LoadFileTest, MissingFileIsNotFoundWithThePathAsGiven) {
  Result<Config> config = LoadConfigFile("no/such/dir/helios.toml", Env({}));
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(config.error().message, "configuration file not found: no/such/dir/helios.toml");
}

TEST(LoadFileTest, DirectoryIsInvalid) {
  TempDir dir;
  Result<Config> config = LoadConfigFile(dir.path().string(), Env({}));
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(config.error().message, HasSubstr("is a directory"));
}

TEST(LoadFileTest, EmptyPathIsInvalid) {
  Result<Config> config = LoadConfigFile("", Env({}));
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error().code, ErrorCode::kInvalidArgument);
}

TEST(LoadFileTest, ErrorsNameTheFile) {
  TempDir dir;
  std::string path =
      dir.Write("conversational-bi.toml", "# comment\n[server]\nport = 8081\nprot = 1\n");
  Result<Config> config = LoadConfigFile(path, Env({}));
  EXPECT_EQ(InvalidMessage(config),
            path + ":4: unknown key 'prot' in [server]; did you mean 'port'?");
}

TEST(LoadFileTest, ReadsTheFileThenTheEnvironment) {
  TempDir dir;
  std::string path =
      dir.Write("c.toml", "[server]\nport = 8181\n[database]\nurl = \"sqlite://file.db\"\n");
  Result<Config> config = LoadConfigFile(path, Env({{"DATABASE_URL", "sqlite://env.db"}}));
  ASSERT_TRUE(config.has_value()) << config.error().message;
  EXPECT_EQ(config->server.port, 8181);
  EXPECT_EQ(config->database.url, "sqlite://env.db");
}

// ------------------------------------------------------------------------------------------
// The environment.

TEST(EnvironmentTest, Overrides) {
  Result<Config> c =
      Parse("[database]\nurl = \"sqlite://file.db\"\n",
            Env({{"DATABASE_URL", "postgres://app:pw@db/sales"},
                 {"REDIS_URL", "redis://cache:6379/0"},
                 {"JWT_SECRET", std::string(40, 'j')},
                 {"CORS_ALLOWED_ORIGINS", " https://a.example , http://b.example:3000,, "},
                 {"OPENAI_API_KEY", "sk-test-123"}}));
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->database.url, "postgres://app:pw@db/sales");
  EXPECT_EQ(c->redis_url, "redis://cache:6379/0");
  EXPECT_EQ(c->jwt_secret.Reveal(), std::string(40, 'j'));
  EXPECT_THAT(c->server.cors_allowed_origins,
              ElementsAre("https://a.example", "http://b.example:3000"));
  EXPECT_EQ(c->llm.api_key.Reveal(), "sk-test-123");
}

TEST(EnvironmentTest, ApiKeyComesFromTheConfiguredVariable) {
  Result<Config> c = Parse("[llm]\nprovider = \"anthropic\"\napi_key_env = \"CLAUDE_KEY\"\n",
                           Env({{"OPENAI_API_KEY", "wrong"}, {"CLAUDE_KEY", "right"}}));
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->llm.api_key.Reveal(), "right");
}

TEST(EnvironmentTest, EmptyValuesCountAsUnset) {
  Result<Config> c = Parse(
      "[database]\nurl = \"sqlite://file.db\"\n",
      Env({{"DATABASE_URL", ""}, {"HELIOSDB_WORKER_THREADS", ""}, {"TOKIO_WORKER_THREADS", "3"}}));
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->database.url, "sqlite://file.db");
  EXPECT_EQ(c->server.workers, 3);
}

TEST(EnvironmentTest, LogLevelOwnNameWinsOverAlias) {
  Result<Config> c = Parse("[logging]\nlevel = \"error\"\n",
                           Env({{"HELIOSDB_LOG_LEVEL", "DEBUG"}, {"RUST_LOG", "trace"}}));
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->logging.level, LogLevel::kDebug);
}

TEST(EnvironmentTest, AliasIgnoredWhenOwnNameSet) {
  Result<Config> c =
      Parse("", Env({{"HELIOSDB_LOG_LEVEL", "warn"}, {"RUST_LOG", "not a level at all"}}));
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->logging.level, LogLevel::kWarn);
}

TEST(EnvironmentTest, RustLogFilters) {
  auto level = [](const std::string& filter) -> std::optional<LogLevel> {
    Result<Config> c = Parse("", Env({{"RUST_LOG", filter}}));
    if (!c.has_value()) return std::nullopt;
    return c->logging.level;
  };
  EXPECT_EQ(level("trace"), LogLevel::kTrace);
  EXPECT_EQ(level(" Warn "), LogLevel::kWarn);
  EXPECT_EQ(level("heliosdb=debug,hyper=warn"), LogLevel::kDebug);
  EXPECT_EQ(level("hyper,heliosdb_server=error"), LogLevel::kError);
  EXPECT_EQ(level("info/some.*regex"), LogLevel::kInfo);
  EXPECT_EQ(level("nonsense"), std::nullopt);
}

TEST(EnvironmentTest, BadLogLevelsNameTheVariable) {
  EXPECT_EQ(InvalidMessage(Parse("", Env({{"RUST_LOG", "hyper=loud,tokio"}}))),
            "environment variable RUST_LOG: names no log level (\"trace\", \"debug\", \"info\", "
            "\"warn\" or \"error\"): \"hyper=loud,tokio\"");
  EXPECT_EQ(InvalidMessage(Parse("", Env({{"HELIOSDB_LOG_LEVEL", "heliosdb=debug"}}))),
            "environment variable HELIOSDB_LOG_LEVEL: must be \"trace\", \"debug\", \"info\", "
            "\"warn\" or \"error\", got \"heliosdb=debug\"");
}

TEST(EnvironmentTest, WorkerThreads) {
  Result<Config> own = Parse("[server]\nworkers = 2\n", Env({{"HELIOSDB_WORKER_THREADS", "6"}}));
  ASSERT_TRUE(own.has_value()) << own.error().message;
  EXPECT_EQ(own->server.workers, 6);

  Result<Config> alias = Parse("", Env({{"TOKIO_WORKER_THREADS", "3"}}));
  ASSERT_TRUE(alias.has_value()) << alias.error().message;
  EXPECT_EQ(alias->server.workers, 3);

  Result<Config> both =
      Parse("", Env({{"HELIOSDB_WORKER_THREADS", "5"}, {"TOKIO_WORKER_THREADS", "9"}}));
  ASSERT_TRUE(both.has_value()) << both.error().message;
  EXPECT_EQ(both->server.workers, 5);
}

TEST(EnvironmentTest, BadWorkerThreadsNameTheVariable) {
  for (const char* bad : {"abc", "0", "-2", "4x", "1.5", "99999999999"}) {
    EXPECT_EQ(InvalidMessage(Parse("", Env({{"HELIOSDB_WORKER_THREADS", bad}}))),
              std::string("environment variable HELIOSDB_WORKER_THREADS: must be a positive "
                          "integer, got \"") +
                  bad + "\"")
        << bad;
  }
  EXPECT_EQ(InvalidMessage(Parse("", Env({{"TOKIO_WORKER_THREADS", "none"}}))),
            "environment variable TOKIO_WORKER_THREADS: must be a positive integer, got \"none\"");
  // Our name wins even when it is the bad one.
  EXPECT_THAT(InvalidMessage(Parse(
                  "", Env({{"HELIOSDB_WORKER_THREADS", "x"}, {"TOKIO_WORKER_THREADS", "4"}}))),
              HasSubstr("HELIOSDB_WORKER_THREADS"));
}

TEST(EnvironmentTest, EnvironmentValuesAreValidatedLikeFileValues) {
  EXPECT_EQ(InvalidMessage(Parse("", Env({{"HELIOSDB_WORKER_THREADS", "5000"}}))),
            "environment variable HELIOSDB_WORKER_THREADS: [server] workers: must be 1..4096, "
            "got 5000");
  std::string db = InvalidMessage(Parse("", Env({{"DATABASE_URL", "oracle://u:hunter2@h/db"}})));
  EXPECT_EQ(db,
            "environment variable DATABASE_URL: [database] url: unsupported scheme \"oracle\": "
            "use sqlite://, postgres:// or mysql://");
  EXPECT_EQ(InvalidMessage(Parse("", Env({{"REDIS_URL", "http://cache"}}))),
            "environment variable REDIS_URL: redis_url: must start with redis:// or rediss://");
  EXPECT_EQ(InvalidMessage(Parse("", Env({{"CORS_ALLOWED_ORIGINS", "https://ok.example,evil"}}))),
            "environment variable CORS_ALLOWED_ORIGINS: [server] cors_allowed_origins: \"evil\" "
            "is not an origin: use http(s)://host[:port], no path");
  std::string jwt = InvalidMessage(Parse("", Env({{"JWT_SECRET", "short-secret"}})));
  EXPECT_EQ(jwt,
            "environment variable JWT_SECRET: jwt_secret: must be at least 32 bytes long, got 12");
}

TEST(EnvironmentTest, EnvironmentOverridesDefaultsToo) {
  Result<Config> c =
      DefaultConfig(Env({{"DATABASE_URL", "sqlite://x.db"}, {"HELIOSDB_LOG_LEVEL", "trace"}}));
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->database.url, "sqlite://x.db");
  EXPECT_EQ(c->logging.level, LogLevel::kTrace);
  EXPECT_EQ(InvalidMessage(DefaultConfig(Env({{"TOKIO_WORKER_THREADS", "0"}}))),
            "environment variable TOKIO_WORKER_THREADS: must be a positive integer, got \"0\"");
}

TEST(EnvironmentTest, ProcessEnvironmentReadsRealVariables) {
  EnvLookup env = ProcessEnvironment();
  ASSERT_EQ(setenv("HELIOS_CONFIG_TEST_VARIABLE", "value-1", 1), 0);
  EXPECT_EQ(env("HELIOS_CONFIG_TEST_VARIABLE"), "value-1");
  ASSERT_EQ(unsetenv("HELIOS_CONFIG_TEST_VARIABLE"), 0);
  EXPECT_EQ(env("HELIOS_CONFIG_TEST_VARIABLE"), std::nullopt);
}

// ------------------------------------------------------------------------------------------
// Command-line overrides: the caller assigns fields, then validates again.

TEST(ValidateTest, AfterCommandLineOverrides) {
  Result<Config> c = DefaultConfig(Env({}));
  ASSERT_TRUE(c.has_value());
  Config config = *c;
  config.server.port = 70000;
  Result<void> bad = Validate(config);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message, "[server] port: must be 0..65535, got 70000");

  config.server.port = 0;
  config.server.host = "0.0.0.0";
  config.database.url = "mysql://db/sales";
  EXPECT_TRUE(Validate(config).has_value());

  config.database.url = "ftp://files/sales.db";
  EXPECT_EQ(Validate(config).error().message,
            "[database] url: unsupported scheme \"ftp\": use sqlite://, postgres:// or mysql://");
  config.database.url = "sqlite://sales.db";
  config.server.host = "";
  EXPECT_EQ(Validate(config).error().message, "[server] host: must not be empty");
}

// ------------------------------------------------------------------------------------------
// Secrets.

TEST(RedactedSummaryTest, NeverShowsSecrets) {
  Result<Config> c =
      Parse("[llm]\nprovider = \"openai\"\n",
            Env({{"OPENAI_API_KEY", "sk-very-secret-key"},
                 {"JWT_SECRET", "jwt-secret-that-is-long-enough-0123456789"},
                 {"DATABASE_URL", "postgres://app:dbpass99@db:5432/sales?sslpassword=sslpw77"},
                 {"REDIS_URL", "redis://:redispw42@cache:6379/0"}}));
  ASSERT_TRUE(c.has_value()) << c.error().message;
  std::string summary = RedactedSummary(*c);
  for (const char* secret : {"sk-very-secret-key", "jwt-secret-that-is-long-enough", "dbpass99",
                             "sslpw77", "redispw42"}) {
    EXPECT_THAT(summary, Not(HasSubstr(secret))) << secret;
  }
  EXPECT_THAT(summary, HasSubstr("api_key = (set)\n"));
  EXPECT_THAT(summary, HasSubstr("jwt_secret = (set)\n"));
  EXPECT_THAT(summary, HasSubstr("url = \"postgres://app:***@db:5432/sales?sslpassword=***\"\n"));
  EXPECT_THAT(summary, HasSubstr("redis_url = \"redis://:***@cache:6379/0\"\n"));
  EXPECT_THAT(summary, HasSubstr("provider = \"openai\"\n"));
  EXPECT_THAT(summary, HasSubstr("[production.rate_limiting]\n"));
  EXPECT_THAT(summary, HasSubstr("queries_per_minute = 100\n"));
}

TEST(RedactedSummaryTest, UnsetSecrets) {
  Result<Config> c = DefaultConfig(Env({}));
  ASSERT_TRUE(c.has_value());
  std::string summary = RedactedSummary(*c);
  EXPECT_THAT(summary, HasSubstr("api_key = (not set)\n"));
  EXPECT_THAT(summary, HasSubstr("jwt_secret = (not set)\n"));
  EXPECT_THAT(summary, HasSubstr("redis_url = (not set)\n"));
  EXPECT_THAT(summary, HasSubstr("host = \"127.0.0.1\"\nport = 8080\n"));
}

TEST(RedactedSummaryTest, ErrorsNeverEchoSecrets) {
  std::string message =
      InvalidMessage(Parse("", Env({{"JWT_SECRET", "tiny-jwt"}, {"REDIS_URL", "x:pw123@h"}})));
  EXPECT_THAT(message, Not(HasSubstr("tiny-jwt")));
  EXPECT_THAT(message, Not(HasSubstr("pw123")));
}

TEST(RedactUrlTest, Cases) {
  EXPECT_EQ(RedactUrl("sqlite://demo.db"), "sqlite://demo.db");
  EXPECT_EQ(RedactUrl("postgres://u:p@h/db"), "postgres://u:***@h/db");
  EXPECT_EQ(RedactUrl("postgres://u@h/db"), "postgres://u@h/db");
  EXPECT_EQ(RedactUrl("mysql://u:p@ss@h:3306/db"), "mysql://u:***@h:3306/db");
  EXPECT_EQ(RedactUrl("postgres://h/db?user=u&password=p#frag"),
            "postgres://h/db?user=u&password=***#frag");
  EXPECT_EQ(RedactUrl("https://api.example/v1?api_key=k&x=1"),
            "https://api.example/v1?api_key=***&x=1");
  EXPECT_EQ(RedactUrl("u:p@h"), "u:***@h");
  EXPECT_EQ(RedactUrl(""), "");
}

TEST(NamesTest, SpellingsRoundTrip) {
  EXPECT_EQ(LlmProviderName(LlmProvider::kOpenAiCompatible), "openai-compatible");
  EXPECT_EQ(LlmProviderName(LlmProvider::kOllama), "ollama");
  EXPECT_EQ(Nl2SqlModeName(Nl2SqlMode::kAuto), "auto");
  EXPECT_EQ(LogLevelName(LogLevel::kWarn), "warn");
  EXPECT_EQ(LogFormatName(LogFormat::kText), "text");
  for (LlmProvider p : {LlmProvider::kNone, LlmProvider::kOpenAi, LlmProvider::kAnthropic,
                        LlmProvider::kCohere, LlmProvider::kOllama}) {
    Result<Config> c = Parse("[llm]\nprovider = \"" + std::string(LlmProviderName(p)) + "\"\n");
    ASSERT_TRUE(c.has_value()) << c.error().message;
    EXPECT_EQ(c->llm.provider, p);
  }
}

TEST(AuthConfigTest, DefaultsAreOnWithAUsersFile) {
  Result<Config> c = Parse("");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_TRUE(c->auth.enabled);
  EXPECT_EQ(c->auth.users_file, "users.json");
  EXPECT_EQ(c->auth.token_ttl, 60min);
  EXPECT_EQ(c->auth.login_failures_per_user_per_minute, 5);
}

TEST(AuthConfigTest, ReadsTheAuthTable) {
  Result<Config> c = Parse(
      "[auth]\nusers_file = \"/etc/heliosdb/users.json\"\ntoken_ttl_minutes = 15\n"
      "issuer = \"bi\"\nlogin_failures_per_user_per_minute = 3\n"
      "login_failures_per_address_per_minute = 30\n");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->auth.users_file, "/etc/heliosdb/users.json");
  EXPECT_EQ(c->auth.token_ttl, 15min);
  EXPECT_EQ(c->auth.issuer, "bi");
  EXPECT_EQ(c->auth.login_failures_per_user_per_minute, 3);
  EXPECT_EQ(c->auth.login_failures_per_address_per_minute, 30);
}

TEST(AuthConfigTest, OffIsAllowedOnlyOnLoopback) {
  for (const char* host : {"127.0.0.1", "localhost", "::1", "127.1.2.3"}) {
    Result<Config> c =
        Parse(fmt::format("[server]\nhost = \"{}\"\n[auth]\nenabled = false\n", host));
    EXPECT_TRUE(c.has_value()) << host << ": " << c.error().message;
  }
  for (const char* host : {"0.0.0.0", "10.0.0.5", "example.com", "127.0.0.256", "::"}) {
    std::string message = InvalidMessage(
        Parse(fmt::format("[server]\nhost = \"{}\"\n[auth]\nenabled = false\n", host)));
    EXPECT_THAT(message, HasSubstr("[auth] enabled: may be false only when [server] host is a "
                                   "loopback address"))
        << host;
  }
  // A command-line host applied after loading is caught by Validate().
  Result<Config> c = Parse("[auth]\nenabled = false\n");
  ASSERT_TRUE(c.has_value());
  c->server.host = "0.0.0.0";
  ASSERT_FALSE(Validate(*c).has_value());
  EXPECT_THAT(Validate(*c).error().message, HasSubstr("[auth] enabled: may be false only"));
}

TEST(AuthConfigTest, BadValuesNameTheirLine) {
  EXPECT_EQ(InvalidMessage(Parse("[auth]\ntoken_ttl_minutes = 0\n")),
            "test.toml:2: [auth] token_ttl_minutes: must be 1..525600, got 0");
  EXPECT_THAT(InvalidMessage(Parse("[auth]\nusers_fil = \"x\"\n")),
              HasSubstr("unknown key 'users_fil' in [auth]; did you mean 'users_file'?"));
}

TEST(AuthConfigTest, IsLoopbackHost) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("LOCALHOST"));
  EXPECT_TRUE(IsLoopbackHost("[::1]"));
  EXPECT_FALSE(IsLoopbackHost("127.0.0"));
  EXPECT_FALSE(IsLoopbackHost("127.0.0.1.example.com"));
  EXPECT_FALSE(IsLoopbackHost("localhost.example.com"));
  EXPECT_FALSE(IsLoopbackHost(""));
}

TEST(RateLimitConfigTest, PerTenantOverridesInheritWhatTheyLeaveOut) {
  Result<Config> c = Parse(
      "[production.rate_limiting]\nqueries_per_minute = 100\nburst_allowance = 20\n"
      "[production.rate_limiting.tenants.zeta]\nqueries_per_minute = 600\n"
      "[production.rate_limiting.tenants.acme-corp]\nburst_allowance = 50\n"
      "token_bucket_refill_rate = 5\n");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  const auto& tenants = c->production.rate_limiting.tenants;
  ASSERT_EQ(tenants.size(), 2u);
  EXPECT_EQ(tenants[0].tenant, "acme-corp");
  EXPECT_EQ(tenants[0].queries_per_minute, 100);
  EXPECT_EQ(tenants[0].burst_allowance, 50);
  EXPECT_DOUBLE_EQ(tenants[0].token_bucket_refill_rate, 5);
  EXPECT_EQ(tenants[1].tenant, "zeta");
  EXPECT_EQ(tenants[1].queries_per_minute, 600);
  EXPECT_EQ(tenants[1].burst_allowance, 20);
  EXPECT_DOUBLE_EQ(tenants[1].token_bucket_refill_rate, 10);  // 600 per minute
  EXPECT_THAT(RedactedSummary(*c), HasSubstr("[production.rate_limiting.tenants.\"zeta\"]\n"
                                             "queries_per_minute = 600\n"));
}

TEST(RateLimitConfigTest, BadOverridesAreNamed) {
  EXPECT_THAT(InvalidMessage(Parse("[production.rate_limiting.tenants.acme]\n"
                                   "burst_allowance = 0\n")),
              HasSubstr("[production.rate_limiting.tenants.acme] burst_allowance: must be "
                        "positive, got 0"));
  EXPECT_THAT(InvalidMessage(Parse("[production.rate_limiting.tenants.acme]\nqpm = 5\n")),
              HasSubstr("unknown key 'qpm' in [production.rate_limiting.tenants.acme]"));
}

TEST(CorsConfigTest, OnlyExactOriginsAreAccepted) {
  EXPECT_THAT(InvalidMessage(Parse("", Env({{"CORS_ALLOWED_ORIGINS", "*"}}))),
              HasSubstr("\"*\" is not accepted: list the exact origins"));
  EXPECT_THAT(InvalidMessage(Parse("", Env({{"CORS_ALLOWED_ORIGINS", "https://a.example/app"}}))),
              HasSubstr("is not an origin"));
  Result<Config> ok =
      Parse("", Env({{"CORS_ALLOWED_ORIGINS", "https://a.example,http://localhost:5173"}}));
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
}

TEST(MetricsConfigTest, HostDefaultsToTheServers) {
  Result<Config> c = Parse("[metrics]\nhost = \"0.0.0.0\"\nprometheus_port = 0\n");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->metrics.host, "0.0.0.0");
  EXPECT_EQ(c->metrics.prometheus_port, 0);
  EXPECT_TRUE(Parse("")->metrics.host.empty());
}

TEST(Nl2SqlConfigTest, ExamplesAndDescriptions) {
  Result<Config> c = Parse(
      "[nl2sql]\nexamples_file = \"examples/retail.jsonl\"\n"
      "learned_examples_file = \"/var/lib/heliosdb/learned.jsonl\"\n"
      "[nl2sql.descriptions]\ncustomers = \"People who ordered at least once\"\n"
      "\"orders.status\" = \"pending, shipped, delivered, cancelled or returned\"\n");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->nl2sql.examples_file, "examples/retail.jsonl");
  EXPECT_EQ(c->nl2sql.learned_examples_file, "/var/lib/heliosdb/learned.jsonl");
  ASSERT_EQ(c->nl2sql.descriptions.size(), 2u);
  EXPECT_EQ(c->nl2sql.descriptions.at("orders.status"),
            "pending, shipped, delivered, cancelled or returned");
  EXPECT_THAT(InvalidMessage(Parse("[nl2sql.descriptions]\ncustomers = 3\n")),
              HasSubstr("[nl2sql.descriptions] customers: must be a string"));
}

TEST(OverloadConfigTest, DefaultsAndValuesRead) {
  Result<Config> defaults = Parse("[server]\nworkers = 4\n");
  ASSERT_TRUE(defaults.has_value()) << defaults.error().message;
  EXPECT_EQ(defaults->server.max_connections, 1024);
  EXPECT_EQ(defaults->server.max_queued_connections, 256);
  EXPECT_EQ(defaults->llm.max_concurrent_requests, 256);

  Result<Config> c = Parse(
      "[server]\nworkers = 4\nmax_connections = 4\nmax_queued_connections = 0\n"
      "[llm]\nmax_concurrent_requests = 65536\n");
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->server.max_connections, 4);
  EXPECT_EQ(c->server.max_queued_connections, 0);
  EXPECT_EQ(c->llm.max_concurrent_requests, 65536);
  EXPECT_THAT(RedactedSummary(*c),
              AllOf(HasSubstr("max_connections = 4\n"), HasSubstr("max_queued_connections = 0\n"),
                    HasSubstr("max_concurrent_requests = 65536\n")));
}

TEST(OverloadConfigTest, BadValuesSayWhatIsAllowed) {
  EXPECT_EQ(InvalidMessage(Parse("[server]\nmax_connections = 0\n")),
            "test.toml:2: [server] max_connections: must be 1..65536, got 0");
  EXPECT_EQ(InvalidMessage(Parse("[server]\nmax_connections = 70000\n")),
            "test.toml:2: [server] max_connections: must be 1..65536, got 70000");
  EXPECT_EQ(InvalidMessage(Parse("[server]\nworkers = 8\nmax_connections = 4\n")),
            "test.toml:3: [server] max_connections: must be at least [server] workers (8), got 4");
  EXPECT_EQ(InvalidMessage(Parse("[server]\nmax_queued_connections = -1\n")),
            "test.toml:2: [server] max_queued_connections: must be 0..65536, got -1");
  EXPECT_EQ(InvalidMessage(Parse("[server]\nmax_queued_connections = 65537\n")),
            "test.toml:2: [server] max_queued_connections: must be 0..65536, got 65537");
  EXPECT_EQ(InvalidMessage(Parse("[llm]\nmax_concurrent_requests = 0\n")),
            "test.toml:2: [llm] max_concurrent_requests: must be 1..65536, got 0");
  EXPECT_EQ(InvalidMessage(Parse("[server]\nmax_connections = \"many\"\n")),
            "test.toml:2: [server] max_connections: must be an integer, got a string");
  EXPECT_THAT(InvalidMessage(Parse("[server]\nmax_connection = 10\n")),
              HasSubstr("did you mean 'max_connections'?"));
}

TEST(OverloadConfigTest, WorkersFromTheEnvironmentAreCheckedAgainstMaxConnections) {
  EXPECT_EQ(InvalidMessage(Parse("[server]\nmax_connections = 16\n",
                                 Env({{"HELIOSDB_WORKER_THREADS", "32"}}))),
            "test.toml:2: [server] max_connections: must be at least [server] workers (32), got "
            "16");
  Result<Config> raised =
      Parse("[server]\nmax_connections = 32\n", Env({{"HELIOSDB_WORKER_THREADS", "32"}}));
  ASSERT_TRUE(raised.has_value()) << raised.error().message;
  EXPECT_EQ(raised->server.workers, 32);
}

TEST(OverloadConfigTest, ChangesAreNamedForTheReloadPlan) {
  Result<Config> before = Parse("");
  Result<Config> after = Parse(
      "[server]\nmax_connections = 2048\nmax_queued_connections = 10\n"
      "[llm]\nmax_concurrent_requests = 8\n");
  ASSERT_TRUE(before.has_value() && after.has_value());
  EXPECT_THAT(ChangedSettings(*before, *after),
              ElementsAre("server.max_connections", "server.max_queued_connections",
                          "llm.max_concurrent_requests"));
}

}  // namespace
}  // namespace helios::config
