// The real binary picking up a changed schema without a restart: on an administrator's
// POST /api/v1/admin/schema/refresh, and on its own every schema_refresh_interval_secs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "support/child_process.h"
#include "support/served_binary.h"
#include "support/sqlite_file.h"

namespace helios::app {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

void Exec(const fs::path& file, const std::string& sql) {
  ASSERT_EQ(testing::ExecSqlite(file, sql), "");
}

class SchemaRefreshTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Exec(db_,
         "CREATE TABLE gadgets(gadget_id INTEGER PRIMARY KEY, name TEXT);"
         "INSERT INTO gadgets VALUES (1, 'lamp');");
  }

  void Serve(int interval_secs) {
    std::ofstream(dir_.path() / "server.toml")
        << "[server]\nhost = \"127.0.0.1\"\nport = 0\n[auth]\nenabled = false\n"
        << "[metrics]\nenabled = false\n[database]\nurl = \"sqlite://" << db_.string()
        << "\"\nschema_refresh_interval_secs = " << interval_secs << "\n";
    served_ = std::make_unique<testing::ServedBinary>(
        HELIOS_BINARY, std::vector<std::string>{"--config", "server.toml", "serve"}, dir_.path(),
        std::vector<std::string>{});
    port_ = served_->PortOf("listening");
    ASSERT_NE(port_, 0) << served_->out() << served_->err();
  }

  int AskStatus(const std::string& question) {
    httplib::Client client("127.0.0.1", port_);
    auto res = client.Post("/api/v1/query", json({{"query", question}}).dump(), "application/json");
    return res ? res->status : 0;
  }

  testing::TempDir dir_{"helios-refresh"};
  fs::path db_ = dir_.path() / "shop.db";
  std::unique_ptr<testing::ServedBinary> served_;
  int port_ = 0;
};

TEST_F(SchemaRefreshTest, AdministratorRefreshSeesANewTable) {
  Serve(0);
  EXPECT_EQ(AskStatus("How many widgets are there?"), 422);
  Exec(db_,
       "CREATE TABLE widgets(widget_id INTEGER PRIMARY KEY, name TEXT);"
       "INSERT INTO widgets VALUES (1, 'cog'), (2, 'gear');");
  EXPECT_EQ(AskStatus("How many widgets are there?"), 422);  // nothing reads it by itself

  httplib::Client client("127.0.0.1", port_);
  auto bad = client.Post("/api/v1/admin/schema/refresh", R"({"database": 3})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  auto unknown =
      client.Post("/api/v1/admin/schema/refresh", R"({"database": "nope"})", "application/json");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  auto refreshed = client.Post("/api/v1/admin/schema/refresh", "", "application/json");
  ASSERT_TRUE(refreshed);
  ASSERT_EQ(refreshed->status, 200) << refreshed->body;
  json body = json::parse(refreshed->body);
  EXPECT_EQ(body["databases"][0]["database"], "default");
  EXPECT_EQ(body["databases"][0]["status"], "changed");
  EXPECT_EQ(body["databases"][0]["tables"], 2);
  EXPECT_EQ(AskStatus("How many widgets are there?"), 200);
}

TEST_F(SchemaRefreshTest, TheIntervalRefreshesOnItsOwn) {
  Serve(1);
  EXPECT_EQ(AskStatus("How many widgets are there?"), 422);
  Exec(db_,
       "CREATE TABLE widgets(widget_id INTEGER PRIMARY KEY, name TEXT);"
       "INSERT INTO widgets VALUES (1, 'cog');");
  // The housekeeping thread looks every few seconds; give it a generous while.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    status = AskStatus("How many widgets are there?");
    if (status == 200) break;
    std::this_thread::sleep_for(250ms);
  }
  EXPECT_EQ(status, 200);
  EXPECT_THAT(served_->out(), ::testing::HasSubstr("schema changed and was reloaded"));
}

}  // namespace
}  // namespace helios::app
