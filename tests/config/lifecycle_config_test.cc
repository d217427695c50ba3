// The configuration behind the server's lifecycle: [server] shutdown_timeout_secs, the file a
// configuration came from (read again on SIGHUP), and ChangedSettings, which tells a reload
// what changed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace helios::config {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::string kExamplePath = std::string(HELIOS_SOURCE_DIR) + "/config/conversational-bi.toml";

EnvLookup NoEnv() {
  return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

Config Parsed(std::string_view toml) {
  auto config = ParseConfig(toml, "test.toml", NoEnv());
  EXPECT_TRUE(config) << config.error().message;
  return config.value_or(Config{});
}

TEST(ShutdownTimeoutTest, DefaultsToThirtySecondsAndIsRead) {
  EXPECT_EQ(Parsed("").server.shutdown_timeout, 30s);
  EXPECT_EQ(Parsed("[server]\nshutdown_timeout_secs = 5\n").server.shutdown_timeout, 5s);
}

TEST(ShutdownTimeoutTest, OutOfRangeIsRefusedWithItsLine) {
  for (const char* value : {"0", "-1", "3601"}) {
    auto config = ParseConfig(std::string("[server]\nshutdown_timeout_secs = ") + value + "\n",
                              "test.toml", NoEnv());
    ASSERT_FALSE(config) << value;
    EXPECT_EQ(config.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(config.error().message, HasSubstr("test.toml:2"));
    EXPECT_THAT(config.error().message, HasSubstr("shutdown_timeout_secs")) << value;
  }
}

TEST(ShutdownTimeoutTest, TheExampleFileSetsItAndTheSummaryShowsIt) {
  std::ifstream in(kExamplePath);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_THAT(text.str(), HasSubstr("\nshutdown_timeout_secs = 30"));
  EXPECT_THAT(RedactedSummary(Parsed("[server]\nshutdown_timeout_secs = 12\n")),
              HasSubstr("shutdown_timeout_secs = 12"));
}

TEST(SourceFileTest, ALoadedFileIsRememberedAbsolutely) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / "helios_lifecycle_config_test";
  std::filesystem::create_directories(dir);
  const std::filesystem::path file = dir / "server.toml";
  std::ofstream(file) << "[server]\nport = 9000\n";
  auto config = LoadConfigFile(file.string(), NoEnv());
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->source_file, std::filesystem::absolute(file).string());
  EXPECT_TRUE(std::filesystem::path(config->source_file).is_absolute());
  std::filesystem::remove_all(dir);

  EXPECT_EQ(Parsed("").source_file, "") << "parsed text has no file";
  auto defaults = DefaultConfig(NoEnv());
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->source_file, "");
}

TEST(ChangedSettingsTest, NothingChangedIsEmpty) {
  auto example = LoadConfigFile(kExamplePath, NoEnv());
  ASSERT_TRUE(example) << example.error().message;
  EXPECT_THAT(ChangedSettings(*example, *example), IsEmpty());
  Config copy = *example;
  copy.source_file = "/elsewhere.toml";  // not a setting
  EXPECT_THAT(ChangedSettings(*example, copy), IsEmpty());
}

TEST(ChangedSettingsTest, NamesEachChangedKeyInFileOrder) {
  const Config before = Parsed(R"(
[server]
port = 8080
[logging]
level = "info"
[production.rate_limiting]
queries_per_minute = 100
[cache]
ttl_seconds = 60
)");
  const Config after = Parsed(R"(
[server]
port = 8081
[logging]
level = "debug"
[production.rate_limiting]
queries_per_minute = 50
[cache]
ttl_seconds = 60
)");
  // The refill rate follows queries_per_minute when the file does not give it.
  EXPECT_THAT(ChangedSettings(before, after),
              ElementsAre("server.port", "production.rate_limiting.queries_per_minute",
                          "production.rate_limiting.token_bucket_refill_rate", "logging.level"));
}

TEST(ChangedSettingsTest, TenantOverridesAddedEditedAndRemovedAreNamedByTenant) {
  const Config before = Parsed(R"(
[production.rate_limiting.tenants.acme]
queries_per_minute = 1
[production.rate_limiting.tenants.globex]
queries_per_minute = 10
[production.rate_limiting.tenants.initech]
burst_allowance = 3
)");
  const Config after = Parsed(R"(
[production.rate_limiting.tenants.acme]
queries_per_minute = 60
[production.rate_limiting.tenants.globex]
queries_per_minute = 10
[production.rate_limiting.tenants.umbrella]
queries_per_minute = 5
)");
  EXPECT_THAT(ChangedSettings(before, after),
              ElementsAre("production.rate_limiting.tenants.acme",
                          "production.rate_limiting.tenants.initech",
                          "production.rate_limiting.tenants.umbrella"));
}

TEST(ChangedSettingsTest, SecretsAreComparedButNeverShown) {
  auto env = [](std::string secret) {
    return [secret](std::string_view name) -> std::optional<std::string> {
      if (name == "JWT_SECRET") return secret;
      return std::nullopt;
    };
  };
  auto a = ParseConfig("", "a.toml", env(std::string(40, 'a')));
  auto b = ParseConfig("", "b.toml", env(std::string(40, 'b')));
  ASSERT_TRUE(a && b);
  const std::vector<std::string> changed = ChangedSettings(*a, *b);
  EXPECT_THAT(changed, ElementsAre("jwt_secret"));
  for (const std::string& name : changed) EXPECT_THAT(name, ::testing::Not(HasSubstr("aaaa")));
}

TEST(ChangedSettingsTest, NamedDatabasesAreNamedBySource) {
  const Config before = Parsed(R"(
[databases.warehouse]
url = "sqlite://w.db"
[databases.archive]
url = "sqlite://a.db"
)");
  const Config after = Parsed(R"(
[databases.warehouse]
url = "sqlite://w2.db"
[databases.lake]
url = "sqlite://l.db"
)");
  EXPECT_THAT(ChangedSettings(before, after),
              ElementsAre("databases.warehouse", "databases.lake", "databases.archive"));
}

}  // namespace
}  // namespace helios::config
