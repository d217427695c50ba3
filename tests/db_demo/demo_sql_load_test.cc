// The demo SQL script (db/demo_sql.h) loaded into real servers. The CTest fixture
// test_databases loads `demo-data --sql` into the shared PostgreSQL and MariaDB servers; these
// tests compare every row and a few aggregates with the SQLite demo (HELIOS_DEMO_DB, written by
// the same binary with the same seed), check the types, keys, indexes and comments the script
// declares, and round-trip a tricky value through private servers.
//
// Rows are read through the product's data sources (db::OpenDataSource) as the read-only role.
// Catalog facts (types, keys, indexes, comments) are read with the command-line clients (psql,
// mariadb) from the server's own catalog, which generated SQL may not touch; the scripts are
// loaded with the same clients, as scripts/dbserver.sh does.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/text.h"
#include "db/data_source.h"
#include "db/demo_sql.h"
#include "db/open.h"
#include "db/value.h"
#include "support/child_process.h"
#include "support/test_databases.h"

namespace helios::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

enum class Engine { kSqlite, kPostgres, kMariadb };

Engine EngineOf(ServerKind kind) {
  return kind == ServerKind::kPostgres ? Engine::kPostgres : Engine::kMariadb;
}

// How each engine writes a value so that all three print the same text: amounts as whole
// cents, dates as YYYY-MM-DD, booleans as 0/1.
enum class Kind { kPlain, kMoney, kDate, kBoolean };

std::string Canonical(Engine engine, Kind kind, const std::string& expr) {
  switch (kind) {
    case Kind::kPlain:
      return expr;
    case Kind::kMoney:
      if (engine == Engine::kSqlite) return fmt::format("CAST(ROUND({} * 100) AS INTEGER)", expr);
      if (engine == Engine::kPostgres) return fmt::format("CAST({} * 100 AS BIGINT)", expr);
      return fmt::format("CAST({} * 100 AS SIGNED)", expr);
    case Kind::kDate:
      if (engine == Engine::kSqlite) return expr;
      if (engine == Engine::kPostgres) return fmt::format("to_char({}, 'YYYY-MM-DD')", expr);
      return fmt::format("DATE_FORMAT({}, '%Y-%m-%d')", expr);
    case Kind::kBoolean:
      if (engine == Engine::kSqlite) return expr;
      if (engine == Engine::kPostgres) return fmt::format("CAST({} AS INTEGER)", expr);
      // Data sources read MySQL's BOOLEAN (tinyint(1)) as true/false.
      return fmt::format("CAST({} AS SIGNED)", expr);
  }
  return expr;
}

struct Column {
  const char* name;
  Kind kind = Kind::kPlain;
};
struct Table {
  const char* name;
  std::vector<Column> columns;  // the primary key first
};

const std::vector<Table>& DemoTables() {
  static const std::vector<Table> kTables = {
      {"regions", {{"region_id"}, {"name"}}},
      {"employees",
       {{"employee_id"},
        {"first_name"},
        {"last_name"},
        {"email"},
        {"title"},
        {"region_id"},
        {"hire_date", Kind::kDate},
        {"salary", Kind::kMoney}}},
      {"customers",
       {{"customer_id"},
        {"name"},
        {"email"},
        {"city"},
        {"country"},
        {"segment"},
        {"signup_date", Kind::kDate},
        {"employee_id"}}},
      {"categories", {{"category_id"}, {"name"}, {"description"}}},
      {"products",
       {{"product_id"},
        {"name"},
        {"category_id"},
        {"unit_price", Kind::kMoney},
        {"cost", Kind::kMoney},
        {"stock_quantity"},
        {"discontinued", Kind::kBoolean}}},
      {"orders",
       {{"order_id"},
        {"customer_id"},
        {"employee_id"},
        {"order_date", Kind::kDate},
        {"ship_date", Kind::kDate},
        {"status"},
        {"total_amount", Kind::kMoney}}},
      {"order_items",
       {{"order_item_id"},
        {"order_id"},
        {"product_id"},
        {"quantity"},
        {"unit_price", Kind::kMoney},
        {"discount", Kind::kMoney}}},
  };
  return kTables;
}

std::string SelectAll(Engine engine, const Table& table) {
  std::vector<std::string> exprs;
  for (const Column& c : table.columns) exprs.push_back(Canonical(engine, c.kind, c.name));
  return fmt::format("SELECT {} FROM {} ORDER BY {}", text::Join(exprs, ", "), table.name,
                     table.columns[0].name);
}

// The parts of a mariadb:// URL, which the mariadb client does not accept as such.
struct MariadbUrl {
  std::string user, password, host, port, database;
};

MariadbUrl ParseMariadbUrl(std::string_view url) {
  MariadbUrl out;
  std::string_view rest = url.substr(url.find("://") + 3);
  const size_t at = rest.rfind('@');
  const std::string_view credentials = rest.substr(0, at);
  out.user = credentials.substr(0, credentials.find(':'));
  out.password = credentials.substr(credentials.find(':') + 1);
  rest.remove_prefix(at + 1);
  const std::string_view host_port = rest.substr(0, rest.find('/'));
  out.host = host_port.substr(0, host_port.rfind(':'));
  out.port = host_port.substr(host_port.rfind(':') + 1);
  out.database = rest.substr(rest.find('/') + 1);
  return out;
}

// Runs psql or mariadb on `url` with SQL from `sql` (a statement) or from the file `script`.
RunResult RunClient(Engine engine, const std::string& url, const std::string& sql,
                    const fs::path& script = "/dev/null") {
  std::vector<std::string> argv;
  std::vector<std::string> env;
  if (engine == Engine::kPostgres) {
    argv = {FindProgram("psql").value_or("psql").string(),
            url,
            "-X",
            "-q",
            "-A",
            "-t",
            "-F",
            "\x1f",
            "-R",
            "\x1e",
            "-P",
            "null=NULL",
            "-v",
            "ON_ERROR_STOP=1"};
  } else {
    const MariadbUrl u = ParseMariadbUrl(url);
    // The password travels in the environment, not on a command line others can read.
    env.push_back("MYSQL_PWD=" + u.password);
    argv = {FindProgram("mariadb").value_or("mariadb").string(),
            "--no-defaults",
            "-h" + u.host,
            "-P" + u.port,
            "-u" + u.user,
            "--default-character-set=utf8mb4",
            "--batch",
            "--raw",
            "--skip-column-names",
            u.database};
  }
  if (!sql.empty()) {
    argv.push_back(engine == Engine::kPostgres ? "-c" : "-e");
    argv.push_back(sql);
  }
  return RunToCompletion(argv, fs::current_path(), ChildEnvironment(env), script);
}

// Rows of a query as its fields joined by '|', NULL as "NULL" (text with a newline, a tab or
// the separators would be ambiguous; the catalog queries below return none).
Result<std::vector<std::string>> ClientRows(Engine engine, const std::string& url,
                                            const std::string& sql) {
  const RunResult r = RunClient(engine, url, sql);
  if (r.exit_code != 0)
    return Fail(ErrorCode::kDatabaseError,
                fmt::format("{} failed ({}): {}", engine == Engine::kPostgres ? "psql" : "mariadb",
                            r.exit_code, r.err));
  std::string out = r.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  std::vector<std::string> rows;
  if (out.empty()) return rows;
  const char row_sep = engine == Engine::kPostgres ? '\x1e' : '\n';
  const char field_sep = engine == Engine::kPostgres ? '\x1f' : '\t';
  for (std::string row : text::Split(out, row_sep)) {
    std::replace(row.begin(), row.end(), field_sep, '|');
    rows.push_back(std::move(row));
  }
  return rows;
}

// Reads one database through the product's own data source, as the role of `url`.
class Reader {
 public:
  static std::unique_ptr<Reader> Open(const std::string& url) {
    auto source = db::OpenDataSource(url);
    if (!source) {
      ADD_FAILURE() << "cannot open the data source: " << source.error().message;
      return nullptr;
    }
    return std::unique_ptr<Reader>(new Reader(std::move(*source)));
  }

  Result<std::vector<std::string>> Rows(const std::string& sql) {
    db::ExecuteOptions options;
    options.max_rows = 1'000'000;
    options.timeout = std::chrono::seconds(120);
    auto result = source_->Execute(sql, {}, options);
    if (!result) return std::unexpected(result.error());
    if (result->truncated) return Fail(ErrorCode::kInternal, "more rows than the test reads");
    std::vector<std::string> rows;
    for (const db::Row& row : result->rows) {
      std::vector<std::string> fields;
      for (const db::Value& v : row) fields.push_back(db::ToDisplayString(v));
      rows.push_back(text::Join(fields, "|"));
    }
    return rows;
  }

  db::DataSource& source() const { return *source_; }

 private:
  explicit Reader(std::unique_ptr<db::DataSource> source) : source_(std::move(source)) {}
  std::unique_ptr<db::DataSource> source_;
};

std::string ServerLabel(const ::testing::TestParamInfo<ServerKind>& info) {
  return ServerName(info.param);
}

// Compares two row lists, reporting the first difference rather than both lists.
::testing::AssertionResult SameRows(const std::vector<std::string>& expected,
                                    const std::vector<std::string>& actual) {
  const size_t common = std::min(expected.size(), actual.size());
  for (size_t i = 0; i < common; ++i) {
    if (expected[i] != actual[i])
      return ::testing::AssertionFailure() << "row " << i << ": SQLite has '" << expected[i]
                                           << "', the server '" << actual[i] << "'";
  }
  if (expected.size() != actual.size())
    return ::testing::AssertionFailure()
           << "SQLite has " << expected.size() << " rows, the server " << actual.size();
  return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------------------------
// The shared servers, loaded by the fixture.

class DemoLoadTest : public ::testing::TestWithParam<ServerKind> {
 protected:
  void SetUp() override {
    auto server = SharedServer(GetParam());
    ASSERT_TRUE(server) << server.error().message;
    server_ = *server;
    sqlite_ = Reader::Open(std::string("sqlite://") + HELIOS_DEMO_DB);
    ASSERT_NE(sqlite_, nullptr);
    // The role the product is told to use: SELECT only.
    server_reader_ = Reader::Open(server_.reader_url);
    ASSERT_NE(server_reader_, nullptr);
  }

  Engine engine() const { return EngineOf(GetParam()); }

  // The query's rows from SQLite and from the server; `sql` is written per engine.
  void ExpectSame(const std::function<std::string(Engine)>& sql, bool sort = false) {
    auto expected = sqlite_->Rows(sql(Engine::kSqlite));
    ASSERT_TRUE(expected) << expected.error().message;
    auto actual = server_reader_->Rows(sql(engine()));
    ASSERT_TRUE(actual) << actual.error().message;
    if (sort) {
      std::sort(expected->begin(), expected->end());
      std::sort(actual->begin(), actual->end());
    }
    EXPECT_FALSE(expected->empty());
    EXPECT_TRUE(SameRows(*expected, *actual)) << sql(engine());
  }

  // A catalog query's rows, read with the client as the reader role.
  std::vector<std::string> Catalog(const std::string& sql) {
    auto rows = ClientRows(engine(), server_.reader_url, sql);
    EXPECT_TRUE(rows) << rows.error().message;
    return rows.value_or(std::vector<std::string>{});
  }

  TestServer server_;
  std::unique_ptr<Reader> sqlite_;
  std::unique_ptr<Reader> server_reader_;
};

TEST_P(DemoLoadTest, EveryRowOfEveryTableIsCopiedExactly) {
  for (const Table& table : DemoTables()) {
    SCOPED_TRACE(table.name);
    ExpectSame([&](Engine e) { return SelectAll(e, table); });
  }
}

TEST_P(DemoLoadTest, AggregatesAgreeWithSqlite) {
  for (const Table& table : DemoTables()) {
    ExpectSame([&](Engine) { return fmt::format("SELECT COUNT(*) FROM {}", table.name); });
  }
  // The server adds exact decimals; SQLite's doubles are summed as whole cents.
  ExpectSame([](Engine e) {
    return e == Engine::kSqlite
               ? std::string("SELECT SUM(CAST(ROUND(total_amount * 100) AS INTEGER)) FROM orders")
               : "SELECT " + Canonical(e, Kind::kMoney, "SUM(total_amount)") + " FROM orders";
  });
  ExpectSame(
      [](Engine) {
        return "SELECT c.country, COUNT(DISTINCT o.customer_id) FROM orders o JOIN customers c "
               "ON c.customer_id = o.customer_id GROUP BY c.country";
      },
      /*sort=*/true);
  ExpectSame([](Engine e) {
    std::vector<std::string> exprs;
    for (const char* agg : {"MIN", "MAX"})
      for (const char* col : {"order_date", "ship_date"})
        exprs.push_back(Canonical(e, Kind::kDate, fmt::format("{}({})", agg, col)));
    return "SELECT " + text::Join(exprs, ", ") + " FROM orders";
  });
  ExpectSame([](Engine e) {
    return fmt::format("SELECT {}, {}, {}, {} FROM customers, employees",
                       Canonical(e, Kind::kDate, "MIN(signup_date)"),
                       Canonical(e, Kind::kDate, "MAX(signup_date)"),
                       Canonical(e, Kind::kDate, "MIN(hire_date)"),
                       Canonical(e, Kind::kDate, "MAX(hire_date)"));
  });
  // A boolean column used as a condition, as generated SQL does.
  ExpectSame([](Engine) { return "SELECT COUNT(*) FROM products WHERE discontinued"; });
  ExpectSame(
      [](Engine e) {
        return "SELECT status, COUNT(*), " + Canonical(e, Kind::kMoney, "SUM(total_amount)") +
               " FROM orders GROUP BY status";
      },
      /*sort=*/true);
}

TEST_P(DemoLoadTest, TypesKeysIndexesAndCommentsAreThoseOfARealDeployment) {
  // Other tests may add tables of their own to the shared servers.
  const std::string kDemoTables =
      "('regions', 'employees', 'customers', 'categories', 'products', 'orders', 'order_items')";
  if (engine() == Engine::kPostgres) {
    EXPECT_THAT(Catalog("SELECT table_name || '.' || column_name || ' ' || data_type || "
                        "coalesce('(' || numeric_precision || ',' || numeric_scale || ')', '') "
                        "FROM information_schema.columns WHERE table_schema = 'public' AND "
                        "column_name IN ('total_amount', 'discount', 'discontinued', 'order_date', "
                        "'salary')"),
                ::testing::UnorderedElementsAre(
                    "employees.salary numeric(12,2)", "order_items.discount numeric(4,2)",
                    "orders.order_date date", "orders.total_amount numeric(12,2)",
                    "products.discontinued boolean"));
    EXPECT_THAT(
        Catalog("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND "
                "conrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                "AND relname IN " +
                kDemoTables + ")"),
        ::testing::ElementsAre("7"));
    EXPECT_THAT(Catalog("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' AND "
                        "indexname LIKE 'idx\\_%' AND tablename IN " +
                        kDemoTables),
                ::testing::ElementsAre("11"));
    // ANALYZE ran: every table has a row estimate (-1 means never analyzed).
    EXPECT_THAT(Catalog("SELECT count(*) FROM pg_class WHERE relkind = 'r' AND "
                        "relnamespace = 'public'::regnamespace AND reltuples > 0 AND relname IN " +
                        kDemoTables),
                ::testing::ElementsAre("7"));
    EXPECT_THAT(Catalog("SELECT obj_description('public.orders'::regclass, 'pg_class')"),
                ::testing::ElementsAre(HasSubstr("one row per order")));
    EXPECT_THAT(Catalog("SELECT col_description('public.orders'::regclass, 7)"),
                ::testing::ElementsAre(HasSubstr("after discounts, in US dollars")));
  } else {
    EXPECT_THAT(Catalog("SELECT CONCAT(table_name, '.', column_name, ' ', column_type) FROM "
                        "information_schema.columns WHERE table_schema = DATABASE() AND "
                        "column_name IN ('total_amount', 'discount', 'discontinued', 'order_date', "
                        "'salary')"),
                ::testing::UnorderedElementsAre(
                    "employees.salary decimal(12,2)", "order_items.discount decimal(4,2)",
                    "orders.order_date date", "orders.total_amount decimal(12,2)",
                    "products.discontinued tinyint(1)"));
    EXPECT_THAT(Catalog("SELECT COUNT(*) FROM information_schema.referential_constraints WHERE "
                        "constraint_schema = DATABASE() AND table_name IN " +
                        kDemoTables),
                ::testing::ElementsAre("7"));
    EXPECT_THAT(Catalog("SELECT COUNT(DISTINCT table_name, index_name) FROM "
                        "information_schema.statistics WHERE table_schema = DATABASE() AND "
                        "index_name LIKE 'idx\\_%' AND table_name IN " +
                        kDemoTables),
                ::testing::ElementsAre("11"));
    EXPECT_THAT(
        Catalog("SELECT DISTINCT CONCAT(engine, ' ', table_collation) FROM "
                "information_schema.tables WHERE table_schema = DATABASE() AND table_name IN " +
                kDemoTables),
        ::testing::ElementsAre(::testing::StartsWith("InnoDB utf8mb4_")));
    EXPECT_THAT(Catalog("SELECT table_comment FROM information_schema.tables WHERE "
                        "table_schema = DATABASE() AND table_name = 'orders'"),
                ::testing::ElementsAre(HasSubstr("one row per order")));
    EXPECT_THAT(Catalog("SELECT column_comment FROM information_schema.columns WHERE "
                        "table_schema = DATABASE() AND table_name = 'orders' AND "
                        "column_name = 'total_amount'"),
                ::testing::ElementsAre(HasSubstr("after discounts, in US dollars")));
  }

  // What the product itself reads as descriptions for the language model.
  {
    auto catalog = server_reader_->source().Introspect();
    ASSERT_TRUE(catalog) << catalog.error().message;
    const db::TableInfo* orders = (*catalog)->FindTable("orders");
    ASSERT_NE(orders, nullptr);
    EXPECT_THAT(orders->description, HasSubstr("one row per order"));
    const db::ColumnInfo* status = orders->FindColumn("status");
    ASSERT_NE(status, nullptr);
    EXPECT_THAT(status->description, HasSubstr("processing, shipped, delivered"));
    EXPECT_EQ(orders->foreign_keys.size(), 2u);
  }
}

INSTANTIATE_TEST_SUITE_P(Servers, DemoLoadTest,
                         ::testing::Values(ServerKind::kPostgres, ServerKind::kMariadb),
                         ServerLabel);

// ---------------------------------------------------------------------------------------------
// A private server per test: a tricky value, loaded twice.

// A demo database with one row per table (the demo's own schema, read from HELIOS_DEMO_DB)
// whose customer is named `customer_name`.
void WriteTinyDemo(const std::string& path, const std::string& customer_name) {
  sqlite3* demo = nullptr;
  ASSERT_EQ(sqlite3_open_v2(HELIOS_DEMO_DB, &demo, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  std::vector<std::string> schema;
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(demo,
                               "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT "
                               "LIKE 'sqlite_%' ORDER BY rowid",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  while (sqlite3_step(stmt) == SQLITE_ROW)
    schema.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  sqlite3_finalize(stmt);
  sqlite3_close(demo);

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::string quoted = "'";
  for (char c : customer_name) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  quoted += "'";
  schema.insert(schema.begin(), "PRAGMA synchronous = OFF");
  for (const std::string& sql : {
           std::string("INSERT INTO regions VALUES (1, 'Europe')"),
           std::string("INSERT INTO employees VALUES (1, 'Grace', 'Hopper', 'g@example.com', "
                       "'Sales Manager', 1, '2016-02-29', 120000.5)"),
           "INSERT INTO customers VALUES (1, " + quoted +
               ", 'c@example.com', 'Zürich', 'Switzerland', 'Corporate', '2020-01-01', NULL)",
           std::string("INSERT INTO categories VALUES (1, 'Books', NULL)"),
           std::string("INSERT INTO products VALUES (1, 'Book', 1, 19.99, 8.4, 0, 1)"),
           std::string("INSERT INTO orders VALUES (1, 1, 1, '2025-12-31', NULL, 'processing', "
                       "50.97)"),
           std::string("INSERT INTO order_items VALUES (1, 1, 1, 3, 19.99, 0.15)"),
       })
    schema.push_back(sql);
  for (const std::string& sql : schema) {
    char* message = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message), SQLITE_OK)
        << (message ? message : "") << " in " << sql;
    sqlite3_free(message);
  }
  sqlite3_close(db);
}

class DemoScriptRoundTripTest : public ::testing::TestWithParam<ServerKind> {
 protected:
  void TearDown() override {
    if (!started_) return;
    auto stopped = StopPrivateServer(GetParam(), (dir_.path() / "server").string());
    EXPECT_TRUE(stopped) << stopped.error().message;
  }
  TempDir dir_{"helios-demo-sql"};
  bool started_ = false;
};

TEST_P(DemoScriptRoundTripTest, TrickyTextSurvivesAndReloadingReplacesTheTables) {
  const Engine engine = EngineOf(GetParam());
  const std::string tricky = "O'Brien \\' \\\\ \"Zoë\" 東京 -- ; 🎉";
  const std::string sqlite_path = (dir_.path() / "tiny.db").string();
  ASSERT_NO_FATAL_FAILURE(WriteTinyDemo(sqlite_path, tricky));
  const fs::path script = dir_.path() / "tiny.sql";
  {
    std::ofstream out(script);
    auto written = db::WriteDemoSql(
        sqlite_path, engine == Engine::kPostgres ? db::Dialect::kPostgres : db::Dialect::kMysql,
        out);
    ASSERT_TRUE(written) << written.error().message;
  }

  auto server = StartPrivateServer(GetParam(), (dir_.path() / "server").string());
  ASSERT_TRUE(server) << server.error().message;
  started_ = true;
  for (int load = 1; load <= 2; ++load) {
    SCOPED_TRACE(fmt::format("load {}", load));
    const RunResult r = RunClient(engine, server->admin_url, "", script);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
  }
  auto reader = Reader::Open(server->reader_url);
  ASSERT_NE(reader, nullptr);
  auto rows = reader->Rows("SELECT name, city FROM customers");
  ASSERT_TRUE(rows) << rows.error().message;
  EXPECT_THAT(*rows, ::testing::ElementsAre(tricky + "|Zürich"));
  rows = reader->Rows(fmt::format(
      "SELECT {}, {}, {} FROM employees, products", Canonical(engine, Kind::kMoney, "salary"),
      Canonical(engine, Kind::kMoney, "cost"), Canonical(engine, Kind::kBoolean, "discontinued")));
  ASSERT_TRUE(rows) << rows.error().message;
  EXPECT_THAT(*rows, ::testing::ElementsAre("12000050|840|1"));
}

INSTANTIATE_TEST_SUITE_P(Servers, DemoScriptRoundTripTest,
                         ::testing::Values(ServerKind::kPostgres, ServerKind::kMariadb),
                         ServerLabel);

}  // namespace
}  // namespace helios::testing
