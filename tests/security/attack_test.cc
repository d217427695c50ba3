// The attack sets against the real thing: every hostile question goes through a real pipeline
// over a copy of the demo database (with the screen on, then off, so the layers behind it are
// tested too), and every hostile SQL string goes through the PostgreSQL guard and through the
// SQLite data source. Afterwards the database file must be byte-for-byte and row-for-row
// unchanged, still open, and no file an attack would create may exist.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "common/clock.h"
#include "conversation/session_store.h"
#include "db/open.h"
#include "nl2sql/pipeline.h"
#include "security/sanitize.h"
#include "security/sql_guard.h"
#include "security/test_data.h"

namespace helios::security {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr uint64_t kFnvOffset = 1469598103934665603ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;

uint64_t Fnv(uint64_t h, const void* data, size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) h = (h ^ p[i]) * kFnvPrime;
  return h;
}

// A checksum of the file's bytes (FNV-1a; OpenSSL is not linked into this test).
std::string FileChecksum(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  uint64_t h = kFnvOffset;
  uint64_t size = 0;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    h = Fnv(h, buffer, static_cast<size_t>(in.gcount()));
    size += static_cast<uint64_t>(in.gcount());
  }
  return fmt::format("{:016x}/{}", h, size);
}

// A checksum of the content: sqlite_master and every row of every table, read through a
// separate read-only connection. Empty on failure.
std::string ContentChecksum(const fs::path& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return "";
  }
  uint64_t h = kFnvOffset;
  size_t rows = 0;
  bool ok = true;
  const auto hash_query = [&](const std::string& sql, std::vector<std::string>* tables) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      ok = false;
      return;
    }
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      ++rows;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const int type = sqlite3_column_type(stmt, i);
        h = Fnv(h, &type, sizeof type);
        const void* bytes = sqlite3_column_blob(stmt, i);
        h = Fnv(h, bytes, static_cast<size_t>(sqlite3_column_bytes(stmt, i)));
      }
      if (tables &&
          std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))) == "table")
        tables->emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)));
    }
    if (rc != SQLITE_DONE) ok = false;
    sqlite3_finalize(stmt);
  };
  std::vector<std::string> tables;
  hash_query("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name", &tables);
  for (const std::string& table : tables) {
    if (table.rfind("sqlite_", 0) == 0) continue;
    hash_query(fmt::format("SELECT * FROM \"{}\" ORDER BY rowid", table), nullptr);
  }
  sqlite3_close(db);
  if (!ok || rows == 0) return "";
  return fmt::format("{:016x}/{}", h, rows);
}

// Files a successful attack would leave (the attack sets name them helios_pwned*).
std::vector<std::string> PwnedFiles(const std::vector<fs::path>& dirs) {
  std::vector<std::string> found;
  for (const fs::path& dir : dirs) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.path().filename().string().rfind("helios_pwned", 0) == 0)
        found.push_back(entry.path().string());
    }
  }
  return found;
}

class AttackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(demo_.ok()) << "cannot copy the demo database";
    file_before_ = FileChecksum(demo_.db());
    content_before_ = ContentChecksum(demo_.db());
    ASSERT_FALSE(content_before_.empty());
    watched_dirs_ = {demo_.dir(), fs::temp_directory_path(), fs::current_path()};
    pwned_before_ = PwnedFiles(watched_dirs_);

    testdata::DemoEngine demo = testdata::OpenDemoEngine(demo_.db(), clock_);
    ASSERT_TRUE(demo.error.empty()) << demo.error;
    source_ = std::move(demo.source);
    engine_ = std::move(demo.engine);
    sessions_ = std::make_unique<conversation::MemorySessionStore>(
        clock_, conversation::MemoryStoreOptions{});
  }

  void TearDown() override {
    source_.reset();  // close every connection before looking at the file
    EXPECT_EQ(FileChecksum(demo_.db()), file_before_) << "the database file changed";
    EXPECT_EQ(ContentChecksum(demo_.db()), content_before_) << "the database content changed";
    auto reopened = db::OpenDataSource("sqlite://" + demo_.db().string());
    ASSERT_TRUE(reopened.has_value()) << reopened.error().message;
    EXPECT_TRUE((*reopened)->Ping().has_value());
    auto rows = (*reopened)->Execute("SELECT count(*) FROM customers", {}, {});
    ASSERT_TRUE(rows.has_value()) << rows.error().message;
    ASSERT_TRUE(std::holds_alternative<int64_t>(rows->rows.at(0).at(0)));
    EXPECT_GT(std::get<int64_t>(rows->rows.at(0).at(0)), 0);
    reopened->reset();
    EXPECT_EQ(PwnedFiles(watched_dirs_), pwned_before_) << "an attack left a file behind";
    std::vector<std::string> leftovers;
    for (const auto& entry : fs::directory_iterator(demo_.dir()))
      if (entry.path() != demo_.db()) leftovers.push_back(entry.path().filename().string());
    EXPECT_THAT(leftovers, ::testing::IsEmpty()) << "journal or attached files were created";
  }

  std::unique_ptr<nl2sql::Pipeline> NewPipeline(bool screen) {
    nl2sql::PipelineOptions options;  // as application.cc builds it, with the security options
    options.max_rows = 200;
    options.statement_timeout = 5s;
    options.screen_questions = screen;
    options.strip_sql_comments = true;
    return std::make_unique<nl2sql::Pipeline>(*source_, engine_, *sessions_, clock_, options);
  }

  struct Tally {
    int screened = 0;  // refused by the question screen
    int declined = 0;  // refused further on (not understood, unsafe SQL, database error, ...)
    int answered = 0;  // answered with SQL that passed the data source's check
  };

  Tally AskAll(nl2sql::Pipeline& pipeline) {
    Tally tally;
    for (const auto& line : testdata::ReadLines(testdata::DataDir() / "hostile_questions.txt")) {
      nl2sql::AskRequest request;
      request.question = line.text;
      auto answer = pipeline.Ask(request);
      if (!answer) {
        EXPECT_NE(answer.error().code, ErrorCode::kInternal)
            << line.text << ": " << answer.error().message;
        if (answer.error().code == ErrorCode::kUnsafeSql &&
            answer.error().message.starts_with("The question looks like it contains SQL"))
          ++tally.screened;
        else
          ++tally.declined;
        continue;
      }
      ++tally.answered;
      auto checked = source_->Check(answer->sql);
      EXPECT_TRUE(checked.has_value())
          << line.text << " -> " << answer->sql << ": " << (checked ? "" : checked.error().message);
      EXPECT_EQ(StripSqlComments(answer->sql), answer->sql) << "a comment in " << answer->sql;
    }
    return tally;
  }

  testdata::DemoCopy demo_{"attack"};
  FakeClock clock_{std::chrono::sys_days{std::chrono::year{2025} / 12 / 15} + 12h};
  std::string file_before_;
  std::string content_before_;
  std::vector<fs::path> watched_dirs_;
  std::vector<std::string> pwned_before_;
  std::unique_ptr<db::DataSource> source_;
  std::shared_ptr<const nl2sql::engine::Engine> engine_;
  std::unique_ptr<conversation::MemorySessionStore> sessions_;
};

TEST_F(AttackTest, HostileQuestionsAreRefusedOrAnsweredSafely) {
  const size_t total = testdata::ReadLines(testdata::DataDir() / "hostile_questions.txt").size();
  ASSERT_GE(total, 150u);

  auto screened = NewPipeline(true);
  const Tally on = AskAll(*screened);
  fmt::print(
      "[attack] {} hostile questions, screen on: {} refused by the screen, {} declined, "
      "{} answered\n",
      total, on.screened, on.declined, on.answered);
  EXPECT_EQ(static_cast<size_t>(on.screened), total);

  // Without the screen the engine and the data source still hold.
  auto unscreened = NewPipeline(false);
  const Tally off = AskAll(*unscreened);
  fmt::print(
      "[attack] {} hostile questions, screen off: {} declined, {} answered with "
      "checked read-only SQL\n",
      total, off.declined, off.answered);
  EXPECT_EQ(off.screened, 0);
  EXPECT_EQ(static_cast<size_t>(off.declined + off.answered), total);
}

TEST_F(AttackTest, HostileSqlIsRefusedOrOnlyReads) {
  const auto lines = testdata::ReadLines(testdata::DataDir() / "hostile_sql.txt");
  ASSERT_GE(lines.size(), 100u);
  int guard_refused = 0, guard_accepted = 0, sqlite_refused = 0, sqlite_read = 0;
  db::ExecuteOptions options;
  options.max_rows = 50;
  options.timeout = 5s;
  for (const auto& line : lines) {
    auto guarded = CheckPostgresSelect(line.text);
    if (guarded) {
      ++guard_accepted;
      EXPECT_TRUE(line.read_only_ok)
          << "line " << line.number << " passed the PostgreSQL guard: " << line.text;
    } else {
      ++guard_refused;
      EXPECT_EQ(guarded.error().code, ErrorCode::kUnsafeSql) << line.text;
      EXPECT_FALSE(guarded.error().message.empty());
    }

    auto ran = source_->Execute(line.text, {}, options);
    if (ran) {
      ++sqlite_read;
    } else {
      ++sqlite_refused;
      EXPECT_NE(ran.error().code, ErrorCode::kInternal) << line.text << ": " << ran.error().message;
    }
  }
  fmt::print(
      "[attack] {} hostile SQL strings: PostgreSQL guard refused {} (accepted {} marked "
      "read-only); SQLite refused {}, ran {} as reads\n",
      lines.size(), guard_refused, guard_accepted, sqlite_refused, sqlite_read);
}

}  // namespace
}  // namespace helios::security
