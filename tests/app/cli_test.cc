// Runs the real binary (HELIOS_BINARY) as a child process and checks what it prints and how it
// exits. The child's environment is the test's own minus the variables that configure the
// server, so a developer's DATABASE_URL cannot change the results.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "app/application.h"
#include "support/child_process.h"

namespace helios::app {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

using testing::ReadFile;
using testing::RunResult;

// Runs HELIOS_BINARY with args in cwd; extra_env entries ("NAME=value") are added to the
// environment after the configuration variables are removed.
RunResult RunBinary(const std::vector<std::string>& args, const fs::path& cwd,
                    const std::vector<std::string>& extra_env = {}) {
  std::vector<std::string> argv = {HELIOS_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::RunToCompletion(argv, cwd, testing::ChildEnvironment(extra_env));
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

class CliTest : public ::testing::Test {
 protected:
  // The demo database is written once, by the binary itself, and its output kept for the
  // tests that check it.
  static void SetUpTestSuite() {
    dir_ =
        new fs::path(fs::temp_directory_path() / ("helios-cli-test-" + std::to_string(getpid())));
    fs::remove_all(*dir_);
    fs::create_directories(*dir_);
    demo_run_ = new RunResult(RunBinary({"demo-data", "demo.db"}, *dir_));
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
    delete demo_run_;
  }
  void SetUp() override { ASSERT_EQ(demo_run_->exit_code, 0) << demo_run_->err; }

  static std::string DatabaseUrl() { return "sqlite://" + (*dir_ / "demo.db").string(); }
  static const fs::path& dir() { return *dir_; }

  static fs::path* dir_;
  static RunResult* demo_run_;
};

fs::path* CliTest::dir_ = nullptr;
RunResult* CliTest::demo_run_ = nullptr;

TEST_F(CliTest, VersionPrintsVersionAndRevision) {
  for (const char* flag : {"--version", "-V"}) {
    RunResult r = RunBinary({flag}, dir());
    EXPECT_EQ(r.exit_code, 0) << flag;
    EXPECT_EQ(r.out.substr(0, r.out.find('\n')), VersionString());
    EXPECT_TRUE(std::regex_match(
        r.out,
        std::regex("heliosdb-conversational-bi [0-9]+\\.[0-9]+\\.[0-9]+ "
                   "\\(revision ([0-9a-f]{7,40}(-[a-z]+)?|unknown)\\)\n"
                   "built ([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z|unknown)\n")))
        << r.out;
  }
}

TEST_F(CliTest, HelpListsTheCommands) {
  RunResult r = RunBinary({"--help"}, dir());
  EXPECT_EQ(r.exit_code, 0);
  for (const char* command : {"ask", "serve", "demo-data", "config", "user"})
    EXPECT_THAT(r.out, HasSubstr(command));
}

TEST_F(CliTest, UnknownCommandFails) {
  RunResult r = RunBinary({"frobnicate"}, dir());
  EXPECT_NE(r.exit_code, 0);
}

TEST_F(CliTest, DemoDataWritesTheFileAndPrintsCounts) {
  EXPECT_TRUE(fs::is_regular_file(dir() / "demo.db"));
  EXPECT_GT(fs::file_size(dir() / "demo.db"), 1'000'000u);
  const std::string& out = demo_run_->out;
  EXPECT_THAT(out, HasSubstr("demo.db"));
  EXPECT_TRUE(std::regex_search(out, std::regex("customers +5000 rows"))) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("orders +40000 rows"))) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("regions +5 rows"))) << out;
  // No temporary file is left next to it.
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir()))
    if (entry.path().filename().string().starts_with("demo.db")) ++files;
  EXPECT_EQ(files, 1);
}

TEST_F(CliTest, DemoDataRefusesToOverwriteWithoutForce) {
  const fs::path db = dir() / "demo.db";
  const auto size = fs::file_size(db);
  const auto mtime = fs::last_write_time(db);
  RunResult r = RunBinary({"demo-data", "demo.db"}, dir());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("already exists"));
  EXPECT_EQ(fs::file_size(db), size);
  EXPECT_EQ(fs::last_write_time(db), mtime);
}

TEST_F(CliTest, AskPrintsSqlAndATable) {
  RunResult r =
      RunBinary({"ask", "--database", DatabaseUrl(), "How many customers are there?"}, dir());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("SQL: SELECT"));
  EXPECT_THAT(r.out, HasSubstr("customers"));
  EXPECT_TRUE(std::regex_search(r.out, std::regex("\\|\\s+5000 \\|"))) << r.out;
  EXPECT_THAT(r.out, HasSubstr("1 row"));
}

TEST_F(CliTest, AskJsonPrintsOneApiObjectPerQuestion) {
  RunResult r = RunBinary({"ask", "--json", "--database", DatabaseUrl(),
                           "How many customers are there?", "only in Germany"},
                          dir());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  json first = json::parse(lines[0]);
  json second = json::parse(lines[1]);

  for (const json& a : {first, second}) {
    ASSERT_TRUE(a.is_object());
    EXPECT_TRUE(a["session_id"].is_string());
    EXPECT_TRUE(a["turn"].is_number_integer());
    EXPECT_TRUE(a["sql"].is_string());
    EXPECT_TRUE(a["explanation"].is_string());
    EXPECT_TRUE(a["columns"].is_array());
    EXPECT_TRUE(a["rows"].is_array());
    EXPECT_TRUE(a["row_count"].is_number_integer());
    EXPECT_TRUE(a["truncated"].is_boolean());
    EXPECT_EQ(a["source"], "engine");
    EXPECT_TRUE(a["confidence"].is_number());
    EXPECT_TRUE(a["cache_hit"].is_boolean());
    EXPECT_TRUE(a["latency_ms"].is_number());
    ASSERT_TRUE(a["chart"].is_object());
    EXPECT_EQ(a["chart"]["type"], "number");
  }
  EXPECT_EQ(first["turn"], 1);
  EXPECT_EQ(second["turn"], 2);
  EXPECT_EQ(first["session_id"], second["session_id"]);
  ASSERT_TRUE(first["rows"][0][0].is_number_integer());
  EXPECT_EQ(first["rows"][0][0].get<int64_t>(), 5000);
  ASSERT_TRUE(second["rows"][0][0].is_number_integer());
  EXPECT_GT(second["rows"][0][0].get<int64_t>(), 0);
  EXPECT_LT(second["rows"][0][0].get<int64_t>(), 5000);
  EXPECT_THAT(second["sql"].get<std::string>(), HasSubstr("'Germany'"));
}

TEST_F(CliTest, DatabaseUrlMayComeFromTheEnvironment) {
  RunResult r = RunBinary({"ask", "--json", "How many products do we have?"}, dir(),
                          {"DATABASE_URL=" + DatabaseUrl()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  EXPECT_EQ(json::parse(lines[0])["rows"][0][0], 300);
}

TEST_F(CliTest, NotUnderstoodQuestionExitsNonZero) {
  RunResult r = RunBinary({"ask", "--database", DatabaseUrl(), "purple monkey dishwasher"}, dir());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("not_understood"));
  EXPECT_THAT(r.out, HasSubstr("customers"));
  EXPECT_THAT(r.out, Not(HasSubstr("SQL:")));
}

TEST_F(CliTest, NotUnderstoodInJsonIsTheApiErrorObject) {
  RunResult r = RunBinary({"ask", "--json", "--database", DatabaseUrl(),
                           "How many customers are there?", "purple monkey dishwasher"},
                          dir());
  EXPECT_NE(r.exit_code, 0);
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  json ok = json::parse(lines[0]);
  EXPECT_EQ(ok["rows"][0][0], 5000);
  json error = json::parse(lines[1]);
  ASSERT_TRUE(error.contains("error")) << lines[1];
  EXPECT_EQ(error["error"]["code"], "not_understood");
  EXPECT_TRUE(error["error"]["message"].is_string());
  EXPECT_FALSE(error["error"]["message"].get<std::string>().empty());
}

TEST_F(CliTest, AskWithoutADatabaseSaysHowToConfigureOne) {
  RunResult r = RunBinary({"ask", "How many customers are there?"}, dir());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("No database is configured"));
  EXPECT_THAT(r.err, HasSubstr("--database"));
  EXPECT_THAT(r.err, HasSubstr("DATABASE_URL"));
  EXPECT_EQ(r.out, "");
}

TEST_F(CliTest, AskWithAMissingDatabaseFileFails) {
  RunResult r = RunBinary({"ask", "--database", "sqlite://" + (dir() / "missing.db").string(),
                           "How many customers are there?"},
                          dir());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("error"));
  EXPECT_FALSE(fs::exists(dir() / "missing.db"));  // never created
}

TEST_F(CliTest, AskWithoutAQuestionFails) {
  RunResult r = RunBinary({"ask", "--database", DatabaseUrl()}, dir());
  EXPECT_NE(r.exit_code, 0);
}

TEST_F(CliTest, ConfigCheckAcceptsTheExampleConfiguration) {
  const std::string path = std::string(HELIOS_SOURCE_DIR) + "/config/conversational-bi.toml";
  RunResult r = RunBinary({"config", "check", "--config", path}, dir());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("OK"));
  EXPECT_THAT(r.out, HasSubstr("[server]"));
}

TEST_F(CliTest, ConfigCheckNamesFileLineAndKeyOfAnUnknownKey) {
  {
    std::ofstream f(dir() / "bad.toml");
    f << "[server]\nport = 8080\nbogus_key = 1\n";
  }
  RunResult r = RunBinary({"config", "check", "--config", "bad.toml"}, dir());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("bad.toml:3"));
  EXPECT_THAT(r.err, HasSubstr("bogus_key"));
  EXPECT_THAT(r.out, Not(HasSubstr("OK")));
}

TEST_F(CliTest, ConfigCheckOfAMissingFileFails) {
  RunResult r = RunBinary({"config", "check", "--config", "does-not-exist.toml"}, dir());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("does-not-exist.toml"));
}

}  // namespace
}  // namespace helios::app
