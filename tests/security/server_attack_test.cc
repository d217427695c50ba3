// The attack sets against real PostgreSQL and MariaDB servers, each of the test's own and
// loaded with the demo data. Every hostile question goes through a real pipeline (screen on,
// then off) and every hostile SQL string through the data source (its allow-list, then the
// server's read-only transaction), connected as the SELECT-only role a deployment should use.
// Afterwards a checksum of every table of the database, and the list of roles or users, must
// be what it was before (scripts/dbserver.sh checksum, read as the owner).
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "conversation/session_store.h"
#include "db/open.h"
#include "nl2sql/engine/engine.h"
#include "nl2sql/engine/schema_index.h"
#include "nl2sql/pipeline.h"
#include "security/test_data.h"
#include "support/child_process.h"
#include "support/test_databases.h"

namespace helios::security {
namespace {

using namespace std::chrono_literals;
using testing::ServerKind;

class ServerAttackTest : public ::testing::TestWithParam<ServerKind> {
 protected:
  void SetUp() override {
    auto server = testing::StartPrivateServer(GetParam(), (dir_.path() / "server").string());
    ASSERT_TRUE(server.has_value()) << server.error().message;
    server_ = *server;
    auto loaded = testing::RunDbServerScript("load-demo", GetParam(), server_.dir, HELIOS_BINARY);
    ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
    auto before = Checksum();
    ASSERT_TRUE(before.has_value()) << before.error().message;
    checksum_before_ = *before;
    ASSERT_THAT(checksum_before_, ::testing::HasSubstr("orders"));

    auto source = db::OpenDataSource(server_.reader_url);
    ASSERT_TRUE(source.has_value()) << source.error().message;
    source_ = std::move(*source);
    auto catalog = source_->Introspect();
    ASSERT_TRUE(catalog.has_value()) << catalog.error().message;
    auto index = nl2sql::engine::SchemaIndex::Build(*catalog, *source_, 1000);
    ASSERT_TRUE(index.has_value()) << index.error().message;
    engine_ = std::make_shared<const nl2sql::engine::Engine>(
        std::shared_ptr<const nl2sql::engine::SchemaIndex>(std::move(*index)), clock_);
  }

  void TearDown() override {
    source_.reset();
    if (!server_.dir.empty()) {
      auto after = Checksum();
      EXPECT_TRUE(after.has_value()) << (after ? "" : after.error().message);
      if (after) {
        EXPECT_EQ(*after, checksum_before_) << "the database changed";
      }
      (void)testing::StopPrivateServer(GetParam(), server_.dir);
    }
  }

  Result<std::string> Checksum() {
    return testing::RunDbServerScript("checksum", GetParam(), server_.dir);
  }

  std::unique_ptr<nl2sql::Pipeline> NewPipeline(bool screen) {
    nl2sql::PipelineOptions options;
    options.max_rows = 200;
    options.statement_timeout = 5s;
    options.screen_questions = screen;
    return std::make_unique<nl2sql::Pipeline>(*source_, engine_, *sessions_, clock_, options);
  }

  testing::TempDir dir_{"helios-server-attack"};
  testing::TestServer server_;
  std::string checksum_before_;
  FakeClock clock_{std::chrono::sys_days{std::chrono::year{2025} / 12 / 15} + 12h};
  std::unique_ptr<db::DataSource> source_;
  std::shared_ptr<const nl2sql::engine::Engine> engine_;
  std::unique_ptr<conversation::MemorySessionStore> sessions_ =
      std::make_unique<conversation::MemorySessionStore>(clock_,
                                                         conversation::MemoryStoreOptions{});
};

TEST_P(ServerAttackTest, HostileQuestionsAndSqlLeaveTheDatabaseUnchanged) {
  const auto questions = testdata::ReadLines(testdata::DataDir() / "hostile_questions.txt");
  ASSERT_GE(questions.size(), 150u);
  for (bool screen : {true, false}) {
    auto pipeline = NewPipeline(screen);
    int answered = 0;
    for (const auto& line : questions) {
      nl2sql::AskRequest request;
      request.question = line.text;
      auto answer = pipeline->Ask(request);
      if (!answer) {
        EXPECT_NE(answer.error().code, ErrorCode::kInternal)
            << line.text << ": " << answer.error().message;
        continue;
      }
      ++answered;
      EXPECT_FALSE(screen) << "the screen let through: " << line.text;
      auto checked = source_->Check(answer->sql);
      EXPECT_TRUE(checked.has_value()) << line.text << " -> " << answer->sql;
    }
    fmt::print("[attack:{}] {} hostile questions, screen {}: {} answered with checked SQL\n",
               testing::ServerName(GetParam()), questions.size(), screen ? "on" : "off", answered);
  }

  const auto sql = testdata::ReadLines(testdata::DataDir() / "hostile_sql.txt");
  ASSERT_GE(sql.size(), 100u);
  int refused = 0, read = 0;
  db::ExecuteOptions options;
  options.max_rows = 50;
  options.timeout = 5s;
  for (const auto& line : sql) {
    auto ran = source_->Execute(line.text, {}, options);
    if (ran) {
      ++read;
      EXPECT_TRUE(line.read_only_ok) << "line " << line.number << " ran: " << line.text;
    } else {
      ++refused;
      EXPECT_NE(ran.error().code, ErrorCode::kInternal) << line.text << ": " << ran.error().message;
    }
  }
  fmt::print("[attack:{}] {} hostile SQL strings: {} refused, {} ran as reads\n",
             testing::ServerName(GetParam()), sql.size(), refused, read);
  // The connections still work after all that.
  auto count = source_->Execute("SELECT COUNT(*) FROM customers", {}, options);
  ASSERT_TRUE(count.has_value()) << count.error().message;
}

INSTANTIATE_TEST_SUITE_P(Servers, ServerAttackTest,
                         ::testing::Values(ServerKind::kPostgres, ServerKind::kMariadb),
                         [](const ::testing::TestParamInfo<ServerKind>& info) {
                           return std::string(testing::ServerName(info.param));
                         });

}  // namespace
}  // namespace helios::security
