#include "db/sqlite/sqlite_data_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"

namespace helios::db {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr const char* kSchema = R"sql(
CREATE TABLE "Sales Region"(id INTEGER PRIMARY KEY, "Region Name" TEXT NOT NULL);
CREATE TABLE people(
  person_id INTEGER PRIMARY KEY,
  name VARCHAR(40) NOT NULL,
  region INTEGER REFERENCES "Sales Region"(id),
  mentor INTEGER REFERENCES people,
  born DATE,
  height REAL,
  photo BLOB,
  active BOOLEAN
);
CREATE TABLE parts(a INTEGER, b INTEGER, label TEXT, PRIMARY KEY (b, a));
CREATE TABLE part_uses(id INTEGER PRIMARY KEY, pb INTEGER, pa INTEGER,
                       FOREIGN KEY (pb, pa) REFERENCES parts);
CREATE TABLE mixed(v);
CREATE VIEW adults AS SELECT name FROM people WHERE born < '2000-01-01';
INSERT INTO "Sales Region" VALUES (1, 'North'), (2, 'South');
INSERT INTO people VALUES
  (1, 'Ada', 1, NULL, '1990-12-10', 1.75, x'00ff10', 1),
  (2, 'Bob', 2, 1, '2004-03-01', NULL, NULL, 0),
  (3, 'Cleo', NULL, 1, NULL, 1.5, x'', NULL);
INSERT INTO parts VALUES (1, 1, 'bolt'), (1, 2, 'nut');
INSERT INTO part_uses VALUES (1, 1, 1);
INSERT INTO mixed VALUES (' Paris '), ('Berlin'), ('Paris'), (42), (NULL), (''), (x'41'),
                         ('Rome'), (3.5);
)sql";

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "helios-sqlite-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  std::vector<std::string> Entries() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path_)) out.push_back(e.path().filename());
    std::sort(out.begin(), out.end());
    return out;
  }

 private:
  fs::path path_;
};

void WriteDatabase(const fs::path& path, const char* script) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  sqlite3_exec(db, "PRAGMA synchronous = OFF", nullptr, nullptr, nullptr);
  const std::string transaction = std::string("BEGIN;") + script + ";COMMIT;";
  const int rc = sqlite3_exec(db, transaction.c_str(), nullptr, nullptr, &error);
  std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << message;
}

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string out(fs::file_size(path), '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  return out;
}

// Every call to Steady() moves time on by `step`, so a time limit expires after a fixed
// number of checks, independent of the machine's speed.
class SteppingClock final : public Clock {
 public:
  explicit SteppingClock(std::chrono::milliseconds step) : step_(step) {}
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::time_point{};
  }
  std::chrono::steady_clock::time_point Steady() const override {
    return std::chrono::steady_clock::time_point{} + step_ * calls_.fetch_add(1);
  }
  int calls() const { return calls_.load(); }

 private:
  std::chrono::milliseconds step_;
  mutable std::atomic<int> calls_{0};
};

constexpr const char* kEndless =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c";

class SqliteDataSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.path() / "test.db";
    WriteDatabase(path_, kSchema);
    auto source = SqliteDataSource::Open(path_.string(), options_);
    ASSERT_TRUE(source.has_value()) << source.error().message;
    source_ = std::move(*source);
  }

  Result<QueryResult> Run(std::string_view sql, const std::vector<Value>& params = {},
                          ExecuteOptions options = {}) {
    return source_->Execute(sql, params, options);
  }

  TempDir dir_;
  fs::path path_;
  SqliteOptions options_;
  std::unique_ptr<SqliteDataSource> source_;
};

TEST_F(SqliteDataSourceTest, DisplayNameHasNoDirectories) {
  EXPECT_EQ(source_->DisplayName(), "sqlite:test.db");
  EXPECT_EQ(source_->dialect(), Dialect::kSqlite);
}

TEST_F(SqliteDataSourceTest, IntrospectFindsTablesColumnsAndKeys) {
  auto catalog = source_->Introspect();
  ASSERT_TRUE(catalog.has_value()) << catalog.error().message;
  const SchemaCatalog& c = **catalog;
  std::vector<std::string> names;
  for (const auto& t : c.tables) names.push_back(t.name);
  EXPECT_THAT(names,
              ElementsAre("Sales Region", "people", "parts", "part_uses", "mixed", "adults"));

  const TableInfo* region = c.FindTable("sales region");
  ASSERT_NE(region, nullptr);
  EXPECT_EQ(region->row_count, 2);
  ASSERT_EQ(region->columns.size(), 2u);
  EXPECT_EQ(region->columns[1].name, "Region Name");
  EXPECT_TRUE(region->columns[1].not_null);
  EXPECT_EQ(region->columns[1].family, TypeFamily::kText);

  const TableInfo* people = c.FindTable("people");
  ASSERT_NE(people, nullptr);
  EXPECT_EQ(people->row_count, 3);
  ASSERT_EQ(people->columns.size(), 8u);
  EXPECT_EQ(people->columns[0].name, "person_id");
  EXPECT_TRUE(people->columns[0].primary_key);
  EXPECT_EQ(people->columns[0].family, TypeFamily::kInteger);
  EXPECT_EQ(people->columns[1].declared_type, "VARCHAR(40)");
  EXPECT_EQ(people->columns[1].family, TypeFamily::kText);
  EXPECT_TRUE(people->columns[1].not_null);
  EXPECT_FALSE(people->columns[1].primary_key);
  EXPECT_FALSE(people->columns[2].not_null);
  EXPECT_EQ(people->FindColumn("born")->family, TypeFamily::kDate);
  EXPECT_EQ(people->FindColumn("height")->family, TypeFamily::kReal);
  EXPECT_EQ(people->FindColumn("photo")->family, TypeFamily::kBlob);
  EXPECT_EQ(people->FindColumn("active")->family, TypeFamily::kBoolean);

  ASSERT_EQ(people->foreign_keys.size(), 2u);
  // SQLite lists a table's keys last-declared first; compare as a set.
  std::vector<std::string> keys;
  for (const auto& fk : people->foreign_keys)
    keys.push_back(fk.column + "->" + fk.ref_table + "." + fk.ref_column);
  std::sort(keys.begin(), keys.end());
  // A key without a target column refers to the target's primary key.
  EXPECT_THAT(keys, ElementsAre("mentor->people.person_id", "region->Sales Region.id"));

  const TableInfo* uses = c.FindTable("part_uses");
  ASSERT_NE(uses, nullptr);
  ASSERT_EQ(uses->foreign_keys.size(), 2u);
  // Composite key without columns: matched to the primary key in key order (b, a).
  EXPECT_EQ(uses->foreign_keys[0].column, "pb");
  EXPECT_EQ(uses->foreign_keys[0].ref_column, "b");
  EXPECT_EQ(uses->foreign_keys[1].column, "pa");
  EXPECT_EQ(uses->foreign_keys[1].ref_column, "a");
  EXPECT_EQ(c.FindTable("parts")->columns[0].primary_key, true);

  const TableInfo* view = c.FindTable("adults");
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->row_count, -1);
  ASSERT_EQ(view->columns.size(), 1u);
  EXPECT_EQ(view->columns[0].name, "name");
  EXPECT_EQ(c.FindTable("mixed")->columns[0].family, TypeFamily::kOther);
  EXPECT_EQ(c.FindTable("sqlite_schema"), nullptr);
}

TEST_F(SqliteDataSourceTest, CatalogVersionFollowsTheSchema) {
  auto first = source_->Introspect();
  auto second = source_->Introspect();
  ASSERT_TRUE(first && second);
  EXPECT_NE((*first)->version, 0u);
  EXPECT_EQ((*first)->version, (*second)->version);

  WriteDatabase(path_, "CREATE TABLE extra(x INTEGER)");
  auto third = source_->Introspect();
  ASSERT_TRUE(third.has_value()) << third.error().message;
  EXPECT_NE((*third)->version, (*first)->version);
  EXPECT_NE((*third)->FindTable("extra"), nullptr);
}

TEST_F(SqliteDataSourceTest, ExecuteReturnsTypedValuesAndNulls) {
  auto r =
      Run("SELECT person_id, name AS who, height, photo, born, 7 / 2, 7.0 / 2 "
          "FROM people ORDER BY person_id");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_THAT(r->columns,
              ElementsAre("person_id", "who", "height", "photo", "born", "7 / 2", "7.0 / 2"));
  ASSERT_EQ(r->rows.size(), 3u);
  EXPECT_FALSE(r->truncated);
  const Row& ada = r->rows[0];
  EXPECT_EQ(ada[0], Value(int64_t{1}));
  EXPECT_EQ(ada[1], Value(std::string("Ada")));
  EXPECT_EQ(ada[2], Value(1.75));
  EXPECT_EQ(ada[3], Value(Blob{{0x00, 0xff, 0x10}}));
  EXPECT_EQ(ada[4], Value(std::string("1990-12-10")));
  EXPECT_EQ(ada[5], Value(int64_t{3}));
  EXPECT_EQ(ada[6], Value(3.5));
  const Row& bob = r->rows[1];
  EXPECT_TRUE(IsNull(bob[2]));
  EXPECT_TRUE(IsNull(bob[3]));
  // An empty blob stays a blob, not NULL.
  EXPECT_EQ(r->rows[2][3], Value(Blob{}));
  EXPECT_TRUE(IsNull(r->rows[2][4]));
}

TEST_F(SqliteDataSourceTest, RowCapTruncatesOnlyWhenMoreRowsExist) {
  const char* ten =
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10) "
      "SELECT x FROM c";
  auto capped = Run(ten, {}, ExecuteOptions{.max_rows = 3});
  ASSERT_TRUE(capped.has_value()) << capped.error().message;
  ASSERT_EQ(capped->rows.size(), 3u);
  EXPECT_TRUE(capped->truncated);
  EXPECT_EQ(capped->rows[2][0], Value(int64_t{3}));

  auto exact = Run(ten, {}, ExecuteOptions{.max_rows = 10});
  ASSERT_TRUE(exact.has_value());
  EXPECT_EQ(exact->rows.size(), 10u);
  EXPECT_FALSE(exact->truncated);

  auto none = Run(ten, {}, ExecuteOptions{.max_rows = 0});
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->rows.empty());
  EXPECT_TRUE(none->truncated);

  auto empty = Run("SELECT * FROM people WHERE 0", {}, ExecuteOptions{.max_rows = 0});
  ASSERT_TRUE(empty.has_value());
  EXPECT_FALSE(empty->truncated);
  EXPECT_EQ(empty->columns.size(), 8u);
}

TEST_F(SqliteDataSourceTest, ParametersAreBoundByPosition) {
  auto r = Run("SELECT name FROM people WHERE person_id = ?2 OR name = ?1 ORDER BY person_id",
               {Value(std::string("Cleo")), Value(int64_t{1})});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->rows.size(), 2u);
  EXPECT_EQ(r->rows[0][0], Value(std::string("Ada")));
  EXPECT_EQ(r->rows[1][0], Value(std::string("Cleo")));

  auto echo = Run("SELECT ?1, ?2, ?3, ?4, ?5, typeof(?5), typeof(?4)",
                  {Value(int64_t{-5}), Value(2.5), Value(std::string("it's \"quoted\"")),
                   Value(Blob{{1, 2}}), Value()});
  ASSERT_TRUE(echo.has_value()) << echo.error().message;
  ASSERT_EQ(echo->rows.size(), 1u);
  EXPECT_THAT(echo->rows[0],
              ElementsAre(Value(int64_t{-5}), Value(2.5), Value(std::string("it's \"quoted\"")),
                          Value(Blob{{1, 2}}), Value(), Value(std::string("null")),
                          Value(std::string("blob"))));

  auto empty_blob = Run("SELECT typeof(?1), length(?1)", {Value(Blob{})});
  ASSERT_TRUE(empty_blob.has_value());
  EXPECT_EQ(empty_blob->rows[0][0], Value(std::string("blob")));
  EXPECT_EQ(empty_blob->rows[0][1], Value(int64_t{0}));

  // A value is never spliced into the SQL.
  auto injection =
      Run("SELECT count(*) FROM people WHERE name = ?1", {Value(std::string("x' OR '1'='1"))});
  ASSERT_TRUE(injection.has_value());
  EXPECT_EQ(injection->rows[0][0], Value(int64_t{0}));
}

// One connection, so that every statement after the first runs on a kept statement.
class SqliteKeptStatementTest : public SqliteDataSourceTest {
 protected:
  void SetUp() override {
    options_.pool_size = 1;
    SqliteDataSourceTest::SetUp();
  }
};

TEST_F(SqliteKeptStatementTest, TheSameSqlRunsAgainWithNewParametersAndNewData) {
  const std::string sql = "SELECT name FROM people WHERE person_id = ?1";
  auto ada = Run(sql, {Value(int64_t{1})});
  auto bob = Run(sql, {Value(int64_t{2})});
  ASSERT_TRUE(ada && bob);
  EXPECT_EQ(ada->rows, (std::vector<Row>{{Value(std::string("Ada"))}}));
  EXPECT_EQ(bob->rows, (std::vector<Row>{{Value(std::string("Bob"))}}));
  // A NULL parameter is bound afresh, not left over from the previous run.
  auto none = Run(sql, {Value()});
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->rows.empty());
  WriteDatabase(path_, "INSERT INTO people(person_id, name) VALUES (4, 'Dee')");
  auto dee = Run(sql, {Value(int64_t{4})});
  ASSERT_TRUE(dee.has_value()) << dee.error().message;
  EXPECT_EQ(dee->rows, (std::vector<Row>{{Value(std::string("Dee"))}}));
}

TEST_F(SqliteKeptStatementTest, AKeptStatementHoldsNoLockOnTheFile) {
  // Stopped after one row of three: without a reset, the statement would keep its read lock.
  auto capped =
      Run("SELECT name FROM people ORDER BY person_id", {}, ExecuteOptions{.max_rows = 1});
  ASSERT_TRUE(capped.has_value());
  EXPECT_TRUE(capped->truncated);
  sqlite3* writer = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &writer), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(writer, "BEGIN EXCLUSIVE; UPDATE people SET name = 'Ada' WHERE 0; COMMIT",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(writer);
  sqlite3_close(writer);
}

TEST_F(SqliteKeptStatementTest, AChangedSchemaIsSeenByAKeptStatement) {
  const std::string sql = "SELECT * FROM people WHERE person_id = 1";
  auto before = Run(sql);
  ASSERT_TRUE(before.has_value());
  EXPECT_EQ(before->columns.size(), 8u);
  WriteDatabase(path_, "ALTER TABLE people ADD COLUMN nickname TEXT DEFAULT 'A'");
  auto after = Run(sql);
  ASSERT_TRUE(after.has_value()) << after.error().message;
  ASSERT_EQ(after->columns.size(), 9u);
  EXPECT_EQ(after->columns.back(), "nickname");
  ASSERT_EQ(after->rows.size(), 1u);
  EXPECT_EQ(after->rows[0].back(), Value(std::string("A")));

  WriteDatabase(path_, "DROP VIEW adults; DROP TABLE people");
  auto gone = Run(sql);
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code, ErrorCode::kDatabaseError);
  EXPECT_THAT(gone.error().message, HasSubstr("people"));
}

TEST_F(SqliteDataSourceTest, ParameterCountMustMatch) {
  auto too_few = Run("SELECT ?1 + ?2", {Value(int64_t{1})});
  ASSERT_FALSE(too_few.has_value());
  EXPECT_EQ(too_few.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(too_few.error().message, HasSubstr("2 parameter"));

  auto too_many = Run("SELECT 1", {Value(int64_t{1})});
  ASSERT_FALSE(too_many.has_value());
  EXPECT_EQ(too_many.error().code, ErrorCode::kInvalidArgument);
}

struct Refusal {
  const char* sql;
  const char* reason;  // expected in the message
};

class SqliteRefusalTest : public SqliteDataSourceTest,
                          public ::testing::WithParamInterface<Refusal> {};

TEST_P(SqliteRefusalTest, CheckAndExecuteRefuseWithUnsafeSql) {
  // Introspection uses table-valued functions internally; that must not open them to users.
  ASSERT_TRUE(source_->Introspect().has_value());
  const std::string before = ReadBytes(path_);
  const auto entries = dir_.Entries();

  auto checked = source_->Check(GetParam().sql);
  ASSERT_FALSE(checked.has_value()) << GetParam().sql;
  EXPECT_EQ(checked.error().code, ErrorCode::kUnsafeSql)
      << GetParam().sql << ": " << checked.error().message;
  EXPECT_THAT(checked.error().message, HasSubstr(GetParam().reason));

  // Refused every time, not only on first use.
  for (int i = 0; i < 2; ++i) {
    auto executed = Run(GetParam().sql);
    ASSERT_FALSE(executed.has_value());
    EXPECT_EQ(executed.error().code, ErrorCode::kUnsafeSql);
    EXPECT_EQ(executed.error().message, checked.error().message);
  }

  // Nothing was written: same bytes, no journal left behind.
  EXPECT_EQ(ReadBytes(path_), before);
  EXPECT_EQ(dir_.Entries(), entries);
  auto still = Run("SELECT count(*) FROM people");
  ASSERT_TRUE(still.has_value());
  EXPECT_EQ(still->rows[0][0], Value(int64_t{3}));
}

INSTANTIATE_TEST_SUITE_P(
    Statements, SqliteRefusalTest,
    ::testing::Values(
        Refusal{"SELECT 1; SELECT 2", "only one statement"},
        Refusal{"SELECT 1; DROP TABLE people", "only one statement"},
        Refusal{"SELECT 1; -- c\n DELETE FROM people", "only one statement"},
        Refusal{"INSERT INTO people(name) VALUES ('Eve')", "INSERT is not allowed"},
        Refusal{"UPDATE people SET name = 'Eve'", "UPDATE is not allowed"},
        Refusal{"DELETE FROM people", "DELETE is not allowed"},
        Refusal{"DROP TABLE people", "DROP TABLE is not allowed"},
        Refusal{"CREATE TABLE t(x)", "CREATE TABLE is not allowed"},
        Refusal{"CREATE TEMP TABLE t(x)", "CREATE TEMP TABLE is not allowed"},
        Refusal{"CREATE INDEX i ON people(name)", "CREATE INDEX is not allowed"},
        Refusal{"CREATE VIEW v AS SELECT 1", "CREATE VIEW is not allowed"},
        Refusal{"ALTER TABLE people ADD COLUMN x", "ALTER TABLE is not allowed"},
        Refusal{"ATTACH DATABASE 'other.db' AS other", "ATTACH is not allowed"},
        Refusal{"DETACH DATABASE main", "DETACH is not allowed"},
        Refusal{"PRAGMA writable_schema = 1", "PRAGMA is not allowed"},
        Refusal{"PRAGMA query_only = 0", "PRAGMA is not allowed"},
        Refusal{"PRAGMA table_info(people)", "PRAGMA is not allowed"},
        Refusal{"BEGIN", "Transaction control"}, Refusal{"COMMIT", "Transaction control"},
        Refusal{"SAVEPOINT s", "SAVEPOINT is not allowed"},
        Refusal{"VACUUM", "only read-only statements"},
        Refusal{"REINDEX", "REINDEX is not allowed"}, Refusal{"ANALYZE", "ANALYZE is not allowed"},
        Refusal{"WITH x AS (SELECT 'Eve') INSERT INTO people(name) SELECT * FROM x",
                "INSERT is not allowed"},
        Refusal{"WITH x AS (SELECT 1) DELETE FROM people WHERE person_id IN x",
                "DELETE is not allowed"},
        Refusal{"SELECT load_extension('/tmp/evil.so')", "load_extension() is not allowed"},
        Refusal{"SELECT LOAD_EXTENSION('evil')", "load_extension() is not allowed"},
        Refusal{"SELECT length(zeroblob(1000000000))", "zeroblob() is not allowed"},
        Refusal{"SELECT sqlite_source_id()", "sqlite_source_id() is not on the list"},
        Refusal{"SELECT * FROM pragma_database_list", "pragma_database_list"},
        Refusal{"SELECT name FROM pragma_table_info('people')", "pragma_table_info"},
        Refusal{"SELECT * FROM dbstat", "'dbstat' is not allowed"},
        Refusal{"EXPLAIN SELECT * FROM people", "EXPLAIN is not allowed"},
        Refusal{"EXPLAIN QUERY PLAN SELECT * FROM people", "EXPLAIN is not allowed"}));

TEST_F(SqliteDataSourceTest, NulByteCannotHideASecondStatement) {
  const std::string sql("SELECT 1\0; DROP TABLE people", 28);
  auto r = source_->Check(sql);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnsafeSql);
}

TEST_F(SqliteDataSourceTest, TrailingSemicolonsAndCommentsAreFine) {
  for (const char* sql : {"SELECT 1;", "SELECT 1 -- the answer", "SELECT 1; -- done\n",
                          "SELECT 1 ; /* note */ ;\n\t ", "SELECT 1 /* unterminated",
                          "  -- leading comment\nSELECT 1"}) {
    auto checked = source_->Check(sql);
    EXPECT_TRUE(checked.has_value()) << sql << ": " << checked.error().message;
    auto r = Run(sql);
    ASSERT_TRUE(r.has_value()) << sql;
    EXPECT_EQ(r->rows.size(), 1u);
  }
}

TEST_F(SqliteDataSourceTest, ReadOnlyQueriesAreAccepted) {
  for (const char* sql :
       {"SELECT upper(name), length(name), coalesce(height, 0) FROM people",
        "SELECT count(*), avg(height), group_concat(name, ', ') FROM people",
        "SELECT strftime('%Y', born), date(born, '+1 month') FROM people",
        "SELECT name, row_number() OVER (ORDER BY born) FROM people",
        "SELECT p.name FROM people p JOIN \"Sales Region\" r ON r.id = p.region "
        "WHERE r.\"Region Name\" LIKE 'n%'",
        "SELECT * FROM adults", "SELECT name FROM sqlite_schema",
        "SELECT json_extract('{\"a\": 1}', '$.a'), round(2.345, 2), abs(-1), sqrt(4)",
        "SELECT value FROM json_each('[1, 2]')",
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3) "
        "SELECT sum(x) FROM c",
        "SELECT CASE WHEN height > 1.6 THEN 'tall' ELSE 'short' END, CAST(born AS TEXT) "
        "FROM people WHERE name IN (SELECT name FROM people WHERE region IS NOT NULL)"}) {
    auto r = Run(sql);
    EXPECT_TRUE(r.has_value()) << sql << ": " << r.error().message;
  }
}

TEST_F(SqliteDataSourceTest, SyntaxAndSchemaErrorsAreDatabaseErrors) {
  auto syntax = source_->Check("SELEC name FROM people");
  ASSERT_FALSE(syntax.has_value());
  EXPECT_EQ(syntax.error().code, ErrorCode::kDatabaseError);
  EXPECT_THAT(syntax.error().message, HasSubstr("syntax error"));

  auto table = Run("SELECT * FROM nowhere");
  ASSERT_FALSE(table.has_value());
  EXPECT_EQ(table.error().code, ErrorCode::kDatabaseError);
  EXPECT_THAT(table.error().message, HasSubstr("no such table: nowhere"));
  EXPECT_THAT(table.error().message, ::testing::Not(HasSubstr(dir_.path().string())));

  auto column = Run("SELECT wings FROM people");
  ASSERT_FALSE(column.has_value());
  EXPECT_EQ(column.error().code, ErrorCode::kDatabaseError);
}

TEST_F(SqliteDataSourceTest, EmptySqlIsInvalid) {
  for (const char* sql : {"", "   ", "-- only a comment", ";"}) {
    auto r = source_->Check(sql);
    ASSERT_FALSE(r.has_value()) << sql;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << sql;
  }
}

TEST_F(SqliteDataSourceTest, TimeLimitInterruptsARunawayQuery) {
  ExecuteOptions options;
  options.timeout = std::chrono::milliseconds(50);
  auto r = Run(kEndless, {}, options);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(r.error().message, "the query took longer than 50 ms");

  // The connections are fine afterwards.
  for (int i = 0; i < 8; ++i) {
    auto ok = Run("SELECT count(*) FROM people");
    ASSERT_TRUE(ok.has_value()) << ok.error().message;
  }
}

TEST(SqliteTimeLimitTest, DeadlineIsMeasuredOnTheInjectedClock) {
  TempDir dir;
  WriteDatabase(dir.path() / "t.db", "CREATE TABLE t(x)");
  SteppingClock clock(std::chrono::milliseconds(100));
  SqliteOptions options;
  options.pool_size = 1;
  options.clock = &clock;
  auto source = SqliteDataSource::Open((dir.path() / "t.db").string(), options);
  ASSERT_TRUE(source.has_value());

  ExecuteOptions limit;
  limit.timeout = std::chrono::milliseconds(1000);
  auto r = (*source)->Execute(kEndless, {}, limit);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(r.error().message, "the query took longer than 1000 ms");
  // One reading to set the deadline, then one per check until 1000 ms had passed.
  EXPECT_EQ(clock.calls(), 11);

  // A short query finishes before the first check.
  auto quick = (*source)->Execute("SELECT 1", {}, limit);
  ASSERT_TRUE(quick.has_value());
}

TEST(SqliteOpenTest, MissingFileIsNotFoundAndIsNotCreated) {
  TempDir dir;
  const fs::path missing = dir.path() / "missing.db";
  auto r = SqliteDataSource::Open(missing.string());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(r.error().message, HasSubstr("missing.db"));
  EXPECT_THAT(r.error().message, ::testing::Not(HasSubstr(dir.path().string())));
  EXPECT_FALSE(fs::exists(missing));
  EXPECT_TRUE(dir.Entries().empty());
}

TEST(SqliteOpenTest, DirectoriesEmptyPathsAndOtherFilesAreRefused) {
  TempDir dir;
  auto directory = SqliteDataSource::Open(dir.path().string());
  ASSERT_FALSE(directory.has_value());
  EXPECT_EQ(directory.error().code, ErrorCode::kInvalidArgument);

  auto empty = SqliteDataSource::Open("");
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidArgument);

  const fs::path text = dir.path() / "notes.db";
  std::ofstream(text) << "These are not the pages you are looking for. " << std::string(200, 'x');
  auto not_db = SqliteDataSource::Open(text.string());
  ASSERT_FALSE(not_db.has_value());
  EXPECT_EQ(not_db.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(not_db.error().message, HasSubstr("not a SQLite database"));
}

TEST_F(SqliteDataSourceTest, ConcurrentExecuteFromEightThreads) {
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const int64_t id = (t + i) % 3 + 1;
        auto r = Run("SELECT person_id, name FROM people WHERE person_id = ?1", {Value(id)});
        if (!r || r->rows.size() != 1 || r->rows[0][0] != Value(id)) ++failures;
        if (i % 10 == 0) {
          auto refused = source_->Check("SELECT 1; SELECT 2");
          if (refused || refused.error().code != ErrorCode::kUnsafeSql) ++failures;
          auto catalog = source_->Introspect();
          if (!catalog || (*catalog)->tables.size() != 6) ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

// A connection's page cache is bounded by page_cache_kib, not SQLite's 2,000 KiB: reading a
// table of about 8 MB, twice, leaves SQLite holding little more than that bound.
TEST(SqlitePageCacheTest, AConnectionKeepsNoMoreThanItsShareOfPages) {
  TempDir dir;
  const fs::path path = dir.path() / "big.db";
  WriteDatabase(path,
                "CREATE TABLE big(id INTEGER PRIMARY KEY, t TEXT);"
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 40000) "
                "INSERT INTO big SELECT x, hex(randomblob(100)) FROM c");
  ASSERT_GT(fs::file_size(path), 8u << 20);
  SqliteOptions options;
  options.pool_size = 1;
  ASSERT_EQ(options.page_cache_kib, 256u);
  auto source = SqliteDataSource::Open(path.string(), options);
  ASSERT_TRUE(source.has_value()) << source.error().message;
  const uint64_t before = SqliteMemoryUsed();
  for (int pass = 0; pass < 2; ++pass) {
    auto r = (*source)->Execute("SELECT count(*), sum(length(t)) FROM big", {}, {});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->rows[0][0], Value(int64_t{40000}));
  }
  const uint64_t grown = SqliteMemoryUsed() - before;
  EXPECT_GT(grown, 128u << 10) << "the scan should have filled the cache";
  EXPECT_LT(grown, 512u << 10) << "the page cache outgrew its bound";
}

TEST_F(SqliteDataSourceTest, DistinctTextValuesAreTrimmedTextOnly) {
  auto values = source_->DistinctTextValues("mixed", "v", 10);
  ASSERT_TRUE(values.has_value()) << values.error().message;
  // Numbers, NULL, blobs and empty strings are left out; ' Paris ' and 'Paris' are one value.
  EXPECT_THAT(*values, ElementsAre("Berlin", "Paris", "Rome"));

  auto exact = source_->DistinctTextValues("mixed", "V", 3);
  ASSERT_TRUE(exact.has_value());
  EXPECT_EQ(exact->size(), 3u);

  auto too_many = source_->DistinctTextValues("mixed", "v", 2);
  ASSERT_TRUE(too_many.has_value());
  EXPECT_TRUE(too_many->empty());

  auto spaced = source_->DistinctTextValues("Sales Region", "Region Name", 5);
  ASSERT_TRUE(spaced.has_value()) << spaced.error().message;
  EXPECT_THAT(*spaced, ElementsAre("North", "South"));
}

TEST_F(SqliteDataSourceTest, DistinctTextValuesOfUnknownNamesIsNotFound) {
  auto table = source_->DistinctTextValues("nowhere", "v", 5);
  ASSERT_FALSE(table.has_value());
  EXPECT_EQ(table.error().code, ErrorCode::kNotFound);

  auto column = source_->DistinctTextValues("people", "wings", 5);
  ASSERT_FALSE(column.has_value());
  EXPECT_EQ(column.error().code, ErrorCode::kNotFound);

  // Quoting holds: a name built to break out of the identifier is just an unknown name.
  auto hostile = source_->DistinctTextValues("people\"; DROP TABLE people; --", "name", 5);
  ASSERT_FALSE(hostile.has_value());
  EXPECT_EQ(hostile.error().code, ErrorCode::kNotFound);
  auto hostile_column = source_->DistinctTextValues("people", "name\" FROM people; --", 5);
  ASSERT_FALSE(hostile_column.has_value());
  EXPECT_EQ(hostile_column.error().code, ErrorCode::kNotFound);
}

TEST_F(SqliteDataSourceTest, PingAnswers) { EXPECT_TRUE(source_->Ping().has_value()); }

}  // namespace
}  // namespace helios::db
