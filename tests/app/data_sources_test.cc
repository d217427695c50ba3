// Several data sources in one application ([database] and [databases.NAME] from a real
// configuration text): questions routed by the request's database or its session's, unknown
// names refused, every source in /ready with its pool, and schemas read again on demand.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "app/application.h"
#include "common/clock.h"
#include "config/config.h"
#include "observability/logger.h"
#include "server/api_json.h"
#include "support/child_process.h"
#include "support/sqlite_file.h"

namespace helios::app {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

// Runs SQL on a SQLite file with a writable connection of the test's own.
void Exec(const fs::path& file, const std::string& sql) {
  ASSERT_EQ(testing::ExecSqlite(file, sql), "");
}

class DataSourcesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    shop_ = dir_.path() / "shop.db";
    Exec(shop_,
         "CREATE TABLE gadgets(gadget_id INTEGER PRIMARY KEY, name TEXT, price REAL);"
         "INSERT INTO gadgets VALUES (1, 'lamp', 20), (2, 'fan', 35), (3, 'kettle', 50);");
    const std::string toml = "[database]\nurl = \"sqlite://" + std::string(HELIOS_DEMO_DB) +
                             "\"\npool_size = 2\n[databases.shop]\nurl = \"sqlite://" +
                             shop_.string() + "\"\n";
    auto config = config::ParseConfig(
        toml, "test.toml", [](std::string_view) { return std::optional<std::string>(); });
    ASSERT_TRUE(config.has_value()) << config.error().message;
    ASSERT_EQ(config::DataSources(*config).size(), 2u);
    auto app = Application::Build(*config, clock_, logger_);
    ASSERT_TRUE(app.has_value()) << app.error().message;
    app_ = std::move(*app);
  }

  Result<nl2sql::Answer> Ask(const std::string& question, const std::string& database = "",
                             const std::string& session = "") {
    nl2sql::AskRequest request;
    request.question = question;
    request.database = database;
    request.session_id = session;
    return app_->service().Ask(request);
  }

  testing::TempDir dir_{"helios-sources"};
  fs::path shop_;
  SystemClock clock_;
  std::ostringstream log_;
  observability::Logger logger_{log_, observability::LogLevel::kInfo,
                                observability::LogFormat::kJson, clock_};
  std::unique_ptr<Application> app_;
};

TEST_F(DataSourcesTest, QuestionsGoToTheNamedSourceAndConversationsKeepToIt) {
  // No name: the default, the first configured.
  auto customers = Ask("How many customers are there?");
  ASSERT_TRUE(customers.has_value()) << customers.error().message;
  EXPECT_EQ(std::get<int64_t>(customers->rows.at(0).at(0)), 5000);
  EXPECT_FALSE(Ask("How many gadgets are there?").has_value());

  auto gadgets = Ask("How many gadgets are there?", "shop");
  ASSERT_TRUE(gadgets.has_value()) << gadgets.error().message;
  EXPECT_EQ(std::get<int64_t>(gadgets->rows.at(0).at(0)), 3);
  EXPECT_EQ(Ask("How many customers are there?", "default")->rows.at(0).at(0),
            customers->rows.at(0).at(0));

  // A follow-up without a name stays with its conversation's source.
  auto follow = Ask("only those with price over 30", "", gadgets->session_id);
  ASSERT_TRUE(follow.has_value()) << follow.error().message;
  EXPECT_EQ(follow->turn, 2);
  EXPECT_EQ(std::get<int64_t>(follow->rows.at(0).at(0)), 2);
  // Naming another source in it is refused, saying what to do.
  auto elsewhere = Ask("How many customers are there?", "default", gadgets->session_id);
  ASSERT_FALSE(elsewhere.has_value());
  EXPECT_EQ(elsewhere.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(elsewhere.error().message, HasSubstr("start a new session"));

  auto unknown = Ask("How many gadgets are there?", "warehouse");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(unknown.error().message, HasSubstr("'default', 'shop'"));
}

TEST_F(DataSourcesTest, HealthReportsEverySourceWithItsPool) {
  nl2sql::HealthReport health = app_->service().Health();
  EXPECT_TRUE(health.ok);
  ASSERT_EQ(health.dependencies.size(), 2u);
  nlohmann::json body = nlohmann::json::parse(server::HealthToJson(health, "v", 1));
  EXPECT_EQ(body["dependencies"]["database"]["database"], "default");
  EXPECT_EQ(body["dependencies"]["database"]["pool"]["size"], 2);
  EXPECT_EQ(body["dependencies"]["database:shop"]["status"], "ok");
  EXPECT_THAT(body["dependencies"]["database:shop"]["detail"].get<std::string>(),
              HasSubstr("shop.db"));
  EXPECT_THAT(body["dependencies"]["database:shop"]["detail"].get<std::string>(),
              ::testing::Not(HasSubstr(dir_.path().string())));
  // (A source that is down makes the report degraded: tests/app/database_faults_test.cc
  // stops a real PostgreSQL server under the running binary.)
}

TEST_F(DataSourcesTest, RefreshReadsAChangedSchemaAndLeavesOthersAlone) {
  EXPECT_FALSE(Ask("How many widgets are there?", "shop").has_value());
  Exec(shop_,
       "CREATE TABLE widgets(widget_id INTEGER PRIMARY KEY, name TEXT);"
       "INSERT INTO widgets VALUES (1, 'cog'), (2, 'sprocket');");
  auto refreshed = app_->RefreshSchemas();
  ASSERT_TRUE(refreshed.has_value()) << refreshed.error().message;
  ASSERT_EQ(refreshed->size(), 2u);
  EXPECT_EQ((*refreshed)[0].database, "default");
  EXPECT_FALSE((*refreshed)[0].changed);
  EXPECT_EQ((*refreshed)[1].database, "shop");
  EXPECT_TRUE((*refreshed)[1].changed);
  EXPECT_EQ((*refreshed)[1].tables, 2u);
  auto widgets = Ask("How many widgets are there?", "shop");
  ASSERT_TRUE(widgets.has_value()) << widgets.error().message;
  EXPECT_EQ(std::get<int64_t>(widgets->rows.at(0).at(0)), 2);

  nlohmann::json body = nlohmann::json::parse(SchemaRefreshJson(*refreshed));
  EXPECT_EQ(body["databases"][1]["status"], "changed");
  EXPECT_EQ(body["databases"][0]["status"], "unchanged");

  auto again = app_->RefreshSchemas("shop");
  ASSERT_TRUE(again.has_value());
  ASSERT_EQ(again->size(), 1u);
  EXPECT_FALSE(again->front().changed);
  auto unknown = app_->RefreshSchemas("nope");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace helios::app
